/**
 * The alert rules, as a Prometheus rule file: https://prometheus.io/docs/prometheus/latest/configuration/alerting_rules/
 * Thresholds come from `llmstack:monitoring.alerts`; metric names from the DCGM counters table and vLLM's
 * and LiteLLM's documented metrics (https://docs.vllm.ai/en/stable/usage/metrics/,
 * https://docs.litellm.ai/docs/proxy/prometheus).
 */
import { stringify } from "yaml";
import { StackConfigError } from "../config/errors";
import { gpuBookings, sectionTenants } from "../config/gpuBookings";
import { runsIn } from "../config/services";
import type { PlanContext } from "../plan/common";
import { BACKUP_INTERVAL_SECONDS, BACKUP_METRICS_PORT } from "../config/backupSchema";
import { gpuHosts } from "../config/hosts";
import { stackGpus, type AlertRule, type MonitoringFleet } from "./common";
import { fleetGpuRules, fleetVllmRules } from "./fleetRules";
import type { MonitoringConfig } from "../config/monitoringSchema";

export type { AlertRule } from "./common";

/**
 * The largest fraction of one GPU's memory the plan books (src/config/gpuBookings.ts): vLLM's share, the
 * worker's where they share, and each process's CUDA context, of what CUDA can allocate. DCGM's
 * FB_USED / (FB_USED + FB_FREE) leaves the driver's reserve out the same way.
 */
export function largestBookedShare(ctx: PlanContext): number {
  // A stack with hosts: the largest over every GPU host's section.
  const sections = ctx.config.hosts ? gpuHosts(ctx.config.hosts).map((h) => h.gpu) : [ctx.config.gpu];
  const shares = sections.flatMap((g) => {
    if (g.mode === "cpu") return [];
    const { gpus } = gpuBookings(sectionTenants(g, runsIn(ctx.config)), { memoryMiB: g.memoryMiB });
    return gpus.map((b) => b.bookedFraction);
  });
  return Math.max(0, ...shares);
}

/**
 * GpuMemoryNearFull's default threshold. A constant, not derived from the booking: a utilisation edit
 * then replaces vLLM alone, and Prometheus keeps running with the rules it has.
 */
export const DEFAULT_GPU_MEMORY_THRESHOLD = 0.99;

/** GpuMemoryNearFull's threshold: the configured one (above what the stack books), or 0.99. */
export function gpuMemoryThreshold(ctx: PlanContext, m: MonitoringConfig): number {
  const booked = largestBookedShare(ctx);
  const configured = m.alerts.gpuMemoryUsedFraction;
  if (configured === undefined) return DEFAULT_GPU_MEMORY_THRESHOLD;
  if (configured <= booked) {
    throw new StackConfigError(
      `${ctx.stackFile}: llmstack:monitoring.alerts.gpuMemoryUsedFraction is ${configured}, but the stack books ` +
        `${booked} of a GPU's memory up front (vLLM's memoryUtilization, the worker's share and their CUDA contexts), so the ` +
        `alert would always fire; set it above ${booked} (at most 0.99), or remove it to use ${DEFAULT_GPU_MEMORY_THRESHOLD}`,
    );
  }
  return configured;
}

export function alertRules(ctx: PlanContext, m: MonitoringConfig, fleet?: MonitoringFleet): AlertRule[] {
  if (fleet) {
    // A stack with hosts: the GPU and vLLM rules per host and replica, and when to add a replica (./fleetRules.ts).
    return [...fleetGpuRules(m, gpuMemoryThreshold(ctx, m)), ...fleetVllmRules(m), gatewayErrorRule(m)];
  }
  const a = m.alerts;
  const forDuration = `${a.forMinutes}m`;
  const rules: AlertRule[] = [];
  if (stackGpus(ctx).length > 0) {
    const memory = gpuMemoryThreshold(ctx, m);
    rules.push(
      {
        alert: "GpuTemperatureHigh",
        expr: `max by (gpu, UUID, modelName) (DCGM_FI_DEV_GPU_TEMP) > ${a.gpuTemperatureCelsius}`,
        for: forDuration,
        labels: { severity: "warning" },
        annotations: {
          summary: "GPU {{ $labels.gpu }} is at {{ $value }} °C",
          description: `GPU {{ $labels.gpu }} ({{ $labels.modelName }}) has been above ${a.gpuTemperatureCelsius} °C for ${forDuration}; it will throttle its clocks. Check airflow and fan curves.`,
        },
      },
      {
        alert: "GpuMemoryNearFull",
        expr:
          "max by (gpu, UUID, modelName) (DCGM_FI_DEV_FB_USED / (DCGM_FI_DEV_FB_USED + DCGM_FI_DEV_FB_FREE)) > " +
          String(memory),
        for: forDuration,
        labels: { severity: "warning" },
        annotations: {
          summary: "GPU {{ $labels.gpu }} memory is {{ $value | humanizePercentage }} used",
          description: `GPU {{ $labels.gpu }} has used more than ${memory} of its memory for ${forDuration}; vLLM and the multimodal worker book their shares up front, so something else is growing (the worker beyond its share, or a process outside the stack). The next allocation may fail with out-of-memory.`,
        },
      },
    );
  }
  rules.push(
    {
      alert: "VllmDown",
      expr: 'up{job="vllm"} == 0',
      for: "2m",
      labels: { severity: "critical" },
      annotations: {
        summary: "vLLM is not answering /metrics",
        description: "Prometheus has not reached vllm for 2 minutes: the gateway cannot serve the model. docker logs the vLLM container to see why (out of memory, NCCL, a crashed engine).",
      },
    },
    {
      alert: "KvCacheSaturated",
      expr: `max(vllm:kv_cache_usage_perc) > ${a.kvCacheUsageFraction}`,
      for: forDuration,
      labels: { severity: "warning" },
      annotations: {
        summary: "vLLM's KV cache is {{ $value | humanizePercentage }} full",
        description: `vLLM has used more than ${a.kvCacheUsageFraction} of its KV cache for ${forDuration}: new requests wait in the queue (vllm:num_requests_waiting) or are preempted. Lower concurrency or maxModelLen, or give vLLM more GPU memory.`,
      },
    },
    gatewayErrorRule(m),
    ...backupRules(ctx),
  );
  return rules;
}

/** GatewayErrorRateHigh: the share of LiteLLM's requests that fail. */
export function gatewayErrorRule(m: MonitoringConfig): AlertRule {
  const a = m.alerts;
  const forDuration = `${a.forMinutes}m`;
  return {
    alert: "GatewayErrorRateHigh",
    expr:
      "sum(rate(litellm_proxy_failed_requests_metric_total[5m])) / " +
      `clamp_min(sum(rate(litellm_proxy_total_requests_metric_total[5m])), 1e-9) > ${a.gatewayErrorRate}`,
    for: forDuration,
    labels: { severity: "critical" },
    annotations: {
      summary: "{{ $value | humanizePercentage }} of gateway requests fail",
      description: `More than ${a.gatewayErrorRate} of the requests through LiteLLM have failed for ${forDuration}. The LiteLLM dashboard shows which status codes; VllmDown or KvCacheSaturated often explain them.`,
    },
  };
}

export function alertRulesYaml(ctx: PlanContext, m: MonitoringConfig, fleet?: MonitoringFleet): string {
  return stringify({ groups: [{ name: "llmstack", rules: alertRules(ctx, m, fleet) }] }, { lineWidth: 0 });
}

// The scheduled backup (`llmstack:backup`, src/backup/schedule.ts): its scheduler serves its outcome as
// metrics on the stack network (src/backup/scheduleScripts.ts).
export const BACKUP_JOB = "backup";

/** Prometheus's job for the scheduler; none without a scheduled backup. */
export function backupScrapeJobs(ctx: PlanContext): { job: string; target: string; metricsPath: string }[] {
  return ctx.config.backup === undefined ? [] : [{ job: BACKUP_JOB, target: `backup:${BACKUP_METRICS_PORT}`, metricsPath: "/metrics" }];
}

/** BackupFailed (the last run failed), BackupMissing (no success for two intervals), BackupSchedulerDown. */
export function backupRules(ctx: PlanContext): AlertRule[] {
  const b = ctx.config.backup;
  if (b === undefined) return [];
  const missing = 2 * BACKUP_INTERVAL_SECONDS;
  return [
    {
      alert: "BackupFailed",
      expr: "llmstack_backup_last_run_success == 0",
      for: "1m",
      labels: { severity: "critical" },
      annotations: {
        summary: "The last scheduled backup failed",
        description: `The scheduled backup into ${b.to} failed: its directory is kept as <time>.failed with each store's log (<store>.log). docker logs the backup container for the reason, then run llmstack backup --stack <name> --to <dir> by hand.`,
      },
    },
    {
      alert: "BackupMissing",
      expr: `time() - llmstack_backup_last_success_timestamp_seconds > ${missing}`,
      for: "10m",
      labels: { severity: "critical" },
      annotations: {
        summary: "No scheduled backup has completed for {{ $value | humanizeDuration }}",
        description: `The scheduled backup runs daily at ${b.schedule} UTC, and none has completed for more than twice that interval (${missing} s). Look at the backup containers' logs and at ${b.to}.`,
      },
    },
    {
      alert: "BackupSchedulerDown",
      expr: `up{job="${BACKUP_JOB}"} == 0`,
      for: "10m",
      labels: { severity: "warning" },
      annotations: {
        summary: "The backup scheduler is not answering /metrics",
        description: "Prometheus has not reached the backup container for 10 minutes, so a failed or missing backup would not be seen. docker logs the backup container.",
      },
    },
  ];
}
