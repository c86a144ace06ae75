/**
 * Reads stack config the way Pulumi does, without the Pulumi CLI: project defaults from `Pulumi.yaml`
 * (`config:` entries with `value:`/`default:`), overlaid by `Pulumi.<stack>.yaml`. `secure:` values are
 * noted as present and never decrypted; a credential in plain text is refused. Used by the offline
 * render and the CLI, and (through `fromEntries`) by the program's loader.
 */
import { existsSync } from "node:fs";
import { dirname, join } from "node:path";
import { parse } from "yaml";
import { StackConfigError } from "./errors";
import { MONITORING_SECRET_NAMES } from "./monitoringSchema";
import { readInputFile } from "./readFile";
import { NAMESPACE, SECRET_KEYS } from "./parse";
import { SECRET_NAMES } from "./schema";

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

/**
 * Whether a config entry is stored encrypted: `secure:` in the stack file here; under Pulumi, which
 * hands the program decrypted values, whether the key is one of the stack's secret keys (config/load.ts).
 */
export type IsEncrypted = (fullKey: string, value: unknown) => boolean;

const SECURE_IN_FILE: IsEncrypted = (_key, value) => isSecure(value);

export function stackFileName(stack: string): string {
  return `Pulumi.${stack}.yaml`;
}

/** A stack name as `Pulumi.<name>.yaml` may carry it: letters, digits, "-", "_" and ".". */
export const STACK_NAME = /^[\w.-]+$/;

export function readStack(dir: string, stack: string): RawStack {
  if (!STACK_NAME.test(stack)) {
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
      "no-stack-file",
    );
  }
  const stackDoc = (readYaml(path, file) ?? {}) as { config?: unknown };
  const defaults = projectDefaults(project.config);
  // Project defaults cannot be encrypted (Pulumi keeps secrets per stack), so no credential belongs there.
  refusePlaintext("Pulumi.yaml", stack, credentialEntries(defaults, project.name).filter(([, v]) => hasValue(v)));
  return fromEntries(project.name, stack, file, defaults, stackDoc.config ?? {});
}

/** Builds a RawStack from Pulumi's flat `namespace:key → value` map (also what `pulumi.runtime.allConfig` gives). */
export function fromEntries(
  project: string,
  stack: string,
  stackFile: string,
  defaults: Record<string, unknown>,
  stackConfig: unknown,
  encrypted: IsEncrypted = SECURE_IN_FILE,
): RawStack {
  if (stackConfig === null || typeof stackConfig !== "object" || Array.isArray(stackConfig)) {
    throw new StackConfigError(`${stackFile}: "config" must be a mapping of keys to values`);
  }
  const merged: Record<string, unknown> = { ...defaults, ...(stackConfig as Record<string, unknown>) };
  const values: Record<string, unknown> = {};
  const secretsPresent = new Set<string>();
  const plaintext: [string, unknown][] = [];
  for (const [fullKey, value] of Object.entries(merged)) {
    const [ns, key] = splitKey(fullKey, project);
    if (ns !== NAMESPACE) continue; // provider settings (docker:host, ...) are not ours to check
    if (SECRET_KEYS.includes(key)) {
      if (!hasValue(value)) continue;
      secretsPresent.add(key);
      if (!encrypted(fullKey, value)) plaintext.push([fullKey, value]);
      continue;
    }
    if (encrypted(fullKey, value)) {
      throw new StackConfigError(
        `${stackFile}: ${fullKey} is stored as a secret, but it is not a credential; store it as plain config`,
      );
    }
    values[key] = value;
  }
  refusePlaintext(stackFile, stack, plaintext);
  return { project, stack, stackFile, values, secretsPresent };
}

/** Credentials that `secrets init` can generate (the others are the user's: a token, a URL, PEM files). */
const GENERATED = new Set<string>([...SECRET_NAMES, ...MONITORING_SECRET_NAMES]);

/**
 * One error for every credential kept in plain text: anyone who can read the file (a fork, a CI log,
 * a clone) would have it. The fix names the exact command per key.
 */
function refusePlaintext(file: string, stack: string, entries: readonly [string, unknown][]): void {
  if (entries.length === 0) return;
  const lines = entries.map(([fullKey]) => {
    const key = fullKey.slice(fullKey.indexOf(":") + 1);
    // Each line ends with the command that fixes it.
    const set = `run "pulumi config set --secret ${NAMESPACE}:${key} --stack ${stack}"`;
    return file === "Pulumi.yaml"
      ? `  - ${NAMESPACE}:${key}: remove it from Pulumi.yaml (project defaults cannot be encrypted) and store it ` +
          `encrypted in the stack file (pulumi asks for the value); ${set}`
      : `  - ${NAMESPACE}:${key}: store it encrypted (pulumi asks for the value)` +
          (GENERATED.has(key)
            ? `, or delete the line and generate a new one with "npx llmstack secrets init --stack ${stack}"`
            : "") +
          `; ${set}`;
  });
  throw new StackConfigError(
    `${file}: ${entries.length === 1 ? "a credential is" : "credentials are"} stored in plain text, where anyone who can ` +
      `read the file has ${entries.length === 1 ? "it" : "them"}; store ${entries.length === 1 ? "it" : "each"} encrypted:\n` +
      lines.join("\n"),
    "plaintext",
  );
}

function credentialEntries(entries: Record<string, unknown>, project: string): [string, unknown][] {
  return Object.entries(entries).filter(([fullKey]) => {
    const [ns, key] = splitKey(fullKey, project);
    return ns === NAMESPACE && SECRET_KEYS.includes(key);
  });
}

function hasValue(value: unknown): boolean {
  return value !== undefined && value !== null && value !== "";
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

/** The error for a directory without Pulumi.yaml: llmstack runs in the project's directory. */
export function noProjectFile(dir: string): StackConfigError {
  return new StackConfigError(
    `Pulumi.yaml: not found in ${dir}; llmstack runs in the project's directory, the one with Pulumi.yaml`,
    "no-project-file",
    dir,
  );
}

function readYaml(path: string, shown: string): unknown {
  if (!existsSync(path)) {
    if (shown === "Pulumi.yaml") throw noProjectFile(dirname(path));
    throw new StackConfigError(`${shown}: not found in ${dirname(path)}`);
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
