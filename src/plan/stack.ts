/**
 * planStack: a validated stack config → the StackPlan. Pure and deterministic: no Pulumi, no I/O.
 */
import { SECRET_NAMES, type SecretName, type StackConfig } from "../config/schema";
import type { PlanContext } from "./common";
import { planMultimodalWorker, planRetrievalProxy } from "./apps";
import { DATA_VOLUMES, planObjectStore, planPostgres, planQdrant, planRedis } from "./dataStores";
import { planLitellm } from "./litellm";
import type { ContainerSpec, GpuMapEntry, SecretSpec, StackPlan, VolumeSpec } from "./types";
import { HF_CACHE_VOLUME, planModelDownload, planVllm, vllmArgs } from "./vllm";

export interface PlanInput {
  readonly project: string;
  readonly stack: string;
  readonly stackFile: string;
  readonly config: StackConfig;
  /** Secret keys that have a value in the stack file. */
  readonly secretsPresent: ReadonlySet<string>;
}

/** Only development may generate its own credentials; elsewhere they must outlive the stack's state. */
export function secretSource(config: StackConfig): SecretSpec["source"] {
  return config.environment === "development" ? "generated" : "config";
}

export function planStack(input: PlanInput): StackPlan {
  const { config } = input;
  const ctx: PlanContext = {
    project: input.project,
    stack: input.stack,
    stackFile: input.stackFile,
    config,
  };
  const hfToken = input.secretsPresent.has("hfToken");
  const containers: ContainerSpec[] = [
    planModelDownload(ctx, hfToken),
    planVllm(ctx),
    planPostgres(ctx),
    planRedis(ctx),
    planQdrant(ctx),
    planObjectStore(ctx),
    planLitellm(ctx),
    planMultimodalWorker(ctx),
    planRetrievalProxy(ctx),
  ];
  const protect = config.data?.protect ?? config.environment === "production";
  const volumeKeys = [HF_CACHE_VOLUME, ...Object.values(DATA_VOLUMES)];
  const volumes: VolumeSpec[] = volumeKeys.map((key) => ({
    key,
    name: `${input.project}-${input.stack}-${key}`,
    retainOnDelete: true,
    protect,
  }));
  const source = secretSource(config);
  const secrets: SecretSpec[] = [
    ...SECRET_NAMES.map(
      (name): SecretSpec => ({
        name,
        // A value in the stack file always wins; development generates what is missing.
        source: input.secretsPresent.has(name) ? "config" : source,
        present: input.secretsPresent.has(name) || source === "generated",
        optional: false,
      }),
    ),
    { name: "hfToken" as SecretName, source: "config", present: hfToken, optional: true },
  ];
  const gpuMap: GpuMapEntry[] = containers
    .filter((c) => c.deviceRequests.length > 0)
    .map((c) => ({
      service: c.service,
      hostDevices: c.deviceRequests.flatMap((d) => d.deviceIds),
      cudaVisibleDevices: String(c.env.CUDA_VISIBLE_DEVICES ?? ""),
    }));
  const gatewayHost = config.gateway.bindAddress === "0.0.0.0" ? "localhost" : config.gateway.bindAddress;
  return {
    project: input.project,
    stack: input.stack,
    environment: config.environment,
    stackFile: input.stackFile,
    dockerHost: config.dockerHost,
    network: { name: `${input.project}-${input.stack}` },
    volumes,
    secrets,
    containers,
    gpuMap,
    vllmArgs: vllmArgs(ctx),
    servedModelName: config.model.servedModelName,
    gatewayUrl: `http://${gatewayHost.includes(":") ? `[${gatewayHost}]` : gatewayHost}:${config.gateway.port}`,
  };
}

/** Secrets the stack needs that the stack file does not have (staging and production). */
export function missingSecrets(plan: StackPlan): SecretName[] {
  return plan.secrets.filter((s) => !s.present && !s.optional).map((s) => s.name);
}
