/**
 * The GPU section's schema (`llmstack:gpu`, and each GPU host's `gpu` under `llmstack:hosts`), the
 * environments and their memory-utilisation bounds. Apart from ./schema.ts so that the hosts' schema
 * (./hosts.ts) can use it without an import cycle; ./schema.ts re-exports all of it.
 */
import { z } from "zod";

/**
 * The largest GPU memory a stack file or `capacity --gpu` may give, in MiB (1 TiB): a ceiling against
 * typing slips, over seven times the largest card in the catalog (H200), not a fact about any GPU.
 */
export const MAX_GPU_MEMORY_MIB = 1_048_576;

export const ENVIRONMENTS = ["development", "staging", "production"] as const;
export type Environment = (typeof ENVIRONMENTS)[number];

/**
 * A host GPU ID as Docker's device request takes it: an index ("0") or a UUID ("GPU-8f6c..."). An index
 * has no leading zero: "01" is GPU 1, and a list with both would put two processes on one card.
 */
export const gpuId = z
  .string()
  .regex(/^(0|[1-9]\d*|GPU-[0-9a-fA-F-]{8,}|MIG-[0-9a-fA-F-]{8,})$/, {
    message:
      'must be a GPU index such as "0" (no leading zero: "01" is GPU 1, write "1") or a UUID such as "GPU-5a0c6b3e-..."',
  });

/** The highest `gpu.memoryUtilization` any stack may set. */
export const MEMORY_UTILISATION_MAX = 0.95;

export interface UtilisationLimits {
  readonly min: number | null;
  readonly max: number;
}

/**
 * Bounds of vLLM's `--gpu-memory-utilization` (`gpu.memoryUtilization`) per environment, checked here and
 * imported by the policy pack and capacity. vLLM's default is 0.9
 * (https://docs.vllm.ai/en/stable/configuration/engine_args/). Production: above 0.92 leaves too little
 * for NCCL buffers and activation spikes beside the KV cache, so a load can run out of memory; below 0.6
 * the KV cache holds too few sequences for production traffic on the reference 24 GB cards. A null
 * minimum means "above 0".
 */
export const MEMORY_UTILISATION_LIMITS: Readonly<Record<Environment, UtilisationLimits>> = {
  development: { min: null, max: MEMORY_UTILISATION_MAX },
  staging: { min: null, max: MEMORY_UTILISATION_MAX },
  production: { min: 0.6, max: 0.92 },
};

/** Whether an environment allows this utilisation. */
export function utilisationAllowed(env: Environment, u: number): boolean {
  const l = MEMORY_UTILISATION_LIMITS[env];
  return Number.isFinite(u) && u > 0 && u <= l.max && (l.min === null || u >= l.min);
}

/** The bounds as words: "0.6 to 0.92", "above 0 and at most 0.95". */
export function utilisationRange(env: Environment): string {
  const l = MEMORY_UTILISATION_LIMITS[env];
  return l.min === null ? `above 0 and at most ${l.max}` : `${l.min} to ${l.max}`;
}

const deviceList = z
  .array(gpuId)
  .min(1, { message: "must list at least one GPU" })
  .describe("host GPU indices or UUIDs; one naming for the whole GPU section, each GPU once");

/** Card class decides NCCL's peer-to-peer setting on PCIe: GeForce cards lack PCIe P2P. */
export const cardClass = z.enum(["consumer", "datacenter"]);

export const gpuCommon = {
  /** Host GPU IDs vLLM's container gets (indices or UUIDs). */
  vllmDevices: deviceList,
  /** Host GPU IDs the multimodal worker gets; usually one. */
  workerDevices: deviceList,
  /** Whether vLLM's GPUs are all joined to each other by NVLink. */
  nvlink: z.boolean(),
  /** consumer (GeForce, no PCIe P2P) or datacenter (A100, H100, L40S ... P2P works). */
  cardClass: cardClass.default("consumer"),
  tensorParallelSize: z.number().int().gte(1).lte(64),
  pipelineParallelSize: z.number().int().gte(1).lte(64).default(1),
  /** Fraction of each vLLM GPU that vLLM takes (`--gpu-memory-utilization`). */
  memoryUtilization: z
    .number()
    .gt(0)
    .lte(MEMORY_UTILISATION_MAX)
    .describe(
      `vLLM's \`--gpu-memory-utilization\`; production allows ${utilisationRange("production")}; on each GPU, with the worker's share ` +
        "and a CUDA context per process, it must fit what CUDA can allocate (docs/gpu-budget.md)",
    ),
  /** The GPUs' name as nvidia-smi shows it (e.g. "NVIDIA GeForce RTX 3090"), for the capacity check. */
  gpuName: z.string().min(1).optional(),
  /** Each GPU's memory in MiB as nvidia-smi reports it (memory.total), for the capacity check. */
  memoryMiB: z
    .number()
    .int()
    .gte(1024)
    .lte(MAX_GPU_MEMORY_MIB)
    .optional()
    .describe("each GPU's `memory.total` from nvidia-smi; required on a GPU vLLM shares with the worker"),
  /** Fraction of a GPU the multimodal worker needs; must fit beside vLLM on a shared GPU. */
  workerMemoryFraction: z
    .number()
    .gt(0)
    .lte(1)
    .default(0.1)
    .describe(
      "the worker's share of its GPU (its env `WORKER_GPU_MEMORY_FRACTION`; Docker cannot enforce it); on a GPU " +
        "shared with vLLM it must leave vLLM room to restart (docs/gpu-budget.md)",
    ),
};

export const gpuSchema = z.discriminatedUnion("mode", [
  z.strictObject({ mode: z.literal("multi"), ...gpuCommon }),
  z.strictObject({ mode: z.literal("single"), ...gpuCommon }),
  z.strictObject({
    mode: z.literal("cpu"),
    /** GiB of host memory vLLM's CPU backend keeps for the KV cache (VLLM_CPU_KVCACHE_SPACE). */
    kvCacheSpaceGiB: z.number().int().gte(1).lte(1024).default(4),
  }),
]);
export type GpuConfig = z.infer<typeof gpuSchema>;
export type GpuModeConfig = Exclude<GpuConfig, { mode: "cpu" }>;
