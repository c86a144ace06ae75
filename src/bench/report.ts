/** What `llmstack bench` prints: the progress bar, the report, and the side-by-side comparison. */
import { tableLines } from "../table";
import type { BenchSummary } from "./stats";

export interface BenchResult {
  readonly format: "llmstack-bench/1";
  readonly stack: string;
  readonly url: string;
  readonly model: string;
  readonly settings: {
    readonly requests: number;
    readonly concurrency: number;
    readonly promptTokens: number;
    readonly outputTokens: number;
  };
  readonly summary: BenchSummary;
}

/** A progress bar line; on a terminal it is redrawn in place with \r. */
export function progressBar(done: number, total: number, width = 30): string {
  const filled = total > 0 ? Math.round((done / total) * width) : width;
  return `[${"#".repeat(filled)}${".".repeat(width - filled)}] ${done}/${total} requests`;
}

const f = (x: number, digits = 2): string => (Number.isFinite(x) ? x.toFixed(digits) : "-");
const ms = (seconds: number): string => (Number.isFinite(seconds) ? `${(seconds * 1000).toFixed(0)} ms` : "-");

export function reportText(r: BenchResult): string {
  const s = r.summary;
  return [
    `benchmark of ${r.model} at ${r.url} (stack ${r.stack})`,
    `  requests            ${s.requests} (${s.failed} failed), concurrency ${s.concurrency}, ` +
      `~${r.settings.promptTokens} prompt / ${r.settings.outputTokens} output tokens each`,
    `  duration            ${f(s.durationSeconds)} s`,
    `  request throughput  ${f(s.requestsPerSecond)} req/s`,
    `  output tokens/s     ${f(s.outputTokensPerSecond, 1)}`,
    `  time to first token p50 ${ms(s.timeToFirstToken.p50)}  p90 ${ms(s.timeToFirstToken.p90)}  p99 ${ms(s.timeToFirstToken.p99)}`,
    `  latency             p50 ${ms(s.latency.p50)}  p90 ${ms(s.latency.p90)}  p99 ${ms(s.latency.p99)}`,
    ...(s.firstError ? [`  first error         ${s.firstError}`] : []),
    "",
  ].join("\n");
}

/** Checks a file read for --compare is a saved `bench --json` result; names the file and what is wrong. */
export function parseBenchResult(text: string, file: string): BenchResult {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (err) {
    throw new Error(`--compare ${file}: not JSON (${(err as Error).message}); give a run saved with bench --json`, { cause: err });
  }
  const d = doc as Partial<BenchResult>;
  if (d?.format !== "llmstack-bench/1" || typeof d.summary?.outputTokensPerSecond !== "number") {
    throw new Error(
      `--compare ${file}: not an llmstack bench result (expected "format": "llmstack-bench/1" and a summary); ` +
        "give a run saved with bench --json",
    );
  }
  return d as BenchResult;
}

/** The ratio after/before; for latencies, where less is better, before/after. */
const ratio = (after: number, before: number): string => (before > 0 && after > 0 ? `${(after / before).toFixed(2)}×` : "-");

export function compareText(before: BenchResult, after: BenchResult, beforeName: string): string {
  const a = after.summary;
  const b = before.summary;
  const rows: [string, string, string, string][] = [
    ["request throughput (req/s)", f(b.requestsPerSecond), f(a.requestsPerSecond), ratio(a.requestsPerSecond, b.requestsPerSecond)],
    ["output tokens/s", f(b.outputTokensPerSecond, 1), f(a.outputTokensPerSecond, 1), ratio(a.outputTokensPerSecond, b.outputTokensPerSecond)],
    ["time to first token p50", ms(b.timeToFirstToken.p50), ms(a.timeToFirstToken.p50), ratio(b.timeToFirstToken.p50, a.timeToFirstToken.p50)],
    ["latency p50", ms(b.latency.p50), ms(a.latency.p50), ratio(b.latency.p50, a.latency.p50)],
    ["latency p99", ms(b.latency.p99), ms(a.latency.p99), ratio(b.latency.p99, a.latency.p99)],
  ];
  const warn =
    before.settings.concurrency !== after.settings.concurrency ||
    before.settings.outputTokens !== after.settings.outputTokens ||
    before.settings.promptTokens !== after.settings.promptTokens
      ? ["note: the two runs used different settings; the speedup compares unlike loads"]
      : [];
  return [
    `comparison with ${beforeName} (${before.stack}, ${before.model})`,
    ...tableLines(rows, ["", "before", "now", "speedup"]),
    `speedup: ${ratio(a.outputTokensPerSecond, b.outputTokensPerSecond)} output tokens/s`,
    ...warn,
    "",
  ].join("\n");
}
