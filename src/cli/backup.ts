/**
 * `llmstack backup --stack NAME --to DIR|s3://bucket/prefix`: a consistent copy of every data store of a
 * running stack (Postgres, Redis, Qdrant, the object store) and a manifest of what was copied, made from
 * one-shot containers through the stack host's docker CLI (src/backup).
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { BackupError } from "../backup/errors";
import type { RunDeps } from "../backup/run";
import { backupStack } from "../backup/run";
import { parseS3Url, s3Settings, uploadBackup, type S3Deps } from "../backup/s3";
import { pathArg, requireStack, textArg } from "./args";
import { defineCommand, parseCommand } from "./command";
import { UsageError, type CliIo } from "./io";
import { renderStack } from "./renderStack";

export const S3_ENVIRONMENT =
  "An s3:// location is reached at AWS_ENDPOINT_URL (default AWS S3 in AWS_REGION) with AWS_ACCESS_KEY_ID, " +
  "AWS_SECRET_ACCESS_KEY and, for temporary credentials, AWS_SESSION_TOKEN.";

export const backupCli = () =>
  defineCommand("backup", {
    summary: "copy every data store of a running stack (Postgres, Redis, Qdrant, the object store) with a manifest",
    usage: "--stack <name> --to <dir|s3://bucket/prefix> [--dir <dir>]",
    details:
      "Each store is copied by a one-shot container on the stack's host (pg_dump -Fc, redis-cli --rdb, Qdrant's " +
      "snapshot API, the S3 API); manifest.json lists each file's size and sha256 and each store's image. " +
      `${S3_ENVIRONMENT} Exit status: 0 when the backup is complete, 1 when it failed, 2 for a malformed command line.`,
    examples: [
      "llmstack backup --stack production --to /srv/backups/production-2026-01-31",
      "llmstack backup --stack production --to s3://backups/llmstack/production",
    ],
  })
    .option("--stack <name>", "the stack whose data to back up (required)")
    .option("--to <location>", "a new local directory, or s3://bucket/prefix (required)")
    .option("--dir <dir>", "the project directory (default: the current one)");

/** The real clock, the exec and the output of a command, for the backup runner. */
export function runDeps(io: CliIo): RunDeps {
  return { exec: io.exec, env: io.env, now: () => Date.now(), log: (line) => io.stdout(`${line}\n`) };
}

export function s3Deps(io: CliIo, kind: "backup" | "restore"): S3Deps {
  if (io.fetch === undefined) throw new UsageError(`this ${kind} to s3:// cannot reach the network here`, "use a local directory");
  return { fetch: io.fetch, now: () => Date.now() };
}

/** A BackupError as the command line prints it: its message and its fix. */
export async function asUsage<T>(run: () => Promise<T>): Promise<T> {
  try {
    return await run();
  } catch (err) {
    if (err instanceof BackupError) throw new UsageError(err.message, err.fix);
    throw err;
  }
}

export async function backupCommand(argv: string[], io: CliIo): Promise<number> {
  const { opts } = parseCommand<{ stack?: string; to?: string; dir?: string }>(backupCli, argv, io);
  requireStack(opts.stack, "llmstack backup --stack production --to /srv/backups/production");
  const stack = opts.stack;
  if (opts.to === undefined) throw new UsageError("--to is required: a new local directory or s3://bucket/prefix", `llmstack backup --stack ${stack} --to /srv/backups/${stack}`);
  textArg("to", opts.to, "a directory or s3://bucket/prefix");
  const plan = renderStack(pathArg("dir", opts.dir, io.cwd, "directory") ?? io.cwd, stack);
  return asUsage(async () => {
    const remote = parseS3Url(opts.to!);
    const settings = remote === null ? null : s3Settings(io.env);
    const local = remote === null ? resolve(io.cwd, opts.to!) : mkdtempSync(join(tmpdir(), "llmstack-backup-"));
    try {
      const manifest = await backupStack(plan, local, runDeps(io));
      const count = Object.values(manifest.stores).reduce((n, s) => n + s.files.length, 0);
      if (remote !== null) {
        await uploadBackup(local, remote, settings!, s3Deps(io, "backup"));
        io.stdout(`Backed up ${stack} (${count} files and manifest.json) to ${opts.to}\n`);
      } else {
        io.stdout(`Backed up ${stack} (${count} files and manifest.json) to ${local}\n`);
      }
      return 0;
    } finally {
      if (remote !== null) rmSync(local, { recursive: true, force: true });
    }
  });
}
