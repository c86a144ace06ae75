/**
 * How each vLLM release sizes its KV cache at start-up: which engine runs, what the profiling pass
 * runs with, and what the profile counts as memory that is not KV cache. One table of release ranges
 * (first release inclusive, next rule's first release exclusive); every rule names the vLLM source it
 * was read from, file@tag or the pull request that introduced it. estimate.ts applies the rule for the
 * version asked about. Pure: no I/O.
 */
import { parseVllmVersion, type Version } from "./version";

export type Engine = "v0" | "v1";

/** What the start-up profile subtracts from `gpu_memory_utilization × total` besides the KV cache. */
export interface AccountingRule {
  readonly id: string;
  readonly engine: Engine;
  /** First release the rule applies to. */
  readonly from: string;
  /** First release it no longer applies to; null while current. */
  readonly until: string | null;
  /** The process's CUDA context (and other processes' memory) is charged to the budget. */
  readonly countsContext: boolean;
  /** Memory allocated outside torch while profiling (cuBLAS and attention workspaces) is charged. */
  readonly countsNonTorch: boolean;
  /** NCCL and custom all-reduce buffers, created after the profile's starting point, are charged. */
  readonly countsCommunication: boolean;
  /** Every all_reduce input of the profiling pass stays allocated until the pass ends. */
  readonly retainsAllReduceInputs: boolean;
  /** An estimate of the CUDA graphs captured after the KV cache is allocated is subtracted. */
  readonly subtractsCudaGraphs: boolean;
  readonly source: string;
}

const tree = (tag: string, file: string) => `https://github.com/vllm-project/vllm/blob/${tag}/${file}`;
const pr = (n: number) => `https://github.com/vllm-project/vllm/pull/${n}`;
const issue = (n: number) => `https://github.com/vllm-project/vllm/issues/${n}`;

const NONE = {
  countsContext: false,
  countsNonTorch: false,
  countsCommunication: false,
  retainsAllReduceInputs: false,
  subtractsCudaGraphs: false,
} as const;

export const ACCOUNTING_RULES: readonly AccountingRule[] = [
  {
    id: "v0-torch-peak",
    engine: "v0",
    from: "0.1.0",
    until: "0.2.5",
    ...NONE,
    source:
      `peak_memory = torch.cuda.max_memory_allocated(): weights and activations only; NCCL and the CUDA ` +
      `context are not counted (${tree("v0.2.4", "vllm/worker/worker.py")} profile_num_available_blocks)`,
  },
  {
    id: "v0-device-used-all-reduce",
    engine: "v0",
    from: "0.2.5",
    until: "0.2.6",
    ...NONE,
    countsContext: true,
    countsNonTorch: true,
    countsCommunication: true,
    retainsAllReduceInputs: true,
    source:
      `peak_memory = total_gpu_memory - free_gpu_memory after the profiling pass, so everything on the GPU ` +
      `counts, NCCL included (${tree("v0.2.5", "vllm/worker/worker.py")}, ${pr(2031)}); ` +
      `"torch.distributed.all_reduce does not free the input tensor until the synchronization point" ` +
      `until TORCH_NCCL_AVOID_RECORD_STREAMS=1 (${pr(2151)}, v0.2.6)`,
  },
  {
    id: "v0-device-used",
    engine: "v0",
    from: "0.2.6",
    until: "0.3.1",
    ...NONE,
    countsContext: true,
    countsNonTorch: true,
    countsCommunication: true,
    source: `total_gpu_memory - free_gpu_memory after profiling (${tree("v0.3.0", "vllm/worker/worker.py")})`,
  },
  {
    id: "v0-free-delta",
    engine: "v0",
    from: "0.3.1",
    until: "0.6.4",
    ...NONE,
    countsNonTorch: true,
    countsCommunication: true,
    source:
      `peak_memory = init_gpu_memory - free_gpu_memory: free memory measured in init_device after the CUDA ` +
      `context and before NCCL starts, minus free memory after profiling (${pr(2863)}; ` +
      `${tree("v0.6.3", "vllm/worker/worker.py")})`,
  },
  {
    id: "v0-torch-peak-plus-non-torch",
    engine: "v0",
    from: "0.6.4",
    until: "0.6.5",
    ...NONE,
    countsContext: true,
    countsNonTorch: true,
    countsCommunication: true,
    source:
      `torch's allocated_bytes.all.peak plus everything the GPU holds outside torch, the context and other ` +
      `processes included (${tree("v0.6.4", "vllm/worker/worker.py")}, ${pr(9352)}; ${issue(10360)}, ` +
      `${issue(10451)})`,
  },
  {
    id: "v0-baseline",
    engine: "v0",
    from: "0.6.5",
    until: "0.11.0",
    ...NONE,
    countsNonTorch: true,
    countsCommunication: true,
    source:
      `memory_profiling against a snapshot taken before the instance starts: weights + torch peak increase ` +
      `+ non-torch increase, NCCL in the last (${tree("v0.6.5", "vllm/utils.py")} memory_profiling, ` +
      `${pr(10511)}; ${pr(12126)} in v0.7.0); V0 was removed in v0.11.0`,
  },
  {
    id: "v1-torch-peak-plus-non-torch",
    engine: "v1",
    from: "0.8.0",
    until: "0.9.1",
    ...NONE,
    countsContext: true,
    countsNonTorch: true,
    countsCommunication: true,
    source:
      `torch's allocated_bytes.all.peak plus total - free - torch allocated (` +
      `${tree("v0.8.0", "vllm/v1/worker/gpu_worker.py")} determine_available_memory)`,
  },
  {
    id: "v1-baseline",
    engine: "v1",
    from: "0.9.1",
    until: "0.21.0",
    ...NONE,
    countsNonTorch: true,
    countsCommunication: true,
    source:
      `memory_profiling against init_snapshot, taken in init_device before the distributed environment ` +
      `(${pr(19312)}; ${tree("v0.10.0", "vllm/v1/worker/gpu_worker.py")})`,
  },
  {
    id: "v1-baseline-cuda-graphs",
    engine: "v1",
    from: "0.21.0",
    until: null,
    ...NONE,
    countsNonTorch: true,
    countsCommunication: true,
    subtractsCudaGraphs: true,
    source:
      `the CUDA-graph estimate of ${pr(30515)} (opt-in with VLLM_MEMORY_PROFILER_ESTIMATE_CUDAGRAPHS=1) is ` +
      `subtracted by default since ${pr(38284)}, whose log line reads "default since v0.21.0"; ${pr(40465)} ` +
      `had moved the announced default from v0.19 to v0.21`,
  },
];

/** Whether the card's compute capability is below 8.0 (Turing, Volta and older), by its name. */
export function computeCapabilityBelow8(gpuName: string): boolean {
  // https://developer.nvidia.com/cuda-gpus: T4, RTX 20-series, Quadro RTX and TITAN RTX are 7.5; V100 and
  // TITAN V are 7.0; Pascal (GTX 10-series, P4/P40/P100) is 6.x.
  return /\b(T4|V100|TITAN (V|RTX)|Quadro RTX|RTX 20\d0|GTX|P4|P40|P100)\b/i.test(gpuName);
}

/**
 * The engine a release runs by default. V0 until v0.8.0; V1 by default from v0.8.0
 * (VLLM_USE_V1 "1" in vllm/envs.py@v0.8.0, https://github.com/vllm-project/vllm/pull/13726), falling
 * back to V0 below compute capability 8.0 ("Compute Capability < 8.0" in vllm/engine/arg_utils.py from
 * v0.8.0 to v0.10.x); V1 only from v0.11.0 ("This release completes the removal of V0 engine",
 * https://github.com/vllm-project/vllm/releases/tag/v0.11.0).
 */
export function defaultEngine(version: Version, gpuName?: string): Engine {
  if (!atLeast(version, "0.8.0")) return "v0";
  if (atLeast(version, "0.11.0")) return "v1";
  return gpuName !== undefined && computeCapabilityBelow8(gpuName) ? "v0" : "v1";
}

function compare(a: Version, b: Version): number {
  for (let i = 0; i < 3; i++) if (a[i] !== b[i]) return a[i]! - b[i]!;
  return 0;
}

export const atLeast = (v: Version, release: string) => compare(v, parseVllmVersion(release)) >= 0;

/** The rule for a release and engine; a clear error for V1 before it existed or V0 after it was removed. */
export function accountingRule(version: Version, engine: Engine): AccountingRule {
  const found = ACCOUNTING_RULES.find(
    (r) => r.engine === engine && atLeast(version, r.from) && (r.until === null || !atLeast(version, r.until)),
  );
  if (found !== undefined) return found;
  const v = version.join(".");
  throw new Error(
    engine === "v1"
      ? `vLLM ${v} has no V1 engine; V1 starts at 0.8.0 (use engine "v0")`
      : `vLLM ${v} has no V0 engine; it was removed in 0.11.0 (use engine "v1")`,
  );
}

/** What the profiling pass runs with when the flags leave it to vLLM. */
export interface ProfileDefaults {
  readonly maxNumBatchedTokens: number;
  readonly maxNumSeqs: number;
  readonly source: string;
}

export interface ProfileContext {
  readonly maxModelLen: number;
  /** What CUDA reports as the card's total memory, bytes (vLLM's `get_device_total_memory`). */
  readonly totalBytes: number;
  /** nvidia-smi's name; some rules look at it. */
  readonly gpuName?: string;
}

const GiB = 1024 ** 3;

/**
 * Defaults of `vllm serve` (the API server; the LLM class uses larger ones in V1). V0 profiles one batch
 * of max_num_batched_tokens split over max_num_seqs sequences; V1 a max_num_batched_tokens forward pass
 * and a sampler pass over max_num_seqs requests.
 */
export function profileDefaults(version: Version, engine: Engine, ctx: ProfileContext): ProfileDefaults {
  const name = (ctx.gpuName ?? "").toLowerCase();
  if (engine === "v0") {
    if (!atLeast(version, "0.2.0")) {
      return { maxNumBatchedTokens: 2560, maxNumSeqs: 256, source: tree("v0.1.7", "vllm/engine/arg_utils.py") };
    }
    // Chunked prefill switches on by itself above 32K tokens from v0.5.3 (pull 6666), with 512 tokens per
    // step, 2048 from v0.6.5 (pull 10544); otherwise one max_model_len prompt must fit the batch.
    const chunked = atLeast(version, "0.5.3") && ctx.maxModelLen > 32768;
    if (chunked) {
      const tokens = atLeast(version, "0.6.5") ? 2048 : 512;
      return { maxNumBatchedTokens: tokens, maxNumSeqs: 256, source: `${pr(6666)}, ${pr(10544)}` };
    }
    return {
      maxNumBatchedTokens: Math.max(ctx.maxModelLen, 2048),
      maxNumSeqs: 256,
      source: `${tree("v0.2.0", "vllm/config.py")} SchedulerConfig: max(max_model_len, 2048)`,
    };
  }
  const hopperByName = name.includes("h100") || name.includes("h200");
  if (!atLeast(version, "0.8.5")) {
    // _set_default_args_v1: H100/H200 by name get 8192 tokens; max_num_seqs 1024 for all until pull 16158.
    const seqs = atLeast(version, "0.8.4") && !hopperByName ? 256 : 1024;
    return {
      maxNumBatchedTokens: hopperByName ? 8192 : 2048,
      maxNumSeqs: seqs,
      source: `${tree("v0.8.0", "vllm/engine/arg_utils.py")} _set_default_args_v1; ${pr(16158)} in v0.8.4`,
    };
  }
  // From v0.8.5 cards with 70 GiB or more (pull 17073), from v0.9.0 except A100s (pull 17885).
  const big = ctx.totalBytes >= 70 * GiB && !(atLeast(version, "0.9.0") && name.includes("a100"));
  return {
    maxNumBatchedTokens: big ? 8192 : 2048,
    maxNumSeqs: big ? 1024 : 256,
    source: `${pr(17073)}, ${pr(17885)}; ${tree("v0.10.0", "vllm/engine/arg_utils.py")} _set_default_args_v1`,
  };
}

/**
 * `--gpu-memory-utilization` when the flag is left out: 0.9, 0.92 from v0.21.0 (raised together with the
 * CUDA-graph estimate, https://github.com/vllm-project/vllm/pull/38284).
 */
export function defaultGpuMemoryUtilization(version: Version): number {
  return atLeast(version, "0.21.0") ? 0.92 : 0.9;
}

/**
 * Bytes per logit that the profile's sampler pass holds at its peak: the fp32 logits, their sorted copy
 * and the int64 sort indices. Both engines profile top-k = vocab − 1 with top-p < 1, which takes the
 * sorting path (`_apply_top_k_top_p` in vllm/model_executor/layers/sampler.py@v0.6.4 after
 * `SamplingParams(top_p=0.99, top_k=vocab_size - 1)` in vllm/worker/model_runner.py@v0.6.4;
 * `_dummy_sampler_run` and vllm/v1/sample/ops/topk_topp_sampler.py@v0.10.0).
 */
export const SAMPLER_BYTES_PER_LOGIT = 4 + 4 + 8;

/**
 * The CUDA context a PyTorch process creates with lazy loading: 287,047,680 bytes
 * (https://github.com/pytorch/pytorch/pull/86509). Rules that measure free memory from before the
 * process started (v0.2.5–v0.3.0, v0.6.4, V1 v0.8.0–v0.9.0) charge it to the budget.
 */
export const CUDA_CONTEXT_BYTES = 287_047_680;

/**
 * Memory outside torch that appears while profiling on one GPU: "non-torch forward increase memory:
 * 0.25GiB" for CodeLlama-7b on an H100 at v0.19.0 (llm-d-incubation/llm-d-planner
 * accuracy/results/v0.19.0/logs/codellama-codellama-7b-h--h100-80gb--tp1pp1dp1--8192.log at d3121e0).
 * A measurement, not a rule of vLLM's; that log is not one of the held-out cases.
 */
export const NON_TORCH_BYTES = 0.25 * GiB;

/**
 * What NCCL adds per GPU with tensor parallelism on NVSwitch systems (Hopper and Blackwell datacenter
 * boards): non_torch_memory went from 1.79 GiB at TP 1 to 3.58 GiB at TP 2 for the same model on H100s
 * (https://github.com/vllm-project/vllm/pull/10511, the sanity check of 2024-12-14). NCCL turns NVLink
 * SHARP on by itself where the switch supports it (https://github.com/NVIDIA/JAX-Toolbox/pull/1708);
 * PCIe cards show no such growth. A measurement, not a rule of vLLM's.
 */
export const NVSWITCH_COMMUNICATION_BYTES = 1.79 * GiB;

/** Hopper and Blackwell boards that sit on an NVSwitch (SXM and Grace superchips, not PCIe or NVL). */
export function onNvSwitch(gpuName: string | undefined): boolean {
  if (gpuName === undefined) return false;
  return /\b(H100|H200|H800|H20|GH200|B100|B200|GB200|B300)\b/i.test(gpuName) && !/PCIe|\bNVL\b/i.test(gpuName);
}

/** What a rule charges besides weights, activations and CUDA graphs, in bytes per GPU. */
export interface RuleCharges {
  readonly nonTorch: number;
  readonly allReduceInputs: number;
}

export interface ChargeContext {
  readonly tensorParallelSize: number;
  /** Decoder layers on this GPU's pipeline stage. */
  readonly layersPerGpu: number;
  readonly profiledTokens: number;
  readonly hiddenSize: number;
  /** Bytes per activation element (2 for fp16/bf16). */
  readonly activationBytes: number;
  readonly gpuName?: string;
}

export function ruleCharges(rule: AccountingRule, ctx: ChargeContext): RuleCharges {
  const tp = ctx.tensorParallelSize;
  const nonTorch =
    (rule.countsContext ? CUDA_CONTEXT_BYTES : 0) +
    (rule.countsNonTorch ? NON_TORCH_BYTES : 0) +
    (rule.countsCommunication && tp > 1 && onNvSwitch(ctx.gpuName) ? NVSWITCH_COMMUNICATION_BYTES : 0);
  // Two all-reduces per decoder layer (attention output and MLP output), each of a
  // [tokens, hidden] activation, all alive until the pass synchronises.
  const allReduceInputs =
    rule.retainsAllReduceInputs && tp > 1
      ? 2 * ctx.layersPerGpu * ctx.profiledTokens * ctx.hiddenSize * ctx.activationBytes
      : 0;
  return { nonTorch, allReduceInputs };
}
