/**
 * The provisioned Grafana dashboards (GPU, vLLM, LiteLLM) as dashboard JSON:
 * https://grafana.com/docs/grafana/latest/dashboards/build-dashboards/view-dashboard-json-model/
 * Every query uses the provisioned data source by its fixed uid.
 */
import type { DcgmField } from "./dcgm";

export const DATASOURCE_UID = "llmstack-prometheus";

export interface Target {
  readonly expr: string;
  readonly legend: string;
}

export interface PanelSpec {
  readonly title: string;
  readonly unit: string;
  readonly targets: readonly Target[];
  readonly description?: string;
}

/** A dashboard variable whose values are a label's values in Prometheus (`label_values(metric, label)`). */
export interface VariableSpec {
  /** The label, and the variable's name in queries (`$host`). */
  readonly name: string;
  readonly label: string;
  readonly query: string;
}

export interface DashboardSpec {
  readonly uid: string;
  readonly title: string;
  readonly panels: readonly PanelSpec[];
  /** Variables to filter by (a stack with hosts: host, replica); none on a single host. */
  readonly variables?: readonly VariableSpec[];
}

const ds = { type: "prometheus", uid: DATASOURCE_UID } as const;

/** A DCGM field in a query; typed so a dashboard can only use fields the exporter collects. */
export const dcgm = (f: DcgmField): string => f;

export const q = (p: number, metric: string): string =>
  `histogram_quantile(${p}, sum by (le) (rate(${metric}_bucket[5m])))`;

export const GPU_DASHBOARD: DashboardSpec = {
  uid: "llmstack-gpu",
  title: "llmstack / GPUs",
  panels: [
    { title: "GPU utilisation", unit: "percent", targets: [{ expr: dcgm("DCGM_FI_DEV_GPU_UTIL"), legend: "GPU {{gpu}}" }] },
    {
      title: "GPU memory used",
      unit: "percentunit",
      targets: [
        {
          expr: `${dcgm("DCGM_FI_DEV_FB_USED")} / (${dcgm("DCGM_FI_DEV_FB_USED")} + ${dcgm("DCGM_FI_DEV_FB_FREE")})`,
          legend: "GPU {{gpu}}",
        },
      ],
    },
    { title: "Temperature", unit: "celsius", targets: [{ expr: dcgm("DCGM_FI_DEV_GPU_TEMP"), legend: "GPU {{gpu}}" }] },
    { title: "Power draw", unit: "watt", targets: [{ expr: dcgm("DCGM_FI_DEV_POWER_USAGE"), legend: "GPU {{gpu}}" }] },
    {
      title: "NVLink traffic",
      unit: "Bps",
      description:
        "Reads zero on GeForce cards before Blackwell (RTX 3090/4090 report no NVLink counters through NVML, bridge or not); datacenter cards report it.",
      targets: [{ expr: `rate(${dcgm("DCGM_FI_DEV_NVLINK_BANDWIDTH_TOTAL")}[1m])`, legend: "GPU {{gpu}}" }],
    },
    { title: "SM clock", unit: "hertz", targets: [{ expr: `${dcgm("DCGM_FI_DEV_SM_CLOCK")} * 1000000`, legend: "GPU {{gpu}}" }] },
  ],
};

export const VLLM_DASHBOARD: DashboardSpec = {
  uid: "llmstack-vllm",
  title: "llmstack / vLLM",
  panels: [
    {
      title: "Requests",
      unit: "reqps",
      targets: [{ expr: "sum by (finished_reason) (rate(vllm:request_success_total[1m]))", legend: "{{finished_reason}}" }],
    },
    {
      title: "Tokens per second",
      unit: "short",
      targets: [
        { expr: "sum(rate(vllm:generation_tokens_total[1m]))", legend: "output" },
        { expr: "sum(rate(vllm:prompt_tokens_total[1m]))", legend: "prompt" },
      ],
    },
    {
      title: "Time to first token",
      unit: "s",
      targets: [
        { expr: q(0.5, "vllm:time_to_first_token_seconds"), legend: "p50" },
        { expr: q(0.99, "vllm:time_to_first_token_seconds"), legend: "p99" },
      ],
    },
    { title: "KV cache usage", unit: "percentunit", targets: [{ expr: "max(vllm:kv_cache_usage_perc)", legend: "used" }] },
    {
      title: "Queue",
      unit: "short",
      targets: [
        { expr: "sum(vllm:num_requests_running)", legend: "running" },
        { expr: "sum(vllm:num_requests_waiting)", legend: "waiting" },
      ],
    },
    {
      title: "End-to-end latency",
      unit: "s",
      targets: [
        { expr: q(0.5, "vllm:e2e_request_latency_seconds"), legend: "p50" },
        { expr: q(0.99, "vllm:e2e_request_latency_seconds"), legend: "p99" },
      ],
    },
  ],
};

export const LITELLM_DASHBOARD: DashboardSpec = {
  uid: "llmstack-litellm",
  title: "llmstack / Gateway (LiteLLM)",
  panels: [
    {
      title: "Requests",
      unit: "reqps",
      targets: [{ expr: "sum by (status_code) (rate(litellm_proxy_total_requests_metric_total[1m]))", legend: "{{status_code}}" }],
    },
    {
      title: "Errors",
      unit: "percentunit",
      targets: [
        {
          expr:
            "sum(rate(litellm_proxy_failed_requests_metric_total[5m])) / clamp_min(sum(rate(litellm_proxy_total_requests_metric_total[5m])), 1e-9)",
          legend: "failed",
        },
      ],
    },
    {
      title: "Latency",
      unit: "s",
      targets: [
        { expr: q(0.5, "litellm_request_total_latency_metric"), legend: "p50" },
        { expr: q(0.9, "litellm_request_total_latency_metric"), legend: "p90" },
        { expr: q(0.99, "litellm_request_total_latency_metric"), legend: "p99" },
      ],
    },
  ],
};

/** Grafana's dashboard JSON for a spec: two panels per row, 12 × 8 grid cells each. */
export function dashboardJson(d: DashboardSpec): Record<string, unknown> {
  return {
    uid: d.uid,
    title: d.title,
    tags: ["llmstack"],
    timezone: "browser",
    schemaVersion: 39,
    version: 1,
    editable: false,
    refresh: "30s",
    time: { from: "now-1h", to: "now" },
    ...(d.variables ? { templating: { list: d.variables.map(variableJson) } } : {}),
    panels: d.panels.map((p, i) => ({
      id: i + 1,
      type: "timeseries",
      title: p.title,
      ...(p.description ? { description: p.description } : {}),
      datasource: ds,
      gridPos: { h: 8, w: 12, x: (i % 2) * 12, y: Math.floor(i / 2) * 8 },
      fieldConfig: { defaults: { unit: p.unit }, overrides: [] },
      options: { legend: { displayMode: "list", placement: "bottom" }, tooltip: { mode: "multi" } },
      targets: p.targets.map((t, j) => ({
        refId: String.fromCharCode(65 + j),
        datasource: ds,
        expr: t.expr,
        legendFormat: t.legend,
      })),
    })),
  };
}

/**
 * A query variable over the provisioned data source: every value selectable, several at once, "All" by
 * default (matching any value, so a host or replica added later shows without editing the dashboard).
 */
function variableJson(v: VariableSpec): Record<string, unknown> {
  return {
    name: v.name,
    label: v.label,
    type: "query",
    datasource: ds,
    definition: v.query,
    query: { query: v.query, refId: `${v.name}-values` },
    refresh: 2,
    sort: 1,
    multi: true,
    includeAll: true,
    allValue: ".*",
    current: { selected: true, text: ["All"], value: ["$__all"] },
  };
}
