/**
 * The held-out evaluation of the capacity estimate: one real vLLM start-up log per case
 * (bench/capacity/cases.json), run through estimateCapacity with the settings the log shows, and the
 * figures `npm run bench:capacity` prints. Pure except for `loadCases`, which reads the case file and the
 * config.json copies it names.
 */
import { readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import {
  estimateCapacity,
  lookupModel,
  parseModelConfig,
  type CapacityInput,
  type Engine,
  type KvCacheDtype,
  type ModelFacts,
  type Quantization,
} from "../../src/capacity";

import { percentile } from "../../src/bench/stats";

/** dense, or the architecture the dense memory model does not cover. */
export type CaseClass = "dense" | "moe" | "mla" | "sliding" | "hybrid";
export type Measure = "kvCacheGiB" | "gpuBlocks" | "kvCacheTokens";

export interface LogCase {
  readonly id: string;
  readonly class: CaseClass;
  readonly source: { readonly url: string; readonly where: string };
  /** A catalog name, or `config` (a config.json copy next to the cases, with its own source). */
  readonly model: { readonly name: string; readonly catalog?: string; readonly config?: string };
  readonly gpu: {
    /** nvidia-smi's exact name where the source shows it, else null. */
    readonly nvidiaSmiName: string | null;
    /** The card as the source names it. */
    readonly stated: string;
    readonly memoryMiB: number;
    readonly memorySource: string;
  };
  readonly tensorParallelSize: number;
  readonly pipelineParallelSize: number;
  readonly gpuMemoryUtilization: number;
  readonly maxModelLen: number;
  readonly dtype?: CapacityInput["dtype"];
  readonly quantization?: Quantization;
  readonly kvCacheDtype?: KvCacheDtype;
  readonly maxNumSeqs?: number;
  readonly maxNumBatchedTokens?: number;
  readonly enforceEager?: boolean;
  readonly vllmVersion: string;
  readonly engine: Engine;
  /** The quoted lines that give the settings. */
  readonly settings: readonly string[];
  readonly truth: { readonly measure: Measure; readonly value: number; readonly line: string };
  readonly notes?: string;
}

export interface CaseResult {
  readonly id: string;
  readonly class: CaseClass;
  readonly measure: Measure;
  readonly predicted: number;
  readonly actual: number;
  /** (predicted − actual) ÷ actual. */
  readonly error: number;
}

export interface ClassSummary {
  readonly cases: number;
  readonly within15: number;
  /** Median of |error|, a fraction. */
  readonly medianAbsError: number;
}

export interface Summary {
  readonly dense: ClassSummary;
  /** MoE, MLA, sliding-window and hybrid cases together. */
  readonly other: ClassSummary;
}

/** The logged measure the estimate gives for a case. */
export function predict(c: LogCase, model: ModelFacts): number {
  const r = estimateCapacity({
    model,
    gpuMemoryMiB: c.gpu.memoryMiB,
    gpuName: c.gpu.nvidiaSmiName ?? c.gpu.stated,
    tensorParallelSize: c.tensorParallelSize,
    pipelineParallelSize: c.pipelineParallelSize,
    gpuMemoryUtilization: c.gpuMemoryUtilization,
    maxModelLen: c.maxModelLen,
    vllmVersion: c.vllmVersion,
    engine: c.engine,
    ...(c.dtype !== undefined ? { dtype: c.dtype } : {}),
    ...(c.quantization !== undefined ? { quantization: c.quantization } : {}),
    ...(c.kvCacheDtype !== undefined ? { kvCacheDtype: c.kvCacheDtype } : {}),
    ...(c.maxNumSeqs !== undefined ? { maxNumSeqs: c.maxNumSeqs } : {}),
    ...(c.maxNumBatchedTokens !== undefined ? { maxNumBatchedTokens: c.maxNumBatchedTokens } : {}),
    ...(c.enforceEager !== undefined ? { enforceEager: c.enforceEager } : {}),
  });
  if (c.truth.measure === "kvCacheGiB") return r.kvCacheGiBPerGpu;
  return c.truth.measure === "gpuBlocks" ? r.kvCacheTokens / 16 : r.kvCacheTokens;
}

export function evaluate(c: LogCase, model: ModelFacts): CaseResult {
  const predicted = predict(c, model);
  const actual = c.truth.value;
  return { id: c.id, class: c.class, measure: c.truth.measure, predicted, actual, error: (predicted - actual) / actual };
}

function classSummary(results: readonly CaseResult[]): ClassSummary {
  const abs = results.map((r) => Math.abs(r.error));
  return {
    cases: results.length,
    within15: abs.filter((e) => e <= 0.15).length,
    medianAbsError: percentile(abs, 50),
  };
}

export function summarize(results: readonly CaseResult[]): Summary {
  return {
    dense: classSummary(results.filter((r) => r.class === "dense")),
    other: classSummary(results.filter((r) => r.class !== "dense")),
  };
}

const pct = (x: number) => `${x >= 0 ? "+" : ""}${(x * 100).toFixed(1)}%`;

/** The report: one line per case, then the two summary lines. */
export function report(results: readonly CaseResult[]): string {
  const lines = results.map(
    (r) =>
      `${r.id.padEnd(52)} ${r.class.padEnd(7)} ${r.measure.padEnd(13)} predicted ${String(r.predicted).padStart(9)}` +
      `  actual ${String(r.actual).padStart(9)}  ${pct(r.error).padStart(8)}${Math.abs(r.error) > 0.15 ? "  MISS" : ""}`,
  );
  const s = summarize(results);
  const share = (c: ClassSummary) => (c.cases === 0 ? "n/a" : `${Math.round((c.within15 / c.cases) * 100)}%`);
  lines.push(
    "",
    `dense: ${s.dense.within15} of ${s.dense.cases} within ±15%, median |error| ${(s.dense.medianAbsError * 100).toFixed(1)}%`,
    `MoE/MLA/sliding/hybrid: ${s.other.within15} of ${s.other.cases} within ±15% (${share(s.other)}), median |error| ` +
      `${(s.other.medianAbsError * 100).toFixed(1)}%`,
  );
  return lines.join("\n");
}

/** Cases and the model facts each names; a catalog name or a config.json copy beside the case file. */
export function loadCases(file: string): { readonly c: LogCase; readonly model: ModelFacts }[] {
  const parsed = JSON.parse(readFileSync(file, "utf8")) as { cases: LogCase[] };
  return parsed.cases.map((c) => {
    if (c.model.catalog !== undefined) return { c, model: lookupModel(c.model.catalog) };
    if (c.model.config === undefined) throw new Error(`${file}: case ${c.id} names neither a catalog model nor a config`);
    const path = join(dirname(file), c.model.config);
    return { c, model: parseModelConfig(JSON.parse(readFileSync(path, "utf8")), path) };
  });
}
