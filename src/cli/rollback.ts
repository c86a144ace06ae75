/**
 * `llmstack rollback --stack NAME [--yes]`: deploys the stack's last good config again. Every update that
 * finished with its containers healthy and its smoke test passed recorded the config it deployed as the
 * stack output `lastGoodConfig` (src/deploy/program.ts); this reads it through the Pulumi CLI that `up`
 * runs, shows the `plan --diff` from the stack file to it, asks, and runs `pulumi up` on it.
 *
 * The user's stack file is never rewritten: the last good config is written as a stack file of its own
 * under .llmstack/rollback/<stack>/ (the user's file with its plain `llmstack:` values replaced, so its
 * credentials and encryption settings are the user's) and deployed with `pulumi up --config-file`
 * ("Use the configuration values in the specified file rather than detecting the file name",
 * https://www.pulumi.com/docs/iac/cli/commands/pulumi_up/). Credentials are not rolled back: the record
 * never holds them, so the stack file's current ones are deployed. Afterwards the stack file still holds
 * the config that failed, and the command says how to bring it back in line.
 */
import { createInterface } from "node:readline/promises";
import { relative } from "node:path";
import { stackFileName } from "../config/stackFile";
import { diffText } from "../diff/render";
import { LAST_GOOD_ENV, REVISION_ENV, revisionName, type LastGoodConfig } from "../plan/lastGood";
import { PULUMI_DOWNLOAD, PULUMI_INSTALL } from "../preflight/hostChecks";
import { requireStack } from "./args";
import { commandLine, defineCommand, parseCommand } from "./command";
import { UsageError, type CliIo } from "./io";
import { diffToLastGood, noRecordError, readLastGood, writeLastGood } from "./lastGood";
import { callingPulumi, locatePulumi, PULUMI_ROOT } from "./pulumiCli";
import { renderStack } from "./renderStack";

/** Asks a yes/no question; null when there is no terminal to ask on. */
export type Confirm = (question: string) => Promise<boolean | null>;

/** The process's terminal: a question on stderr, "y" or "yes" on stdin is yes. */
export const terminalConfirm: Confirm = async (question) => {
  if (process.stdin.isTTY !== true) return null;
  const rl = createInterface({ input: process.stdin, output: process.stderr });
  try {
    return /^(y|yes)$/i.test((await rl.question(question)).trim());
  } finally {
    rl.close();
  }
};

export const rollbackCli = () =>
  defineCommand("rollback", {
    summary: "deploy the stack's last good config again, after showing its plan --diff",
    usage: "--stack <name> [--yes]",
    details:
      "Every update that finished with each container healthy and the smoke test passed records the config it " +
      "deployed (the stack output lastGoodConfig). rollback shows what changes from the stack file to that " +
      "config, asks, and deploys it with pulumi up --config-file, from .llmstack/rollback/<name>/; the stack " +
      "file itself is not changed, and its credentials are the ones deployed.\n" +
      "Exit status: 0 when the rollback was deployed, 1 when it failed or was not confirmed, 2 for a malformed " +
      "command line.",
    examples: ["llmstack rollback --stack production", "llmstack rollback --stack staging --yes"],
  })
    .option("--stack <name>", "the stack to roll back (required)")
    .option("--yes", "deploy without asking (for scripts; rollback refuses without a terminal otherwise)");

export async function rollbackCommand(argv: string[], io: CliIo, confirm: Confirm = terminalConfirm): Promise<number> {
  const { opts } = parseCommand<{ stack?: string; yes?: boolean }>(rollbackCli, argv, io);
  requireStack(opts.stack, "llmstack rollback --stack production");
  const stack = opts.stack;
  // The stack file renders first: a missing or broken one fails before Pulumi is asked anything.
  const current = renderStack(io.cwd, stack);
  const pulumi = await locatePulumi(io);
  if (pulumi === null) {
    throw new UsageError(
      `rollback reads the stack's last good config and deploys it with the Pulumi CLI, which is neither on PATH nor in ` +
        `${PULUMI_ROOT}; install it (${PULUMI_DOWNLOAD}), open a new shell and run rollback again`,
      PULUMI_INSTALL,
    );
  }
  const pio = callingPulumi(io, pulumi);
  const record = await readLastGood(pio, stack);
  if (record === null) throw noRecordError(stack);
  const files = writeLastGood(io.cwd, record);
  io.stdout(diffText(diffToLastGood(current, files.plan, record)));

  const shownFile = relative(io.cwd, files.stackFile);
  if (opts.yes !== true) {
    const answer = await confirm(`Deploy the last good config of stack ${stack} (${revisionName(record.revision)}) with pulumi up? [y/N] `);
    if (answer === null) {
      throw new UsageError(
        "rollback asks before it deploys, and there is no terminal to ask on; review the diff above and confirm with --yes",
        commandLine("llmstack", "rollback", "--stack", stack, "--yes"),
      );
    }
    if (!answer) {
      io.stderr(`rollback: not confirmed, nothing was deployed; the last good config is in ${shownFile}\n`);
      return 1;
    }
  }
  const r = await pio.exec("pulumi", ["up", "--stack", stack, "--config-file", files.stackFile, "--yes"], {
    cwd: io.cwd,
    passthrough: true,
    // The update records the same revision as the update that first deployed this config; a blue-green
    // stack checks its vLLM against the last good one, which is the one it deploys again.
    env: { ...io.env, [REVISION_ENV]: JSON.stringify(record.revision), [LAST_GOOD_ENV]: JSON.stringify(record) },
  });
  if (r.code !== 0) {
    io.stderr(
      `rollback: pulumi up --stack ${stack} --config-file ${shownFile} failed (exit ${r.code}); fix what its output ` +
        `above says; run "${commandLine("llmstack", "rollback", "--stack", stack)}"\n`,
    );
    return 1;
  }
  io.stdout(`Rolled back stack ${stack} to ${revisionName(record.revision)}.\n${inLine(record, shownFile)}\n`);
  return 0;
}

/** How the user's stack file, which still holds the config that failed, is brought back in line. */
export function inLine(record: LastGoodConfig, shownFile: string): string {
  const file = stackFileName(record.stack);
  const how =
    record.revision.commit !== undefined
      ? `take it from the commit that deployed it; run "${commandLine("git", "checkout", record.revision.commit, "--", file)}"`
      : `copy the deployed one over it (that drops its comments); run "${commandLine("cp", shownFile, file)}"`;
  return `${file} still holds the config that failed, so the next llmstack up deploys that again; bring it back in line: ${how}`;
}
