/**
 * vLLM's router between LiteLLM and the model's replicas (`llmstack:model.router: cache_aware`, a stack with
 * hosts only): one container on the gateway host, which sends each request to the replica most likely to hold
 * its prompt's prefix in its KV cache. What the image runs and the flags it takes: src/facts/vllmRouter.ts.
 */
import {
  CACHE_AWARE_POLICY,
  VLLM_ROUTER_FLAGS as FLAG,
  VLLM_ROUTER_LIVENESS_PATH,
} from "../facts/vllmRouter";
import {
  baseContainer,
  healthcheck,
  INTERNAL_PORTS,
  MEMORY_LIMITS_MIB,
  physicalName,
  pythonHttpProbe,
  type PlanContext,
  type Planners,
} from "./common";
import type { ContainerSpec } from "./types";

/** Whether the stack puts vLLM's router in front of the replicas. */
export function usesVllmRouter(ctx: PlanContext): boolean {
  return ctx.replicas !== undefined && ctx.config.model.router === "cache_aware";
}

/** The router's address on the stack network, as LiteLLM dials it (its service name is its alias). */
export function vllmRouterBase(): string {
  return `http://vllm-router:${INTERNAL_PORTS.vllmRouter}`;
}

/** The router's argv: the Rust binary, every replica's URL, cache-aware routing. */
export function vllmRouterCommand(ctx: PlanContext): string[] {
  const replicas = ctx.replicas ?? [];
  return [
    "vllm-router",
    FLAG.host,
    "0.0.0.0",
    FLAG.port,
    String(INTERNAL_PORTS.vllmRouter),
    FLAG.policy,
    CACHE_AWARE_POLICY,
    // The router waits for its workers before it listens: as long as a replica may take to load the model.
    FLAG.workerStartupTimeoutSecs,
    String(ctx.config.vllm.startupTimeoutSeconds),
    FLAG.workerUrls,
    ...replicas.map((r) => `http://${r.endpoint}`),
  ];
}

export function planVllmRouter(ctx: PlanContext): ContainerSpec {
  const startup = ctx.config.vllm.startupTimeoutSeconds;
  return {
    ...baseContainer(ctx),
    service: "vllm-router",
    name: physicalName(ctx, "vllm-router"),
    image: ctx.config.images.vllmRouter,
    command: vllmRouterCommand(ctx),
    // It needs no secret: it hands LiteLLM's Authorization header on to vLLM (src/facts/vllmRouter.ts).
    env: {},
    healthcheck: healthcheck(
      pythonHttpProbe(`http://localhost:${INTERNAL_PORTS.vllmRouter}${VLLM_ROUTER_LIVENESS_PATH}`),
      startup,
    ),
    memory: MEMORY_LIMITS_MIB.vllmRouter,
    waitTimeout: startup,
    dependsOn: ["vllm"],
  };
}

/** The services this file plans (src/plan/services.ts). */
export const VLLM_ROUTER_PLANNERS = {
  "vllm-router": (ctx) => (usesVllmRouter(ctx) ? planVllmRouter(ctx) : undefined),
} satisfies Planners;
