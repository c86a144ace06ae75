/**
 * `llmstack plan --diff` modes and what reaches the diff end to end: `--render-with current` never runs
 * the compared revision's code (a booby-trapped revision writes marker files when any of its program
 * runs), `--head` reviews a fork's branch from a trusted checkout, and a changed secret, a dropped or
 * renamed volume show in the output and the exit code.
 */
import { randomBytes } from "node:crypto";
import { cpSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import type { PlanDiff } from "../../src/diff/types";
import { ROOT } from "../helpers/root";
import { pulumiCiphertext } from "../helpers/pulumiSecrets";
import { commit, edit, expectCleanedUp, git, projectRepo, run, useScratch } from "./repo";

const scratch = useScratch();

/** Files of the program that any run of it loads or could load. */
const TRAPPED = ["bin/llmstack.js", "src/cli/main.ts", "src/cli/plan.ts", "src/cli/renderStack.ts", "src/index.ts"];

/** Makes every file in TRAPPED write a marker into `markers` when it is loaded. */
function trap(repo: string, markers: string): void {
  mkdirSync(markers, { recursive: true });
  for (const f of TRAPPED) {
    const marker = JSON.stringify(join(markers, f.replace(/\//g, "_")));
    const path = join(repo, f);
    const text = readFileSync(path, "utf8");
    const line = f.endsWith(".js")
      ? `require("node:fs").writeFileSync(${marker}, "ran");`
      : `import { writeFileSync as trapWrite } from "node:fs";\ntrapWrite(${marker}, "ran");`;
    writeFileSync(path, f.endsWith(".js") ? text.replace("\n", `\n${line}\n`) : `${line}\n${text}`);
  }
}

/** Puts the trapped files back as this checkout has them. */
function untrap(repo: string): void {
  for (const f of TRAPPED) cpSync(join(ROOT, f), join(repo, f));
}

const diffOf = (stdout: string): PlanDiff => JSON.parse(stdout) as PlanDiff;
const changed = (d: PlanDiff): [string, string][] =>
  d.containers.filter((c) => c.action !== "unchanged").map((c) => [c.service, c.action]);

describe("--render-with current never runs the compared revision's code", () => {
  it("a booby-trapped base: current mode renders its stack file and writes no marker; revision mode runs it", async () => {
    const repo = projectRepo(scratch(), "trapped-base");
    const markers = join(scratch(), "markers-base");
    trap(repo, markers);
    commit(repo, "a revision whose program writes markers");
    untrap(repo);
    edit(join(repo, "Pulumi.production.yaml"), "memoryUtilization: 0.9\n", "memoryUtilization: 0.85\n");

    const safe = await run(["plan", "--stack", "production", "--diff", "HEAD", "--render-with", "current", "--json"], repo);
    expect(safe.stderr).toBe("");
    expect(safe.code).toBe(2);
    const d = diffOf(safe.stdout);
    expect(d.renderWith).toBe("current");
    expect(changed(d)).toEqual([
      ["vllm", "replace"],
      ["smoke-test", "replace"],
    ]);
    expect(d.containers[1]!.changes.slice(0, 1)).toEqual([
      { field: "command --gpu-memory-utilization", effect: "replace", old: "0.9", new: "0.85" },
    ]);
    expect(readdirSync(markers)).toEqual([]);
    expectCleanedUp(repo);

    // The default mode renders the base with the base's own program: the trap runs. This is why the
    // safe mode exists; the base of a pull request in CI is the trusted target branch.
    const unsafe = await run(["plan", "--stack", "production", "--diff", "HEAD", "--json"], repo);
    expect(unsafe.code).toBe(2);
    expect(readdirSync(markers).sort()).toEqual([
      "bin_llmstack.js",
      "src_cli_main.ts",
      "src_cli_plan.ts",
      "src_cli_renderStack.ts",
    ]);
    expectCleanedUp(repo);
  });

  it("--head: a fork's branch reviewed from a trusted checkout, neither side's code from the fork", async () => {
    const repo = projectRepo(scratch(), "fork");
    const markers = join(scratch(), "markers-fork");
    git(repo, "checkout", "--quiet", "-b", "fork");
    trap(repo, markers);
    edit(join(repo, "Pulumi.production.yaml"), "  llmstack:monitoring:\n    enabled: true", "  llmstack:monitoring:\n    enabled: false");
    commit(repo, "fork: monitoring off, and a program that writes markers");
    git(repo, "checkout", "--quiet", "main");

    const r = await run(
      ["plan", "--stack", "production", "--diff", "main", "--head", "fork", "--render-with", "current"],
      repo,
    );
    expect(r.stderr).toBe("");
    expect(r.code).toBe(2);
    const lines = r.stdout.split("\n");
    expect(lines.slice(0, 2)).toEqual([
      "stack production: changes from main to fork",
      "rendered offline: the stack files at main and fork were rendered by this checkout's program: " +
        "nothing of the revision ran, and program changes do not show",
    ]);
    expect(lines.filter((l) => l.startsWith("-   DATA volume"))).toEqual([
      "-   DATA volume prometheus-data (llm-multimodal-stack-production-prometheus-data): removed from the program — " +
        "protected: `pulumi up` will fail on the protected delete; retained: the data stays on the host, orphaned",
      "-   DATA volume grafana-data (llm-multimodal-stack-production-grafana-data): removed from the program — " +
        "protected: `pulumi up` will fail on the protected delete; retained: the data stays on the host, orphaned",
    ]);
    expect(readdirSync(markers)).toEqual([]);
    expect(git(repo, "status", "--porcelain")).toBe("");
    expectCleanedUp(repo);
  });

  it("a stack file that is a symbolic link at the revision is refused, never followed", async () => {
    const repo = projectRepo(scratch(), "symlink");
    rmSync(join(repo, "Pulumi.staging.yaml"));
    symlinkSync("/etc/hostname", join(repo, "Pulumi.staging.yaml"));
    commit(repo, "a stack file pointing outside the repository");
    rmSync(join(repo, "Pulumi.staging.yaml"));
    cpSync(join(ROOT, "Pulumi.staging.yaml"), join(repo, "Pulumi.staging.yaml"));
    const r = await run(["plan", "--stack", "staging", "--diff", "HEAD", "--render-with", "current"], repo);
    expect(r).toEqual({
      code: 1,
      stdout: "",
      stderr:
        "llmstack plan: --diff HEAD: Pulumi.staging.yaml is not a regular file at that revision; a stack file must be one; " +
        'run "git log --oneline -- Pulumi.staging.yaml"\n',
    });
  });
});

describe("what reaches the diff end to end", () => {
  const KEY = randomBytes(32);
  const withSecret = (cipher: string): string => `  llmstack:postgresPassword:\n    secure: ${cipher}\n`;

  it("a re-encrypted Postgres password: exit 2, the secret and its containers, never the ciphertext", async () => {
    const repo = projectRepo(scratch(), "secret");
    const file = join(repo, "Pulumi.production.yaml");
    const oldCipher = pulumiCiphertext("correct horse", KEY);
    writeFileSync(file, readFileSync(file, "utf8") + withSecret(oldCipher));
    commit(repo, "production Postgres password");
    const newCipher = pulumiCiphertext("correct horse", KEY);
    edit(file, oldCipher, newCipher);

    // The default mode, as CI runs it: the base rendered by its own program.
    const text = await run(["plan", "--stack", "production", "--diff", "HEAD"], repo);
    expect(text.code).toBe(2);
    const lines = text.stdout.split("\n");
    expect(lines.filter((l) => /postgresPassword|^secrets/.test(l))).toEqual([
      "?   postgres        replaced if the value of secret postgresPassword changed (a re-encryption alone changes nothing)",
      "?   litellm         replaced if the value of secret postgresPassword changed (a re-encryption alone changes nothing)",
      "secrets (values never shown):",
      "~   secret postgresPassword changed or was re-encrypted: postgres, litellm get the new value and are replaced if it changed",
    ]);
    expect(lines.at(-2)).toMatch(/^0 to replace, 0 to update in place, 0 to create, 0 to delete, \d+ unchanged; 1 secret changed or re-encrypted$/);
    expectCleanedUp(repo);

    for (const format of ["--json", "--markdown"]) {
      const r = await run(["plan", "--stack", "production", "--diff", "HEAD", "--render-with", "current", format], repo);
      expect(r.code).toBe(2);
      expect(r.stdout).toContain("postgresPassword");
      for (const c of [oldCipher, newCipher]) expect(r.stdout).not.toContain(c.split(":")[2]!);
    }
  });

  it("monitoring turned off: the protected data volumes in the JSON, exit 2 (the base's own program)", async () => {
    const repo = projectRepo(scratch(), "volumes");
    edit(join(repo, "Pulumi.production.yaml"), "  llmstack:monitoring:\n    enabled: true", "  llmstack:monitoring:\n    enabled: false");
    const r = await run(["plan", "--stack", "production", "--diff", "HEAD", "--json"], repo);
    expect(r.code).toBe(2);
    expect(diffOf(r.stdout).volumes.map((v) => [v.key, v.action, v.data, v.outcome])).toEqual([
      ["prometheus-data", "delete", true, "fails"],
      ["grafana-data", "delete", true, "fails"],
      ["litellm-metrics", "delete", false, "deleted"],
    ]);
    expectCleanedUp(repo);
  });

  it("a project rename in Pulumi.yaml: every volume renamed to a new, empty one, and the network replaced", async () => {
    const repo = projectRepo(scratch(), "rename");
    edit(join(repo, "Pulumi.yaml"), /^name: .*$/m, "name: acme-llm");
    const r = await run(["plan", "--stack", "production", "--diff", "HEAD", "--render-with", "current", "--json"], repo);
    expect(r.code).toBe(2);
    const d = diffOf(r.stdout);
    expect(d.volumes.every((v) => v.action === "rename" && v.after!.name === `acme-llm-production-${v.key}`)).toBe(true);
    expect(d.volumes.find((v) => v.key === "postgres-data")!.outcome).toBe("fails");
    expect(d.network).toEqual({
      action: "replace",
      before: "llm-multimodal-stack-production",
      after: "acme-llm-production",
    });
    expect(existsSync(join(repo, ".git"))).toBe(true);
  });
});

describe("a revision that does not render: the error ends with the next step", () => {
  it("its own program fails: this checkout's program renders its stack files instead", async () => {
    const repo = projectRepo(scratch(), "broken-program");
    writeFileSync(join(repo, "bin", "llmstack.js"), 'process.stderr.write("boom\\n");\nprocess.exit(1);\n');
    commit(repo, "a program that cannot run");
    cpSync(join(ROOT, "bin", "llmstack.js"), join(repo, "bin", "llmstack.js"));
    const r = await run(["plan", "--stack", "production", "--diff", "HEAD"], repo);
    expect(r).toEqual({
      code: 1,
      stdout: "",
      stderr:
        "llmstack plan: --diff HEAD: rendering stack production at that revision failed (exit 1): boom; render its stack " +
        'files with this checkout\'s program instead; run "llmstack plan --stack production --diff HEAD --render-with current"\n',
    });
    expect((await run(["plan", "--stack", "production", "--diff", "HEAD", "--render-with", "current"], repo)).code).toBe(0);
    expectCleanedUp(repo);
  });

  const invalid = "Pulumi.production.yaml: invalid stack config:\n  - llmstack:gpu.memoryUtilization: Too big: expected number to be " +
    "<=0.95 (got 1.5)\nFix these keys in Pulumi.production.yaml (every key is in docs/configuration.md)";

  it("this program refuses the stack file at --diff: the revision's own program, if it is trusted", async () => {
    const repo = projectRepo(scratch(), "refused-base");
    edit(join(repo, "Pulumi.production.yaml"), "memoryUtilization: 0.9\n", "memoryUtilization: 1.5\n");
    commit(repo, "a stack file this program refuses");
    edit(join(repo, "Pulumi.production.yaml"), "memoryUtilization: 1.5\n", "memoryUtilization: 0.9\n");
    const r = await run(["plan", "--stack", "production", "--diff", "HEAD", "--render-with", "current"], repo);
    expect(r.stderr).toBe(
      "llmstack plan: --diff HEAD: rendering stack production at that revision with this checkout's program failed: " +
        `${invalid}; if you trust that revision, let its own program render it (that runs its code); ` +
        'run "llmstack plan --stack production --diff HEAD --render-with revision"\n',
    );
  });

  it("this program refuses the stack file at --head: the file as it is there, which a new commit fixes", async () => {
    const repo = projectRepo(scratch(), "refused-head");
    git(repo, "checkout", "--quiet", "-b", "fork");
    edit(join(repo, "Pulumi.production.yaml"), "memoryUtilization: 0.9\n", "memoryUtilization: 1.5\n");
    commit(repo, "a fork's stack file this program refuses");
    const r = await run(["plan", "--stack", "production", "--diff", "main", "--head", "fork", "--render-with", "current"], repo);
    expect(r.stderr).toBe(
      "llmstack plan: --head fork: rendering stack production at that revision with this checkout's program failed: " +
        `${invalid}; fix it in a new commit; this shows it as it is there; run "git show fork:Pulumi.production.yaml"\n`,
    );
  });
});

describe("mode options (exit 1, one message)", () => {
  it.each([
    [
      ["--diff", "HEAD", "--render-with", "mine"],
      '--render-with "mine": use current (this checkout\'s program renders the revision\'s stack files; nothing of ' +
        "the revision runs) or revision (the revision's own program renders it: it runs); " +
        'run "llmstack plan --stack production --diff HEAD --render-with current"',
    ],
    [
      ["--diff", "HEAD", "--head", "HEAD"],
      "--head reads that revision's stack files only, never its program; add --render-with current; " +
        'run "llmstack plan --stack production --diff HEAD --head HEAD --render-with current"',
    ],
    [
      ["--head", "HEAD"],
      '--head belongs to a diff; add --diff <rev>; run "llmstack plan --stack production --diff origin/main --head HEAD --render-with current"',
    ],
    [
      ["--render-with", "current"],
      '--render-with belongs to a diff; add --diff <rev>; run "llmstack plan --stack production --diff origin/main --render-with current"',
    ],
  ])("plan --stack production %j", async (args, message) => {
    expect(await run(["plan", "--stack", "production", ...args], ROOT)).toEqual({
      code: 1,
      stdout: "",
      stderr: `llmstack plan: ${message}\n`,
    });
  });

  it("a --head that is no commit", async () => {
    const repo = projectRepo(scratch(), "badhead");
    const r = await run(["plan", "--stack", "production", "--diff", "HEAD", "--head", "nope", "--render-with", "current"], repo);
    expect(r.stderr).toBe(
      `llmstack plan: --head "nope": no such commit in ${repo}; give a branch, tag or commit such as origin/main or HEAD~1 ` +
        '(a shallow or fresh clone may lack a remote\'s branches: fetch them); run "git fetch origin"\n',
    );
  });
});
