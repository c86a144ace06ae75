/**
 * Strict readers for command-line values. Each refuses what it cannot use with one line that names the
 * flag, the value and what is allowed, as an ArgumentError: the CLI exits 2 (a usage error) for it, as
 * it does for an unknown flag. `Number()` alone is too lenient ("1e23", " 7", "0x10" and "" all pass).
 */
import { existsSync, statSync } from "node:fs";
import { resolve } from "node:path";
import { CONTROL_CHARACTER, quoteValue } from "../config/names";
import { STACK_NAME } from "../config/stackFile";
import { UsageError } from "./io";

/** Exit code for a malformed command line: an unknown flag or a value a flag cannot take. */
export const EXIT_USAGE = 2;

/** A value a flag cannot take; the CLI prints the message and exits 2. */
export class ArgumentError extends UsageError {
  constructor(message: string, fix?: string) {
    super(message, fix);
    this.name = "ArgumentError";
  }
}

/** The value as it may be printed: control characters escaped, so a terminal shows them as text. */
export const shownArg = (raw: string): string => quoteValue(raw);

function refuse(flag: string, raw: string, allowed: string): never {
  throw new ArgumentError(`--${flag} ${shownArg(raw)}: ${allowed}`);
}

/** A whole number from `min` to `max`, written in plain decimal digits. */
export function intArg(flag: string, raw: string | undefined, fallback: number, min: number, max: number): number;
export function intArg(flag: string, raw: string | undefined, fallback: undefined, min: number, max: number): number | undefined;
export function intArg(flag: string, raw: string | undefined, fallback: number | undefined, min: number, max: number): number | undefined {
  if (raw === undefined) return fallback;
  const n = /^\d{1,16}$/.test(raw) ? Number(raw) : Number.NaN;
  if (!(n >= min && n <= max)) refuse(flag, raw, `must be a whole number from ${min} to ${max}`);
  return n;
}

/** A decimal fraction in (min, max], such as 0.9. */
export function fractionArg(flag: string, raw: string | undefined, fallback: number, above: number, atMost: number): number {
  if (raw === undefined) return fallback;
  const n = /^\d{0,3}(\.\d{1,12})?$/.test(raw) && /\d/.test(raw) ? Number(raw) : Number.NaN;
  if (!(n > above && n <= atMost)) refuse(flag, raw, `must be a decimal number above ${above} and at most ${atMost}, such as 0.9`);
  return n;
}

/** One of a closed set of words. */
export function choiceArg<T extends string>(flag: string, raw: string | undefined, allowed: readonly T[], fallback: T): T {
  if (raw === undefined) return fallback;
  if ((allowed as readonly string[]).includes(raw)) return raw as T;
  return refuse(flag, raw, `must be one of ${allowed.join(", ")}`);
}

/**
 * Free text (a name, a path, a URL): not empty, no control character, not starting with "-" (a value
 * that reads as an option is almost always a flag whose value was forgotten).
 */
export function textArg(flag: string, raw: string, what: string): string {
  if (raw === "") refuse(flag, raw, `is empty; give ${what}`);
  if (CONTROL_CHARACTER.test(raw)) refuse(flag, raw, `contains a control character; give ${what}`);
  if (raw.startsWith("-")) refuse(flag, raw, `starts with "-", so it reads as an option; give ${what}`);
  return raw;
}

/** An http(s) URL, such as a gateway's base URL. */
export function httpUrlArg(flag: string, raw: string | undefined): string | undefined {
  if (raw === undefined) return undefined;
  if (!/^https?:\/\/[^\s/]+\S*$/.test(textArg(flag, raw, "an http(s) URL"))) {
    refuse(flag, raw, "must be an http(s) URL such as http://localhost:4000");
  }
  return raw;
}

/** A stack name, required: what `Pulumi.<name>.yaml` is named by. `example` is the command line with one. */
export function requireStack(raw: string | undefined, example: string): asserts raw is string {
  if (raw === undefined) throw new ArgumentError("--stack is required: the stack whose file is Pulumi.<name>.yaml", example);
  textArg("stack", raw, 'a stack name such as "production"');
  if (!STACK_NAME.test(raw)) refuse("stack", raw, 'a stack name may use letters, digits, "-", "_" and "."; e.g. --stack production');
}

/** An existing file (kind "file") or directory, relative to the working directory. */
export function pathArg(flag: string, raw: string | undefined, cwd: string, kind: "file" | "directory"): string | undefined {
  if (raw === undefined) return undefined;
  textArg(flag, raw, `the path of a ${kind}`);
  const full = resolve(cwd, raw);
  if (!existsSync(full)) refuse(flag, raw, `no such ${kind} (looked for ${full})`);
  const isDir = statSync(full).isDirectory();
  if (kind === "file" && isDir) refuse(flag, raw, "is a directory; give the path of a file");
  if (kind === "directory" && !isDir) refuse(flag, raw, "is not a directory");
  return raw;
}

/** An ssh destination: `user@host` or a host (an ssh config alias); neither part may start with "-". */
export function sshArg(raw: string | undefined): string | undefined {
  if (raw === undefined) return undefined;
  textArg("ssh", raw, "an ssh destination such as admin@gpu-box");
  if (!/^(?:[\w.][\w.-]*@)?[\w.][\w.-]*$/.test(raw)) {
    refuse("ssh", raw, 'must be an ssh destination such as admin@gpu-box or an alias from ~/.ssh/config (letters, digits, ".", "_", "-")');
  }
  return raw;
}
