/**
 * The stack's memory budget: the capacity estimate for vLLM's model on the stack's GPUs, and the
 * constraints it violates. The GPU's memory comes from the stack file (`gpu.gpuName` from the catalog,
 * or `gpu.memoryMiB` as nvidia-smi reports it); the model's facts from the catalog.
 */
import { estimateCapacity, lookupGpu, lookupModel, type CapacityResult, type GpuFacts, type ModelFacts } from "../capacity";
import { MEMORY_UTILISATION_LIMITS, workerEnabled, type StackConfig } from "../config/schema";

export interface CapacityBudget {
  /** "checked": the estimate ran; "unknown": a fact is missing, with `note` saying which. */
  readonly status: "checked" | "unknown" | "cpu";
  readonly note: string;
  readonly gpuMemoryMiB: number | null;
  readonly result: CapacityResult | null;
}

function find<T>(f: () => T): T | null {
  try {
    return f();
  } catch {
    return null;
  }
}

export function planCapacity(config: StackConfig): CapacityBudget {
  const g = config.gpu;
  if (g.mode === "cpu") {
    return { status: "cpu", note: "cpu mode: vLLM's KV cache is VLLM_CPU_KVCACHE_SPACE in host memory", gpuMemoryMiB: null, result: null };
  }
  const model: ModelFacts | null = find(() => lookupModel(config.model.name));
  const gpu: GpuFacts | null = g.gpuName ? find(() => lookupGpu(g.gpuName!)) : null;
  const memoryMiB = g.memoryMiB ?? gpu?.memoryMiB ?? null;
  if (model === null) {
    return {
      status: "unknown",
      note: `${config.model.name} is not in the model catalog; check it with "llmstack capacity --model path/to/config.json"`,
      gpuMemoryMiB: memoryMiB,
      result: null,
    };
  }
  if (memoryMiB === null) {
    return {
      status: "unknown",
      note: "the stack file gives neither gpu.memoryMiB nor a catalog gpu.gpuName; run configure-gpu or add one",
      gpuMemoryMiB: null,
      result: null,
    };
  }
  const shared = workerEnabled(config) ? g.workerDevices.find((d) => g.vllmDevices.includes(d)) : undefined;
  const result = estimateCapacity({
    model,
    gpuMemoryMiB: memoryMiB,
    ...(gpu ? { gpuBandwidthGBs: gpu.bandwidthGBs } : {}),
    ...(g.gpuName ? { gpuName: g.gpuName } : {}),
    tensorParallelSize: g.tensorParallelSize,
    pipelineParallelSize: g.pipelineParallelSize,
    gpuMemoryUtilization: g.memoryUtilization,
    maxModelLen: config.model.maxModelLen,
    dtype: config.model.dtype,
    ...(shared !== undefined ? { worker: { gpu: shared, memoryFraction: g.workerMemoryFraction } } : {}),
    maxMemoryUtilization: MEMORY_UTILISATION_LIMITS[config.environment].max,
  });
  return { status: "checked", note: `${model.name} on ${gpu?.name ?? `${memoryMiB} MiB GPUs`}`, gpuMemoryMiB: memoryMiB, result };
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
