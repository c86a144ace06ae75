/**
 * Errors of `llmstack backup` and `restore`, with their exact text, for test/cli/errors.test.ts. The docker
 * CLI is faked: a host where the stack's Postgres container does not exist, and one that must never be
 * asked (a restore refused before it touches anything).
 */
import { mkdtempSync, mkdirSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { ExecResult } from "../../src/exec";
import type { ExecCall } from "../helpers/fakeIo";
import type { Case } from "./errorCases";

const noSuchContainer = (c: ExecCall): ExecResult =>
  c.file === "docker" && c.args.includes("inspect")
    ? { code: 1, stdout: "", stderr: `Error: No such container: ${c.args.at(-1)}` }
    : { code: 127, stdout: "", stderr: "not found" };
/** Anything asked of a program fails the case: the refusal must come before the host is touched. */
const nothing = (c: ExecCall): ExecResult => ({ code: 99, stdout: "", stderr: `unexpected call: ${c.file} ${c.args.join(" ")}` });

/** A backup directory whose manifest says `stack`, with no artefact files (stores that held nothing). */
export function backupOf(stack: string): string {
  const dir = mkdtempSync(join(tmpdir(), "llmstack-errors-backup-"));
  const entry = (image: string) => ({ image, version: image.split(":")[1], artefact: "a", files: [] });
  const stores = {
    postgres: entry("postgres:16.10"),
    redis: entry("redis:7.4.6"),
    qdrant: entry("qdrant/qdrant:v1.15.5"),
    "object-store": entry("chrislusf/seaweedfs:3.97"),
  };
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, "manifest.json"), JSON.stringify({ format: 1, stack, time: "2026-01-31T02:00:00.000Z", stores }));
  return dir;
}

export function backupCases(): Record<string, Case> {
  const staging = backupOf("staging");
  return {
    "backup without --to": {
      argv: ["backup", "--stack", "development"],
      exec: nothing,
      code: 1,
      text:
        'llmstack backup: --to is required: a new local directory or s3://bucket/prefix; run "llmstack backup --stack ' +
        'development --to /srv/backups/development"\n',
      fix: "llmstack backup --stack development --to /srv/backups/development",
    },
    "backup of a stack that is not up": {
      argv: ["backup", "--stack", "development", "--to", mkdtempSync(join(tmpdir(), "llmstack-errors-to-"))],
      exec: noSuchContainer,
      code: 1,
      text:
        "llmstack backup: the postgres container llm-multimodal-stack-development-postgres is missing on " +
        "unix:///var/run/docker.sock; backup needs every data store of the stack running, and nothing was changed; " +
        'run "llmstack up --stack development"\n',
      fix: "llmstack up --stack development",
    },
    "backup to s3:// without credentials": {
      argv: ["backup", "--stack", "development", "--to", "s3://backups/llmstack"],
      exec: nothing,
      code: 1,
      text:
        "llmstack backup: AWS_ACCESS_KEY_ID is not set: an s3:// backup is signed with the credentials in " +
        "AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (and AWS_SESSION_TOKEN for temporary ones), at the endpoint in " +
        'AWS_ENDPOINT_URL; run "export AWS_ACCESS_KEY_ID=... and run the command again"\n',
      fix: "export AWS_ACCESS_KEY_ID=... and run the command again",
    },
    "restore without a terminal and without --yes": {
      argv: ["restore", "--stack", "development", "--from", staging],
      exec: nothing,
      code: 1,
      text:
        "llmstack restore: restore replaces the stack's data and asks first, but there is no terminal to ask on; " +
        `nothing was changed; run "llmstack restore --stack development --from ${staging} --yes"\n`,
      fix: `llmstack restore --stack development --from ${staging} --yes`,
    },
    "restore of another stack's backup": {
      argv: ["restore", "--stack", "development", "--from", staging, "--yes"],
      exec: nothing,
      code: 1,
      text:
        `llmstack restore: ${staging}/manifest.json: stack is "staging", but the restore is into the stack ` +
        '"development" (Pulumi.development.yaml); a backup restores only into the stack it was taken from; run ' +
        `"llmstack restore --stack staging --from ${staging}"\n`,
      fix: `llmstack restore --stack staging --from ${staging}`,
    },
  };
}
