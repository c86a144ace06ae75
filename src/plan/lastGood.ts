/**
 * The record of the last good update: which stack config an update deployed, kept as the stack output
 * `lastGoodConfig` (src/deploy/program.ts) so `llmstack rollback` can deploy it again. Pure: hashing and
 * parsing only; the program writes the record, the CLI reads it back through `pulumi stack output`.
 *
 * It holds the plain config values only. Credentials are top-level secret keys (SECRET_KEYS), never part
 * of the plain values (src/config/stackFile.ts refuses a secret anywhere else), so nothing secret lands in
 * the output; the record lists which credentials were set, by name.
 */
import { createHash } from "node:crypto";
import { z } from "zod";
import { canonical } from "../config/canonical";
import type { StackConfig } from "../config/schema";
import { planJson } from "./render";
import type { StackPlan } from "./types";

/** The stack output's name (`pulumi stack output lastGoodConfig --json`). */
export const LAST_GOOD_OUTPUT = "lastGoodConfig";

/**
 * The environment variable through which `llmstack up` and `llmstack rollback` tell the program where the
 * config came from (the stack file's hash, its commit): the program itself runs no git.
 */
export const REVISION_ENV = "LLMSTACK_REVISION";

/**
 * The environment variable through which `llmstack up` hands the program the stack's last good record
 * (its JSON, or "none" when the stack has none yet), for a blue-green rollout's check of the new vLLM
 * against the running one (src/plan/blueGreen.ts).
 */
export const LAST_GOOD_ENV = "LLMSTACK_LAST_GOOD";

const sha256 = (text: string): string => createHash("sha256").update(text).digest("hex");

/**
 * The hash of the parsed config (defaults applied, key order ignored): equal for the stack file as the CLI
 * reads it (YAML numbers) and as Pulumi hands it to the program (top-level scalars as text).
 */
export function configSha256(config: StackConfig): string {
  return sha256(canonical(config));
}

/** The hash of the plan as `llmstack plan --json` prints it (secret values masked). */
export function planSha256(plan: StackPlan): string {
  return sha256(canonical(planJson(plan)));
}

export function stackFileSha256(text: string): string {
  return sha256(text);
}

const revisionSchema = z.strictObject({
  configSha256: z.string().regex(/^[0-9a-f]{64}$/),
  /** The stack file's name, `Pulumi.<stack>.yaml`. */
  stackFile: z.string(),
  /** The stack file's content hash, when the command that deployed it read the file. */
  stackFileSha256: z.string().regex(/^[0-9a-f]{64}$/).optional(),
  /** The commit whose stack file this is, when the file was committed and unchanged since. */
  commit: z.string().regex(/^[0-9a-f]{40,64}$/).optional(),
});

export type ConfigRevision = z.infer<typeof revisionSchema>;

const lastGoodSchema = z.strictObject({
  version: z.literal(1),
  stack: z.string(),
  revision: revisionSchema,
  planSha256: z.string().regex(/^[0-9a-f]{64}$/),
  /** The plain `llmstack:` values (namespace stripped) as the program read them. */
  config: z.record(z.string(), z.unknown()),
  /** The credentials the stack file had, by name; their values are never recorded. */
  secrets: z.array(z.string()),
});

export type LastGoodConfig = z.infer<typeof lastGoodSchema>;

export interface RecordInput {
  readonly plan: StackPlan;
  readonly config: StackConfig;
  /** The plain values as read (RawStack.values). */
  readonly values: Readonly<Record<string, unknown>>;
  readonly secretsPresent: ReadonlySet<string>;
  /** What REVISION_ENV said, if anything. */
  readonly revisionHint?: string;
}

/**
 * The record of this update. The hint's file hash and commit are kept only when its config hash is this
 * config's: a hint left in the environment from another stack file cannot vouch for this one.
 */
export function lastGoodRecord(input: RecordInput): LastGoodConfig {
  const configHash = configSha256(input.config);
  const hint = parseRevision(input.revisionHint);
  const revision: ConfigRevision =
    hint !== null && hint.configSha256 === configHash && hint.stackFile === input.plan.stackFile
      ? hint
      : { configSha256: configHash, stackFile: input.plan.stackFile };
  return {
    version: 1,
    stack: input.plan.stack,
    revision,
    planSha256: planSha256(input.plan),
    config: { ...input.values },
    secrets: [...input.secretsPresent].sort(),
  };
}

function parseRevision(text: string | undefined): ConfigRevision | null {
  if (text === undefined || text === "") return null;
  try {
    const r = revisionSchema.safeParse(JSON.parse(text));
    return r.success ? r.data : null;
  } catch {
    return null;
  }
}

/** The record read back from `pulumi stack output --json`; throws with what is wrong. */
export function parseLastGood(value: unknown): LastGoodConfig {
  const r = lastGoodSchema.safeParse(value);
  if (r.success) return r.data;
  throw new Error(z.prettifyError(r.error).replace(/\s*\n\s*/g, " "));
}

/** A short name for the revision: its commit, else the stack file's hash, else the config's (12 digits). */
export function revisionName(r: ConfigRevision): string {
  if (r.commit !== undefined) return `commit ${r.commit.slice(0, 12)}`;
  if (r.stackFileSha256 !== undefined) return `${r.stackFile} sha256 ${r.stackFileSha256.slice(0, 12)}`;
  return `config sha256 ${r.configSha256.slice(0, 12)}`;
}
