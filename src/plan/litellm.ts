/**
 * LiteLLM: the OpenAI-compatible gateway in front of vLLM, the only service published on the host.
 * Its config.yaml names no secret: keys are read from the environment with `os.environ/NAME`
 * (https://docs.litellm.ai/docs/proxy/configs). `/health/liveliness` answers without calling the
 * models; `/health` calls every model and would fail the check whenever vLLM is busy loading.
 */
import { stringify } from "yaml";
import {
  baseContainer,
  databaseUrl,
  healthcheck,
  INTERNAL_PORTS,
  MEMORY_LIMITS_MIB,
  physicalName,
  pythonHttpProbe,
  secret,
  WORKER_COUNTS,
  type PlanContext,
  type Planners,
} from "./common";
import type { ContainerSpec } from "./types";
import { litellmMonitoring } from "../monitoring/litellm";
import { usesVllmRouter, vllmRouterBase } from "./vllmRouter";
import { litellmSection, type LitellmRouterSetting, type LitellmSection } from "../facts/litellmRouter";

export const LITELLM_CONFIG_PATH = "/app/config.yaml";

/**
 * How LiteLLM spreads requests over the model's replicas on a stack with hosts: each setting by its name in
 * LiteLLM's config.yaml; the section it goes in is LiteLLM's (src/facts/litellmRouter.ts).
 */
export const GATEWAY_ROUTING = {
  // Random over the deployments that are neither unhealthy nor cooling down.
  routing_strategy: "simple-shuffle",
  // A failed request is tried again on the model_name, so another replica may answer it.
  num_retries: 2,
  // A replica whose calls fail with errors (5xx, 429), more than half of them within a minute, rests for 60
  // seconds. One that does not answer at all is never rested (src/facts/litellmRouter.ts, LITELLM_COOLDOWN):
  // the health checks below leave it out. allowed_fails stays unset: at LiteLLM's default it changes nothing.
  cooldown_time: 60,
  // Every deployment is called every 30 seconds; one that fails is left out until a check passes again.
  background_health_checks: true,
  health_check_interval: 30,
  enable_health_check_routing: true,
} as const satisfies Readonly<Partial<Record<LitellmRouterSetting, string | number | boolean>>>;

/** The gateway's routing settings, each in its LiteLLM section. */
export function gatewayRoutingSections(): Record<LitellmSection, Record<string, string | number | boolean>> {
  const out: Record<LitellmSection, Record<string, string | number | boolean>> = {
    router_settings: {},
    general_settings: {},
    litellm_settings: {},
  };
  for (const [key, value] of Object.entries(GATEWAY_ROUTING)) {
    out[litellmSection(key as LitellmRouterSetting)][key] = value;
  }
  return out;
}

/** One deployment of the model: the vLLM (or router) LiteLLM reaches at `apiBase`. */
function deployment(served: string, apiBase: string, id?: string): Record<string, unknown> {
  return {
    model_name: served,
    litellm_params: {
      // hosted_vllm/ is LiteLLM's provider for a vLLM OpenAI-compatible server.
      model: `hosted_vllm/${served}`,
      api_base: apiBase,
      api_key: "os.environ/VLLM_API_KEY",
    },
    // LiteLLM's id of the deployment: its health checks and cooldowns name the replica.
    ...(id !== undefined ? { model_info: { id } } : {}),
  };
}

export function litellmConfigYaml(ctx: PlanContext): string {
  const served = ctx.config.model.servedModelName;
  const settings = { drop_params: true, ...litellmMonitoring(ctx).settings };
  const general = {
    master_key: "os.environ/LITELLM_MASTER_KEY",
    database_url: "os.environ/DATABASE_URL",
  };
  if (ctx.replicas === undefined) {
    // The current blue-green generation by its container name, else the "vllm" alias.
    const doc = {
      model_list: [deployment(served, `http://${ctx.vllmName ?? "vllm"}:${INTERNAL_PORTS.vllm}/v1`)],
      litellm_settings: settings,
      general_settings: general,
    };
    return stringify(doc, { lineWidth: 0 });
  }
  // A stack with hosts: every replica is a deployment of the one model_name, dialled on its host's address;
  // with vLLM's router in front of them, the router is the one deployment (it lists the replicas itself).
  const routing = gatewayRoutingSections();
  const doc = {
    model_list: usesVllmRouter(ctx)
      ? [deployment(served, `${vllmRouterBase()}/v1`, "vllm-router")]
      : ctx.replicas.map((r) => deployment(served, `http://${r.endpoint}/v1`, r.id)),
    router_settings: routing.router_settings,
    litellm_settings: { ...settings, ...routing.litellm_settings },
    general_settings: { ...general, ...routing.general_settings },
  };
  return stringify(doc, { lineWidth: 0 });
}

export function planLitellm(ctx: PlanContext): ContainerSpec {
  const { config } = ctx;
  const workers = WORKER_COUNTS[config.gpu.mode].litellm;
  const monitoring = litellmMonitoring(ctx);
  return {
    ...baseContainer(ctx),
    service: "litellm",
    name: physicalName(ctx, "litellm"),
    image: config.images.litellm,
    command: [
      "--config",
      LITELLM_CONFIG_PATH,
      "--host",
      "0.0.0.0",
      "--port",
      String(INTERNAL_PORTS.litellm),
      "--num_workers",
      String(workers),
    ],
    env: {
      LITELLM_MASTER_KEY: secret("litellmMasterKey", "token"),
      LITELLM_SALT_KEY: secret("litellmSaltKey"),
      VLLM_API_KEY: secret("vllmApiKey", "token"),
      DATABASE_URL: databaseUrl(),
      STORE_MODEL_IN_DB: "False",
      ...monitoring.env,
    },
    volumes: monitoring.volumes,
    uploads: [{ file: LITELLM_CONFIG_PATH, content: litellmConfigYaml(ctx), permissions: "0444" }],
    // With TLS, Caddy is published and LiteLLM stays on the stack network.
    ports: config.gateway.tls
      ? []
      : [
          {
            internal: INTERNAL_PORTS.litellm,
            external: config.gateway.port,
            ip: config.gateway.bindAddress,
            protocol: "tcp",
          },
        ],
    healthcheck: healthcheck(pythonHttpProbe(`http://localhost:${INTERNAL_PORTS.litellm}/health/liveliness`), 120),
    memory: MEMORY_LIMITS_MIB.litellm,
    waitTimeout: 300,
    dependsOn: usesVllmRouter(ctx) ? ["vllm-router", "postgres"] : ["vllm", "postgres"],
  };
}

/** The services this file plans (src/plan/services.ts). */
export const LITELLM_PLANNERS = { litellm: planLitellm } satisfies Planners;
