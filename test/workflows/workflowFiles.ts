/** The checked-in GitHub workflows as data, for the tests of their shape and of the comment script. */
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { parse } from "yaml";
import { ROOT } from "../helpers/root";

export const DIR = join(ROOT, ".github", "workflows");
export const FILES = readdirSync(DIR)
  .filter((f) => f.endsWith(".yml"))
  .sort();

export interface Step {
  readonly id?: string;
  readonly name?: string;
  readonly uses?: string;
  readonly run?: string;
  readonly if?: string;
  readonly env?: Record<string, string>;
  readonly with?: Record<string, unknown>;
}
export interface Job {
  readonly "runs-on": unknown;
  readonly if?: string;
  readonly environment?: string;
  readonly permissions?: Record<string, string>;
  readonly env?: Record<string, string>;
  readonly strategy?: unknown;
  readonly steps: Step[];
}
export interface Workflow {
  readonly name: string;
  readonly on: Record<string, unknown>;
  readonly permissions?: Record<string, string>;
  readonly env?: Record<string, string>;
  readonly jobs: Record<string, Job>;
}

export const text = (f: string): string => readFileSync(join(DIR, f), "utf8");
export const workflow = (f: string): Workflow => parse(text(f)) as Workflow;
export const jobsOf = (f: string): [string, Job][] => Object.entries(workflow(f).jobs);

/**
 * The repository and environment secrets a piece of a workflow names (`secrets.X` anywhere in its
 * values), sorted. GITHUB_TOKEN is the run's own token, which `permissions:` bounds, not a stored secret.
 */
export function secretsIn(value: unknown): string[] {
  const found = new Set<string>();
  const visit = (v: unknown): void => {
    if (typeof v === "string") {
      for (const m of v.matchAll(/\bsecrets\.([A-Za-z_][A-Za-z0-9_]*)/g)) if (m[1] !== "GITHUB_TOKEN") found.add(m[1]!);
    } else if (Array.isArray(v)) v.forEach(visit);
    else if (v !== null && typeof v === "object") Object.values(v).forEach(visit);
  };
  visit(value);
  return [...found].sort();
}
