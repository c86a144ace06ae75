/**
 * What a preflight check returns, and the facts the checks read. Checks are pure: facts in, results out,
 * so tests inject real captures instead of running commands.
 */

export type CheckStatus = "pass" | "warn" | "fail";

export interface CheckResult {
  /** Stable name, e.g. "docker.daemon", "gpu.memory-in-use". */
  readonly check: string;
  readonly status: CheckStatus;
  /** What was found, one sentence. */
  readonly found: string;
  /** How to fix it; null when there is nothing to do. */
  readonly fix: string | null;
}

/** The output of one command the probe ran: its exit code and its text (stdout and stderr together). */
export interface Section {
  readonly rc: number;
  readonly text: string;
}

export function pass(check: string, found: string): CheckResult {
  return { check, status: "pass", found, fix: null };
}

export function warn(check: string, found: string, fix: string | null): CheckResult {
  return { check, status: "warn", found, fix };
}

export function fail(check: string, found: string, fix: string): CheckResult {
  return { check, status: "fail", found, fix };
}

const MIB = 1024 * 1024;
const GIB = 1024 * MIB;

export function gib(bytes: number): string {
  return `${(bytes / GIB).toFixed(1)} GiB`;
}

export function mibText(mib: number): string {
  return `${Math.round(mib)} MiB`;
}

/** A whole number the host printed, or null when it is not one a double holds exactly (400 digits is Infinity). */
export function hostCount(text: string | undefined): number | null {
  if (text === undefined || !/^\d+$/.test(text)) return null;
  const n = Number(text);
  return Number.isSafeInteger(n) ? n : null;
}
