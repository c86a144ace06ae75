/**
 * `llmstack plan --stack NAME --diff REV [--markdown|--json]`: renders the stack at REV with REV's own
 * program (from a temporary git worktree, so program changes show too) and in the working tree, and
 * prints what `pulumi up` would do to each container. Exit 0: nothing changes; 2: something does.
 */
import { existsSync, mkdtempSync, rmSync, symlinkSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { stackFileName } from "../config/stackFile";
import { diffPlans } from "../diff/compute";
import { diffJson, diffMarkdown, diffText } from "../diff/render";
import type { PlanDoc } from "../diff/types";
import { planJson } from "../plan/render";
import { UsageError, type CliIo } from "./io";
import { renderStack } from "./plan";

export type DiffFormat = "text" | "markdown" | "json";

export interface PlanDiffOptions {
  readonly stack: string;
  readonly rev: string;
  readonly dir: string;
  readonly format: DiffFormat;
}

/** Exit codes, like `git diff --exit-code`: a CI step can tell "changes" from "failed". */
export const EXIT_NO_CHANGES = 0;
export const EXIT_CHANGES = 2;

const PLAN_TIMEOUT_MS = 120_000;

async function git(io: CliIo, cwd: string, args: string[]): Promise<string> {
  const r = await io.exec("git", args, { cwd, timeoutMs: PLAN_TIMEOUT_MS });
  if (r.code === 127) throw new UsageError("--diff needs git on PATH; install git or drop --diff");
  if (r.code !== 0) throw new GitError(`git ${args.join(" ")}: ${(r.stderr || r.stdout).trim()}`);
  return r.stdout.trim();
}

class GitError extends Error {}

/** The plan at `sha`, rendered by that revision's own CLI; null when the stack file does not exist there. */
export async function planAtRevision(
  io: CliIo,
  opts: { top: string; prefix: string; sha: string; rev: string; stack: string; nodeModules: string },
): Promise<PlanDoc | null> {
  const tmp = mkdtempSync(join(tmpdir(), "llmstack-diff-"));
  const tree = join(tmp, "tree");
  let added = false;
  try {
    await git(io, opts.top, ["worktree", "add", "--detach", "--quiet", tree, opts.sha]);
    added = true;
    const project = join(tree, opts.prefix);
    if (!existsSync(join(project, stackFileName(opts.stack)))) return null;
    if (!existsSync(join(project, "bin", "llmstack.js"))) {
      throw new UsageError(
        `--diff ${opts.rev}: that revision has no bin/llmstack.js to render the plan with; pick a newer revision`,
      );
    }
    // `npm ci` per diff is too slow: the revision's program runs with the working tree's packages.
    if (!existsSync(join(project, "node_modules"))) symlinkSync(opts.nodeModules, join(project, "node_modules"), "dir");
    const r = await io.exec(process.execPath, ["bin/llmstack.js", "plan", "--stack", opts.stack, "--json"], {
      cwd: project,
      timeoutMs: PLAN_TIMEOUT_MS,
    });
    if (r.code !== 0) {
      throw new UsageError(
        `--diff ${opts.rev}: rendering stack ${opts.stack} at that revision failed (exit ${r.code}): ` +
          `${(r.stderr || r.stdout).trim()}`,
      );
    }
    try {
      return JSON.parse(r.stdout) as PlanDoc;
    } catch {
      throw new UsageError(`--diff ${opts.rev}: "plan --json" at that revision did not print JSON: ${r.stdout.slice(0, 200)}`);
    }
  } finally {
    // Always leave the repository as it was: no worktree entry, no temporary directory.
    if (added) await io.exec("git", ["worktree", "remove", "--force", tree], { cwd: opts.top });
    rmSync(tmp, { recursive: true, force: true });
    await io.exec("git", ["worktree", "prune"], { cwd: opts.top });
  }
}

export async function planDiffCommand(opts: PlanDiffOptions, io: CliIo): Promise<number> {
  let top: string;
  let prefix: string;
  let sha: string;
  try {
    top = await git(io, opts.dir, ["rev-parse", "--show-toplevel"]);
    prefix = await git(io, opts.dir, ["rev-parse", "--show-prefix"]);
  } catch (err) {
    if (err instanceof GitError) {
      throw new UsageError(`--diff needs a git repository, but ${opts.dir} is not inside one (${err.message})`);
    }
    throw err;
  }
  try {
    sha = await git(io, opts.dir, ["rev-parse", "--verify", "--quiet", "--end-of-options", `${opts.rev}^{commit}`]);
  } catch (err) {
    if (err instanceof GitError) {
      throw new UsageError(
        `--diff "${opts.rev}": no such commit in ${top}; give a branch, tag or commit such as origin/main or HEAD~1`,
      );
    }
    throw err;
  }
  const currentExists = existsSync(join(opts.dir, stackFileName(opts.stack)));
  const after = currentExists ? (planJson(renderStack(opts.dir, opts.stack)) as unknown as PlanDoc) : null;
  const before = await planAtRevision(io, {
    top,
    prefix,
    sha,
    rev: opts.rev,
    stack: opts.stack,
    nodeModules: join(opts.dir, "node_modules"),
  });
  if (before === null && after === null) {
    throw new UsageError(
      `${stackFileName(opts.stack)}: no such stack file in ${opts.dir} nor at ${opts.rev}; pick another --stack`,
    );
  }
  const diff = diffPlans({ stack: opts.stack, base: opts.rev, before, after });
  const print = { text: diffText, markdown: diffMarkdown, json: diffJson }[opts.format];
  io.stdout(print(diff));
  return diff.changed ? EXIT_CHANGES : EXIT_NO_CHANGES;
}
