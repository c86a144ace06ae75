/**
 * The stack's own application services: the multimodal worker (GPU) and the retrieval proxy. Their
 * images are the user's; the contract is an HTTP `/health` on the configured port and Python 3 in the
 * image (used by the health check and by the worker's wait for vLLM).
 */
import {
  baseContainer,
  databaseUrl,
  healthcheck,
  INTERNAL_PORTS,
  join,
  MEMORY_LIMITS_MIB,
  OBJECT_STORE_ACCESS_KEY,
  ownImage,
  physicalName,
  pythonHttpProbe,
  secret,
  WORKER_COUNTS,
  type PlanContext,
  type Planners,
} from "./common";
import { gpuView } from "./gpuEnv";
import type { ContainerSpec, Text } from "./types";

/**
 * Docker restarts containers in no order after a reboot, and vLLM refuses to start when less than its
 * share of a GPU is free: the worker waits for vLLM's /health before it starts, every time it starts.
 */
export const WAIT_FOR_VLLM =
  'until python3 -c "import os, urllib.request; urllib.request.urlopen(os.environ[\'VLLM_HEALTH_URL\'], timeout=5)" ' +
  '2>/dev/null; do echo "waiting for vLLM at $VLLM_HEALTH_URL"; sleep 5; done; exec "$@"';

/** Addresses of the data stores and vLLM on the stack network, with their credentials. */
export function backendEnv(): Record<string, Text> {
  return {
    VLLM_BASE_URL: `http://vllm:${INTERNAL_PORTS.vllm}/v1`,
    VLLM_API_KEY: secret("vllmApiKey", "token"),
    DATABASE_URL: databaseUrl(),
    REDIS_URL: join("redis://:", secret("redisPassword", "url"), `@redis:${INTERNAL_PORTS.redis}/0`),
    QDRANT_URL: `http://qdrant:${INTERNAL_PORTS.qdrant}`,
    QDRANT_API_KEY: secret("qdrantApiKey", "token"),
    S3_ENDPOINT_URL: `http://object-store:${INTERNAL_PORTS.objectStore}`,
    S3_ACCESS_KEY_ID: OBJECT_STORE_ACCESS_KEY,
    S3_SECRET_ACCESS_KEY: secret("objectStoreSecretKey"),
  };
}

/** The worker's container, on `llmstack:images.multimodalWorker` (planned only when it is set). */
export function planMultimodalWorker(ctx: PlanContext): ContainerSpec {
  const { config } = ctx;
  const port = config.services.workerPort;
  const env: Record<string, Text> = {
    ...backendEnv(),
    VLLM_HEALTH_URL: `http://vllm:${INTERNAL_PORTS.vllm}/health`,
    RETRIEVAL_URL: `http://retrieval-proxy:${config.services.retrievalPort}`,
    WORKER_PROCESSES: String(WORKER_COUNTS[config.gpu.mode].multimodal),
    PORT: String(port),
  };
  const common = {
    ...baseContainer(ctx),
    service: "multimodal-worker" as const,
    name: physicalName(ctx, "multimodal-worker"),
    image: ownImage(ctx, "multimodal-worker"),
    entrypoints: ["/bin/sh", "-c", WAIT_FOR_VLLM, "wait-for-vllm"],
    command: [...config.services.workerCommand],
    healthcheck: healthcheck(pythonHttpProbe(`http://localhost:${port}/health`), 120),
    waitTimeout: 300,
    dependsOn: ["vllm" as const, "postgres" as const, "redis" as const, "qdrant" as const, "object-store" as const],
  };
  if (config.gpu.mode === "cpu") {
    return { ...common, env: { ...env, DEVICE: "cpu" }, memory: MEMORY_LIMITS_MIB.multimodalWorkerCpu };
  }
  const g = config.gpu;
  const view = gpuView(g.workerDevices);
  return {
    ...common,
    env: {
      ...env,
      ...view.env,
      DEVICE: "cuda:0",
      WORKER_GPU_MEMORY_FRACTION: String(g.workerMemoryFraction),
    },
    deviceRequests: view.deviceRequests,
    gpu: true,
  };
}

/** The retrieval proxy's container, on `llmstack:images.retrievalProxy` (planned only when it is set). */
export function planRetrievalProxy(ctx: PlanContext): ContainerSpec {
  const { config } = ctx;
  const port = config.services.retrievalPort;
  return {
    ...baseContainer(ctx),
    service: "retrieval-proxy",
    name: physicalName(ctx, "retrieval-proxy"),
    image: ownImage(ctx, "retrieval-proxy"),
    command: [...config.services.retrievalCommand],
    env: {
      ...backendEnv(),
      RETRIEVAL_WORKERS: String(WORKER_COUNTS[config.gpu.mode].retrieval),
      MULTIMODAL_WORKER_URL: `http://multimodal-worker:${config.services.workerPort}`,
      PORT: String(port),
    },
    healthcheck: healthcheck(pythonHttpProbe(`http://localhost:${port}/health`), 60),
    memory: MEMORY_LIMITS_MIB.retrievalProxy,
    waitTimeout: 300,
    dependsOn: ["postgres", "redis", "qdrant", "object-store"],
  };
}

/** The services this file plans (src/plan/services.ts). */
export const APP_PLANNERS = {
  "multimodal-worker": planMultimodalWorker,
  "retrieval-proxy": planRetrievalProxy,
} satisfies Planners;
