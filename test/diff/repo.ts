/**
 * Temporary git repositories holding a copy of the project, for `llmstack plan --diff` end to end:
 * a commit, edits in the working tree, and the command run either in this process (this checkout's
 * program) or through the repository's own `bin/llmstack.js`.
 */
import { execFileSync } from "node:child_process";
import { cpSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, expect } from "vitest";
import { realExec, type CliIo } from "../../src/cli/io";
import { main } from "../../src/cli/main";
import type { PlanDiff } from "../../src/diff/types";
import { ROOT } from "../helpers/root";

const PROJECT_FILES = ["Pulumi.yaml", "package.json", "tsconfig.json", ".gitignore", "bin", "src"];

export interface Result {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/**
 * A scratch directory for the file's repositories, removed after it; the command's own temporary
 * directories go to its `tmp/` (TMPDIR), so a test can see that they are removed.
 */
export function useScratch(): () => string {
  let scratch = "";
  let savedTmp: string | undefined;
  beforeAll(() => {
    scratch = mkdtempSync(join(tmpdir(), "llmstack-diff-test-"));
    savedTmp = process.env.TMPDIR;
    process.env.TMPDIR = join(scratch, "tmp");
    mkdirSync(process.env.TMPDIR);
  });
  afterAll(() => {
    if (savedTmp === undefined) delete process.env.TMPDIR;
    else process.env.TMPDIR = savedTmp;
    rmSync(scratch, { recursive: true, force: true });
  });
  return () => scratch;
}

export function git(repo: string, ...args: string[]): string {
  return execFileSync("git", args, { cwd: repo, encoding: "utf8" }).trim();
}

export function commit(repo: string, message: string): void {
  git(repo, "-c", "user.email=ci@example.com", "-c", "user.name=ci", "add", "-A");
  git(repo, "-c", "user.email=ci@example.com", "-c", "user.name=ci", "commit", "--quiet", "-m", message);
}

/** The project's files, committed once per scratch directory: what every repository starts as. */
const templates = new Map<string, string>();

function template(scratch: string): string {
  let dir = templates.get(scratch);
  if (dir === undefined) {
    dir = join(scratch, ".template");
    initRepo(dir, []);
    templates.set(scratch, dir);
  }
  return dir;
}

function initRepo(repo: string, omit: readonly string[]): void {
  mkdirSync(repo);
  for (const f of PROJECT_FILES) cpSync(join(ROOT, f), join(repo, f), { recursive: true });
  for (const f of readdirSync(ROOT).filter((x) => /^Pulumi\.[\w.-]+\.yaml$/.test(x) && !omit.includes(x))) {
    cpSync(join(ROOT, f), join(repo, f));
  }
  symlinkSync(join(ROOT, "node_modules"), join(repo, "node_modules"), "dir");
  git(repo, "init", "--quiet", "--initial-branch=main");
  commit(repo, "base");
}

/**
 * A git repository under `scratch` with the project's files committed; returns its path. A copy of the
 * scratch directory's template (the same single commit) unless files are omitted: a copy costs a
 * fraction of a fresh `git init`, `add` and `commit` of the whole tree.
 */
export function projectRepo(scratch: string, name: string, omit: readonly string[] = []): string {
  const repo = join(scratch, name);
  if (omit.length > 0) initRepo(repo, omit);
  // The node_modules link is copied as a link.
  else cpSync(template(scratch), repo, { recursive: true });
  return repo;
}

export function edit(file: string, from: string | RegExp, to: string): void {
  const text = readFileSync(file, "utf8");
  const next = text.replace(from, to);
  if (next === text) throw new Error(`edit of ${file} changed nothing: ${String(from)} not found`);
  writeFileSync(file, next);
}

/** The command in this process: this checkout's program renders the working tree. */
export async function run(argv: string[], cwd: string): Promise<Result> {
  let stdout = "";
  let stderr = "";
  const io: CliIo = {
    env: process.env,
    cwd,
    stdout: (t) => (stdout += t),
    stderr: (t) => (stderr += t),
    exec: realExec,
  };
  const code = await main(argv, io);
  return { code, stdout, stderr };
}

/** Runs the repository's own CLI, so the working tree's program renders the working tree's side. */
export async function cli(argv: string[], repo: string): Promise<Result> {
  return realExec(process.execPath, ["bin/llmstack.js", ...argv], { cwd: repo, timeoutMs: 120_000 });
}

/**
 * `plan --diff REV --json`, through the repository's own CLI by default; `run` where the working tree's
 * program is this checkout's (only stack files edited), which saves starting it.
 */
export async function jsonDiff(
  repo: string,
  stack: string,
  rev = "HEAD",
  how: typeof cli | typeof run = cli,
): Promise<{ code: number; diff: PlanDiff }> {
  const r = await how(["plan", "--stack", stack, "--diff", rev, "--json"], repo);
  if (r.code === 1) throw new Error(`plan --diff failed: ${r.stderr}`);
  return { code: r.code, diff: JSON.parse(r.stdout) as PlanDiff };
}

/** The worktree and its temporary directory are gone after every run. */
export function expectCleanedUp(repo: string): void {
  expect(git(repo, "worktree", "list", "--porcelain").split("\n").filter((l) => l.startsWith("worktree "))).toEqual([
    `worktree ${repo}`,
  ]);
  expect(readdirSync(process.env.TMPDIR!).filter((f) => f.startsWith("llmstack-diff-"))).toEqual([]);
}
