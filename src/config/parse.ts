/**
 * parseStackConfig: raw config values (as Pulumi hands them, namespace stripped) → a typed StackConfig,
 * or one StackConfigError that lists every problem with its file, key, value and what is allowed.
 */
import type { z } from "zod";
import { StackConfigError } from "./errors";
import { quoteValue } from "./names";
import { ALERT_WEBHOOK_SECRET, MONITORING_SECRET_NAMES } from "./monitoringSchema";
import { hostsTemplateGpu } from "./hosts";
import { OPTIONAL_SECRET_NAMES, SECRET_NAMES, stackConfigSchema, type StackConfig } from "./schema";

export const NAMESPACE = "llmstack";

/** Keys that hold credentials; read as secrets, never parsed into the plain config. */
export const SECRET_KEYS: readonly string[] = [
  ...SECRET_NAMES,
  ...OPTIONAL_SECRET_NAMES,
  ...MONITORING_SECRET_NAMES,
  ALERT_WEBHOOK_SECRET,
];

export function parseStackConfig(raw: Record<string, unknown>, stackFile: string): StackConfig {
  const result = stackConfigSchema.safeParse(raw);
  // llmstack:gpu is optional in the schema (a stack with hosts has one per GPU host) and required without hosts.
  const missingGpu = raw.hosts === undefined && raw.gpu === undefined;
  if (result.success && !missingGpu) {
    const { gpu, hosts } = result.data;
    return { ...result.data, gpu: gpu ?? hostsTemplateGpu(hosts ?? []) };
  }
  const issues = result.success ? [] : result.error.issues;
  throw new StackConfigError(formatIssues(missingGpu ? withMissingGpu(issues) : issues, raw, stackFile));
}

/** The issue "llmstack:gpu: required" in the place zod would list it: before the first later key's issue. */
function withMissingGpu(issues: readonly z.core.$ZodIssue[]): z.core.$ZodIssue[] {
  const keys = Object.keys(stackConfigSchema.shape);
  const after = (i: z.core.$ZodIssue): boolean => keys.indexOf(String(i.path[0])) > keys.indexOf("gpu");
  const missing = { code: "invalid_type", expected: "object", path: ["gpu"], message: "required", input: undefined } as z.core.$ZodIssue;
  const at = issues.findIndex(after);
  return at === -1 ? [...issues, missing] : [...issues.slice(0, at), missing, ...issues.slice(at)];
}

export function formatIssues(
  issues: readonly z.core.$ZodIssue[],
  raw: Record<string, unknown>,
  stackFile: string,
): string {
  const lines = flatten(issues).map((issue) => {
    if (issue.code === "unrecognized_keys") {
      const where = issue.path.length ? `${keyName(issue.path)}.` : `${NAMESPACE}:`;
      const allowed = allowedKeys(issue.path);
      return (
        `${issue.keys.map((k) => `${where}${k}`).join(", ")}: unknown key` +
        (allowed ? `; allowed keys here are ${allowed}` : "") +
        "; check the spelling or remove it"
      );
    }
    const value = valueAt(raw, issue.path);
    if (typeof value === "number" && !Number.isFinite(value)) {
      // YAML's .inf and .nan parse as numbers, which zod reports as "expected number, received number".
      return `${keyName(issue.path)}: must be a finite number (got ${shown(value)})`;
    }
    if (value === undefined && issue.code === "invalid_type") {
      return `${keyName(issue.path)}: required, but missing (expected ${issue.expected})`;
    }
    if (value === undefined && issue.code === "invalid_value") {
      return `${keyName(issue.path)}: required, but missing (one of ${issue.values.map((v) => JSON.stringify(v)).join(", ")})`;
    }
    return `${keyName(issue.path)}: ${issue.message} (${value === undefined ? "not set" : `got ${shown(value)}`})`;
  });
  return (
    `${stackFile}: invalid stack config:\n` +
    lines.map((l) => `  - ${l}`).join("\n") +
    `\nFix these keys in ${stackFile} (every key is in docs/configuration.md).`
  );
}

/**
 * A union's issues, when the value had the type of exactly one option (a string where a URL or an
 * object is allowed), are that option's own issues: its message says what is wrong. Among options that
 * are all objects (a model.placement entry: a pin or a span), the one whose keys the value uses most,
 * that is with the fewest unknown keys, when exactly one has the fewest.
 */
function flatten(issues: readonly z.core.$ZodIssue[]): z.core.$ZodIssue[] {
  return issues.flatMap((issue) => {
    if (issue.code !== "invalid_union") return [issue];
    const typed = issue.errors.filter((e) => !e.every((i) => i.code === "invalid_type" && i.path.length === 0));
    const unknown = (e: readonly z.core.$ZodIssue[]): number =>
      e.reduce((n, i) => n + (i.code === "unrecognized_keys" && i.path.length === 0 ? i.keys.length : 0), 0);
    const fewest = Math.min(...typed.map(unknown));
    const closest = typed.filter((e) => unknown(e) === fewest);
    const chosen = typed.length === 1 ? typed : closest.length === 1 ? closest : [];
    if (chosen.length !== 1) return [issue];
    return flatten(chosen[0]!.map((i) => ({ ...i, path: [...issue.path, ...i.path] }) as z.core.$ZodIssue));
  });
}

/** A value as the YAML that wrote it would show it: .inf and .nan rather than JSON's null. */
function shown(value: unknown): string {
  if (typeof value === "number" && !Number.isFinite(value)) {
    return Number.isNaN(value) ? ".nan" : value > 0 ? ".inf" : "-.inf";
  }
  return quoteValue(value);
}

function keyName(path: readonly PropertyKey[]): string {
  if (path.length === 0) return `${NAMESPACE}:`;
  const [head, ...rest] = path;
  return `${NAMESPACE}:${String(head)}${rest.map((p) => (typeof p === "number" ? `[${p}]` : `.${String(p)}`)).join("")}`;
}

function valueAt(raw: unknown, path: readonly PropertyKey[]): unknown {
  let cur: unknown = raw;
  for (const p of path) {
    if (cur === null || typeof cur !== "object") return undefined;
    cur = (cur as Record<PropertyKey, unknown>)[p];
  }
  return cur;
}

function allowedKeys(path: readonly PropertyKey[]): string | undefined {
  // Walk the schema's shape along the path (objects only) to list the keys a person may write.
  let schema: unknown = stackConfigSchema;
  for (const p of path) {
    if (typeof p === "number") {
      // An entry of a list (llmstack:hosts[0]): the list's element schema.
      schema = elementOf(schema);
      continue;
    }
    const shape = shapeOf(schema);
    if (!shape || typeof p !== "string") return undefined;
    schema = shape[p];
  }
  const shape = shapeOf(schema);
  return shape ? Object.keys(shape).join(", ") : undefined;
}

function shapeOf(schema: unknown): Record<string, unknown> | undefined {
  let s = schema as { def?: { type?: string; innerType?: unknown; in?: unknown; shape?: unknown; options?: unknown[]; discriminator?: string } } | undefined;
  for (let i = 0; i < 5 && s?.def; i++) {
    if (s.def.type === "object") return s.def.shape as Record<string, unknown>;
    // A union of objects told apart by their keys (a model.placement entry: a pin or a span): every option's
    // keys. A discriminated union (a GPU mode) lists none: its keys depend on the mode.
    if (s.def.type === "union" && s.def.discriminator === undefined) {
      const shapes = (s.def.options ?? []).map(shapeOf);
      return shapes.every((x) => x !== undefined) ? Object.assign({}, ...shapes) : undefined;
    }
    if (s.def.innerType !== undefined) s = s.def.innerType as typeof s;
    else if (s.def.in !== undefined) s = s.def.in as typeof s;
    else return undefined;
  }
  return undefined;
}

function elementOf(schema: unknown): unknown {
  let s = schema as { def?: { type?: string; innerType?: unknown; element?: unknown } } | undefined;
  for (let i = 0; i < 5 && s?.def; i++) {
    if (s.def.type === "array") return s.def.element;
    if (s.def.innerType === undefined) return undefined;
    s = s.def.innerType as typeof s;
  }
  return undefined;
}
