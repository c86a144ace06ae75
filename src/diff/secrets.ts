/**
 * Secrets in the diff. The offline render masks every secret, so a new value never shows in the plan;
 * what does show is the stack file: a changed `secure:` ciphertext. Pulumi's passphrase provider
 * encrypts every value with a fresh random 12-byte nonce (AES-256-GCM; `encryptAES256GCGM` in
 * pulumi/pulumi `sdk/go/common/resource/config/crypt.go`), so re-encrypting the same value also changes
 * the ciphertext: without the passphrase, a re-encryption cannot be told from a new value, and the
 * diff says "changed or was re-encrypted". Neither value is ever printed.
 */
import { parse } from "yaml";
import { NAMESPACE, SECRET_KEYS } from "../config/parse";
import { isSecretRef } from "../plan/render";
import { mapChanges } from "./compute";
import type { StackPlan, Text } from "../plan/types";
import type { SecretChange } from "./types";

/**
 * The stack file's top-level keys that hold its encryption settings
 * (https://www.pulumi.com/docs/iac/concepts/projects/stack-settings-file/).
 */
const ENCRYPTION_KEYS = ["secretsprovider", "encryptedkey", "encryptionsalt"] as const;

export interface StackSecrets {
  /** Secret name → what to compare (the ciphertext, or a plaintext credential's value). Never printed. */
  readonly values: ReadonlyMap<string, string>;
  /** The encryption settings, to compare. */
  readonly encryption: string;
}

const isObject = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === "object" && !Array.isArray(v);
const isSecure = (v: unknown): v is { secure: unknown } => isObject(v) && "secure" in v;

/** `llmstack:postgresPassword` → `postgresPassword`; other namespaces keep theirs. */
function secretName(fullKey: string): string {
  return fullKey.startsWith(`${NAMESPACE}:`) ? fullKey.slice(NAMESPACE.length + 1) : fullKey;
}

/** Collects `secure:` values anywhere under `value` (`pulumi config set --path --secret` nests them). */
function collectSecure(name: string, value: unknown, out: Map<string, string>): void {
  if (isSecure(value)) {
    out.set(name, JSON.stringify(value.secure));
  } else if (Array.isArray(value)) {
    value.forEach((v, i) => collectSecure(`${name}[${i}]`, v, out));
  } else if (isObject(value)) {
    for (const [k, v] of Object.entries(value)) collectSecure(`${name}.${k}`, v, out);
  }
}

/**
 * The secrets of a stack file's text (null: no such file). `shown` names the file in errors, e.g.
 * `Pulumi.production.yaml at origin/main`.
 */
export function readStackSecrets(text: string | null, shown: string): StackSecrets | null {
  if (text === null) return null;
  let doc: unknown;
  try {
    doc = parse(text);
  } catch (err) {
    throw new Error(`${shown}: not valid YAML: ${(err as Error).message.split("\n")[0]}`, { cause: err });
  }
  const values = new Map<string, string>();
  const config = isObject(doc) && isObject(doc.config) ? doc.config : {};
  for (const [fullKey, value] of Object.entries(config)) {
    const name = secretName(fullKey);
    collectSecure(name, value, values);
    // A credential stored in plain text is still a credential: compare it, never show it.
    const credential = fullKey.startsWith(`${NAMESPACE}:`) && SECRET_KEYS.includes(name);
    if (credential && !values.has(name) && value !== null && value !== undefined && value !== "") {
      values.set(name, JSON.stringify(value));
    }
  }
  const encryption = JSON.stringify(ENCRYPTION_KEYS.map((k) => (isObject(doc) ? (doc[k] ?? null) : null)));
  return { values, encryption };
}

function textSecrets(t: Text): string[] {
  if (typeof t === "string") return [];
  if (isSecretRef(t)) return [t.secret];
  return t.parts.flatMap((p) => (typeof p === "string" ? [] : [p.secret]));
}

/** Secret name → the services whose environment or uploaded files carry it, in the plan's order. */
export function secretUsers(plan: StackPlan): Map<string, string[]> {
  const users = new Map<string, string[]>();
  for (const c of plan.containers) {
    const names = new Set([
      ...Object.values(c.env).flatMap(textSecrets),
      ...c.uploads.flatMap((u) => textSecrets(u.content)),
    ]);
    for (const n of names) users.set(n, [...(users.get(n) ?? []), c.service]);
  }
  return users;
}

/**
 * Secrets added, removed, or whose stored value differs between two stack files, sorted by name;
 * `usedBy` comes from the new plan.
 */
export function diffSecrets(
  before: StackSecrets | null,
  after: StackSecrets | null,
  users: ReadonlyMap<string, readonly string[]>,
): { secrets: SecretChange[]; encryptionChanged: boolean } {
  const secrets = mapChanges(before?.values ?? new Map<string, string>(), after?.values ?? new Map<string, string>()).map(
    (c): SecretChange => ({
      name: c.key,
      change: c.old === undefined ? "added" : c.new === undefined ? "removed" : "changed",
      usedBy: [...(users.get(c.key) ?? [])],
    }),
  );
  const encryptionChanged = before !== null && after !== null && before.encryption !== after.encryption;
  return { secrets, encryptionChanged };
}
