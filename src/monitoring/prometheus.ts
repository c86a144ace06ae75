/**
 * Prometheus: scrapes the DCGM exporter, vLLM, LiteLLM, Alertmanager and itself over the stack network
 * (targets are the containers' network aliases and ports from the plan), evaluates the alert rules and
 * hands firing alerts to Alertmanager. https://prometheus.io/docs/prometheus/latest/configuration/configuration/
 */
import { stringify } from "yaml";
import type { PlanContext } from "../plan/common";
import { backupScrapeJobs } from "./rules";
import { baseContainer, healthcheck, INTERNAL_PORTS, physicalName, secret } from "../plan/common";
import type { ContainerSpec } from "../plan/types";
import {
  MONITORING_MEMORY_MIB,
  MONITORING_PORTS,
  MONITORING_SERVICES,
  MONITORING_VOLUMES,
  PATHS,
  stackGpus,
  wgetProbe,
} from "./common";
import { alertRulesYaml } from "./rules";
import type { MonitoringConfig } from "../config/monitoringSchema";

export interface ScrapeJob {
  readonly job: string;
  /** `alias:port` inside the stack network. */
  readonly target: string;
  readonly metricsPath: string;
  /** File holding a bearer token Prometheus sends. */
  readonly credentialsFile?: string;
}

export function scrapeJobs(ctx: PlanContext): ScrapeJob[] {
  const jobs: ScrapeJob[] = [];
  if (stackGpus(ctx).length > 0) {
    jobs.push({
      job: "dcgm",
      target: `${MONITORING_SERVICES.dcgmExporter}:${MONITORING_PORTS.dcgmExporter}`,
      metricsPath: "/metrics",
    });
  }
  jobs.push(
    // vLLM's --api-key guards only /v1, /v2, /inference and /cohere routes, not /metrics:
    // https://docs.vllm.ai/en/stable/usage/security/ . vLLM is not published on the host.
    { job: "vllm", target: `vllm:${INTERNAL_PORTS.vllm}`, metricsPath: "/metrics" },
    // LiteLLM mounts its metrics app at /metrics/ (https://docs.litellm.ai/docs/proxy/prometheus); the
    // gateway is published on the host, so the stack turns on its auth and Prometheus sends the master key.
    {
      job: "litellm",
      target: `litellm:${INTERNAL_PORTS.litellm}`,
      metricsPath: "/metrics/",
      credentialsFile: PATHS.prometheusLitellmKey,
    },
    {
      job: "alertmanager",
      target: `${MONITORING_SERVICES.alertmanager}:${MONITORING_PORTS.alertmanager}`,
      metricsPath: "/metrics",
    },
    { job: "prometheus", target: `localhost:${MONITORING_PORTS.prometheus}`, metricsPath: "/metrics" },
    ...backupScrapeJobs(ctx),
  );
  return jobs;
}

export function prometheusConfigYaml(ctx: PlanContext, m: MonitoringConfig): string {
  const interval = `${m.prometheus.scrapeIntervalSeconds}s`;
  const doc = {
    global: {
      scrape_interval: interval,
      evaluation_interval: interval,
      external_labels: { stack: ctx.stack },
    },
    rule_files: [PATHS.prometheusRules],
    alerting: {
      alertmanagers: [
        { static_configs: [{ targets: [`${MONITORING_SERVICES.alertmanager}:${MONITORING_PORTS.alertmanager}`] }] },
      ],
    },
    scrape_configs: scrapeJobs(ctx).map((j) => ({
      job_name: j.job,
      metrics_path: j.metricsPath,
      ...(j.credentialsFile ? { authorization: { type: "Bearer", credentials_file: j.credentialsFile } } : {}),
      static_configs: [{ targets: [j.target] }],
    })),
  };
  return stringify(doc, { lineWidth: 0 });
}

export function planPrometheus(ctx: PlanContext, m: MonitoringConfig): ContainerSpec {
  const port = MONITORING_PORTS.prometheus;
  return {
    ...baseContainer(ctx),
    service: MONITORING_SERVICES.prometheus,
    name: physicalName(ctx, MONITORING_SERVICES.prometheus),
    image: m.images.prometheus,
    command: [
      `--config.file=${PATHS.prometheusConfig}`,
      `--storage.tsdb.path=${PATHS.prometheusData}`,
      `--storage.tsdb.retention.time=${m.prometheus.retentionDays}d`,
      `--web.listen-address=:${port}`,
    ],
    env: {},
    volumes: [{ volume: MONITORING_VOLUMES.prometheusData, containerPath: PATHS.prometheusData }],
    // The image runs as nobody; the planner makes the uploads its files (src/plan/finalize.ts), so the
    // master key can be readable by that user alone.
    uploads: [
      { file: PATHS.prometheusConfig, content: prometheusConfigYaml(ctx, m), permissions: "0444" },
      { file: PATHS.prometheusRules, content: alertRulesYaml(ctx, m), permissions: "0444" },
      { file: PATHS.prometheusLitellmKey, content: secret("litellmMasterKey", "token"), permissions: "0400" },
    ],
    healthcheck: healthcheck(wgetProbe(`http://localhost:${port}/-/ready`), 60),
    memory: MONITORING_MEMORY_MIB.prometheus,
    dependsOn: [MONITORING_SERVICES.alertmanager],
  };
}
