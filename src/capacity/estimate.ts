/**
 * Memory math per GPU, the way vLLM sizes its KV cache at start-up: it takes
 * `gpu_memory_utilization × total memory` of each GPU and subtracts the weights, the activation peak of a
 * profiling pass and whatever else the release's profile counts (src/capacity/accounting.ts: the CUDA
 * context, memory outside torch, NCCL buffers, all-reduce inputs, and from v0.21.0 an estimate of
 * CUDA-graph memory); the rest becomes KV cache in blocks of 16 tokens.
 * vLLM source: vllm/v1/worker/gpu_worker.py `determine_available_memory`
 * (https://github.com/vllm-project/vllm/blob/main/vllm/v1/worker/gpu_worker.py); older releases in
 * accounting.ts. Pure: no I/O.
 */
import { CUDA_RESERVED_MIB } from "../config/gpuBookings";
import type { ModelFacts } from "./models";
import type { CapacityInput, Dtype, KvCacheDtype } from "./input";
import { violationsFor, type Violation } from "./constraints";
import { MAX_GPU_MEMORY_MIB } from "../config/schema";
import {
  accountingRule,
  defaultEngine,
  profileDefaults,
  ruleCharges,
  SAMPLER_BYTES_PER_LOGIT,
  type AccountingRule,
  type Engine,
} from "./accounting";
import { parseVllmVersion } from "./version";
import {
  blocksPerRequest,
  bytesPerBlock,
  bytesPerLoggedToken,
  kvBlocks,
  kvCacheLayout,
  KV_BLOCK_SIZE,
  loggedTokens,
  longestRequestThatFits,
} from "./kvcache";
import { modelWeightBytes, weightBytesPerGpu } from "./weights";

export { parseVllmVersion, KV_BLOCK_SIZE as BLOCK_SIZE };

const GiB = 1024 ** 3;
const MiB = 1024 ** 2;

/**
 * CUDA-graph memory per captured graph as vLLM >= 0.21 estimates it: 0.17 GiB for 7 graphs
 * (https://github.com/noonghunna/club-3090/pull/44), 0.36 GiB for 16
 * (https://github.com/gpustack/runner/pull/251), 1.62 GiB for 51 + 35
 * (https://github.com/vllm-project/vllm/pull/39559): 19–25 MiB each.
 */
export const CUDA_GRAPH_MIB_PER_GRAPH = 20;

export interface CapacityResult {
  readonly weightsGiBPerGpu: number;
  readonly overheadGiBPerGpu: number;
  readonly kvCacheGiBPerGpu: number;
  readonly kvCacheTokens: number;
  readonly maxConcurrency: number;
  /** Upper bound: memory bandwidth × TP ÷ weight bytes read per decoded token; null without bandwidth. */
  readonly decodeTokensPerSecondUpperBound: number | null;
  readonly violations: readonly Violation[];
  /** The intermediate numbers, for a person checking the arithmetic. */
  readonly detail: CapacityDetail;
}

export interface CapacityDetail {
  readonly vllmVersion: string;
  readonly engine: Engine;
  /** The id of the release's rule in accounting.ts. */
  readonly accountingRule: string;
  readonly usableGiBPerGpu: number;
  readonly requestedGiBPerGpu: number;
  readonly activationGiBPerGpu: number;
  readonly nonTorchGiBPerGpu: number;
  /** All-reduce inputs the profiling pass keeps alive (v0.2.5 with TP > 1). */
  readonly allReduceInputsGiBPerGpu: number;
  readonly cudaGraphGiBPerGpu: number;
  readonly kvBytesPerTokenPerGpu: number;
  readonly profiledTokens: number;
  readonly maxNumSeqs: number;
}

const round2 = (x: number) => Math.round(x * 100) / 100;

function activationBytes(model: ModelFacts, dtype: Dtype): number {
  const chosen = dtype === "auto" ? model.dtype : dtype;
  return chosen === "float32" && dtype !== "auto" ? 4 : 2;
}

export function kvDtypeBytes(kv: KvCacheDtype, activation: number): number {
  return kv === "auto" ? activation : 1;
}

/** vLLM's default capture sizes: 1, 2, 4, then steps of 8 to 256, then 16 to 512 (2 × max_num_seqs). */
export function cudaGraphCount(maxNumSeqs: number): number {
  const largest = Math.min(2 * maxNumSeqs, 512);
  const sizes = [1, 2, 4];
  for (let s = 8; s < 256; s += 8) sizes.push(s);
  for (let s = 256; s <= 512; s += 16) sizes.push(s);
  const piecewise = sizes.filter((s) => s <= largest).length;
  const full = sizes.filter((s) => s <= maxNumSeqs).length;
  return piecewise + full;
}

function checkInput(input: CapacityInput): void {
  const bad = (key: string, value: unknown, allowed: string) => {
    throw new Error(`capacity: ${key} is ${JSON.stringify(value)}; it must be ${allowed}`);
  };
  const posInt = (key: keyof CapacityInput) => {
    const v = input[key];
    if (typeof v !== "number" || !Number.isInteger(v) || v < 1) bad(key, v, "a whole number of at least 1");
  };
  posInt("tensorParallelSize");
  posInt("pipelineParallelSize");
  posInt("maxModelLen");
  if (!(input.gpuMemoryMiB > 0 && input.gpuMemoryMiB <= MAX_GPU_MEMORY_MIB)) {
    bad("gpuMemoryMiB", input.gpuMemoryMiB, `a number of MiB above 0 and at most ${MAX_GPU_MEMORY_MIB}`);
  }
  for (const key of ["maxNumSeqs", "maxNumBatchedTokens", "dataParallelSize"] as const) {
    const v = input[key];
    if (v !== undefined && !(Number.isSafeInteger(v) && v >= 1)) bad(key, v, "a whole number of at least 1");
  }
  const u = input.gpuMemoryUtilization;
  if (!(u > 0 && u <= 1)) bad("gpuMemoryUtilization", u, "a fraction above 0 and at most 1");
}

export function estimateCapacity(input: CapacityInput): CapacityResult {
  checkInput(input);
  const { model } = input;
  const tp = input.tensorParallelSize;
  const pp = input.pipelineParallelSize;
  const vllmVersion = input.vllmVersion;
  const version = parseVllmVersion(vllmVersion);
  const act = activationBytes(model, input.dtype ?? "auto");
  const kvBytes = kvDtypeBytes(input.kvCacheDtype ?? "auto", act);

  const usable = Math.max(0, input.gpuMemoryMiB - CUDA_RESERVED_MIB) * MiB;
  const requested = input.gpuMemoryUtilization * usable;
  const allWeights = modelWeightBytes(model, input.quantization ?? "none", act);
  const weights = weightBytesPerGpu(model, allWeights, {
    tensorParallelSize: tp,
    pipelineParallelSize: pp,
    dataParallelSize: input.dataParallelSize ?? 1,
    expertParallel: input.enableExpertParallel === true,
  });

  const engine = input.engine ?? defaultEngine(version, input.gpuName);
  const rule: AccountingRule = accountingRule(version, engine);
  const defaults = profileDefaults(version, engine, {
    maxModelLen: input.maxModelLen,
    totalBytes: usable,
    ...(input.gpuName !== undefined ? { gpuName: input.gpuName } : {}),
  });
  const profiledTokens = input.maxNumBatchedTokens ?? defaults.maxNumBatchedTokens;
  const maxNumSeqs = input.maxNumSeqs ?? defaults.maxNumSeqs;
  const heads = Math.max(1, Math.ceil(model.numAttentionHeads / tp));
  const kvHeads = Math.max(1, Math.ceil(model.numKeyValueHeads / tp));
  const mlpFactor = model.family === "gated" ? 3 : 2;
  // Largest tensors alive in one layer's forward: the MLP's up/gate and activation outputs, q/k/v,
  // the residual and normed hidden states.
  const perToken =
    act * ((mlpFactor * model.intermediateSize) / tp + (heads + 2 * kvHeads) * model.headDim + 2 * model.hiddenSize);
  // The profile's sampler pass over max_num_seqs requests runs after the forward pass has freed its
  // activations, so the peak is the larger of the two.
  const sampler = maxNumSeqs * model.vocabSize * SAMPLER_BYTES_PER_LOGIT;
  const activation = Math.max(profiledTokens * perToken, sampler);
  const charges = ruleCharges(rule, {
    tensorParallelSize: tp,
    layersPerGpu: Math.ceil(model.numLayers / pp),
    profiledTokens,
    hiddenSize: model.hiddenSize,
    activationBytes: act,
    ...(input.gpuName !== undefined ? { gpuName: input.gpuName } : {}),
  });
  const graphs =
    rule.subtractsCudaGraphs && input.enforceEager !== true
      ? cudaGraphCount(maxNumSeqs) * CUDA_GRAPH_MIB_PER_GRAPH * MiB
      : 0;
  const overhead = activation + charges.nonTorch + charges.allReduceInputs + graphs;

  const kvAvailable = requested - weights - overhead;
  const layout = kvCacheLayout(model, { tensorParallelSize: tp, pipelineParallelSize: pp, kvDtypeBytes: kvBytes, version });
  const perTokenKv = bytesPerLoggedToken(layout);
  const blocks = kvBlocks(layout, kvAvailable);
  const kvCacheTokens = loggedTokens(layout, blocks);
  // Sliding-window groups need only the window per request (vLLM V1), so a request costs fewer blocks
  // than its length; vLLM's "Maximum concurrency" divides the blocks by that cost.
  const requestBlocks = blocksPerRequest(layout, input.maxModelLen, profiledTokens);
  const maxConcurrency = layout.slidingGroups ? blocks / requestBlocks : kvCacheTokens / input.maxModelLen;

  // Every decoded token reads all weights once, except the routed experts it is not sent to.
  const decode =
    input.gpuBandwidthGBs === undefined
      ? null
      : round2((input.gpuBandwidthGBs * 1e9 * tp) / allWeights.activePerToken);

  const detail: CapacityDetail = {
    vllmVersion,
    engine,
    accountingRule: rule.id,
    usableGiBPerGpu: round2(usable / GiB),
    requestedGiBPerGpu: round2(requested / GiB),
    activationGiBPerGpu: round2(activation / GiB),
    nonTorchGiBPerGpu: round2(charges.nonTorch / GiB),
    allReduceInputsGiBPerGpu: round2(charges.allReduceInputs / GiB),
    cudaGraphGiBPerGpu: round2(graphs / GiB),
    kvBytesPerTokenPerGpu: perTokenKv,
    profiledTokens,
    maxNumSeqs,
  };
  const violations = violationsFor(input, {
    kvAvailableBytes: kvAvailable,
    kvCacheTokens,
    perTokenKvBytes: perTokenKv,
    usableBytes: usable,
    nonKvBytes: weights + overhead,
    ...(layout.slidingGroups
      ? {
          oneRequestBytes: requestBlocks * bytesPerBlock(layout),
          longestRequest: longestRequestThatFits(layout, kvAvailable, input.maxModelLen, profiledTokens),
        }
      : {}),
  });
  return {
    weightsGiBPerGpu: round2(weights / GiB),
    overheadGiBPerGpu: round2(overhead / GiB),
    kvCacheGiBPerGpu: round2(Math.max(0, kvAvailable) / GiB),
    kvCacheTokens,
    maxConcurrency: round2(maxConcurrency),
    decodeTokensPerSecondUpperBound: decode,
    violations,
    detail,
  };
}
