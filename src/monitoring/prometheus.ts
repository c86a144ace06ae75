/**
 * Prometheus: scrapes the DCGM exporter, vLLM, LiteLLM, Alertmanager and itself over the stack network
 * (targets are the containers' network aliases and ports from the plan; on a stack with hosts, the GPU
 * hosts' exporters and the replicas at their hosts' addresses, ./fleet.ts), evaluates the alert rules and
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
  type MonitoringFleet,
} from "./common";
import { fleetDcgmTargets, fleetVllmTargets } from "./fleet";
import { VLLM_METRICS } from "../facts/vllmMetrics";
import { alertRulesYaml } from "./rules";
import type { MonitoringConfig } from "../config/monitoringSchema";

/** One scrape target; targets of one job name are one scrape config with a static config each. */
export interface ScrapeJob {
  readonly job: string;
  /** `alias:port` inside the stack network, or `address:port` on a stack with hosts. */
  readonly target: string;
  readonly metricsPath: string;
  /** File holding a bearer token Prometheus sends. */
  readonly credentialsFile?: string;
  /** Labels the target's series get (`host`, `replica` on a stack with hosts). */
  readonly labels?: Readonly<Record<string, string>>;
}

/** The scrape targets; on a stack with hosts, every GPU host's exporter and every replica at their addresses. */
export function scrapeJobs(ctx: PlanContext, fleet?: MonitoringFleet): ScrapeJob[] {
  const jobs: ScrapeJob[] = [];
  if (fleet) {
    jobs.push(...fleetDcgmTargets(fleet).map((t) => ({ job: "dcgm", target: t.target, metricsPath: "/metrics", labels: t.labels })));
    jobs.push(...fleetVllmTargets(fleet).map((t) => ({ job: "vllm", target: t.target, metricsPath: VLLM_METRICS.path, labels: t.labels })));
  } else {
    if (stackGpus(ctx).length > 0) {
      jobs.push({
        job: "dcgm",
        target: `${MONITORING_SERVICES.dcgmExporter}:${MONITORING_PORTS.dcgmExporter}`,
        metricsPath: "/metrics",
      });
    }
    // vLLM's --api-key guards only /v1, /v2, /inference and /cohere routes, not /metrics
    // (src/facts/vllmMetrics.ts). vLLM is not published on the host.
    jobs.push({ job: "vllm", target: `vllm:${INTERNAL_PORTS.vllm}`, metricsPath: VLLM_METRICS.path });
  }
  jobs.push(
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

/** The targets grouped by job name, in the order each job first appears. */
function byJob(jobs: readonly ScrapeJob[]): ScrapeJob[][] {
  const groups = new Map<string, ScrapeJob[]>();
  for (const j of jobs) groups.set(j.job, [...(groups.get(j.job) ?? []), j]);
  return [...groups.values()];
}

export function prometheusConfigYaml(ctx: PlanContext, m: MonitoringConfig, fleet?: MonitoringFleet): string {
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
    scrape_configs: byJob(scrapeJobs(ctx, fleet)).map((targets) => {
      const j = targets[0]!;
      return {
        job_name: j.job,
        metrics_path: j.metricsPath,
        ...(j.credentialsFile ? { authorization: { type: "Bearer", credentials_file: j.credentialsFile } } : {}),
        static_configs: targets.map((t) => ({ targets: [t.target], ...(t.labels ? { labels: { ...t.labels } } : {}) })),
      };
    }),
  };
  return stringify(doc, { lineWidth: 0 });
}

export function planPrometheus(ctx: PlanContext, m: MonitoringConfig, fleet?: MonitoringFleet): ContainerSpec {
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
      { file: PATHS.prometheusConfig, content: prometheusConfigYaml(ctx, m, fleet), permissions: "0444" },
      { file: PATHS.prometheusRules, content: alertRulesYaml(ctx, m, fleet), permissions: "0444" },
      { file: PATHS.prometheusLitellmKey, content: secret("litellmMasterKey", "token"), permissions: "0400" },
    ],
    healthcheck: healthcheck(wgetProbe(`http://localhost:${port}/-/ready`), 60),
    memory: MONITORING_MEMORY_MIB.prometheus,
    dependsOn: [MONITORING_SERVICES.alertmanager],
  };
}
