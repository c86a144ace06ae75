/**
 * A planned container as the checks read it: the fields of one entry of `llmstack plan --json`
 * (src/plan/render.ts containerJson), which are `@pulumi/docker` Container input names plus the plan's
 * resource options. Reading the rendered plan rather than the planner's types means the checks hold
 * exactly what the program registers and prints.
 */
export interface PlannedUpload {
  readonly file: string;
  readonly permissions?: string;
  readonly owner?: string;
  readonly group?: string;
}

export interface PlannedContainer {
  readonly service: string;
  readonly image: string;
  readonly entrypoints?: readonly string[];
  readonly command: readonly string[];
  /** `KEY=VALUE` strings, secrets masked. */
  readonly envs: readonly string[];
  readonly healthcheck?: { readonly tests: readonly string[]; readonly startPeriod: string };
  readonly uploads: readonly PlannedUpload[];
  readonly wait?: boolean;
  readonly waitTimeout?: number;
  /** A one-shot: the provider attaches and waits for it to finish. */
  readonly attach?: boolean;
  readonly stopTimeout: number;
  readonly customTimeouts?: { readonly create: string };
  readonly imageCustomTimeouts?: { readonly create: string };
}

/** Minutes of a Pulumi duration such as "25m" or "1h30m". */
export function durationMinutes(d: string): number {
  const m = /^(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?$/.exec(d);
  if (!m || d === "") throw new Error(`expected a duration such as "25m", got "${d}"`);
  return Number(m[1] ?? 0) * 60 + Number(m[2] ?? 0) + Number(m[3] ?? 0) / 60;
}
