/**
 * The alert rules of a stack with hosts: the GPU and vLLM rules of ./rules.ts by `host` and `replica` (the
 * labels Prometheus gives each target, ./fleet.ts), and AddVllmReplica, which says when the fleet as a
 * whole is full and needs another replica (docs/fleet.md "When to add a replica"). vLLM's metric names are
 * the recorded ones (src/facts/vllmMetrics.ts).
 */
import { VLLM_METRICS } from "../facts/vllmMetrics";
import type { MonitoringConfig } from "../config/monitoringSchema";
import type { AlertRule } from "./common";

/** The percentile of time to first token AddVllmReplica watches, over the whole fleet. */
export const TTFT_QUANTILE = 0.9;

/** The GPU rules for every GPU host's exporter, each GPU named with its host. */
export function fleetGpuRules(m: MonitoringConfig, memoryThreshold: number): AlertRule[] {
  const a = m.alerts;
  const forDuration = `${a.forMinutes}m`;
  return [
    {
      alert: "GpuTemperatureHigh",
      expr: `max by (host, gpu, UUID, modelName) (DCGM_FI_DEV_GPU_TEMP) > ${a.gpuTemperatureCelsius}`,
      for: forDuration,
      labels: { severity: "warning" },
      annotations: {
        summary: "GPU {{ $labels.gpu }} on {{ $labels.host }} is at {{ $value }} °C",
        description: `GPU {{ $labels.gpu }} ({{ $labels.modelName }}) on {{ $labels.host }} has been above ${a.gpuTemperatureCelsius} °C for ${forDuration}; it will throttle its clocks. Check the host's airflow and fan curves.`,
      },
    },
    {
      alert: "GpuMemoryNearFull",
      expr:
        "max by (host, gpu, UUID, modelName) (DCGM_FI_DEV_FB_USED / (DCGM_FI_DEV_FB_USED + DCGM_FI_DEV_FB_FREE)) > " +
        String(memoryThreshold),
      for: forDuration,
      labels: { severity: "warning" },
      annotations: {
        summary: "GPU {{ $labels.gpu }} on {{ $labels.host }} memory is {{ $value | humanizePercentage }} used",
        description: `GPU {{ $labels.gpu }} on {{ $labels.host }} has used more than ${memoryThreshold} of its memory for ${forDuration}; vLLM books its share up front, so something else is growing (a process outside the stack). The next allocation may fail with out-of-memory.`,
      },
    },
  ];
}

/** AddVllmReplica's expression: requests queue across the fleet, and its KV cache or first tokens show it. */
export function addReplicaExpr(m: MonitoringConfig): string {
  const a = m.alerts;
  const { requestsWaiting, kvCacheUsage, timeToFirstToken } = VLLM_METRICS;
  return (
    `avg(${requestsWaiting}) > ${a.waitingRequestsPerReplica} and (avg(${kvCacheUsage}) > ${a.kvCacheUsageFraction} or ` +
    `histogram_quantile(${TTFT_QUANTILE}, sum by (le) (rate(${timeToFirstToken}_bucket[5m]))) > ${a.timeToFirstTokenSeconds})`
  );
}

/** VllmDown and KvCacheSaturated per replica, and AddVllmReplica across the fleet. */
export function fleetVllmRules(m: MonitoringConfig): AlertRule[] {
  const a = m.alerts;
  const forDuration = `${a.forMinutes}m`;
  return [
    {
      alert: "VllmDown",
      expr: 'up{job="vllm"} == 0',
      for: "2m",
      labels: { severity: "critical" },
      annotations: {
        summary: "vLLM replica {{ $labels.replica }} on {{ $labels.host }} is not answering /metrics",
        description:
          "Prometheus has not reached replica {{ $labels.replica }} at {{ $labels.instance }} for 2 minutes: it serves nothing. docker logs its vLLM container on {{ $labels.host }} to see why (out of memory, NCCL, a crashed engine), and check that the monitoring host reaches that address.",
      },
    },
    {
      alert: "KvCacheSaturated",
      expr: `max by (host, replica) (${VLLM_METRICS.kvCacheUsage}) > ${a.kvCacheUsageFraction}`,
      for: forDuration,
      labels: { severity: "warning" },
      annotations: {
        summary: "vLLM replica {{ $labels.replica }}'s KV cache is {{ $value | humanizePercentage }} full",
        description: `Replica {{ $labels.replica }} on {{ $labels.host }} has used more than ${a.kvCacheUsageFraction} of its KV cache for ${forDuration}: its requests wait (${VLLM_METRICS.requestsWaiting}) or are preempted. One replica alone points at the gateway's routing; every replica at once is AddVllmReplica.`,
      },
    },
    {
      alert: "AddVllmReplica",
      expr: addReplicaExpr(m),
      for: forDuration,
      labels: { severity: "warning" },
      annotations: {
        summary: "The fleet needs another vLLM replica: {{ $value | humanize }} requests wait per replica",
        description:
          `For ${forDuration}, more than ${a.waitingRequestsPerReplica} requests have waited per vLLM replica on average across the fleet, ` +
          `while its KV cache was more than ${a.kvCacheUsageFraction} used or its ${TTFT_QUANTILE * 100}th percentile time to first token was above ` +
          `${a.timeToFirstTokenSeconds} s: every replica is full, not one. Add a replica: raise llmstack:model.replicas (a GPU host with free GPUs ` +
          'takes it) or add a GPU host to llmstack:hosts, then review "llmstack plan --diff" and run "pulumi up" ' +
          '(docs/fleet.md, "When to add a replica").',
      },
    },
  ];
}
