/**
 * The checks that make vLLM refuse to start, each as a violation with the numbers and the fix.
 * Rules: https://docs.vllm.ai/en/stable/serving/parallelism_scaling.html (TP divides the attention
 * heads; KV heads are replicated when TP exceeds them), vLLM's "To serve at least one request with the
 * model's max seq len" error, and the GPU budget of a shared GPU (src/config/gpuBookings.ts).
 */
import { gpuBookings, problemText, sectionTenants } from "../config/gpuBookings";
import { MEMORY_UTILISATION_MAX } from "../config/schema";
import type { CapacityInput } from "./input";
import type { ModelFacts } from "./models";
import { bytesPerLoggedToken, kvCacheLayout } from "./kvcache";
import { parseVllmVersion } from "./version";

export type ViolationCode =
  | "tp-attention-heads"
  | "tp-kv-heads"
  | "pp-layers"
  | "max-model-len"
  | "shared-gpu"
  | "no-kv-memory"
  | "kv-too-small";

export interface Violation {
  readonly code: ViolationCode;
  readonly message: string;
}

/**
 * KV bytes per token on one GPU, counted the way vLLM logs "GPU KV cache size: N tokens": for ordinary
 * attention 2 (K and V) × the GPU's layers × its KV heads × head dim × bytes. With TP above the KV heads
 * vLLM replicates them, so each GPU still holds one head. A TP that does not divide the heads is a
 * violation; the figure then rounds up to whole heads so it stays a byte count. MLA, sliding-window and
 * hybrid models follow kvCacheLayout (kvcache.ts) for the release given.
 */
export function kvBytesPerToken(
  model: ModelFacts,
  tp: number,
  pp: number,
  kvDtypeBytes: number,
  vllmVersion: string,
): number {
  const layout = kvCacheLayout(model, {
    tensorParallelSize: tp,
    pipelineParallelSize: pp,
    kvDtypeBytes,
    version: parseVllmVersion(vllmVersion),
  });
  return bytesPerLoggedToken(layout);
}

function divisors(n: number): number[] {
  const out: number[] = [];
  for (let d = 1; d <= n; d++) if (n % d === 0) out.push(d);
  return out;
}

const GiB = 1024 ** 3;
const gib = (b: number) => (b / GiB).toFixed(2);

export interface MemoryFacts {
  readonly kvAvailableBytes: number;
  readonly kvCacheTokens: number;
  readonly perTokenKvBytes: number;
  readonly usableBytes: number;
  readonly nonKvBytes: number;
  /**
   * For models whose sliding-window layers need only the window (vLLM V1): the KV bytes one request of
   * max model length needs, and the longest request the KV cache holds. Without them a request needs
   * max model length × perTokenKvBytes.
   */
  readonly oneRequestBytes?: number;
  readonly longestRequest?: number;
}

export function violationsFor(input: CapacityInput, mem: MemoryFacts): Violation[] {
  const { model } = input;
  const tp = input.tensorParallelSize;
  const out: Violation[] = [];
  const heads = model.numAttentionHeads;
  const kv = model.numKeyValueHeads;
  if (heads % tp !== 0) {
    out.push({
      code: "tp-attention-heads",
      message:
        `tensor parallel size ${tp} does not divide ${model.name}'s ${heads} attention heads ` +
        `(${heads} % ${tp} = ${heads % tp}); use a tensor parallel size from ${divisors(heads).join(", ")}`,
    });
  }
  if (kv % tp !== 0 && tp % kv !== 0) {
    out.push({
      code: "tp-kv-heads",
      message:
        `tensor parallel size ${tp} and ${model.name}'s ${kv} KV heads do not divide each other; ` +
        `vLLM needs TP to divide the KV heads or the KV heads to divide TP (e.g. ${divisors(kv).join(", ")} or a multiple of ${kv})`,
    });
  }
  const pp = input.pipelineParallelSize;
  if (pp > model.numLayers) {
    out.push({
      code: "pp-layers",
      message:
        `pipeline parallel size ${pp} exceeds ${model.name}'s ${model.numLayers} layers; ` +
        `use at most ${model.numLayers} pipeline stages`,
    });
  }
  if (input.maxModelLen > model.maxPositionEmbeddings) {
    out.push({
      code: "max-model-len",
      message:
        `max model length ${input.maxModelLen} exceeds ${model.name}'s max_position_embeddings ` +
        `${model.maxPositionEmbeddings}; set maxModelLen to at most ${model.maxPositionEmbeddings}`,
    });
  }
  if (input.worker !== undefined) {
    const { gpu, memoryFraction } = input.worker;
    const shares = { vllmDevices: [gpu], workerDevices: [gpu], memoryUtilization: input.gpuMemoryUtilization, workerMemoryFraction: memoryFraction };
    for (const p of gpuBookings(sectionTenants(shares, true), { memoryMiB: input.gpuMemoryMiB }).problems) {
      out.push({ code: "shared-gpu", message: problemText(p) });
    }
  }
  const maxUtil = input.maxMemoryUtilization ?? MEMORY_UTILISATION_MAX;
  const needUtil = (extraBytes: number) =>
    Math.ceil(((mem.nonKvBytes + extraBytes) / mem.usableBytes) * 100) / 100;
  const oneSequence = mem.oneRequestBytes ?? input.maxModelLen * mem.perTokenKvBytes;
  const tooSmall =
    mem.oneRequestBytes !== undefined ? mem.kvAvailableBytes < oneSequence : mem.kvCacheTokens < input.maxModelLen;
  if (mem.kvAvailableBytes <= 0) {
    const u = needUtil(oneSequence);
    out.push({
      code: "no-kv-memory",
      message:
        `no memory is left for the KV cache: weights and runtime overhead take ${gib(mem.nonKvBytes)} GiB per GPU ` +
        `but utilisation ${input.gpuMemoryUtilization} allows ${gib(mem.usableBytes * input.gpuMemoryUtilization)} GiB; ` +
        (u <= maxUtil
          ? `raise memoryUtilization to at least ${u.toFixed(2)}, quantize the model or add GPUs (tensor parallelism)`
          : "quantize the model, use a smaller one or add GPUs (tensor parallelism)"),
    });
  } else if (tooSmall) {
    const u = needUtil(oneSequence);
    out.push({
      code: "kv-too-small",
      message:
        `one sequence of max model length ${input.maxModelLen} needs ${gib(oneSequence)} GiB of KV cache per GPU ` +
        `but only ${gib(mem.kvAvailableBytes)} GiB (${mem.kvCacheTokens} tokens) is left; ` +
        `lower maxModelLen to at most ${mem.longestRequest ?? mem.kvCacheTokens}` +
        (u <= maxUtil ? `, or raise memoryUtilization to at least ${u.toFixed(2)}` : "") +
        ", or add GPUs (tensor parallelism)",
    });
  }
  return out;
}

/** All violations as one error text that names the stack file. */
export function capacityViolationsMessage(
  result: { readonly violations: readonly Violation[] },
  stackFile: string,
): string {
  const lines = result.violations.map((v) => `  - ${v.message} [${v.code}]`);
  return `${stackFile}: the model does not fit the GPUs as configured:\n${lines.join("\n")}`;
}
