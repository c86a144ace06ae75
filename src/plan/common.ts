/**
 * Facts every service planner shares: physical names, in-network addresses, the per-mode worker counts,
 * memory limits, log rotation and stop timeouts. Each value is written here once.
 */
import type { GpuConfig, StackConfig } from "../config/schema";
import { ownImageOf } from "../config/services";
import type { ContainerSpec, HealthcheckSpec, SecretEncoding, SecretRef, ServiceName, Text } from "./types";

export interface PlanContext {
  readonly project: string;
  readonly stack: string;
  readonly stackFile: string;
  readonly config: StackConfig;
  /**
   * vLLM's container name when it is rolled out blue-green (src/plan/blueGreen.ts): one per generation,
   * and how LiteLLM reaches it. Undefined otherwise: vLLM is `<project>-<stack>-vllm`, reached as "vllm".
   */
  readonly vllmName?: string | undefined;
  /**
   * On a stack with hosts, the model's replicas as the gateway dials them (`address:port` on their host,
   * src/plan/fleet.ts), in placement order; undefined on a single-host stack.
   */
  readonly replicas?: readonly GatewayReplica[] | undefined;
}

/** A replica of the model as the gateway sees it: its id (`<host>-<slot>`) and the address it is dialled at. */
export interface GatewayReplica {
  readonly id: string;
  readonly endpoint: string;
}

/** Physical names (containers, volumes) are scoped to the stack: `<project>-<stack>-<service or volume>`. */
export function physicalName(ctx: PlanContext, service: string): string {
  return `${ctx.project}-${ctx.stack}-${service}`;
}

/** Ports inside the stack network; services reach each other by their service name (a network alias). */
export const INTERNAL_PORTS = {
  vllm: 8000,
  litellm: 4000,
  postgres: 5432,
  redis: 6379,
  qdrant: 6333,
  objectStore: 8333,
} as const;

export const HF_HOME = "/root/.cache/huggingface";

/** Process and worker counts by GPU mode. CPU hosts (CI, laptops) are small: one worker, two gateway workers. */
export const WORKER_COUNTS: Record<GpuConfig["mode"], { litellm: number; multimodal: number; retrieval: number }> = {
  multi: { litellm: 8, multimodal: 4, retrieval: 8 },
  single: { litellm: 4, multimodal: 2, retrieval: 4 },
  cpu: { litellm: 2, multimodal: 1, retrieval: 2 },
};

/** Memory limits in MiB for containers without a GPU. */
export const MEMORY_LIMITS_MIB = {
  litellm: 4096,
  retrievalProxy: 2048,
  multimodalWorkerCpu: 8192,
  postgres: 2048,
  redis: 1024,
  qdrant: 4096,
  objectStore: 2048,
  modelDownload: 4096,
  tlsProxy: 512,
  smokeTest: 256,
  backup: 512,
} as const;

/** Log rotation for every container: json-file, 3 × 50 MB. */
export const LOG_OPTS = { "max-size": "50m", "max-file": "3" } as const;
export const SECURITY_OPTS = ["no-new-privileges:true"] as const;

/** Seconds Docker waits after SIGTERM: Postgres checkpoints, vLLM drains requests and frees the GPU. */
export const STOP_TIMEOUTS = { default: 30, postgres: 120, vllm: 120 } as const;

export const PG_USER = "litellm";
export const PG_DB = "litellm";
export const OBJECT_STORE_ACCESS_KEY = "llmstack";

/** Retained data volumes are protected (a destroy refuses) in production unless `data.protect` says otherwise. */
export function protectData(config: StackConfig): boolean {
  return config.data?.protect ?? config.environment === "production";
}

/** A secret, written for the format of the place it lands (verbatim unless said otherwise). */
export function secret(name: SecretRef["secret"], encode?: SecretEncoding): SecretRef {
  return encode === undefined ? { secret: name } : { secret: name, encode };
}

export function join(...parts: (string | SecretRef)[]): Text {
  return { parts };
}

/** Postgres's address for LiteLLM and the apps, the password percent-encoded into the URL. */
export function databaseUrl(): Text {
  return join(`postgresql://${PG_USER}:`, secret("postgresPassword", "url"), `@postgres:${INTERNAL_PORTS.postgres}/${PG_DB}`);
}

/** An HTTP probe with Python's standard library: every Python image has it, curl is not guaranteed. */
export function pythonHttpProbe(url: string): readonly string[] {
  return [
    "CMD",
    "python3",
    "-c",
    `import urllib.request; urllib.request.urlopen(${JSON.stringify(url)}, timeout=5)`,
  ];
}

export function healthcheck(tests: readonly string[], startPeriodSeconds: number): HealthcheckSpec {
  return { tests, interval: "15s", timeout: "10s", retries: 5, startPeriod: `${startPeriodSeconds}s` };
}

type Defaults = Pick<
  ContainerSpec,
  | "host"
  | "restart"
  | "logDriver"
  | "logOpts"
  | "securityOpts"
  | "stopTimeout"
  | "deviceRequests"
  | "ports"
  | "volumes"
  | "uploads"
  | "wait"
  | "oneShot"
  | "gpu"
  | "deleteBeforeReplace"
  | "dependsOn"
>;

/** The settings every long-running container shares. */
export function baseContainer(ctx: PlanContext): Defaults {
  return {
    host: ctx.config.dockerHost,
    restart: "unless-stopped",
    logDriver: "json-file",
    logOpts: { ...LOG_OPTS },
    securityOpts: [...SECURITY_OPTS],
    stopTimeout: STOP_TIMEOUTS.default,
    deviceRequests: [],
    ports: [],
    volumes: [],
    uploads: [],
    wait: true,
    oneShot: false,
    gpu: false,
    // Every container has a fixed physical name, so a replacement must delete the old one first.
    deleteBeforeReplace: true,
    dependsOn: [],
  };
}

export function service<T extends ServiceName>(s: T): T {
  return s;
}

/** What a planner gets besides the stack's context. */
export interface PlannerInput {
  /** Secret keys that have a value in the stack file (the model download passes a token only then). */
  readonly secretsPresent: ReadonlySet<string>;
}

/** Plans one service of the table: its container, or undefined when this stack does not run it. */
export type Planner = (ctx: PlanContext, input: PlannerInput) => ContainerSpec | undefined;

/**
 * The planners of the services one planner file plans, by service. src/plan/services.ts puts the files'
 * maps together, and its type makes every service of the table's "stack" group have a planner.
 */
export type Planners<S extends ServiceName = ServiceName> = { readonly [K in S]?: Planner };

/**
 * A service's own image as the stack sets it (its key in the service table, src/config/services.ts). The
 * plan has a service on your own image only when the image is set (serviceRuns), so its planner can rely on it.
 */
export function ownImage(ctx: PlanContext, s: ServiceName): string {
  const image = ownImageOf(ctx.config.images, s);
  if (image === undefined) throw new Error(`${s} runs your own image, and the stack sets none`);
  return image;
}
