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

export const LITELLM_CONFIG_PATH = "/app/config.yaml";

export function litellmConfigYaml(ctx: PlanContext): string {
  const served = ctx.config.model.servedModelName;
  const doc = {
    model_list: [
      {
        model_name: served,
        litellm_params: {
          // hosted_vllm/ is LiteLLM's provider for a vLLM OpenAI-compatible server.
          model: `hosted_vllm/${served}`,
          // The current blue-green generation by its container name, else the "vllm" alias.
          api_base: `http://${ctx.vllmName ?? "vllm"}:${INTERNAL_PORTS.vllm}/v1`,
          api_key: "os.environ/VLLM_API_KEY",
        },
      },
    ],
    litellm_settings: { drop_params: true, ...litellmMonitoring(ctx).settings },
    general_settings: {
      master_key: "os.environ/LITELLM_MASTER_KEY",
      database_url: "os.environ/DATABASE_URL",
    },
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
    dependsOn: ["vllm", "postgres"],
  };
}

/** The services this file plans (src/plan/services.ts). */
export const LITELLM_PLANNERS = { litellm: planLitellm } satisfies Planners;
