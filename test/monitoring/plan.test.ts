import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import { INTERNAL_PORTS } from "../../src/plan/common";
import { MONITORING_PORTS } from "../../src/monitoring/common";
import { DCGM_COUNTERS, takesGpuMemory } from "../../src/monitoring/dcgm";
import { DEFAULT_MONITORING_IMAGES } from "../../src/config/monitoringSchema";
import type { StackPlan } from "../../src/plan/types";
import { container, planFromValues, rawValues, withAppImages } from "../helpers/stacks";

function withMonitoring(stack: string, monitoring: Record<string, unknown>, appImages = false): StackPlan {
  const raw = appImages ? withAppImages(rawValues(stack)) : rawValues(stack);
  raw.monitoring = monitoring;
  return planFromValues(raw, stack);
}

function upload(plan: StackPlan, service: Parameters<typeof container>[1], file: string): string {
  const u = container(plan, service).uploads.find((x) => x.file === file);
  if (!u) throw new Error(`${service} has no upload ${file}`);
  if (typeof u.content !== "string") throw new Error(`${file} is not plain text`);
  return u.content;
}

const staging = (): StackPlan => planFromValues(rawValues("staging"), "staging");

describe("monitoring in the staging plan", () => {
  it("adds the four containers with pinned images, on top of the stack's own", () => {
    const plan = staging();
    const monitoring = plan.containers.slice(-4);
    expect(monitoring.map((c) => [c.service, c.name, c.image])).toEqual([
      ["dcgm-exporter", "llm-multimodal-stack-staging-dcgm-exporter", DEFAULT_MONITORING_IMAGES.dcgmExporter],
      ["alertmanager", "llm-multimodal-stack-staging-alertmanager", "prom/alertmanager:v0.28.1"],
      ["prometheus", "llm-multimodal-stack-staging-prometheus", "prom/prometheus:v3.5.0"],
      ["grafana", "llm-multimodal-stack-staging-grafana", "grafana/grafana:12.2.0"],
    ]);
    expect(DEFAULT_MONITORING_IMAGES.dcgmExporter).toBe("nvcr.io/nvidia/k8s/dcgm-exporter:4.2.3-4.1.3-ubuntu22.04");
  });

  it("gives DCGM every stack GPU for NVML only, and keeps it out of the GPU map and the memory budget", () => {
    const plan = planFromValues(withAppImages(rawValues("staging")), "staging");
    const dcgm = container(plan, "dcgm-exporter");
    expect(dcgm.deviceRequests).toEqual([{ driver: "nvidia", deviceIds: ["0", "1"], capabilities: ["gpu", "utility"] }]);
    expect(dcgm.gpu).toBe(false);
    expect(takesGpuMemory(dcgm)).toBe(false);
    expect(takesGpuMemory(container(plan, "vllm"))).toBe(true);
    expect(takesGpuMemory(container(plan, "multimodal-worker"))).toBe(true);
    expect(plan.gpuMap.map((g) => g.service)).toEqual(["vllm", "multimodal-worker"]);
    expect(dcgm.command).toEqual(["-f", "/etc/dcgm-exporter/llmstack-counters.csv", "-a", ":9400"]);
    const csv = upload(plan, "dcgm-exporter", "/etc/dcgm-exporter/llmstack-counters.csv");
    const fields = csv.split("\n").filter((l) => l && !l.startsWith("#")).map((l) => l.split(", ")[0]);
    expect(fields).toEqual(DCGM_COUNTERS.map((c) => c[0]));
  });

  it("scrapes the real container aliases and ports, LiteLLM with the master key from a file", () => {
    const plan = staging();
    const cfg = parse(upload(plan, "prometheus", "/etc/prometheus/prometheus.yml"));
    const targets = cfg.scrape_configs.map((s: { job_name: string; metrics_path: string; static_configs: { targets: string[] }[] }) => [
      s.job_name,
      s.static_configs[0]!.targets[0],
      s.metrics_path,
    ]);
    expect(targets).toEqual([
      ["dcgm", "dcgm-exporter:9400", "/metrics"],
      ["vllm", `vllm:${INTERNAL_PORTS.vllm}`, "/metrics"],
      ["litellm", `litellm:${INTERNAL_PORTS.litellm}`, "/metrics/"],
      ["alertmanager", "alertmanager:9093", "/metrics"],
      ["prometheus", "localhost:9090", "/metrics"],
    ]);
    // Every target host is a service the plan runs (its network alias), on a port that service listens on.
    const services = new Set(plan.containers.map((c) => c.service));
    for (const [, target] of targets.slice(0, 4)) expect(services.has(String(target).split(":")[0] as never)).toBe(true);
    expect(container(plan, "vllm").command).toContain(String(INTERNAL_PORTS.vllm));
    expect(container(plan, "litellm").command).toContain(String(INTERNAL_PORTS.litellm));
    expect(cfg.scrape_configs[2].authorization).toEqual({
      type: "Bearer",
      credentials_file: "/etc/prometheus/secrets/litellm-master-key",
    });
    const key = container(plan, "prometheus").uploads.find((u) => u.file === "/etc/prometheus/secrets/litellm-master-key");
    expect(key?.content).toEqual({ secret: "litellmMasterKey", encode: "token" });
    expect(cfg.rule_files).toEqual(["/etc/prometheus/rules/llmstack.rules.yml"]);
    expect(cfg.alerting.alertmanagers[0].static_configs[0].targets).toEqual(["alertmanager:9093"]);
    expect(container(plan, "prometheus").command).toEqual([
      "--config.file=/etc/prometheus/prometheus.yml",
      "--storage.tsdb.path=/prometheus",
      "--storage.tsdb.retention.time=15d",
      "--web.listen-address=:9090",
    ]);
  });

  it("turns on LiteLLM's prometheus callback, auth on /metrics, and a shared multiprocess directory", () => {
    const plan = staging();
    const litellm = container(plan, "litellm");
    const cfg = parse(upload(plan, "litellm", "/app/config.yaml"));
    expect(cfg.litellm_settings).toEqual({
      drop_params: true,
      callbacks: ["prometheus"],
      require_auth_for_metrics_endpoint: true,
    });
    expect(litellm.env.PROMETHEUS_MULTIPROC_DIR).toBe("/prometheus_multiproc");
    expect(litellm.volumes).toEqual([{ volume: "litellm-metrics", containerPath: "/prometheus_multiproc" }]);
  });

  it("keeps Prometheus and Grafana data in retained volumes; LiteLLM's scratch directory is not retained", () => {
    const plan = staging();
    expect(plan.volumes.slice(-3)).toEqual([
      { key: "prometheus-data", name: "llm-multimodal-stack-staging-prometheus-data", retainOnDelete: true, protect: false },
      { key: "grafana-data", name: "llm-multimodal-stack-staging-grafana-data", retainOnDelete: true, protect: false },
      { key: "litellm-metrics", name: "llm-multimodal-stack-staging-litellm-metrics", retainOnDelete: false, protect: false },
    ]);
    expect(container(plan, "prometheus").volumes).toEqual([{ volume: "prometheus-data", containerPath: "/prometheus" }]);
    expect(container(plan, "grafana").volumes).toEqual([{ volume: "grafana-data", containerPath: "/var/lib/grafana" }]);
  });

  it("passes Grafana's admin password as a required secret in the environment, never in argv", () => {
    const plan = staging();
    const grafana = container(plan, "grafana");
    expect(grafana.env.GF_SECURITY_ADMIN_PASSWORD).toEqual({ secret: "grafanaAdminPassword", encode: "grafana" });
    expect(JSON.stringify(grafana.command)).not.toContain("grafanaAdminPassword");
    expect(plan.secrets.find((s) => s.name === "grafanaAdminPassword")).toEqual({
      name: "grafanaAdminPassword",
      source: "config",
      present: false,
      optional: false,
    });
    // Grafana is never published, and the gateway does not serve it unless the stack file asks.
    expect(grafana.ports).toEqual([]);
    expect(grafana.env.GF_SERVER_ROOT_URL).toBeUndefined();
    expect(grafana.env.GF_SERVER_SERVE_FROM_SUB_PATH).toBeUndefined();
    expect(grafana.dependsOn).toEqual(["prometheus"]);
  });

  it("serves Grafana from the /grafana/ sub-path when it is reached through the gateway", () => {
    const grafana = container(withMonitoring("staging", { enabled: true, grafana: { viaGateway: true } }), "grafana");
    expect(grafana.ports).toEqual([]);
    expect(grafana.env.GF_SERVER_ROOT_URL).toBe("%(protocol)s://%(domain)s/grafana/");
    expect(grafana.env.GF_SERVER_SERVE_FROM_SUB_PATH).toBe("true");
  });

  it("refuses viaGateway on a stack without TLS in front of the gateway", () => {
    expect(() => withMonitoring("development", { enabled: true, grafana: { viaGateway: true } })).toThrow(
      "  - llmstack:monitoring.grafana.viaGateway: Grafana is served through the gateway's TLS proxy, which this " +
        "stack does not run (no gateway.tls); add gateway.tls or set viaGateway: false and reach Grafana through " +
        "an SSH tunnel (got true)",
    );
  });

  it("provisions the Prometheus data source at the prometheus alias and three dashboards", () => {
    const plan = staging();
    const ds = parse(upload(plan, "grafana", "/etc/grafana/provisioning/datasources/llmstack.yml"));
    expect(ds.datasources).toEqual([
      {
        name: "Prometheus",
        uid: "llmstack-prometheus",
        type: "prometheus",
        access: "proxy",
        url: `http://prometheus:${MONITORING_PORTS.prometheus}`,
        isDefault: true,
        editable: false,
      },
    ]);
    const providers = parse(upload(plan, "grafana", "/etc/grafana/provisioning/dashboards/llmstack.yml"));
    expect(providers.providers[0].options).toEqual({ path: "/etc/grafana/dashboards" });
    const files = container(plan, "grafana").uploads.map((u) => u.file).filter((f) => f.endsWith(".json"));
    expect(files).toEqual([
      "/etc/grafana/dashboards/llmstack-gpu.json",
      "/etc/grafana/dashboards/llmstack-vllm.json",
      "/etc/grafana/dashboards/llmstack-litellm.json",
    ]);
  });
});

describe("monitoring options", () => {
  it("is off in development: no monitoring containers, volumes, secrets or LiteLLM changes", () => {
    const plan = planFromValues(rawValues("development"), "development");
    const services = plan.containers.map((c) => c.service);
    for (const s of ["dcgm-exporter", "prometheus", "alertmanager", "grafana"]) expect(services).not.toContain(s);
    expect(plan.secrets.map((s) => s.name)).not.toContain("grafanaAdminPassword");
    expect(container(plan, "litellm").env.PROMETHEUS_MULTIPROC_DIR).toBeUndefined();
  });

  it("generates Grafana's password in development when monitoring is turned on there", () => {
    const plan = withMonitoring("development", { enabled: true });
    expect(plan.secrets.find((s) => s.name === "grafanaAdminPassword")).toEqual({
      name: "grafanaAdminPassword",
      source: "generated",
      present: true,
      optional: false,
    });
  });

  it("routes alerts to a webhook or e-mail from the stack file", () => {
    const hook = withMonitoring("staging", { enabled: true, receiver: { type: "webhook", url: "https://hooks.example.org/a" } });
    expect(parse(upload(hook, "alertmanager", "/etc/alertmanager/alertmanager.yml")).receivers).toEqual([
      { name: "llmstack", webhook_configs: [{ url: "https://hooks.example.org/a", send_resolved: true }] },
    ]);
    const mail = withMonitoring("staging", {
      enabled: true,
      receiver: { type: "email", to: "ops@example.org", from: "llm@example.org", smarthost: "mail.example.org:587" },
    });
    expect(parse(upload(mail, "alertmanager", "/etc/alertmanager/alertmanager.yml")).receivers).toEqual([
      {
        name: "llmstack",
        email_configs: [
          { to: "ops@example.org", from: "llm@example.org", smarthost: "mail.example.org:587", require_tls: true, send_resolved: true },
        ],
      },
    ]);
  });

  it("rejects a floating image and a misspelt key with the key named", () => {
    expect(() => withMonitoring("staging", { enabled: true, images: { grafana: "grafana/grafana:latest" } })).toThrow(
      'llmstack:monitoring.images.grafana: staging needs a pinned image version; "grafana/grafana:latest" floats: ' +
        "use a version tag such as grafana/grafana:1.2.3 (optionally with @sha256:<digest>)",
    );
    expect(() => withMonitoring("staging", { enabled: true, alert: {} })).toThrow("llmstack:monitoring.alert: unknown key");
  });

  it("rejects a GPU memory threshold the plan's own booking would always cross", () => {
    expect(() => withMonitoring("staging", { enabled: true, alerts: { gpuMemoryUsedFraction: 0.9 } }, true)).toThrow(
      "Pulumi.staging.yaml: llmstack:monitoring.alerts.gpuMemoryUsedFraction is 0.9, but the stack books 0.932 of a GPU's memory up front (vLLM's memoryUtilization, the worker's share and their CUDA contexts), so the alert would always fire; set it above 0.932 (at most 0.99), or remove it to use 0.99",
    );
  });

  it("books no share for a worker that does not run: vLLM's 0.85 alone, so 0.9 is a valid threshold", () => {
    const plan = withMonitoring("staging", { enabled: true, alerts: { gpuMemoryUsedFraction: 0.9 } });
    const rules = parse(upload(plan, "prometheus", "/etc/prometheus/rules/llmstack.rules.yml"));
    const near = rules.groups[0].rules.find((r: { alert: string }) => r.alert === "GpuMemoryNearFull");
    expect(near.expr).toBe("max by (gpu, UUID, modelName) (DCGM_FI_DEV_FB_USED / (DCGM_FI_DEV_FB_USED + DCGM_FI_DEV_FB_FREE)) > 0.9");
  });

  it("has no DCGM exporter, GPU dashboard or GPU alerts on a CPU host", () => {
    const raw = rawValues("development");
    raw.gpu = { mode: "cpu" };
    raw.monitoring = { enabled: true };
    const plan = planFromValues(raw, "development");
    expect(plan.containers.map((c) => c.service)).not.toContain("dcgm-exporter");
    const rules = parse(upload(plan, "prometheus", "/etc/prometheus/rules/llmstack.rules.yml"));
    expect(rules.groups[0].rules.map((r: { alert: string }) => r.alert)).toEqual([
      "VllmDown",
      "KvCacheSaturated",
      "GatewayErrorRateHigh",
    ]);
    const cfg = parse(upload(plan, "prometheus", "/etc/prometheus/prometheus.yml"));
    expect(cfg.scrape_configs.map((s: { job_name: string }) => s.job_name)).toEqual(["vllm", "litellm", "alertmanager", "prometheus"]);
  });
});
