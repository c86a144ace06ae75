/**
 * Monitoring across hosts (src/monitoring/fleet.ts, fleetRules.ts, fleetDashboards.ts) on the example fleet
 * (examples/fleet): a DCGM exporter per GPU host, Prometheus's targets with their host and replica labels,
 * AddVllmReplica, and the dashboards' variables. promtool checks the files in
 * test/integration/configFiles.test.ts.
 */
import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import { parseStackConfig } from "../../src/config/parse";
import { guardedByApiKey, VLLM_METRICS } from "../../src/facts/vllmMetrics";
import { dashboardJson, GPU_DASHBOARD, VLLM_DASHBOARD } from "../../src/monitoring/dashboards";
import { fleetDcgmTargets } from "../../src/monitoring/fleet";
import { addReplicaExpr } from "../../src/monitoring/fleetRules";
import type { ContainerSpec, StackPlan } from "../../src/plan/types";
import { FLEET_FILE, fleetPlan, fleetValues } from "../helpers/fleet";
import { container, planFromValues, rawValues } from "../helpers/stacks";

const plan = fleetPlan();
const one = (p: StackPlan, service: string): ContainerSpec => {
  const found = p.containers.filter((c) => c.service === service);
  expect(found).toHaveLength(1);
  return found[0]!;
};
const upload = (c: ContainerSpec, file: string): string => {
  const u = c.uploads.find((x) => x.file === file);
  if (!u || typeof u.content !== "string") throw new Error(`${c.name} has no plain ${file}`);
  return u.content;
};
const PROMETHEUS_YML = "/etc/prometheus/prometheus.yml";
const RULES_YML = "/etc/prometheus/rules/llmstack.rules.yml";

interface Rule {
  alert: string;
  expr: string;
  for: string;
  labels: Record<string, string>;
  annotations: Record<string, string>;
}
const rulesOf = (p: StackPlan): Rule[] =>
  (parse(upload(one(p, "prometheus"), RULES_YML)) as { groups: { rules: Rule[] }[] }).groups[0]!.rules;

describe("vLLM's metrics at the pinned release (src/facts/vllmMetrics.ts)", () => {
  it("serves /metrics without the API key: --api-key guards /v1, /v2, /inference and /cohere only", () => {
    expect(VLLM_METRICS.path).toBe("/metrics");
    expect(guardedByApiKey(VLLM_METRICS.path)).toBe(false);
    expect(guardedByApiKey("/v1/chat/completions")).toBe(true);
    expect(guardedByApiKey("/health")).toBe(false);
  });

  it("names the KV cache gauge vllm:kv_cache_usage_perc, which the single host's rules and dashboard use too", () => {
    expect(VLLM_METRICS.kvCacheUsage).toBe("vllm:kv_cache_usage_perc");
    expect(VLLM_DASHBOARD.panels.find((p) => p.title === "KV cache usage")?.targets[0]?.expr).toBe(`max(${VLLM_METRICS.kvCacheUsage})`);
  });
});

describe("a DCGM exporter on each GPU host", () => {
  it("is named by its host, placed there, watches the host's vLLM GPUs and publishes 9400 on the host's address", () => {
    const exporters = plan.containers.filter((c) => c.service === "dcgm-exporter");
    expect(
      exporters.map((c) => [c.name, c.host, c.placement, c.deviceRequests, c.ports]),
    ).toEqual([
      [
        "llm-multimodal-stack-fleet-dcgm-exporter-gpu-a",
        "ssh://deploy@10.20.0.11",
        { host: "gpu-a" },
        [{ driver: "nvidia", deviceIds: ["0", "1"], capabilities: ["gpu", "utility"] }],
        [{ internal: 9400, external: 9400, ip: "10.20.0.11", protocol: "tcp" }],
      ],
      [
        "llm-multimodal-stack-fleet-dcgm-exporter-gpu-b",
        "tcp://10.20.0.12:2376",
        { host: "gpu-b" },
        [{ driver: "nvidia", deviceIds: ["0"], capabilities: ["gpu", "utility"] }],
        [{ internal: 9400, external: 9400, ip: "10.20.0.12", protocol: "tcp" }],
      ],
    ]);
    // The GPU map is vLLM's alone: the exporters book no GPU memory.
    expect(plan.gpuMap.map((g) => g.service)).toEqual(["vllm", "vllm"]);
  });

  it("is scraped at an IPv6 host's address in brackets", () => {
    const v = fleetValues();
    v.hosts[1].address = "fd00::11";
    const config = parseStackConfig(v, FLEET_FILE);
    expect(fleetDcgmTargets({ hosts: config.hosts!, replicas: [] })).toEqual([
      { target: "[fd00::11]:9400", labels: { host: "gpu-a" } },
      { target: "10.20.0.12:9400", labels: { host: "gpu-b" } },
    ]);
  });
});

describe("Prometheus on the monitoring host", () => {
  const prometheus = one(plan, "prometheus");

  it("runs on the control host, beside LiteLLM and Alertmanager", () => {
    expect(plan.containers.filter((c) => ["prometheus", "alertmanager", "grafana", "litellm"].includes(c.service)).map((c) => c.placement?.host)).toEqual([
      "control",
      "control",
      "control",
      "control",
    ]);
    expect(prometheus.ports).toEqual([]);
  });

  it("scrapes every GPU host's exporter and every replica at its address, with host and replica labels", () => {
    const doc = parse(upload(prometheus, PROMETHEUS_YML)) as { scrape_configs: unknown[] };
    expect(doc.scrape_configs).toEqual([
      {
        job_name: "dcgm",
        metrics_path: "/metrics",
        static_configs: [
          { targets: ["10.20.0.11:9400"], labels: { host: "gpu-a" } },
          { targets: ["10.20.0.12:9400"], labels: { host: "gpu-b" } },
        ],
      },
      {
        // No authorization: vLLM's --api-key does not guard /metrics.
        job_name: "vllm",
        metrics_path: "/metrics",
        static_configs: [
          { targets: ["10.20.0.11:8000"], labels: { host: "gpu-a", replica: "gpu-a-0" } },
          { targets: ["10.20.0.12:8000"], labels: { host: "gpu-b", replica: "gpu-b-0" } },
        ],
      },
      {
        job_name: "litellm",
        metrics_path: "/metrics/",
        authorization: { type: "Bearer", credentials_file: "/etc/prometheus/secrets/litellm-master-key" },
        static_configs: [{ targets: ["litellm:4000"] }],
      },
      { job_name: "alertmanager", metrics_path: "/metrics", static_configs: [{ targets: ["alertmanager:9093"] }] },
      { job_name: "prometheus", metrics_path: "/metrics", static_configs: [{ targets: ["localhost:9090"] }] },
    ]);
  });

  it("scrapes each replica at the endpoint the plan gives it, pinned replicas on one host included", () => {
    const v = fleetValues();
    v.hosts[2].gpu = { ...v.hosts[2].gpu, mode: "multi", vllmDevices: ["0", "1"], nvlink: true };
    v.model.placement = [
      { host: "gpu-b", devices: ["1"] },
      { host: "gpu-b", devices: ["0"] },
    ];
    const pinned = fleetPlan(v);
    const doc = parse(upload(one(pinned, "prometheus"), PROMETHEUS_YML)) as {
      scrape_configs: { job_name: string; static_configs: unknown[] }[];
    };
    expect(doc.scrape_configs.find((j) => j.job_name === "vllm")?.static_configs).toEqual([
      { targets: ["10.20.0.12:8001"], labels: { host: "gpu-b", replica: "gpu-b-1" } },
      { targets: ["10.20.0.12:8000"], labels: { host: "gpu-b", replica: "gpu-b-0" } },
    ]);
    expect(pinned.replicas?.map((r) => r.endpoint)).toEqual(["10.20.0.12:8001", "10.20.0.12:8000"]);
  });
});

describe("the fleet's alert rules", () => {
  const rules = rulesOf(plan);

  it("are the GPU and vLLM rules by host and replica, AddVllmReplica and the gateway's", () => {
    expect(rules.map((r) => [r.alert, r.expr, r.for, r.labels.severity])).toEqual([
      ["GpuTemperatureHigh", "max by (host, gpu, UUID, modelName) (DCGM_FI_DEV_GPU_TEMP) > 83", "5m", "warning"],
      [
        "GpuMemoryNearFull",
        "max by (host, gpu, UUID, modelName) (DCGM_FI_DEV_FB_USED / (DCGM_FI_DEV_FB_USED + DCGM_FI_DEV_FB_FREE)) > 0.99",
        "5m",
        "warning",
      ],
      ["VllmDown", 'up{job="vllm"} == 0', "2m", "critical"],
      ["KvCacheSaturated", "max by (host, replica) (vllm:kv_cache_usage_perc) > 0.9", "5m", "warning"],
      [
        "AddVllmReplica",
        "avg(vllm:num_requests_waiting) > 2 and (avg(vllm:kv_cache_usage_perc) > 0.9 or " +
          "histogram_quantile(0.9, sum by (le) (rate(vllm:time_to_first_token_seconds_bucket[5m]))) > 2)",
        "5m",
        "warning",
      ],
      [
        "GatewayErrorRateHigh",
        "sum(rate(litellm_proxy_failed_requests_metric_total[5m])) / clamp_min(sum(rate(litellm_proxy_total_requests_metric_total[5m])), 1e-9) > 0.05",
        "5m",
        "critical",
      ],
    ]);
  });

  it("say when to add a replica and how, naming the docs section", () => {
    const add = rules.find((r) => r.alert === "AddVllmReplica")!;
    expect(add.annotations).toEqual({
      summary: "The fleet needs another vLLM replica: {{ $value | humanize }} requests wait per replica",
      description:
        "For 5m, more than 2 requests have waited per vLLM replica on average across the fleet, while its KV cache was more than 0.9 used " +
        "or its 90th percentile time to first token was above 2 s: every replica is full, not one. Add a replica: raise " +
        "llmstack:model.replicas (a GPU host with free GPUs takes it) or add a GPU host to llmstack:hosts, then review " +
        '"llmstack plan --diff" and run "pulumi up" (docs/fleet.md, "When to add a replica").',
    });
    expect(rules.find((r) => r.alert === "VllmDown")!.annotations.summary).toBe(
      "vLLM replica {{ $labels.replica }} on {{ $labels.host }} is not answering /metrics",
    );
  });

  it("take AddVllmReplica's thresholds from llmstack:monitoring.alerts", () => {
    const v = fleetValues();
    v.monitoring = {
      enabled: true,
      alerts: { waitingRequestsPerReplica: 5, timeToFirstTokenSeconds: 1.5, kvCacheUsageFraction: 0.8, forMinutes: 10 },
    };
    const add = rulesOf(fleetPlan(v)).find((r) => r.alert === "AddVllmReplica")!;
    expect([add.expr, add.for]).toEqual([
      "avg(vllm:num_requests_waiting) > 5 and (avg(vllm:kv_cache_usage_perc) > 0.8 or " +
        "histogram_quantile(0.9, sum by (le) (rate(vllm:time_to_first_token_seconds_bucket[5m]))) > 1.5)",
      "10m",
    ]);
    expect(addReplicaExpr(parseStackConfig(v, FLEET_FILE).monitoring!)).toBe(add.expr);
  });

  it("hold gpuMemoryUsedFraction above what every GPU host books", () => {
    const v = fleetValues();
    v.monitoring = { enabled: true, alerts: { gpuMemoryUsedFraction: 0.9 } };
    expect(() => fleetPlan(v)).toThrow(
      /^Pulumi\.fleet\.yaml: llmstack:monitoring\.alerts\.gpuMemoryUsedFraction is 0\.9, but the stack books 0\.9\d* of a GPU's memory up front/,
    );
    v.monitoring.alerts.gpuMemoryUsedFraction = 0.97;
    expect(rulesOf(fleetPlan(v)).find((r) => r.alert === "GpuMemoryNearFull")!.expr).toMatch(/ > 0\.97$/);
  });
});

describe("the fleet's dashboards", () => {
  const grafana = one(plan, "grafana");
  const dashboard = (uid: string) =>
    JSON.parse(upload(grafana, `/etc/grafana/dashboards/${uid}.json`)) as {
      uid: string;
      title: string;
      templating: { list: { name: string; label: string; definition: string; multi: boolean; includeAll: boolean; allValue: string }[] };
      panels: { title: string; targets: { expr: string; legendFormat: string }[] }[];
    };

  it("are the GPU, vLLM and gateway dashboards, under the single host's uids", () => {
    expect(grafana.uploads.map((u) => u.file).filter((f) => f.startsWith("/etc/grafana/dashboards/"))).toEqual([
      "/etc/grafana/dashboards/llmstack-gpu.json",
      "/etc/grafana/dashboards/llmstack-vllm.json",
      "/etc/grafana/dashboards/llmstack-litellm.json",
    ]);
  });

  it("filter the vLLM dashboard by host and replica, every value selectable, All by default", () => {
    const d = dashboard("llmstack-vllm");
    expect(d.templating.list.map((v) => [v.name, v.label, v.definition, v.multi, v.includeAll, v.allValue])).toEqual([
      ["host", "Host", "label_values(vllm:num_requests_running, host)", true, true, ".*"],
      ["replica", "Replica", 'label_values(vllm:num_requests_running{host=~"$host"}, replica)', true, true, ".*"],
    ]);
    expect(d.panels.find((p) => p.title === "Queue")!.targets.map((t) => [t.expr, t.legendFormat])).toEqual([
      ['sum by (replica) (vllm:num_requests_running{host=~"$host", replica=~"$replica"})', "{{replica}} running"],
      ['sum by (replica) (vllm:num_requests_waiting{host=~"$host", replica=~"$replica"})', "{{replica}} waiting"],
      ['avg(vllm:num_requests_waiting{host=~"$host", replica=~"$replica"})', "waiting per replica (fleet)"],
    ]);
    expect(d.panels.find((p) => p.title === "Time to first token")!.targets.map((t) => [t.expr, t.legendFormat])).toEqual([
      [
        'histogram_quantile(0.5, sum by (le, replica) (rate(vllm:time_to_first_token_seconds_bucket{host=~"$host", replica=~"$replica"}[5m])))',
        "{{replica}} p50",
      ],
      [
        'histogram_quantile(0.99, sum by (le, replica) (rate(vllm:time_to_first_token_seconds_bucket{host=~"$host", replica=~"$replica"}[5m])))',
        "{{replica}} p99",
      ],
      [
        'histogram_quantile(0.9, sum by (le) (rate(vllm:time_to_first_token_seconds_bucket{host=~"$host", replica=~"$replica"}[5m])))',
        "fleet p90",
      ],
    ]);
    expect(d.panels.map((p) => p.title)).toEqual(VLLM_DASHBOARD.panels.map((p) => p.title));
  });

  it("filter the GPU dashboard by host, each GPU named with its host", () => {
    const d = dashboard("llmstack-gpu");
    expect(d.templating.list.map((v) => [v.name, v.definition])).toEqual([["host", "label_values(DCGM_FI_DEV_GPU_UTIL, host)"]]);
    expect(d.panels.find((p) => p.title === "GPU memory used")!.targets).toEqual([
      {
        refId: "A",
        datasource: { type: "prometheus", uid: "llmstack-prometheus" },
        expr: 'DCGM_FI_DEV_FB_USED{host=~"$host"} / (DCGM_FI_DEV_FB_USED{host=~"$host"} + DCGM_FI_DEV_FB_FREE{host=~"$host"})',
        legendFormat: "{{host}} GPU {{gpu}}",
      },
    ]);
    expect(d.panels.map((p) => p.title)).toEqual(GPU_DASHBOARD.panels.map((p) => p.title));
  });

  it("leave a single host's dashboards without variables", () => {
    const single = container(planFromValues(rawValues("production"), "production"), "grafana");
    for (const uid of ["llmstack-gpu", "llmstack-vllm", "llmstack-litellm"]) {
      const json = JSON.parse(upload(single, `/etc/grafana/dashboards/${uid}.json`)) as Record<string, unknown>;
      expect([uid, "templating" in json]).toEqual([uid, false]);
    }
    expect("templating" in dashboardJson(GPU_DASHBOARD)).toBe(false);
  });
});
