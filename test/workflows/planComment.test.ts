/**
 * The script of plan-comment.yml, run as actions/github-script runs it (an async function of `require`,
 * `github`, `context` and `core`), against a fake GitHub API and an artifact written to a temporary
 * directory. The artifact is the pull request's own output: the script must not let it choose where
 * the comment goes, nor post anything but what the stack's file says, under that stack's marker.
 */
import * as nodeFs from "node:fs";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { workflow } from "./workflowFiles";

const SCRIPT = String(workflow("plan-comment.yml").jobs.comment!.steps[1]!.with!.script);

const SHA_FORK = "a".repeat(40);
const SHA_OTHER = "b".repeat(40);
const SHA_OLD = "c".repeat(40);

interface Pull {
  readonly number: number;
  readonly state: "open" | "closed";
  readonly head: { readonly sha: string; readonly ref: string; readonly repo: { readonly full_name: string; readonly owner: { readonly login: string } } };
}
interface Comment {
  readonly id: number;
  readonly user: { readonly login: string };
  readonly body: string;
}

const pull = (number: number, repo: string, ref: string, sha: string): Pull => ({
  number,
  state: "open",
  head: { sha, ref, repo: { full_name: repo, owner: { login: repo.split("/")[0]! } } },
});

/** A fork's pull request #7 and the base repository's own #3, whose comment a spoof would overwrite. */
const FORK_PR = pull(7, "mallory/llmstack", "feature", SHA_FORK);
const VICTIM_PR = pull(3, "acme/llmstack", "postgres-upgrade", SHA_OTHER);

const forkRun = (over: Record<string, unknown> = {}) => ({
  id: 4242,
  html_url: "https://github.com/acme/llmstack/actions/runs/4242",
  head_sha: SHA_FORK,
  head_branch: "feature",
  head_repository: { full_name: "mallory/llmstack", owner: { login: "mallory" } },
  // Empty for pull requests from forks.
  pull_requests: [],
  ...over,
});

const MARKER = (stack: string) => `<!-- llmstack-plan-diff:${stack} -->`;
const DIFF = `${MARKER("production")}\n### Plan diff: production\n\n**1 to replace**\n`;

interface Outcome {
  readonly created: { issue_number: number; body: string }[];
  readonly updated: { comment_id: number; body: string }[];
  readonly failed: string[];
  readonly notices: string[];
  readonly listedHeads: string[];
}

let dirs: string[] = [];
afterEach(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
  dirs = [];
});

async function runScript(opts: {
  files: Record<string, string>;
  pulls: Pull[];
  comments?: Record<number, Comment[]>;
  run?: Record<string, unknown>;
}): Promise<Outcome> {
  const root = mkdtempSync(join(tmpdir(), "plan-comment-"));
  dirs.push(root);
  mkdirSync(join(root, "plan-diff"));
  for (const [name, content] of Object.entries(opts.files)) writeFileSync(join(root, "plan-diff", name), content);
  // The script reads paths relative to the workspace; this fs resolves them in the temporary one.
  const fs = {
    readdirSync: (p: string) => nodeFs.readdirSync(join(root, p)),
    lstatSync: (p: string) => nodeFs.lstatSync(join(root, p)),
    readFileSync: (p: string, enc: BufferEncoding) => nodeFs.readFileSync(join(root, p), enc),
  };
  const out: Outcome = { created: [], updated: [], failed: [], notices: [], listedHeads: [] };
  const github = {
    paginate: async <A, R>(fn: (args: A) => Promise<{ data: R[] }>, args: A) => (await fn(args)).data,
    rest: {
      pulls: {
        // GitHub's filter: `head` is "owner:branch" of the head repository.
        list: async (a: { head: string; state: string }) => {
          out.listedHeads.push(a.head);
          return { data: opts.pulls.filter((p) => p.state === a.state && `${p.head.repo.owner.login}:${p.head.ref}` === a.head) };
        },
      },
      issues: {
        listComments: async (a: { issue_number: number }) => ({ data: opts.comments?.[a.issue_number] ?? [] }),
        createComment: async (a: { issue_number: number; body: string }) => void out.created.push({ issue_number: a.issue_number, body: a.body }),
        updateComment: async (a: { comment_id: number; body: string }) => void out.updated.push({ comment_id: a.comment_id, body: a.body }),
      },
    },
  };
  const core = {
    setFailed: (m: string) => void out.failed.push(m),
    notice: (m: string) => void out.notices.push(m),
  };
  const context = { payload: { workflow_run: forkRun(opts.run) }, repo: { owner: "acme", repo: "llmstack" } };
  const require = (m: string) => {
    if (m === "node:fs") return fs;
    throw new Error(`the script requires ${m}`);
  };
  const AsyncFunction = Object.getPrototypeOf(async () => undefined).constructor as new (
    ...args: string[]
  ) => (...a: unknown[]) => Promise<unknown>;
  await new AsyncFunction("require", "github", "context", "core", SCRIPT)(require, github, context, core);
  return out;
}

describe("plan-comment.yml finds the pull request from the run's head, not from the artifact", () => {
  it("a fork's run comments on the fork's own pull request, whatever number the artifact holds", async () => {
    const out = await runScript({ files: { "pr-number": "3\n", "production.md": DIFF }, pulls: [FORK_PR, VICTIM_PR] });
    expect(out.listedHeads).toEqual(["mallory:feature"]);
    expect(out.failed).toEqual([]);
    expect(out.created).toEqual([{ issue_number: 7, body: DIFF }]);
    expect(out.updated).toEqual([]);
  });

  it("refuses when no open pull request has the run's head commit", async () => {
    // A run from a fork branch with no pull request, whose artifact names the victim's.
    const out = await runScript({
      files: { "pr-number": "3\n", "production.md": DIFF },
      pulls: [VICTIM_PR],
      run: { head_branch: "no-pr" },
    });
    expect(out.failed).toEqual([
      `0 open pull requests have the head mallory/llmstack@${SHA_FORK}; expected one; nothing was posted`,
    ]);
    expect([out.created, out.updated]).toEqual([[], []]);
  });

  it("a branch of the same name in another repository is not the run's head", async () => {
    const lookalike = pull(9, "acme/llmstack", "feature", SHA_FORK);
    const out = await runScript({ files: { "production.md": DIFF }, pulls: [lookalike] });
    expect(out.failed).toEqual([
      `0 open pull requests have the head mallory/llmstack@${SHA_FORK}; expected one; nothing was posted`,
    ]);
    expect(out.created).toEqual([]);
  });

  it("posts nothing for a run whose pull request has moved on to a newer commit", async () => {
    const out = await runScript({ files: { "production.md": DIFF }, pulls: [FORK_PR], run: { head_sha: SHA_OLD } });
    expect(out.notices).toEqual([`pull request #7 has moved past ${SHA_OLD}; the run for its new head posts the comment`]);
    expect([out.failed, out.created, out.updated]).toEqual([[], [], []]);
  });

  it("refuses a head that two open pull requests share", async () => {
    const out = await runScript({ files: { "production.md": DIFF }, pulls: [FORK_PR, { ...FORK_PR, number: 8 }] });
    expect(out.failed).toEqual([
      `2 open pull requests have the head mallory/llmstack@${SHA_FORK}; expected one; nothing was posted`,
    ]);
    expect(out.created).toEqual([]);
  });

  it("refuses a run without a well-formed head commit", async () => {
    const out = await runScript({ files: { "production.md": DIFF }, pulls: [FORK_PR], run: { head_sha: "HEAD" } });
    expect(out.failed).toEqual(["run 4242 names no head repository, branch and commit; nothing was posted"]);
    expect(out.listedHeads).toEqual([]);
  });
});

describe("plan-comment.yml posts the artifact's files as data", () => {
  it("updates its own comment for the stack and leaves anyone else's comment with the marker alone", async () => {
    const comments = {
      7: [
        { id: 11, user: { login: "mallory" }, body: `${MARKER("production")}\nNo changes.` },
        { id: 12, user: { login: "github-actions[bot]" }, body: `${MARKER("staging")}\nold staging` },
        { id: 13, user: { login: "github-actions[bot]" }, body: `${MARKER("production")}\nold production` },
      ],
    };
    const out = await runScript({ files: { "production.md": DIFF }, pulls: [FORK_PR], comments });
    expect(out.updated).toEqual([{ comment_id: 13, body: DIFF }]);
    expect(out.created).toEqual([]);
  });

  it("posts a file over the size a comment holds as a note that links the run", async () => {
    const big = `${MARKER("production")}\n${"x".repeat(60_001)}`;
    const out = await runScript({ files: { "production.md": big }, pulls: [FORK_PR] });
    expect(out.created).toEqual([
      {
        issue_number: 7,
        body:
          `${MARKER("production")}\nThe plan diff of stack \`production\` is 60040 bytes, more than a comment holds; ` +
          "read it in the summary of [the CI run](https://github.com/acme/llmstack/actions/runs/4242).\n",
      },
    ]);
  });

  it("posts a file of exactly the limit as it is", async () => {
    const full = `${MARKER("production")}\n${"x".repeat(60_000 - 39)}`;
    const out = await runScript({ files: { "production.md": full }, pulls: [FORK_PR] });
    expect(out.created).toEqual([{ issue_number: 7, body: full }]);
  });

  it("refuses a file that does not start with its own stack's marker, and posts none of the others", async () => {
    const out = await runScript({
      files: { "development.md": `${MARKER("development")}\nok\n`, "production.md": `${MARKER("staging")}\nspoof\n` },
      pulls: [FORK_PR],
    });
    expect(out.failed).toEqual([`production.md does not start with its marker line ${MARKER("production")}; nothing was posted`]);
    expect([out.created, out.updated]).toEqual([[], []]);
  });

  it.each([["notes.txt"], ["a b.md"], [`${"s".repeat(65)}.md`]])("refuses an artifact holding %s", async (name) => {
    const out = await runScript({ files: { "production.md": DIFF, [name]: "x" }, pulls: [FORK_PR] });
    expect(out.failed).toEqual([`the plan-diff artifact holds ${JSON.stringify(name)}, which CI does not write; nothing was posted`]);
    expect(out.created).toEqual([]);
  });

  it("refuses more stacks than CI renders", async () => {
    const files = Object.fromEntries(Array.from({ length: 21 }, (_, i) => [`s${i}.md`, `${MARKER(`s${i}`)}\n`]));
    const out = await runScript({ files, pulls: [FORK_PR] });
    expect(out.failed).toEqual(["the plan-diff artifact holds 21 stacks, more than 20; nothing was posted"]);
    expect(out.created).toEqual([]);
  });

  it("ignores stacks.txt, and posts nothing when no stack changed", async () => {
    const out = await runScript({ files: { "stacks.txt": "\n" }, pulls: [FORK_PR] });
    expect([out.failed, out.created, out.updated]).toEqual([[], [], []]);
  });
});
