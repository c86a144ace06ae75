/**
 * Reads stack config the way Pulumi does, without the Pulumi CLI: project defaults from `Pulumi.yaml`
 * (`config:` entries with `value:`/`default:`), overlaid by `Pulumi.<stack>.yaml`. `secure:` values are
 * noted as present and never decrypted. Used by the offline render and the CLI.
 */
import { existsSync } from "node:fs";
import { join } from "node:path";
import { parse } from "yaml";
import { StackConfigError } from "./errors";
import { readInputFile } from "./readFile";
import { NAMESPACE, SECRET_KEYS } from "./parse";

export interface RawStack {
  readonly project: string;
  readonly stack: string;
  /** File name shown in errors, e.g. `Pulumi.production.yaml`. */
  readonly stackFile: string;
  /** Plain config values with the `llmstack:` namespace stripped. */
  readonly values: Record<string, unknown>;
  /** Secret keys that have a value in the stack file (encrypted or not). */
  readonly secretsPresent: ReadonlySet<string>;
}

export function stackFileName(stack: string): string {
  return `Pulumi.${stack}.yaml`;
}

export function readStack(dir: string, stack: string): RawStack {
  if (!/^[\w.-]+$/.test(stack)) {
    throw new StackConfigError(
      `--stack "${stack}": a stack name may use letters, digits, "-", "_" and "."; e.g. --stack production`,
    );
  }
  const projectFile = join(dir, "Pulumi.yaml");
  const project = readYaml(projectFile, "Pulumi.yaml") as { name?: unknown; config?: unknown };
  if (typeof project.name !== "string") {
    throw new StackConfigError(`Pulumi.yaml: "name" must be the project name (a string)`);
  }
  const file = stackFileName(stack);
  const path = join(dir, file);
  if (!existsSync(path)) {
    throw new StackConfigError(
      `${file}: no such stack file in ${dir}; create it (copy Pulumi.development.yaml) or pick another --stack`,
    );
  }
  const stackDoc = (readYaml(path, file) ?? {}) as { config?: unknown };
  return fromEntries(project.name, stack, file, projectDefaults(project.config), stackDoc.config ?? {});
}

/** Builds a RawStack from Pulumi's flat `namespace:key → value` map (also what `pulumi.runtime.allConfig` gives). */
export function fromEntries(
  project: string,
  stack: string,
  stackFile: string,
  defaults: Record<string, unknown>,
  stackConfig: unknown,
): RawStack {
  if (stackConfig === null || typeof stackConfig !== "object" || Array.isArray(stackConfig)) {
    throw new StackConfigError(`${stackFile}: "config" must be a mapping of keys to values`);
  }
  const merged: Record<string, unknown> = { ...defaults, ...(stackConfig as Record<string, unknown>) };
  const values: Record<string, unknown> = {};
  const secretsPresent = new Set<string>();
  for (const [fullKey, value] of Object.entries(merged)) {
    const [ns, key] = splitKey(fullKey, project);
    if (ns !== NAMESPACE) continue; // provider settings (docker:host, ...) are not ours to check
    if (SECRET_KEYS.includes(key)) {
      if (value !== undefined && value !== null && value !== "") secretsPresent.add(key);
      continue;
    }
    if (isSecure(value)) {
      throw new StackConfigError(
        `${stackFile}: ${fullKey} is stored as a secret, but it is not a credential; store it as plain config`,
      );
    }
    values[key] = value;
  }
  return { project, stack, stackFile, values, secretsPresent };
}

/** The project defaults in `Pulumi.yaml` for our namespace, keyed without it (`images`, `services`, ...). */
export function readProjectConfig(dir: string): Record<string, unknown> {
  const project = readYaml(join(dir, "Pulumi.yaml"), "Pulumi.yaml") as { config?: unknown };
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(projectDefaults(project.config))) {
    if (key.startsWith(`${NAMESPACE}:`)) out[key.slice(NAMESPACE.length + 1)] = value;
  }
  return out;
}

function projectDefaults(config: unknown): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  if (config === null || typeof config !== "object") return out;
  for (const [key, entry] of Object.entries(config as Record<string, unknown>)) {
    if (entry !== null && typeof entry === "object" && !Array.isArray(entry)) {
      const e = entry as Record<string, unknown>;
      if ("value" in e) out[key] = e.value;
      else if ("default" in e) out[key] = e.default;
    } else {
      out[key] = entry;
    }
  }
  return out;
}

function splitKey(fullKey: string, project: string): [string, string] {
  const i = fullKey.indexOf(":");
  return i < 0 ? [project, fullKey] : [fullKey.slice(0, i), fullKey.slice(i + 1)];
}

function isSecure(value: unknown): boolean {
  return value !== null && typeof value === "object" && "secure" in (value as object);
}

function readYaml(path: string, shown: string): unknown {
  if (!existsSync(path)) {
    throw new StackConfigError(`${shown}: not found in ${path.slice(0, -shown.length) || "."}; run from the project root`);
  }
  let text: string;
  try {
    text = readInputFile(path, { shown, what: shown === "Pulumi.yaml" ? "the project file" : "a stack file" });
  } catch (err) {
    throw new StackConfigError((err as Error).message);
  }
  try {
    return parse(text);
  } catch (err) {
    throw new StackConfigError(`${shown}: not valid YAML: ${(err as Error).message.split("\n")[0]}`);
  }
}
