/**
 * Walks every value the program hands Pulumi (resource inputs as the mock runtime records them, stack
 * outputs) and reports each string with the path it sits at and whether a secret marker wraps it.
 */
import * as pulumi from "@pulumi/pulumi";

/** Pulumi's mock runtime records a secret input as `{ [SECRET_SIG]: <marker>, value }`. */
export const SECRET_SIG = "4dabf18193072939515e22adb298388d";

export interface Leaf {
  /** Where the string sits, e.g. `envs[3]` or `healthcheck.tests[1]`; `<key>` marks an object key. */
  readonly path: string;
  readonly text: string;
  /** True when a secret marker wraps the string or anything above it. */
  readonly secret: boolean;
}

function isMockSecret(v: unknown): v is { value: unknown } {
  return v !== null && typeof v === "object" && SECRET_SIG in (v as object);
}

/** Every string (and number, as text) in `value`, keys included, with its path. */
export function leaves(value: unknown, path = "", secret = false): Leaf[] {
  if (isMockSecret(value)) return leaves(value.value, path, true);
  if (typeof value === "string") return [{ path, text: value, secret }];
  if (typeof value === "number" || typeof value === "boolean") return [{ path, text: String(value), secret }];
  if (Array.isArray(value)) return value.flatMap((v, i) => leaves(v, `${path}[${i}]`, secret));
  if (value !== null && typeof value === "object") {
    return Object.entries(value as Record<string, unknown>).flatMap(([k, v]) => {
      const p = path === "" ? k : `${path}.${k}`;
      return [{ path: `${p}<key>`, text: k, secret }, ...leaves(v, p, secret)];
    });
  }
  return [];
}

/** The leaves under `field` of an input object (e.g. `command`, `healthcheck`), secrets unwrapped. */
export function fieldLeaves(inputs: Record<string, unknown>, field: string): Leaf[] {
  return leaves(inputs[field], field);
}

/** Resolves a stack output (an Output, a plain value, or plain data holding Outputs) into mock-shaped data. */
export async function resolveOutput(value: unknown): Promise<unknown> {
  if (pulumi.Output.isInstance(value)) {
    const out = value as pulumi.Output<unknown>;
    const [secret, inner] = await Promise.all([
      pulumi.isSecret(out),
      new Promise<unknown>((resolve) => out.apply((v) => resolve(v))),
    ]);
    const resolved = await resolveOutput(inner);
    return secret ? { [SECRET_SIG]: "secret", value: resolved } : resolved;
  }
  if (Array.isArray(value)) return Promise.all(value.map(resolveOutput));
  if (value !== null && typeof value === "object") {
    const entries = await Promise.all(
      Object.entries(value as Record<string, unknown>).map(async ([k, v]) => [k, await resolveOutput(v)] as const),
    );
    return Object.fromEntries(entries);
  }
  return value;
}

/** Waits until the mock runtime has answered every registration (outputs included) of the last run. */
export async function settle(): Promise<void> {
  await (pulumi.runtime as unknown as { waitForRPCs(): Promise<void> }).waitForRPCs();
}

/** Where each secret value shows outside a secret marker: `path: text`. */
export function plainLeaks(all: readonly Leaf[], secrets: readonly string[]): string[] {
  return all
    .filter((l) => !l.secret && secrets.some((s) => l.text.includes(s)))
    .map((l) => `${l.path}: ${l.text.slice(0, 120)}`);
}

/** Where each secret value shows at all (for fields a secret must never reach, marked or not). */
export function anyLeaks(all: readonly Leaf[], secrets: readonly string[]): string[] {
  return all.filter((l) => secrets.some((s) => l.text.includes(s))).map((l) => `${l.path}: ${l.text.slice(0, 120)}`);
}

/**
 * Credentials well known from other stacks' defaults and from tutorials: a stack that ships one of them
 * is open to anyone who read the same tutorial.
 */
export const DEFAULT_CREDENTIALS = [
  "postgres",
  "minioadmin",
  "sk-1234",
  "changeme",
  "password",
  "admin",
  "secret",
  "root",
  "test",
  "",
] as const;

/** Environment variables whose value is a credential. */
export const CREDENTIAL_ENV = /(PASSWORD|_KEY|SECRET|TOKEN|_AUTH)$/;

/** `scheme://user:password@host` inside any text. */
export const URL_CREDENTIAL = /[a-z][a-z0-9+.-]*:\/\/([^:/@\s]*):([^@\s]*)@/gi;

/**
 * Is `ref` an image reference whose tag can move (none, latest, main*, stable, nightly, ...)? A digest pins
 * it whatever the tag. Written here independently of src/config/images.ts, so a bug there shows.
 */
export function floatingTag(ref: string): boolean {
  if (/@sha256:[0-9a-f]{64}$/.test(ref)) return false;
  const lastSegment = ref.slice(ref.lastIndexOf("/") + 1);
  const colon = lastSegment.indexOf(":");
  if (colon < 0) return true;
  return /^(latest|stable|nightly|edge|dev|main.*|master.*|release)$/i.test(lastSegment.slice(colon + 1));
}
