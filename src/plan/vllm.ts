/**
 * vLLM: the inference server, and the one-shot download that fills the model cache before it starts.
 * Shared memory: https://docs.vllm.ai/en/stable/deployment/docker/ ("use the ipc=host flag or --shm-size").
 */
import { CREATE_MARGIN_MINUTES } from "../facts/dockerProvider";
import { stackVllmImage } from "../facts/vllmRelease";
import { ncclSettings } from "../gpu/nccl";
import { vllmArgv, vllmLabels, type VllmArgs } from "./flags";
import {
  baseContainer,
  healthcheck,
  HF_HOME,
  INTERNAL_PORTS,
  MEMORY_LIMITS_MIB,
  physicalName,
  pythonHttpProbe,
  secret,
  STOP_TIMEOUTS,
  type PlanContext,
  type Planners,
} from "./common";
import { gpuView } from "./gpuEnv";
import type { ContainerSpec, Text } from "./types";

export const HF_CACHE_VOLUME = "hf-cache";

/**
 * vLLM's settings by flag: the one source of its argv and of the labels that restate some of them. A member
 * of a replica across hosts (./span.ts) overrides some and adds the multi-node launch's.
 */
function vllmSettings(ctx: PlanContext, more: VllmArgs = {}): VllmArgs {
  const { config } = ctx;
  const args: VllmArgs = {
    model: config.model.name,
    servedModelName: config.model.servedModelName,
    host: "0.0.0.0",
    port: INTERNAL_PORTS.vllm,
    maxModelLen: config.model.maxModelLen,
    dtype: config.model.dtype,
    revision: config.model.revision,
  };
  if (config.gpu.mode !== "cpu") {
    const g = config.gpu;
    const nccl = ncclSettings({ gpuCount: g.vllmDevices.length, nvlink: g.nvlink, cardClass: g.cardClass });
    args.tensorParallelSize = g.tensorParallelSize;
    args.pipelineParallelSize = g.pipelineParallelSize;
    args.gpuMemoryUtilization = g.memoryUtilization;
    args.disableCustomAllReduce = nccl.disableCustomAllReduce;
  }
  return { ...args, ...more };
}

export function vllmArgs(ctx: PlanContext): string[] {
  return vllmArgv(vllmSettings(ctx));
}

export function planVllm(ctx: PlanContext): ContainerSpec {
  return planVllmWith(ctx, {});
}

/** vLLM's container with some flags set or added (a member of a replica across hosts, ./span.ts). */
export function planVllmWith(ctx: PlanContext, more: VllmArgs): ContainerSpec {
  const { config } = ctx;
  const hf: Record<string, Text> = {
    HF_HOME,
    // The model is downloaded beforehand by the one-shot container; vLLM must not reach the Hub at start.
    HF_HUB_OFFLINE: "1",
    VLLM_API_KEY: secret("vllmApiKey", "token"),
  };
  const base = baseContainer(ctx);
  const common = {
    ...base,
    service: "vllm" as const,
    name: ctx.vllmName ?? physicalName(ctx, "vllm"),
    // A blue-green generation has a name of its own, so its replacement is created before it is deleted.
    deleteBeforeReplace: ctx.vllmName === undefined,
    image: stackVllmImage(config),
    entrypoints: ["vllm", "serve"],
    command: vllmArgv(vllmSettings(ctx, more)),
    volumes: [{ volume: HF_CACHE_VOLUME, containerPath: HF_HOME }],
    healthcheck: healthcheck(
      pythonHttpProbe(`http://localhost:${INTERNAL_PORTS.vllm}/health`),
      config.vllm.startupTimeoutSeconds,
    ),
    stopTimeout: STOP_TIMEOUTS.vllm,
    waitTimeout: config.vllm.startupTimeoutSeconds,
    dependsOn: ["model-download" as const],
  };
  if (config.gpu.mode === "cpu") {
    return {
      ...common,
      env: { ...hf, VLLM_CPU_KVCACHE_SPACE: String(config.gpu.kvCacheSpaceGiB) },
      // vLLM's CPU backend pins threads to cores (SYS_NICE) and uses NUMA syscalls that Docker's
      // default seccomp profile blocks; its documented `docker run` adds both.
      capAdd: ["SYS_NICE"],
      securityOpts: [...base.securityOpts, "seccomp=unconfined"],
      shmSize: config.vllm.shmSizeMiB,
      memory: (config.gpu.kvCacheSpaceGiB + 8) * 1024,
    };
  }
  const g = config.gpu;
  const view = gpuView(g.vllmDevices);
  const nccl = ncclSettings({ gpuCount: g.vllmDevices.length, nvlink: g.nvlink, cardClass: g.cardClass });
  return {
    ...common,
    // The GPU layout is in argv (vLLM reads nothing else) and, for an operator, in labels: never as
    // VLLM_* environment, which vLLM does not read and warns about (src/plan/flags.ts).
    env: { ...hf, ...view.env, ...nccl.env },
    labels: vllmLabels(vllmSettings(ctx, more)),
    deviceRequests: view.deviceRequests,
    ...(config.vllm.ipcHost ? { ipcMode: "host" as const } : { shmSize: config.vllm.shmSizeMiB }),
    gpu: true,
  };
}

/**
 * Downloads the model into the cache volume, once per model/revision: its command names the model (and
 * the revision when one is pinned), so a model change replaces it (and runs it) before vLLM is replaced.
 * An unpinned revision is left out rather than passed as "": the Docker provider refuses an empty string
 * in `command` (src/facts/dockerProvider.ts, rule command-not-empty).
 */
export function planModelDownload(ctx: PlanContext, hfTokenPresent: boolean): ContainerSpec {
  const { config } = ctx;
  const timeoutSeconds = config.vllm.downloadTimeoutMinutes * 60;
  const script =
    "import sys; from huggingface_hub import snapshot_download; " +
    "snapshot_download(repo_id=sys.argv[1], revision=sys.argv[2] if len(sys.argv) > 2 else None); " +
    "print('downloaded', sys.argv[1])";
  return {
    ...baseContainer(ctx),
    service: "model-download",
    name: physicalName(ctx, "model-download"),
    image: stackVllmImage(config),
    entrypoints: ["timeout", String(timeoutSeconds), "python3", "-c", script],
    command: config.model.revision === undefined ? [config.model.name] : [config.model.name, config.model.revision],
    env: hfTokenPresent ? { HF_HOME, HF_TOKEN: secret("hfToken", "token") } : { HF_HOME },
    volumes: [{ volume: HF_CACHE_VOLUME, containerPath: HF_HOME }],
    restart: "no",
    memory: MEMORY_LIMITS_MIB.modelDownload,
    wait: false,
    oneShot: true,
    // The attach wait runs inside the create: the download's own limit plus the time to create and start.
    createTimeoutMinutes: config.vllm.downloadTimeoutMinutes + CREATE_MARGIN_MINUTES,
  };
}

/** The services this file plans (src/plan/services.ts). */
export const VLLM_PLANNERS = {
  "model-download": (ctx, input) => planModelDownload(ctx, input.secretsPresent.has("hfToken")),
  vllm: planVllm,
} satisfies Planners;
