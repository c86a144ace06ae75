/**
 * `llmstack bench --scaling`: the same load against the first replica, then the first two, ... up to N,
 * each request sent straight to a replica's vLLM (round robin over the k replicas of the step), so the
 * table shows what each added replica buys. The gateway is not in the path: it would add its own routing
 * and limits, and until it lists the replicas it reaches only one of them.
 */
import { promptOf } from "./client";
import { realDeps, runBench, type BenchDeps, type BenchOptions } from "./run";
import { percentile, type BenchSummary } from "./stats";
import { tableLines } from "../table";

/** A replica as the benchmark dials it. */
export interface ReplicaTarget {
  readonly id: string;
  /** `http://<host address>:<port>`, the port the replica publishes on its host. */
  readonly url: string;
}

/** The load of one step, as runBench takes it, against the replicas instead of one URL. */
export type ScalingOptions = Omit<BenchOptions, "url" | "urls"> & { readonly targets: readonly ReplicaTarget[] };

export interface ScalingStep {
  /** How many replicas (the first k targets) shared the load. */
  readonly replicas: number;
  /** Requests sent to each of those replicas, in target order. */
  readonly requestsPerReplica: readonly number[];
  readonly summary: BenchSummary;
  /** Seconds; the 95th percentile of whole-request latency. */
  readonly latencyP95: number;
  /** Output tokens/s against the 1-replica step's. */
  readonly speedup: number;
  /** The replica that failed the step's first failed request, if one failed. */
  readonly firstFailedReplica?: string;
}

export interface ScalingResult {
  readonly format: "llmstack-bench-scaling/1";
  readonly stack: string;
  readonly model: string;
  readonly settings: { readonly requests: number; readonly concurrency: number; readonly promptTokens: number; readonly outputTokens: number };
  readonly replicas: readonly ReplicaTarget[];
  readonly steps: readonly ScalingStep[];
}

/** A replica that did not answer the one-token request sent to each before the run. */
export interface ProbeFailure {
  readonly target: ReplicaTarget;
  readonly error: string;
}

/** The most a probe waits: a replica that is up answers one token in far less. */
export const PROBE_TIMEOUT_MS = 60_000;

/**
 * One short request to each replica, one after the other: the first that fails is returned, before any
 * load is sent. It also leaves each replica warm.
 */
export async function probeReplicas(
  opts: Pick<ScalingOptions, "targets" | "apiKey" | "model" | "timeoutMs">,
  deps: BenchDeps = realDeps,
): Promise<ProbeFailure | undefined> {
  for (const target of opts.targets) {
    const s = await deps.chat(
      { url: target.url, apiKey: opts.apiKey, model: opts.model, prompt: promptOf(1), maxTokens: 1, timeoutMs: Math.min(opts.timeoutMs, PROBE_TIMEOUT_MS) },
      deps.now,
    );
    if (!s.ok) return { target, error: s.error ?? "no message" };
  }
  return undefined;
}

/** Runs the load against 1, 2, ..., N replicas; `onStep` is told when each step starts. */
export async function runScaling(
  opts: ScalingOptions,
  onStep: (replicas: number) => void = () => undefined,
  onDone: (done: number, total: number) => void = () => undefined,
  deps: BenchDeps = realDeps,
): Promise<ScalingStep[]> {
  const steps: ScalingStep[] = [];
  for (let k = 1; k <= opts.targets.length; k += 1) {
    onStep(k);
    const urls = opts.targets.slice(0, k).map((t) => t.url);
    const sent = new Map<string, number>();
    let failedUrl: string | undefined;
    const counted: BenchDeps = {
      now: deps.now,
      chat: async (req, now) => {
        sent.set(req.url, (sent.get(req.url) ?? 0) + 1);
        const s = await deps.chat(req, now);
        if (!s.ok) failedUrl ??= req.url;
        return s;
      },
    };
    const { summary, samples } = await runBench({ ...opts, url: urls[0]!, urls }, onDone, counted);
    const latencies = samples.filter((s) => s.ok).map((s) => (s.endMs - s.startMs) / 1000);
    const base = steps[0]?.summary.outputTokensPerSecond ?? summary.outputTokensPerSecond;
    steps.push({
      replicas: k,
      requestsPerReplica: urls.map((u) => sent.get(u) ?? 0),
      summary,
      latencyP95: percentile(latencies, 95),
      speedup: base > 0 ? summary.outputTokensPerSecond / base : 0,
      ...(failedUrl !== undefined ? { firstFailedReplica: opts.targets.find((t) => t.url === failedUrl)!.id } : {}),
    });
  }
  return steps;
}

const f = (x: number, digits = 2): string => (Number.isFinite(x) ? x.toFixed(digits) : "-");
const ms = (seconds: number): string => (Number.isFinite(seconds) ? `${(seconds * 1000).toFixed(0)} ms` : "-");

export const SCALING_HEAD = ["replicas", "requests/s", "output tokens/s", "p50 latency", "p95 latency", "speed-up vs 1"] as const;

export function scalingText(r: ScalingResult): string {
  const rows = r.steps.map((s) => [
    String(s.replicas),
    f(s.summary.requestsPerSecond),
    f(s.summary.outputTokensPerSecond, 1),
    ms(s.summary.latency.p50),
    ms(s.latencyP95),
    s.speedup > 0 ? `${s.speedup.toFixed(2)}×` : "-",
  ]);
  const failed = r.steps.filter((s) => s.summary.failed > 0).map((s) => `${s.summary.failed} of ${s.summary.requests} with ${s.replicas}`);
  return [
    `scaling benchmark of ${r.model} on stack ${r.stack}: the same load against 1 to ${r.steps.length} replicas, dialled directly`,
    `  each step: ${r.settings.requests} requests, concurrency ${r.settings.concurrency}, ` +
      `~${r.settings.promptTokens} prompt / ${r.settings.outputTokens} output tokens each, spread round robin`,
    `  replicas in order: ${r.replicas.map((t) => `${t.id} (${t.url})`).join(", ")}`,
    ...tableLines(rows, [...SCALING_HEAD]),
    ...(failed.length > 0 ? [`  failed requests: ${failed.join("; ")}`] : []),
    "",
  ].join("\n");
}
