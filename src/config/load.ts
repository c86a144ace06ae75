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
  const raw = fromEntries(project, stack, stackFileName(stack), {}, entries);
  const config = parseStackConfig(raw.values, raw.stackFile);
  const cfg = new pulumi.Config(NAMESPACE);
  return {
    raw,
    config,
    secret: (name) => cfg.requireSecret(name),
    secretValue: (name) => (raw.secretsPresent.has(name) ? all[`${NAMESPACE}:${name}`] : undefined),
  };
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
