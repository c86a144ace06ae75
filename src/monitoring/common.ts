/**
 * Facts the monitoring planners share: service names (network aliases), ports inside the stack network,
 * paths inside the containers, volume keys and memory limits. Each is written here once.
 */
import { sectionTenants } from "../config/gpuBookings";
import { runsIn } from "../config/services";
import type { HostConfig } from "../config/hosts";
import type { PlanContext } from "../plan/common";
import type { MonitoringConfig } from "../config/monitoringSchema";

export const MONITORING_SERVICES = {
  dcgmExporter: "dcgm-exporter",
  prometheus: "prometheus",
  alertmanager: "alertmanager",
  grafana: "grafana",
} as const;

/** Ports inside the stack network (each image's documented default). */
export const MONITORING_PORTS = {
  dcgmExporter: 9400,
  prometheus: 9090,
  alertmanager: 9093,
  grafana: 3000,
} as const;

export const MONITORING_VOLUMES = {
  prometheusData: "prometheus-data",
  grafanaData: "grafana-data",
  /** LiteLLM's shared prometheus_client directory: scratch, LiteLLM wipes its *.db files at start. */
  litellmMetrics: "litellm-metrics",
} as const;

/** Memory limits in MiB. */
export const MONITORING_MEMORY_MIB = {
  dcgmExporter: 512,
  prometheus: 2048,
  alertmanager: 256,
  grafana: 1024,
} as const;

export const PATHS = {
  prometheusConfig: "/etc/prometheus/prometheus.yml",
  prometheusRules: "/etc/prometheus/rules/llmstack.rules.yml",
  prometheusLitellmKey: "/etc/prometheus/secrets/litellm-master-key",
  prometheusData: "/prometheus",
  alertmanagerConfig: "/etc/alertmanager/alertmanager.yml",
  alertmanagerWebhookUrl: "/etc/alertmanager/secrets/webhook-url",
  alertmanagerData: "/alertmanager",
  dcgmCounters: "/etc/dcgm-exporter/llmstack-counters.csv",
  grafanaData: "/var/lib/grafana",
  grafanaDatasources: "/etc/grafana/provisioning/datasources/llmstack.yml",
  grafanaDashboardProviders: "/etc/grafana/provisioning/dashboards/llmstack.yml",
  grafanaDashboards: "/etc/grafana/dashboards",
  litellmMetrics: "/prometheus_multiproc",
} as const;

/** One Prometheus alerting rule as the rule file writes it (./rules.ts, ./fleetRules.ts). */
export interface AlertRule {
  readonly alert: string;
  readonly expr: string;
  readonly for: string;
  readonly labels: { readonly severity: "warning" | "critical" };
  readonly annotations: { readonly summary: string; readonly description: string };
}

/** One replica of a stack with hosts, as monitoring sees it: its name, its host and where vLLM answers. */
export interface MonitoredReplica {
  readonly id: string;
  readonly host: string;
  /** `address:port` of its vLLM on its host (the plan's replica endpoint). */
  readonly endpoint: string;
}

/**
 * What monitoring needs of a stack with hosts (src/monitoring/fleet.ts): the hosts (a DCGM exporter on
 * each GPU host) and the replicas Prometheus scrapes. Undefined on a single-host stack.
 */
export interface MonitoringFleet {
  readonly hosts: readonly HostConfig[];
  readonly replicas: readonly MonitoredReplica[];
}

/** The stack's monitoring settings when it is on, else undefined. */
export function monitoringOf(ctx: PlanContext): MonitoringConfig | undefined {
  const m = ctx.config.monitoring;
  return m?.enabled ? m : undefined;
}

/**
 * Every host GPU the stack uses (those of each GPU tenant that runs: vLLM's, and the worker's when it
 * runs), each once, in the order first listed.
 */
export function stackGpus(ctx: PlanContext): string[] {
  const g = ctx.config.gpu;
  if (g.mode === "cpu") return [];
  return [...new Set(sectionTenants(g, runsIn(ctx.config)).flatMap((t) => t.devices))];
}

/** Busybox `wget` probe: the Prometheus, Alertmanager and Grafana images ship busybox, not curl or Python. */
export function wgetProbe(url: string): readonly string[] {
  return ["CMD", "wget", "-q", "-O", "/dev/null", url];
}
