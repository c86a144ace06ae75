/**
 * `llmstack plan --diff` end to end: a temporary git repository holding a copy of the project, a
 * commit, a real edit in the working tree, and the diff against that commit (rendered by the
 * committed revision's own program in a temporary worktree). The repository's own `bin/llmstack.js`
 * runs where its working tree's program differs from this checkout's (a program edit) and once for the
 * wiring; where only stack files are edited the two programs are the same, and the command runs here.
 */
import { cpSync, existsSync, mkdirSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { diffMarkdownByHost, diffTextByHost } from "../../src/diff/hostsRender";
import { ROOT } from "../helpers/root";
import { commit, edit, expectCleanedUp, jsonDiff, projectRepo as repoIn, run, useScratch } from "./repo";

const scratchDir = useScratch();
const projectRepo = (name: string, omit: readonly string[] = []): string => repoIn(scratchDir(), name, omit);

describe("llmstack plan --diff on real edits of the checked-in stacks", () => {
  it("production utilisation 0.9 → 0.85: vLLM replaced with downtime, the smoke test re-run, nothing else", async () => {
    const repo = projectRepo("utilisation");
    edit(join(repo, "Pulumi.production.yaml"), "memoryUtilization: 0.9\n", "memoryUtilization: 0.85\n");
    const { code, diff } = await jsonDiff(repo, "production");
    expect(code).toBe(2);
    const changed = diff.containers.filter((c) => c.action !== "unchanged");
    expect(changed.map((c) => [c.service, c.action, c.downtime, c.rerun])).toEqual([
      ["vllm", "replace", true, false],
      ["smoke-test", "replace", false, true],
    ]);
    // Once: the label that restates the flag shows under the flag.
    expect(changed[0]!.changes).toEqual([
      { field: "command --gpu-memory-utilization", effect: "replace", old: "0.9", new: "0.85" },
    ]);
    expect(changed[1]!.changes.map((c) => c.field)).toEqual(["envs[PLAN_REVISION]"]);
    expectCleanedUp(repo);

    // The markdown and the text of the same diff, as --markdown and the default print it (the commands'
    // own wiring of those formats is run in cliModes.test.ts and cliHosts.test.ts).
    const md = diffMarkdownByHost(diff);
    expect(md.split("\n")[0]).toBe("<!-- llmstack-plan-diff:production -->");
    expect(md).toContain("> `vllm`: restart with downtime: GPU container, frees its GPUs and reloads the model.");
    const text = diffTextByHost(diff);
    expect(text).toContain("      command --gpu-memory-utilization: 0.9 → 0.85 (forces replacement)\n");
    expect(text).not.toContain("VLLM_GPU_MEMORY_UTILIZATION");
    expect(text).not.toContain("labels[");
  });

  it("a LiteLLM worker-count change in the program: only LiteLLM (and the smoke test re-run)", async () => {
    const repo = projectRepo("workers");
    edit(join(repo, "src", "plan", "common.ts"), "multi: { litellm: 8,", "multi: { litellm: 6,");
    const { code, diff } = await jsonDiff(repo, "production");
    expect(code).toBe(2);
    const changed = diff.containers.filter((c) => c.action !== "unchanged");
    expect(changed.map((c) => [c.service, c.action, c.downtime])).toEqual([
      ["litellm", "replace", false],
      ["smoke-test", "replace", false],
    ]);
    expect(changed[0]!.changes).toEqual([{ field: "command --num_workers", effect: "replace", old: "8", new: "6" }]);
  });

  it("the revision's own program renders the base: a program change committed shows against the older commit", async () => {
    const repo = projectRepo("program");
    edit(join(repo, "src", "plan", "common.ts"), "multi: { litellm: 8,", "multi: { litellm: 6,");
    commit(repo, "fewer workers");
    expect((await jsonDiff(repo, "production", "HEAD")).code).toBe(0);
    const { code, diff } = await jsonDiff(repo, "production", "HEAD~1");
    expect(code).toBe(2);
    expect(diff.containers.find((c) => c.service === "litellm")!.changes).toEqual([
      { field: "command --num_workers", effect: "replace", old: "8", new: "6" },
    ]);
    expect(diff.base).toBe("HEAD~1");
  });

  it("a comment-only edit changes nothing and exits 0", async () => {
    const repo = projectRepo("comment");
    edit(join(repo, "Pulumi.production.yaml"), /^# .*$/m, "# The production stack, reviewed in every pull request.");
    const r = await run(["plan", "--stack", "production", "--diff", "HEAD"], repo);
    expect(r.code).toBe(0);
    expect(r.stdout.split("\n").at(-2)).toMatch(/^no changes: 0 to replace, 0 to update in place, 0 to create, 0 to delete, \d+ unchanged$/);
    expectCleanedUp(repo);
  });

  it("an added stack: every container is created", async () => {
    const repo = projectRepo("added", ["Pulumi.staging.yaml"]);
    cpSync(join(ROOT, "Pulumi.staging.yaml"), join(repo, "Pulumi.staging.yaml"));
    const { code, diff } = await jsonDiff(repo, "staging", "HEAD", run);
    expect(code).toBe(2);
    expect(diff.stackAdded).toBe(true);
    const planned = JSON.parse(
      (await run(["plan", "--stack", "staging", "--json"], repo)).stdout,
    ) as { containers: { service: string }[] };
    expect(diff.containers.map((c) => [c.service, c.action])).toEqual(planned.containers.map((c) => [c.service, "create"]));
    expect(diff.counts.create).toBe(planned.containers.length);
    expectCleanedUp(repo);
  });
});

describe("llmstack plan --diff errors (exit 1, one message)", () => {
  it("a revision that does not exist", async () => {
    const repo = projectRepo("badrev");
    const r = await run(["plan", "--stack", "production", "--diff", "no-such-branch"], repo);
    expect(r.code).toBe(1);
    expect(r.stderr).toBe(
      `llmstack plan: --diff "no-such-branch": no such commit in ${repo}; give a branch, tag or commit such as origin/main or HEAD~1 ` +
        '(a shallow or fresh clone may lack a remote\'s branches: fetch them); run "git fetch origin"\n',
    );
  });

  it("a stack that exists neither here nor at the revision", async () => {
    const repo = projectRepo("nostack");
    const r = await run(["plan", "--stack", "qa", "--diff", "HEAD"], repo);
    expect(r.code).toBe(1);
    expect(r.stderr).toBe(`llmstack plan: Pulumi.qa.yaml: no such stack file in ${repo} nor at HEAD; pick another --stack; run "ls Pulumi.*.yaml"\n`);
    expectCleanedUp(repo);
  });

  it("a stack file that is invalid at the revision names the revision and the error", async () => {
    const repo = projectRepo("invalid");
    edit(join(repo, "Pulumi.production.yaml"), "memoryUtilization: 0.9\n", "memoryUtilization: 1.5\n");
    commit(repo, "bad");
    edit(join(repo, "Pulumi.production.yaml"), "memoryUtilization: 1.5\n", "memoryUtilization: 0.9\n");
    const r = await run(["plan", "--stack", "production", "--diff", "HEAD"], repo);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^llmstack plan: --diff HEAD: rendering stack production at that revision failed \(exit 1\): .*memoryUtilization/s);
    // Its own program refused its own stack file: that revision is at fault, and a new commit fixes it.
    expect(r.stderr).toMatch(/\(every key is in docs\/configuration\.md\); fix it in a new commit; this shows it as it is there; run "git show HEAD:Pulumi\.production\.yaml"\n$/);
    expectCleanedUp(repo);
  });

  it("outside a git repository", async () => {
    const dir = join(scratchDir(), "plain");
    mkdirSync(dir);
    const r = await run(["plan", "--stack", "production", "--diff", "HEAD"], dir);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(new RegExp(`^llmstack plan: --diff needs a git repository, but ${dir} is not inside one`));
  });

  it("--markdown without --diff, and --markdown with --json: errors (exit 1), never the 2 of a change", async () => {
    const a = await run(["plan", "--stack", "production", "--markdown"], ROOT);
    expect(a).toEqual({
      code: 1,
      stdout: "",
      stderr:
        'llmstack plan: --markdown prints a diff; add --diff <rev>; run "llmstack plan --stack production --diff origin/main --markdown"\n',
    });
    const b = await run(["plan", "--stack", "production", "--diff", "HEAD", "--markdown", "--json"], ROOT);
    expect([b.code, b.stderr]).toEqual([
      1,
      'llmstack plan: --markdown and --json print the diff two ways; pick one; run "llmstack plan --stack production --diff HEAD --markdown"\n',
    ]);
    expect(existsSync(join(ROOT, "node_modules"))).toBe(true);
  });
});
