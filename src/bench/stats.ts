/** Statistics of a benchmark run: percentiles and the summary figures, pure functions over samples. */

/** One request as measured by the client; times in milliseconds from the run's start. */
export interface Sample {
  readonly startMs: number;
  /** When the first content token arrived; undefined when none did. */
  readonly firstTokenMs?: number;
  readonly endMs: number;
  readonly outputTokens: number;
  readonly ok: boolean;
  readonly error?: string;
}

export interface Percentiles {
  readonly p50: number;
  readonly p90: number;
  readonly p99: number;
}

export interface BenchSummary {
  readonly requests: number;
  readonly failed: number;
  readonly concurrency: number;
  readonly durationSeconds: number;
  readonly requestsPerSecond: number;
  readonly outputTokensPerSecond: number;
  readonly outputTokens: number;
  /** Seconds. */
  readonly timeToFirstToken: Percentiles;
  /** Seconds, whole request. */
  readonly latency: Percentiles;
  readonly firstError?: string;
}

/** The p-th percentile (0..100) by linear interpolation between closest ranks (numpy's default). */
export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = (p / 100) * (sorted.length - 1);
  const lo = Math.floor(rank);
  const hi = Math.ceil(rank);
  return sorted[lo]! + (sorted[hi]! - sorted[lo]!) * (rank - lo);
}

function percentiles(values: readonly number[]): Percentiles {
  return { p50: percentile(values, 50), p90: percentile(values, 90), p99: percentile(values, 99) };
}

export function summarize(samples: readonly Sample[], concurrency: number): BenchSummary {
  const ok = samples.filter((s) => s.ok);
  const start = Math.min(...samples.map((s) => s.startMs));
  const end = Math.max(...samples.map((s) => s.endMs));
  const durationSeconds = samples.length ? (end - start) / 1000 : 0;
  const outputTokens = ok.reduce((n, s) => n + s.outputTokens, 0);
  const firstError = samples.find((s) => !s.ok)?.error;
  return {
    requests: samples.length,
    failed: samples.length - ok.length,
    concurrency,
    durationSeconds,
    requestsPerSecond: durationSeconds > 0 ? ok.length / durationSeconds : 0,
    outputTokensPerSecond: durationSeconds > 0 ? outputTokens / durationSeconds : 0,
    outputTokens,
    timeToFirstToken: percentiles(
      ok.filter((s) => s.firstTokenMs !== undefined).map((s) => (s.firstTokenMs! - s.startMs) / 1000),
    ),
    latency: percentiles(ok.map((s) => (s.endMs - s.startMs) / 1000)),
    ...(firstError !== undefined ? { firstError } : {}),
  };
}
