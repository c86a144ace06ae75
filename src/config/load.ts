/**
 * The only reader of Pulumi config. Hands Pulumi's flat `namespace:key → value` map to the same code
 * the offline render uses, so both see one stack the same way.
 */
import * as pulumi from "@pulumi/pulumi";
import { NAMESPACE, parseStackConfig } from "./parse";
import type { StackConfig } from "./schema";
import { fromEntries, stackFileName, type RawStack } from "./stackFile";

export interface LoadedStack {
  readonly raw: RawStack;
  readonly config: StackConfig;
  /** A secret from the stack file, as a secret Output. */
  readonly secret: (name: string) => pulumi.Output<string>;
  /** A secret's plain value from the stack file, to check it fits where it lands; undefined when absent. */
  readonly secretValue: (name: string) => string | undefined;
}

export function loadStack(): LoadedStack {
  const project = pulumi.getProject();
  const stack = pulumi.getStack();
  const all = pulumi.runtime.allConfig();
  const entries: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(all)) {
    entries[key] = decode(value);
  }
  const raw = fromEntries(project, stack, stackFileName(stack), {}, entries, (key) => isConfigSecret(key));
  const config = parseStackConfig(raw.values, raw.stackFile);
  const cfg = new pulumi.Config(NAMESPACE);
  return {
    raw,
    config,
    secret: (name) => cfg.requireSecret(name),
    secretValue: (name) => (raw.secretsPresent.has(name) ? all[`${NAMESPACE}:${name}`] : undefined),
  };
}

/**
 * Whether Pulumi holds a config key as a secret. The program sees every value decrypted, so a plain
 * `llmstack:redisPassword: hunter2` in the stack file looks the same as an encrypted one; what tells them
 * apart is the list of secret keys the language host passes in PULUMI_CONFIG_SECRET_KEYS
 * (pulumi/pulumi sdk/nodejs/cmd/pulumi-language-nodejs/main.go, `constructConfigSecretKeys`), which the
 * SDK reads in `runtime.isConfigSecret` (sdk/nodejs/runtime/config.ts; exported at run time, marked
 * internal in the typings). Pulumi's mocks set the same list with `setAllConfig(config, secretKeys)`.
 */
function isConfigSecret(key: string): boolean {
  const check = (pulumi.runtime as unknown as { isConfigSecret?: (k: string) => boolean }).isConfigSecret;
  if (typeof check !== "function") {
    throw new Error(
      "@pulumi/pulumi no longer exports runtime.isConfigSecret, so plain-text credentials cannot be told " +
        "from encrypted ones; pin the @pulumi/pulumi version in package.json",
    );
  }
  return check(key);
}

/** Pulumi passes structured values as JSON text and scalars as plain text. */
function decode(value: string): unknown {
  const t = value.trim();
  if (t.startsWith("{") || t.startsWith("[")) {
    try {
      return JSON.parse(t) as unknown;
    } catch {
      return value;
    }
  }
  return value;
}
