/**
 * `llmstack restore --stack NAME --from DIR|s3://bucket/prefix [--yes]`: puts a backup of `llmstack backup`
 * back into the stack's running data stores. The manifest is checked against the stack and the files first
 * (stack, store versions, sizes and checksums); then it asks before replacing the data, and without a
 * terminal it refuses unless --yes is given.
 */
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { checkBackup, restoreQuestion, restoreStack } from "../backup/run";
import { downloadBackup, parseS3Url, s3Settings } from "../backup/s3";
import { pathArg, requireStack, textArg } from "./args";
import { asUsage, runDeps, S3_ENVIRONMENT, s3Deps } from "./backup";
import { defineCommand, parseCommand } from "./command";
import { UsageError, type CliIo } from "./io";
import { renderStack } from "./renderStack";

export const restoreCli = () =>
  defineCommand("restore", {
    summary: "put a backup back into a running stack's data stores, after checking it against the stack",
    usage: "--stack <name> --from <dir|s3://bucket/prefix> [--yes] [--dir <dir>]",
    details:
      "Before anything is changed, manifest.json is checked: the stack's name, each store's version against the " +
      "planned image, and each file's size and sha256. Then it asks before replacing the data (y/N); without a " +
      `terminal it refuses unless --yes is given. ${S3_ENVIRONMENT} Exit status: 0 when every store is restored, ` +
      "1 when a check or a store failed (or the answer was no), 2 for a malformed command line.",
    examples: [
      "llmstack restore --stack production --from /srv/backups/production-2026-01-31",
      "llmstack restore --stack production --from s3://backups/llmstack/production --yes",
    ],
  })
    .option("--stack <name>", "the stack whose data to replace (required)")
    .option("--from <location>", "the backup's directory, or s3://bucket/prefix (required)")
    .option("--yes", "replace the data without asking (for scripts)")
    .option("--dir <dir>", "the project directory (default: the current one)");

export async function restoreCommand(argv: string[], io: CliIo): Promise<number> {
  const { opts } = parseCommand<{ stack?: string; from?: string; yes?: boolean; dir?: string }>(restoreCli, argv, io);
  requireStack(opts.stack, "llmstack restore --stack production --from /srv/backups/production");
  const stack = opts.stack;
  if (opts.from === undefined) throw new UsageError("--from is required: a backup's directory or s3://bucket/prefix", `llmstack restore --stack ${stack} --from /srv/backups/${stack}`);
  const from = textArg("from", opts.from, "a directory or s3://bucket/prefix");
  const plan = renderStack(pathArg("dir", opts.dir, io.cwd, "directory") ?? io.cwd, stack);
  if (!opts.yes && io.ask === undefined) {
    throw new UsageError(
      "restore replaces the stack's data and asks first, but there is no terminal to ask on; nothing was changed",
      `llmstack restore --stack ${stack} --from ${from} --yes`,
    );
  }
  return asUsage(async () => {
    const remote = parseS3Url(from);
    if (remote === null && !existsSync(resolve(io.cwd, from))) {
      throw new UsageError(`--from ${from}: no such directory (looked for ${resolve(io.cwd, from)})`, `ls ${from}`);
    }
    const local = remote === null ? resolve(io.cwd, from) : mkdtempSync(join(tmpdir(), "llmstack-restore-"));
    try {
      if (remote !== null) await downloadBackup(remote, local, s3Settings(io.env), s3Deps(io, "restore"));
      const manifest = await checkBackup(plan, local, remote === null ? local : from);
      io.stdout(`${remote === null ? local : from}: the backup of ${manifest.stack} taken ${manifest.time} fits the stack; every file matches its checksum\n`);
      if (!opts.yes) {
        const answer = (await io.ask!(restoreQuestion(plan, manifest))).trim().toLowerCase();
        if (answer !== "y" && answer !== "yes") {
          io.stdout("Nothing was changed.\n");
          return 1;
        }
      }
      await restoreStack(plan, local, runDeps(io));
      io.stdout(`Restored ${stack} from ${from}\n`);
      return 0;
    } finally {
      if (remote !== null) rmSync(local, { recursive: true, force: true });
    }
  });
}
