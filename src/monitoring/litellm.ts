/**
 * What monitoring adds to LiteLLM's container: the prometheus callback, auth on /metrics (the gateway is
 * published on the host; Prometheus sends the master key), and the directory its workers share their
 * counters in. https://docs.litellm.ai/docs/proxy/prometheus ("Multiple Workers": PROMETHEUS_MULTIPROC_DIR).
 * Prometheus metrics are in LiteLLM's open-source build since v1.80 (BerriAI/litellm#16689).
 */
import type { PlanContext } from "../plan/common";
import type { Text, VolumeMount } from "../plan/types";
import { monitoringOf, MONITORING_VOLUMES, PATHS } from "./common";

export interface LitellmMonitoring {
  readonly settings: Record<string, unknown>;
  readonly env: Record<string, Text>;
  readonly volumes: VolumeMount[];
}

export function litellmMonitoring(ctx: PlanContext): LitellmMonitoring {
  if (!monitoringOf(ctx)) return { settings: {}, env: {}, volumes: [] };
  return {
    settings: { callbacks: ["prometheus"], require_auth_for_metrics_endpoint: true },
    env: { PROMETHEUS_MULTIPROC_DIR: PATHS.litellmMetrics },
    // A volume, not a path in the image: Docker creates the mount point, and the workers (processes in
    // this one container) share it. LiteLLM wipes stale *.db files there before its workers fork.
    volumes: [{ volume: MONITORING_VOLUMES.litellmMetrics, containerPath: PATHS.litellmMetrics }],
  };
}
