/**
 * The last good config of a stack, as `llmstack rollback` and `llmstack up` use it: read from the stack
 * output the program records (src/deploy/program.ts) through the same Pulumi CLI `up` runs, written out as
 * a stack file beside the user's, and the revision `up` hands the program.
 *
 * Pulumi's own words that this reads (pulumi/pulumi pkg/cmd/pulumi, stack_output.go and stack.go):
 * "current stack does not have output property '<name>'" and "no stack named '<name>' found".
 */
import { copyFileSync, mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { withPlainValues } from "../config/plainValues";
import { readInputFile } from "../config/readFile";
import { parseStackConfig } from "../config/parse";
import { readStack, stackFileName } from "../config/stackFile";
import { diffPlans } from "../diff/compute";
import type { PlanDiff, PlanDoc } from "../diff/types";
import {
  configSha256,
  LAST_GOOD_OUTPUT,
  parseLastGood,
  revisionName,
  stackFileSha256,
  type ConfigRevision,
  type LastGoodConfig,
} from "../plan/lastGood";
import { planJson } from "../plan/render";
import type { StackPlan } from "../plan/types";
import { commandLine } from "./command";
import { UsageError, type CliIo } from "./io";
import { renderStack } from "./renderStack";

/** Where rollback writes the stack file it deploys (git-ignored with the rest of `.llmstack/`). */
export function rollbackDir(cwd: string, stack: string): string {
  return join(cwd, ".llmstack", "rollback", stack);
}

/** The record, or null when the stack has none yet; other failures are errors that name the fix. */
export async function readLastGood(io: CliIo, stack: string): Promise<LastGoodConfig | null> {
  const r = await io.exec("pulumi", ["stack", "output", LAST_GOOD_OUTPUT, "--stack", stack, "--json"], { cwd: io.cwd });
  if (r.code !== 0) {
    const said = (r.stderr || r.stdout).trim().replace(/^error: /, "");
    if (/does not have output property/.test(said)) return null;
    if (/no stack named/.test(said)) {
      throw new UsageError(
        `stack ${stack}: the Pulumi backend has no stack of that name (pulumi said: ${said}); log in to the backend that holds it, or pick a stack it lists`,
        "pulumi stack ls",
      );
    }
    throw new UsageError(
      `reading the stack output ${LAST_GOOD_OUTPUT} of stack ${stack} failed (pulumi stack output exited ${r.code}: ${said}); fix what it says`,
      commandLine("pulumi", "stack", "output", "--stack", stack),
    );
  }
  let value: unknown;
  try {
    value = JSON.parse(r.stdout) as unknown;
  } catch {
    value = r.stdout.trim();
  }
  try {
    const record = parseLastGood(value);
    if (record.stack !== stack) throw new Error(`it is the record of stack ${record.stack}`);
    return record;
  } catch (err) {
    throw new UsageError(
      `the stack output ${LAST_GOOD_OUTPUT} of stack ${stack} is not a record this program reads (${(err as Error).message}); ` +
        "a successful update writes a new one",
      commandLine("llmstack", "up", "--stack", stack),
    );
  }
}

/** What rollback says when there is no record yet. */
export function noRecordError(stack: string): UsageError {
  return new UsageError(
    `stack ${stack} has no recorded good config yet: an update records one (the stack output ${LAST_GOOD_OUTPUT}) only ` +
      "when every container came up healthy and the smoke test passed, and none of this stack's updates has, " +
      "so there is nothing to roll back to; fix the stack file and deploy it",
    commandLine("llmstack", "up", "--stack", stack),
  );
}

export interface LastGoodFiles {
  /** A project directory holding Pulumi.yaml and the stack file to deploy. */
  readonly dir: string;
  /** The stack file to deploy (`pulumi up --config-file`). */
  readonly stackFile: string;
  /** Its plan, rendered offline as `plan` renders a stack file. */
  readonly plan: StackPlan;
}

/**
 * Writes the last good config as a stack file under .llmstack/rollback/<stack>/: the user's stack file
 * with its plain `llmstack:` values replaced by the recorded ones (credentials and encryption settings
 * as the user's file has them), beside a copy of Pulumi.yaml so it renders like any stack.
 */
export function writeLastGood(cwd: string, record: LastGoodConfig): LastGoodFiles {
  const file = stackFileName(record.stack);
  const current = readInputFile(join(cwd, file), { shown: file, what: "a stack file" });
  const dir = rollbackDir(cwd, record.stack);
  mkdirSync(dir, { recursive: true });
  copyFileSync(join(cwd, "Pulumi.yaml"), join(dir, "Pulumi.yaml"));
  const stackFile = join(dir, file);
  writeFileSync(stackFile, withPlainValues(current, file, record.config));
  return { dir, stackFile, plan: renderStack(dir, record.stack) };
}

/** The `plan --diff` from the stack file as it is to the last good config. */
export function diffToLastGood(current: StackPlan, lastGood: StackPlan, record: LastGoodConfig): PlanDiff {
  return diffPlans({
    stack: record.stack,
    base: stackFileName(record.stack),
    head: `the last good config (${revisionName(record.revision)})`,
    renderWith: "current",
    before: planJson(current) as unknown as PlanDoc,
    after: planJson(lastGood) as unknown as PlanDoc,
  });
}

/**
 * The revision of the stack file in `io.cwd`, for REVISION_ENV: its config hash, its content hash and, when
 * it is committed and unchanged since, the commit. Without git (or outside a repository) it has no commit.
 */
export async function stackFileRevision(io: CliIo, stack: string): Promise<ConfigRevision> {
  const raw = readStack(io.cwd, stack);
  const text = readInputFile(join(io.cwd, raw.stackFile), { shown: raw.stackFile, what: "a stack file" });
  const revision: ConfigRevision = {
    configSha256: configSha256(parseStackConfig(raw.values, raw.stackFile)),
    stackFile: raw.stackFile,
    stackFileSha256: stackFileSha256(text),
  };
  const commit = await committedAt(io, raw.stackFile);
  return commit === null ? revision : { ...revision, commit };
}

/** HEAD's commit when `file` is tracked there and has no change since, else null. */
async function committedAt(io: CliIo, file: string): Promise<string | null> {
  const git = async (args: string[]): Promise<string | null> => {
    const r = await io.exec("git", args, { cwd: io.cwd, timeoutMs: 10_000 });
    return r.code === 0 ? r.stdout : null;
  };
  if ((await git(["ls-files", "--error-unmatch", "--", file])) === null) return null;
  const changed = await git(["status", "--porcelain", "--", file]);
  if (changed === null || changed.trim() !== "") return null;
  const head = (await git(["rev-parse", "HEAD"]))?.trim();
  return head !== undefined && /^[0-9a-f]{40,64}$/.test(head) ? head : null;
}
