/**
 * The GPU and vLLM dashboards of a stack with hosts: the same panels as a single host's (./dashboards.ts),
 * filtered by the `host` and `replica` variables (the labels Prometheus gives each target, ./fleet.ts) and
 * broken down by them, plus the fleet-wide figures AddVllmReplica watches. Same uids, so a link to a
 * dashboard works on either kind of stack.
 */
import { VLLM_METRICS } from "../facts/vllmMetrics";
import { dcgm, GPU_DASHBOARD, VLLM_DASHBOARD, type DashboardSpec, type VariableSpec } from "./dashboards";
import { TTFT_QUANTILE } from "./fleetRules";

/** A GPU host's exporter's series: `{host=~"$host"}`. */
const onHost = '{host=~"$host"}';
/** A replica's vLLM series: `{host=~"$host", replica=~"$replica"}`. */
const onReplica = '{host=~"$host", replica=~"$replica"}';

const gpu = (field: Parameters<typeof dcgm>[0]): string => `${dcgm(field)}${onHost}`;
const vllm = (metric: string): string => `${metric}${onReplica}`;

/** A quantile of a vLLM histogram per replica. */
const perReplica = (p: number, metric: string): string =>
  `histogram_quantile(${p}, sum by (le, replica) (rate(${metric}_bucket${onReplica}[5m])))`;

const HOST_OF_GPUS: VariableSpec = { name: "host", label: "Host", query: `label_values(${dcgm("DCGM_FI_DEV_GPU_UTIL")}, host)` };
const HOST_OF_REPLICAS: VariableSpec = { name: "host", label: "Host", query: `label_values(${VLLM_METRICS.requestsRunning}, host)` };
const REPLICA: VariableSpec = {
  name: "replica",
  label: "Replica",
  query: `label_values(${VLLM_METRICS.requestsRunning}{host=~"$host"}, replica)`,
};

const legend = "{{host}} GPU {{gpu}}";

export const FLEET_GPU_DASHBOARD: DashboardSpec = {
  uid: GPU_DASHBOARD.uid,
  title: GPU_DASHBOARD.title,
  variables: [HOST_OF_GPUS],
  panels: [
    { title: "GPU utilisation", unit: "percent", targets: [{ expr: gpu("DCGM_FI_DEV_GPU_UTIL"), legend }] },
    {
      title: "GPU memory used",
      unit: "percentunit",
      targets: [
        {
          expr: `${gpu("DCGM_FI_DEV_FB_USED")} / (${gpu("DCGM_FI_DEV_FB_USED")} + ${gpu("DCGM_FI_DEV_FB_FREE")})`,
          legend,
        },
      ],
    },
    { title: "Temperature", unit: "celsius", targets: [{ expr: gpu("DCGM_FI_DEV_GPU_TEMP"), legend }] },
    { title: "Power draw", unit: "watt", targets: [{ expr: gpu("DCGM_FI_DEV_POWER_USAGE"), legend }] },
    {
      title: "NVLink traffic",
      unit: "Bps",
      description: GPU_DASHBOARD.panels.find((p) => p.title === "NVLink traffic")?.description ?? "",
      targets: [{ expr: `rate(${gpu("DCGM_FI_DEV_NVLINK_BANDWIDTH_TOTAL")}[1m])`, legend }],
    },
    { title: "SM clock", unit: "hertz", targets: [{ expr: `${gpu("DCGM_FI_DEV_SM_CLOCK")} * 1000000`, legend }] },
  ],
};

export const FLEET_VLLM_DASHBOARD: DashboardSpec = {
  uid: VLLM_DASHBOARD.uid,
  title: VLLM_DASHBOARD.title,
  variables: [HOST_OF_REPLICAS, REPLICA],
  panels: [
    {
      title: "Requests",
      unit: "reqps",
      targets: [{ expr: `sum by (replica) (rate(${vllm("vllm:request_success_total")}[1m]))`, legend: "{{replica}}" }],
    },
    {
      title: "Tokens per second",
      unit: "short",
      targets: [
        { expr: `sum by (replica) (rate(${vllm("vllm:generation_tokens_total")}[1m]))`, legend: "{{replica}} output" },
        { expr: `sum by (replica) (rate(${vllm("vllm:prompt_tokens_total")}[1m]))`, legend: "{{replica}} prompt" },
      ],
    },
    {
      title: "Time to first token",
      unit: "s",
      targets: [
        { expr: perReplica(0.5, VLLM_METRICS.timeToFirstToken), legend: "{{replica}} p50" },
        { expr: perReplica(0.99, VLLM_METRICS.timeToFirstToken), legend: "{{replica}} p99" },
        {
          expr: `histogram_quantile(${TTFT_QUANTILE}, sum by (le) (rate(${vllm(`${VLLM_METRICS.timeToFirstToken}_bucket`)}[5m])))`,
          legend: `fleet p${TTFT_QUANTILE * 100}`,
        },
      ],
    },
    {
      title: "KV cache usage",
      unit: "percentunit",
      targets: [
        { expr: `max by (replica) (${vllm(VLLM_METRICS.kvCacheUsage)})`, legend: "{{replica}}" },
        { expr: `avg(${vllm(VLLM_METRICS.kvCacheUsage)})`, legend: "fleet average" },
      ],
    },
    {
      title: "Queue",
      unit: "short",
      targets: [
        { expr: `sum by (replica) (${vllm(VLLM_METRICS.requestsRunning)})`, legend: "{{replica}} running" },
        { expr: `sum by (replica) (${vllm(VLLM_METRICS.requestsWaiting)})`, legend: "{{replica}} waiting" },
        { expr: `avg(${vllm(VLLM_METRICS.requestsWaiting)})`, legend: "waiting per replica (fleet)" },
      ],
    },
    {
      title: "End-to-end latency",
      unit: "s",
      targets: [
        { expr: perReplica(0.5, "vllm:e2e_request_latency_seconds"), legend: "{{replica}} p50" },
        { expr: perReplica(0.99, "vllm:e2e_request_latency_seconds"), legend: "{{replica}} p99" },
      ],
    },
  ],
};
