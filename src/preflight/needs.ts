/**
 * What a stack asks of its host, taken from the parsed stack config and its plan: the GPUs by host ID with
 * the share of memory each needs, NVLink, the host ports, the containers that are the stack's own, and the
 * sizes that must fit on Docker's disk.
 */
import { gpuBookings, round3, sectionTenants, tenantService, type GpuTenant } from "../config/gpuBookings";
import type { StackConfig } from "../config/schema";
import { ownImageKeys, runsIn } from "../config/services";
import type { ServiceName, StackPlan } from "../plan/types";
import { vllmImageCuda } from "./imageCuda";
import { postgresDataNeed, type PostgresDataNeed } from "./postgresData";
import { qdrantDataNeed, type QdrantDataNeed } from "./qdrantData";

export interface GpuNeed {
  /** Host GPU ID as the stack file writes it: an index ("0") or a UUID. */
  readonly id: string;
  readonly services: readonly ServiceName[];
  /** Fraction of the GPU's memory the stack takes (vLLM's utilisation, plus the worker's on a shared GPU). */
  readonly fraction: number;
}

/** What the GPU budget needs to be checked again with the host's own GPUs (src/config/gpuBookings.ts). */
export interface GpuBudgetInput {
  readonly tenants: readonly GpuTenant[];
  /** `gpu.memoryMiB` from the stack file; the host's memory.total wins where nvidia-smi reports it. */
  readonly memoryMiB: number | null;
}

export interface PortNeed {
  readonly service: ServiceName;
  readonly ip: string;
  readonly port: number;
}

/** One image the stack runs, and where the stack sets it. */
export interface ImageNeed {
  readonly ref: string;
  /** The key that sets it, e.g. "llmstack:images.vllm" or "llmstack:monitoring.images.grafana". */
  readonly key: string;
  /** Whether the stack runs without it when it is unset (your worker and retrieval proxy images). */
  readonly optional: boolean;
}

/**
 * Images the stack runs only when set (your own, src/config/services.ts): unsetting one is a way out of
 * a missing image.
 */
const OPTIONAL_IMAGES: readonly string[] = ownImageKeys();

export interface StackNeeds {
  readonly stack: string;
  readonly stackFile: string;
  readonly dockerHost: string;
  readonly mode: "multi" | "single" | "cpu";
  /** Physical names of the stack's containers (`<project>-<stack>-<service>`). */
  readonly containerNames: readonly string[];
  readonly gpus: readonly GpuNeed[];
  readonly budget: GpuBudgetInput;
  readonly vllmDevices: readonly string[];
  readonly nvlink: boolean;
  readonly memoryUtilization: number | null;
  readonly ports: readonly PortNeed[];
  readonly vllmImage: string;
  /** CUDA major.minor the vLLM image is built on; null in cpu mode or when it is not known. */
  readonly vllmCuda: string | null;
  /** Every image of the plan, once each, in plan order. */
  readonly images: readonly ImageNeed[];
  readonly model: string;
  /** Bytes of the model's weights on disk; null when the model's facts were not found. */
  readonly modelBytes: number | null;
  /** Rough bytes the vLLM image takes unpacked (a stated estimate, not a measurement). */
  readonly vllmImageBytes: number;
  /** The Postgres data volume and the planned major version; null when the stack runs no Postgres. */
  readonly postgres: PostgresDataNeed | null;
  /** The Qdrant storage volume and the planned image; null when the stack runs no Qdrant. */
  readonly qdrant: QdrantDataNeed | null;
  /** The key of the GPU section the checks name; `llmstack:gpu` when absent (a host of a fleet: `llmstack:hosts[1].gpu`). */
  readonly gpuKey?: string;
  /** GPUs one vLLM takes (a fleet host's replica size); all of vllmDevices when absent. */
  readonly replicaGpus?: number;
}

const GIB = 1024 ** 3;
/**
 * Rough unpacked sizes: vllm/vllm-openai (CUDA, PyTorch, flash-attention) is about 10 GiB compressed on
 * Docker Hub and roughly twice that unpacked; the CPU image is far smaller. Estimates, stated as such.
 */
export const VLLM_IMAGE_GIB = { gpu: 20, cpu: 6 } as const;

const DTYPE_BYTES = { float16: 2, bfloat16: 2, float32: 4 } as const;

export function stackNeeds(config: StackConfig, plan: StackPlan): StackNeeds {
  const g = config.gpu;
  const budget: GpuBudgetInput =
    g.mode === "cpu"
      ? { tenants: [], memoryMiB: null }
      : { tenants: sectionTenants(g, runsIn(config)), memoryMiB: g.memoryMiB ?? null };
  const gpus = gpuBookings(budget.tenants, { memoryMiB: budget.memoryMiB }).gpus.map(
    (b): GpuNeed => ({
      id: b.names[0] ?? b.gpu,
      services: b.bookings.flatMap((x): ServiceName[] => {
        const service = tenantService(x.name);
        return service === undefined ? [] : [service];
      }),
      fraction: round3(b.bookings.reduce((sum, x) => sum + x.fraction, 0)),
    }),
  );
  // The facts the plan's budget used: the checkpoint's own byte count when its files were read.
  const m = plan.capacity.model;
  const modelBytes = m === null ? null : (m.weightBytes ?? m.parameters * DTYPE_BYTES[m.dtype]);
  const vllm = plan.containers.find((c) => c.service === "vllm");
  const vllmImage = vllm?.image ?? (config.gpu.mode === "cpu" ? config.images.vllmCpu : config.images.vllm);
  return {
    stack: plan.stack,
    stackFile: plan.stackFile,
    dockerHost: plan.dockerHost,
    mode: config.gpu.mode,
    containerNames: plan.containers.map((c) => c.name),
    gpus,
    budget,
    vllmDevices: config.gpu.mode === "cpu" ? [] : [...config.gpu.vllmDevices],
    nvlink: config.gpu.mode === "cpu" ? false : config.gpu.nvlink,
    memoryUtilization: config.gpu.mode === "cpu" ? null : config.gpu.memoryUtilization,
    ports: plan.containers.flatMap((c) => c.ports.map((p) => ({ service: c.service, ip: p.ip, port: p.external }))),
    vllmImage,
    vllmCuda: config.gpu.mode === "cpu" ? null : vllmImageCuda(vllmImage),
    images: imageNeeds(config, plan),
    model: config.model.name,
    modelBytes,
    vllmImageBytes: (config.gpu.mode === "cpu" ? VLLM_IMAGE_GIB.cpu : VLLM_IMAGE_GIB.gpu) * GIB,
    postgres: postgresDataNeed(plan),
    qdrant: qdrantDataNeed(plan),
  };
}

/** The plan's images, each with the key that sets it (images first, then monitoring's). */
export function imageNeeds(config: StackConfig, plan: StackPlan): ImageNeed[] {
  const keys: [string, string | undefined][] = [
    ...Object.entries(config.images).map(([k, v]): [string, string | undefined] => [`llmstack:images.${k}`, v]),
    ...Object.entries(config.monitoring?.images ?? {}).map(([k, v]): [string, string | undefined] => [`llmstack:monitoring.images.${k}`, v]),
  ];
  const refs = [...new Set(plan.containers.map((c) => c.image))];
  return refs.map((ref) => {
    const key = keys.find(([, v]) => v === ref)?.[0] ?? "llmstack:images";
    return { ref, key, optional: OPTIONAL_IMAGES.some((k) => key === `llmstack:images.${k}`) };
  });
}

