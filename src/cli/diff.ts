/**
 * `llmstack plan --stack NAME --diff REV [--head REV2] [--render-with revision|current] [--markdown|--json]`:
 * prints what `pulumi up` would do to each container, volume and the network, and which secrets
 * changed, going from the stack at REV to the working tree (or to REV2). Exit 0: nothing changes; 2:
 * something does.
 *
 * Two ways to render REV:
 * - `revision` (the default): REV's own program renders it, from a temporary git worktree, so program
 *   changes show too. That runs REV's code (its `bin/llmstack.js` and everything it loads) on this
 *   machine: use it only for revisions you trust, such as the base branch of a pull request.
 * - `current`: only REV's `Pulumi.yaml` and stack file are read (as git blobs: no checkout, no hook,
 *   no filter) and this checkout's program renders them. Nothing of REV runs; changes to the program
 *   itself do not show. Use it for revisions you do not trust, such as a fork's branch.
 */
import { existsSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { readInputFile } from "../config/readFile";
import { tmpdir } from "node:os";
import { join, resolve as resolvePath } from "node:path";
import { stackFileName } from "../config/stackFile";
import { diffPlans } from "../diff/compute";
import { diffMarkdownByHost, diffTextByHost } from "../diff/hostsRender";
import { diffJson } from "../diff/render";
import { parsePlanDoc } from "../diff/resources";
import { diffSecrets, readStackSecrets, secretUsers } from "../diff/secrets";
import type { PlanDoc, RenderWith } from "../diff/types";
import { planJson } from "../plan/render";
import type { StackPlan } from "../plan/types";
import { commandLine, PROGRAM_ROOT } from "./command";
import { UsageError, type CliIo } from "./io";
import { renderStack } from "./renderStack";

export type DiffFormat = "text" | "markdown" | "json";

export interface PlanDiffOptions {
  readonly stack: string;
  readonly rev: string;
  /** The new side's revision; absent: the working tree. */
  readonly head?: string;
  readonly dir: string;
  readonly format: DiffFormat;
  readonly renderWith: RenderWith;
}

/** Exit codes, like `git diff --exit-code`: a CI step can tell "changes" from "failed". */
export const EXIT_NO_CHANGES = 0;
export const EXIT_CHANGES = 2;

const PLAN_TIMEOUT_MS = 120_000;

/** A stack file is a few kilobytes; a revision's blob far larger than that is refused, not read. */
export const MAX_STACK_FILE_BYTES = 1024 * 1024;

class GitError extends Error {}

/** git from Debian's and Ubuntu's own packages (https://git-scm.com/download/linux). */
const GIT_INSTALL = "sudo apt-get install git";

/**
 * The revisions that changed `path` (relative to the repository's top), newest first: where to pick one
 * that has it as it must be. A path in a subdirectory is written `:/path`, which git reads from the top.
 */
const revisionsOf = (path: string): string => commandLine("git", "log", "--oneline", "--", path.includes("/") ? `:/${path}` : path);

async function git(io: CliIo, cwd: string, args: string[]): Promise<string> {
  const r = await io.exec("git", args, { cwd, timeoutMs: PLAN_TIMEOUT_MS });
  if (r.code === 127) {
    throw new UsageError("--diff needs git on PATH; install git (https://git-scm.com/downloads) or drop --diff", GIT_INSTALL);
  }
  if (r.code !== 0) throw new GitError(`git ${args.join(" ")}: ${(r.stderr || r.stdout).trim()}`);
  return r.stdout;
}

/** A revision's project files, read from git's object store: never checked out, never run. */
interface RevisionFiles {
  readonly rev: string;
  /** `Pulumi.yaml`; null when absent. */
  readonly project: string | null;
  /** `Pulumi.<stack>.yaml`; null when absent. */
  readonly stack: string | null;
}

/** The content of `path` at `sha` when it is a regular file there, null when nothing is there. */
async function blobAt(io: CliIo, top: string, sha: string, path: string, rev: string): Promise<string | null> {
  // `ls-tree -l`: "<mode> <type> <object> <size>\t<path>", nothing when the path does not exist.
  // Literal pathspecs: a stack name is a file name, never a pattern.
  const line = (await git(io, top, ["--literal-pathspecs", "ls-tree", "-l", "-z", "--full-tree", sha, "--", path])).split("\0")[0]!;
  if (line === "") return null;
  const m = /^(\d+) (\w+) ([0-9a-f]+) +(\d+|-)\t/.exec(line);
  if (!m || m[2] !== "blob" || !["100644", "100755"].includes(m[1]!)) {
    throw new UsageError(`--diff ${rev}: ${path} is not a regular file at that revision; a stack file must be one`, revisionsOf(path));
  }
  if (Number(m[4]) > MAX_STACK_FILE_BYTES) {
    throw new UsageError(
      `--diff ${rev}: ${path} at that revision is ${m[4]} bytes, more than the ${MAX_STACK_FILE_BYTES} a stack file may have`,
      revisionsOf(path),
    );
  }
  return git(io, top, ["cat-file", "blob", m[3]!]);
}

async function revisionFiles(io: CliIo, top: string, prefix: string, sha: string, rev: string, stack: string): Promise<RevisionFiles> {
  return {
    rev,
    project: await blobAt(io, top, sha, `${prefix}Pulumi.yaml`, rev),
    stack: await blobAt(io, top, sha, `${prefix}${stackFileName(stack)}`, rev),
  };
}

/** What a failed render of a revision's stack files says to do next, and the command. */
export interface NextStep {
  readonly advice: string;
  readonly command: string;
}

/** Renders a revision's stack files with this checkout's program, from a temporary directory. */
export function renderFiles(files: RevisionFiles, stack: string, option: string, next: NextStep): StackPlan {
  if (files.project === null) {
    throw new UsageError(`${option} ${files.rev}: that revision has no Pulumi.yaml; pick a revision of this project`, revisionsOf("Pulumi.yaml"));
  }
  const tmp = mkdtempSync(join(tmpdir(), "llmstack-diff-"));
  try {
    writeFileSync(join(tmp, "Pulumi.yaml"), files.project);
    writeFileSync(join(tmp, stackFileName(stack)), files.stack ?? "");
    return renderStack(tmp, stack);
  } catch (err) {
    // The message of the render names its own fix, for a stack file here; this one is at a revision.
    const why = (err as Error).message.replace(/; run "[^"\n]+"$/, "").replace(/\.$/, "");
    throw new UsageError(
      `${option} ${files.rev}: rendering stack ${stack} at that revision with this checkout's program failed: ${why}; ${next.advice}`,
      next.command,
    );
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}

/** The plan at `sha`, rendered by that revision's own CLI (it runs that revision's code). */
export async function planAtRevision(
  io: CliIo,
  opts: { top: string; prefix: string; sha: string; rev: string; stack: string; nodeModules: string },
): Promise<PlanDoc> {
  const tmp = mkdtempSync(join(tmpdir(), "llmstack-diff-"));
  const tree = join(tmp, "tree");
  let added = false;
  try {
    await git(io, opts.top, ["worktree", "add", "--detach", "--quiet", tree, opts.sha]);
    added = true;
    const project = join(tree, opts.prefix);
    if (!existsSync(join(project, "bin", "llmstack.js"))) {
      throw new UsageError(
        `--diff ${opts.rev}: that revision has no bin/llmstack.js to render the plan with; pick a newer revision or add --render-with current`,
        commandLine("llmstack", "plan", "--stack", opts.stack, "--diff", opts.rev, "--render-with", "current"),
      );
    }
    // `npm ci` per diff is too slow: the revision's program runs with the working tree's packages.
    if (!existsSync(join(project, "node_modules"))) symlinkSync(opts.nodeModules, join(project, "node_modules"), "dir");
    const r = await io.exec(process.execPath, ["bin/llmstack.js", "plan", "--stack", opts.stack, "--json"], {
      cwd: project,
      timeoutMs: PLAN_TIMEOUT_MS,
    });
    // When the revision's program fails, this checkout's program renders its stack files: nothing of it runs.
    const current: NextStep = {
      advice: "render its stack files with this checkout's program instead",
      command: commandLine("llmstack", "plan", "--stack", opts.stack, "--diff", opts.rev, "--render-with", "current"),
    };
    if (r.code !== 0) {
      const why = (r.stderr || r.stdout).trim().replace(/; run "[^"\n]+"$/, "").replace(/\.$/, "");
      // Its own program refusing its own stack file (the error names the file first): the revision is at fault.
      const next = why.startsWith(`llmstack plan: ${stackFileName(opts.stack)}: `) ? fileAt(opts.rev, `${opts.prefix}${stackFileName(opts.stack)}`) : current;
      throw new UsageError(
        `--diff ${opts.rev}: rendering stack ${opts.stack} at that revision failed (exit ${r.code}): ${why}; ${next.advice}`,
        next.command,
      );
    }
    try {
      return parsePlanDoc(r.stdout);
    } catch (err) {
      throw new UsageError(`--diff ${opts.rev}: "plan --json" at that revision: ${(err as Error).message}; ${current.advice}`, current.command);
    }
  } finally {
    // Always leave the repository as it was: no worktree entry, no temporary directory.
    if (added) await io.exec("git", ["worktree", "remove", "--force", tree], { cwd: opts.top });
    rmSync(tmp, { recursive: true, force: true });
    await io.exec("git", ["worktree", "prune"], { cwd: opts.top });
  }
}

async function resolve(io: CliIo, dir: string, top: string, rev: string, option: string): Promise<string> {
  try {
    return (await git(io, dir, ["rev-parse", "--verify", "--quiet", "--end-of-options", `${rev}^{commit}`])).trim();
  } catch (err) {
    if (err instanceof GitError) {
      throw new UsageError(
        `${option} "${rev}": no such commit in ${top}; give a branch, tag or commit such as origin/main or HEAD~1 ` +
          "(a shallow or fresh clone may lack a remote's branches: fetch them)",
        "git fetch origin",
      );
    }
    throw err;
  }
}

function secretsOf(text: string | null, shown: string) {
  try {
    return readStackSecrets(text, shown);
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
}

/** A revision's stack file that this program cannot render is fixed by a commit there; this shows it. */
function fileAt(rev: string, path: string): NextStep {
  return { advice: "fix it in a new commit; this shows it as it is there", command: commandLine("git", "show", `${rev}:${path}`) };
}

/**
 * When this checkout's program cannot render the stack file at --diff (this program changed what a stack
 * file may say): that revision's own program renders it, which runs its code; with --head (which needs
 * current), the file as it is at --diff.
 */
function baseFix(opts: PlanDiffOptions, path: string): NextStep {
  if (opts.head !== undefined) return fileAt(opts.rev, path);
  return {
    advice: "if you trust that revision, let its own program render it (that runs its code)",
    command: commandLine("llmstack", "plan", "--stack", opts.stack, "--diff", opts.rev, "--render-with", "revision"),
  };
}

export async function planDiffCommand(opts: PlanDiffOptions, io: CliIo): Promise<number> {
  let top: string;
  let prefix: string;
  try {
    top = (await git(io, opts.dir, ["rev-parse", "--show-toplevel"])).trim();
    prefix = (await git(io, opts.dir, ["rev-parse", "--show-prefix"])).trim();
  } catch (err) {
    if (err instanceof GitError) {
      throw new UsageError(
        `--diff needs a git repository, but ${opts.dir} is not inside one (${err.message}); go to a git clone of the project`,
        // This program's own directory, when it is a clone.
        existsSync(join(PROGRAM_ROOT, ".git")) ? commandLine("cd", resolvePath(PROGRAM_ROOT)) : commandLine("cd", "<your git clone of the project>"),
      );
    }
    throw err;
  }
  const sha = await resolve(io, opts.dir, top, opts.rev, "--diff");
  const file = stackFileName(opts.stack);

  // The new side: the working tree, or the stack files at --head (never its program).
  let after: StackPlan | null;
  let afterText: string | null;
  let afterShown: string;
  if (opts.head !== undefined) {
    const headFiles = await revisionFiles(io, top, prefix, await resolve(io, opts.dir, top, opts.head, "--head"), opts.head, opts.stack);
    after = headFiles.stack === null ? null : renderFiles(headFiles, opts.stack, "--head", fileAt(opts.head, `${prefix}${file}`));
    afterText = headFiles.stack;
    afterShown = `${file} at ${opts.head}`;
  } else {
    const path = join(opts.dir, file);
    after = existsSync(path) ? renderStack(opts.dir, opts.stack) : null;
    afterText = after === null ? null : readInputFile(path, { shown: file, what: "a stack file" });
    afterShown = file;
  }

  const baseFiles = await revisionFiles(io, top, prefix, sha, opts.rev, opts.stack);
  let before: PlanDoc | null = null;
  if (baseFiles.stack !== null) {
    before =
      opts.renderWith === "current"
        ? (planJson(renderFiles(baseFiles, opts.stack, "--diff", baseFix(opts, `${prefix}${file}`))) as unknown as PlanDoc)
        : await planAtRevision(io, { top, prefix, sha, rev: opts.rev, stack: opts.stack, nodeModules: join(opts.dir, "node_modules") });
  }
  if (before === null && after === null) {
    const where = opts.head !== undefined ? `at ${opts.head}` : `in ${opts.dir}`;
    // The stack files there are: each Pulumi.<name>.yaml is a stack.
    throw new UsageError(`${file}: no such stack file ${where} nor at ${opts.rev}; pick another --stack`, "ls Pulumi.*.yaml");
  }
  const { secrets, encryptionChanged } = diffSecrets(
    secretsOf(baseFiles.stack, `${file} at ${opts.rev}`),
    secretsOf(afterText, afterShown),
    after === null ? new Map() : secretUsers(after),
  );
  const diff = diffPlans({
    stack: opts.stack,
    base: opts.rev,
    ...(opts.head !== undefined ? { head: opts.head } : {}),
    renderWith: opts.renderWith,
    before,
    after: after === null ? null : (planJson(after) as unknown as PlanDoc),
    secrets,
    encryptionChanged,
  });
  // A stack with hosts is shown host by host; a single host's diff is as it always was.
  const print = { text: diffTextByHost, markdown: diffMarkdownByHost, json: diffJson }[opts.format];
  io.stdout(print(diff));
  return diff.changed ? EXIT_CHANGES : EXIT_NO_CHANGES;
}
