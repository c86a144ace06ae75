/**
 * What the capacity estimate is asked about: a model on a GPU with vLLM's settings. Its own module so the
 * estimate (estimate.ts) and the constraint checks (constraints.ts) both import it without importing
 * each other in a cycle.
 */
import type { ModelFacts } from "./models";
import type { Engine } from "./accounting";

export type Dtype = "auto" | "float16" | "bfloat16" | "float32";
export type Quantization = "none" | "fp8" | "int8" | "awq" | "gptq";
export type KvCacheDtype = "auto" | "fp8" | "fp8_e4m3" | "fp8_e5m2";

export interface CapacityInput {
  readonly model: ModelFacts;
  /** Each GPU's memory as nvidia-smi reports it (memory.total, MiB). */
  readonly gpuMemoryMiB: number;
  /**
   * nvidia-smi's name for the GPUs. Some release rules depend on it: V1's profile defaults (H100/H200,
   * A100), NCCL's growth on NVSwitch boards, V0 below compute capability 8.0 (src/capacity/accounting.ts).
   */
  readonly gpuName?: string;
  /** Each GPU's memory bandwidth, GB/s; without it there is no decode bound. */
  readonly gpuBandwidthGBs?: number;
  readonly tensorParallelSize: number;
  readonly pipelineParallelSize: number;
  /** vLLM's --data-parallel-size: replicas of the model; a MoE model's experts are sharded across TP × DP. Default 1. */
  readonly dataParallelSize?: number;
  /** vLLM's --enable-expert-parallel: whole experts per GPU instead of every expert split. Default false. */
  readonly enableExpertParallel?: boolean;
  /** vLLM's --gpu-memory-utilization, (0, 1] as vLLM accepts it (real logs use up to 0.98). */
  readonly gpuMemoryUtilization: number;
  readonly maxModelLen: number;
  /** Default auto: the checkpoint's dtype, float32 served as float16. */
  readonly dtype?: Dtype;
  readonly quantization?: Quantization;
  readonly kvCacheDtype?: KvCacheDtype;
  /** The multimodal worker, when it shares one of vLLM's GPUs: that GPU's host ID and the worker's share. */
  readonly worker?: { readonly gpu: string; readonly memoryFraction: number };
  /** The highest utilisation the stack may set, for advice; default the stack schema's MEMORY_UTILISATION_MAX. */
  readonly maxMemoryUtilization?: number;
  /**
   * The vLLM release whose memory accounting applies (`0.21.0`): a stack's comes from the tag of its vLLM
   * image (src/facts/vllmRelease.ts), so there is no default here to drift from it.
   */
  readonly vllmVersion: string;
  /** Default: vLLM's for the version and card (256 or 1024). */
  readonly maxNumSeqs?: number;
  /** Default: vLLM's for the version, card and max model length. */
  readonly maxNumBatchedTokens?: number;
  /** The engine, when not the release's default (VLLM_USE_V1 from v0.8.0 to v0.10.x). */
  readonly engine?: Engine;
  /** --enforce-eager: no CUDA graphs. */
  readonly enforceEager?: boolean;
}
