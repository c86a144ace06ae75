/**
 * The stack's memory budget: the capacity estimate for vLLM's model on the stack's GPUs, and the
 * constraints it violates. The GPU's memory comes from the stack file (`gpu.memoryMiB` as nvidia-smi
 * reports it, else the catalog's figure for `gpu.gpuName`), its bandwidth from the catalog; the model's
 * facts from the lookup the caller resolved (the command line reads the Hugging Face cache and the Hub,
 * src/hub), or from the catalog without one; the vLLM release, whose memory accounting applies, from the
 * tag of the stack's vLLM image.
 */
import {
  catalogLookup,
  estimateCapacity,
  lookupGpu,
  SOURCE_LABELS,
  type CapacityResult,
  type GpuFacts,
  type ModelFacts,
  type ModelLookup,
} from "../capacity";
import { MEMORY_UTILISATION_LIMITS, workerEnabled, type StackConfig } from "../config/schema";
import { stackVllmImage, vllmRelease } from "../facts/vllmRelease";

export interface CapacityBudget {
  /** "checked": the estimate ran; "unknown": a fact is missing, with `note` saying which. */
  readonly status: "checked" | "unknown" | "cpu";
  readonly note: string;
  readonly gpuMemoryMiB: number | null;
  readonly result: CapacityResult | null;
  /** The model's facts the budget used (null when none were found), for the host checks. */
  readonly model: ModelFacts | null;
}

/** `model`: the facts the caller resolved for `config.model`; without it, the catalog's. */
export function planCapacity(config: StackConfig, model: ModelLookup = catalogLookup(config.model.name)): CapacityBudget {
  const g = config.gpu;
  if (g.mode === "cpu") {
    const note = "cpu mode: vLLM's KV cache is VLLM_CPU_KVCACHE_SPACE in host memory";
    return { status: "cpu", note, gpuMemoryMiB: null, result: null, model: model.facts };
  }
  // A gpuName the catalog cannot settle is no error when memoryMiB is given (lookupGpu falls back to it).
  let gpu: GpuFacts | null = null;
  let gpuProblem: string | null = null;
  if (g.gpuName !== undefined) {
    try {
      gpu = lookupGpu(g.gpuName, g.memoryMiB ?? null);
    } catch (err) {
      gpuProblem = `gpu.gpuName: ${(err as Error).message}`;
    }
  }
  const memoryMiB = gpu?.memoryMiB ?? g.memoryMiB ?? null;
  if (model.facts === null) {
    return { status: "unknown", note: model.problem, gpuMemoryMiB: memoryMiB, result: null, model: null };
  }
  if (memoryMiB === null) {
    return {
      status: "unknown",
      note: gpuProblem ?? "the stack file gives neither gpu.memoryMiB nor a catalog gpu.gpuName; run configure-gpu or add one",
      gpuMemoryMiB: null,
      result: null,
      model: model.facts,
    };
  }
  const image = stackVllmImage(config);
  const vllmVersion = vllmRelease(image);
  if (vllmVersion === null) {
    return {
      status: "unknown",
      note:
        `llmstack:images.vllm ${image} names no vLLM release (vllm/vllm-openai:v<release>), so which memory ` +
        `accounting applies is unknown; pin a release tag, or check by hand with "llmstack capacity --vllm-version V"`,
      gpuMemoryMiB: memoryMiB,
      result: null,
      model: model.facts,
    };
  }
  const shared = workerEnabled(config) ? g.workerDevices.find((d) => g.vllmDevices.includes(d)) : undefined;
  const result = estimateCapacity({
    model: model.facts,
    gpuMemoryMiB: memoryMiB,
    ...(gpu?.bandwidthGBs !== undefined ? { gpuBandwidthGBs: gpu.bandwidthGBs } : {}),
    ...(g.gpuName ? { gpuName: g.gpuName } : {}),
    tensorParallelSize: g.tensorParallelSize,
    pipelineParallelSize: g.pipelineParallelSize,
    gpuMemoryUtilization: g.memoryUtilization,
    maxModelLen: config.model.maxModelLen,
    dtype: config.model.dtype,
    vllmVersion,
    ...(shared !== undefined ? { worker: { gpu: shared, memoryFraction: g.workerMemoryFraction } } : {}),
    maxMemoryUtilization: MEMORY_UTILISATION_LIMITS[config.environment].max,
  });
  const on = gpu?.entry ? gpu.name : `${memoryMiB} MiB GPUs${gpu?.note ? ` (${gpu.note})` : ""}`;
  return {
    status: "checked",
    note: `${model.facts.name} on ${on}, vLLM ${vllmVersion} (model facts from ${SOURCE_LABELS[model.source]})`,
    gpuMemoryMiB: memoryMiB,
    result,
    model: model.facts,
  };
}

/** The budget as plain numbers, for the plan's JSON and the stack output. */
export function budgetJson(b: CapacityBudget): Record<string, unknown> {
  if (b.result === null) return { status: b.status, note: b.note };
  const r = b.result;
  return {
    status: b.status,
    note: b.note,
    gpuMemoryMiB: b.gpuMemoryMiB,
    weightsGiBPerGpu: r.weightsGiBPerGpu,
    overheadGiBPerGpu: r.overheadGiBPerGpu,
    kvCacheGiBPerGpu: r.kvCacheGiBPerGpu,
    kvCacheTokens: r.kvCacheTokens,
    maxConcurrency: r.maxConcurrency,
    decodeTokensPerSecondUpperBound: r.decodeTokensPerSecondUpperBound,
    violations: r.violations.map((v) => v.message),
  };
}

export function budgetLine(b: CapacityBudget): string {
  if (b.result === null) return `capacity: ${b.note}`;
  const r = b.result;
  return (
    `capacity: ${b.note}: weights ${r.weightsGiBPerGpu} GiB + overhead ${r.overheadGiBPerGpu} GiB per GPU, ` +
    `KV cache ${r.kvCacheGiBPerGpu} GiB (${r.kvCacheTokens} tokens, ${r.maxConcurrency}x at max length)` +
    (r.decodeTokensPerSecondUpperBound !== null ? `, decode ≤ ${r.decodeTokensPerSecondUpperBound} tokens/s` : "") +
    (r.violations.length ? `; ${r.violations.length} violation(s)` : "")
  );
}

/** The whole fleet's capacity: the replicas' KV cache tokens and concurrency at max length, added up. */
export interface FleetCapacity {
  readonly replicas: number;
  /** Null when a replica has no estimate (`unknown`, with `note` naming it). */
  readonly kvCacheTokens: number | null;
  readonly maxConcurrency: number | null;
  readonly note?: string;
}

export function fleetCapacity(replicas: readonly { readonly id: string; readonly capacity: CapacityBudget }[]): FleetCapacity {
  const unknown = replicas.find((r) => r.capacity.result === null);
  if (unknown !== undefined) {
    return { replicas: replicas.length, kvCacheTokens: null, maxConcurrency: null, note: `replica ${unknown.id} has no estimate` };
  }
  const results = replicas.map((r) => r.capacity.result!);
  return {
    replicas: replicas.length,
    kvCacheTokens: results.reduce((sum, r) => sum + r.kvCacheTokens, 0),
    maxConcurrency: Math.round(results.reduce((sum, r) => sum + r.maxConcurrency, 0) * 100) / 100,
  };
}

/** The fleet's line in the plan: its replicas' KV cache and concurrency together (what a request may land on). */
export function fleetLine(f: FleetCapacity): string {
  if (f.kvCacheTokens === null || f.maxConcurrency === null) return `fleet: ${f.replicas} replica(s); totals unknown: ${f.note}`;
  return `fleet: ${f.replicas} replica(s), KV cache ${f.kvCacheTokens} tokens in all, ${f.maxConcurrency}x at max length`;
}
