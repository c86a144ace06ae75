/**
 * The rule file and dashboards are valid: parsed and checked for structure here. promtool itself checks
 * the rules in test/integration/configFiles.test.ts (`npm run test:integration`).
 */
import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import { DCGM_COUNTERS } from "../../src/monitoring/dcgm";
import type { StackPlan } from "../../src/plan/types";
import { container, planFromValues, rawValues } from "../helpers/stacks";

const plan: StackPlan = planFromValues(rawValues("production"), "production");
const uploads = (service: "prometheus" | "grafana") =>
  container(plan, service).uploads.map((u) => ({ file: u.file, content: typeof u.content === "string" ? u.content : "" }));
const rulesText = uploads("prometheus").find((u) => u.file.endsWith("llmstack.rules.yml"))!.content;

interface Rule {
  alert: string;
  expr: string;
  for: string;
  labels: Record<string, string>;
  annotations: Record<string, string>;
}

describe("the Prometheus rule file", () => {
  const doc = parse(rulesText) as { groups: { name: string; rules: Rule[] }[] };

  it("has one group with the five alerts, each with a duration, severity and text", () => {
    expect(doc.groups.map((g) => g.name)).toEqual(["llmstack"]);
    const rules = doc.groups[0]!.rules;
    expect(rules.map((r) => [r.alert, r.for, r.labels.severity])).toEqual([
      ["GpuTemperatureHigh", "5m", "warning"],
      ["GpuMemoryNearFull", "5m", "warning"],
      ["VllmDown", "2m", "critical"],
      ["KvCacheSaturated", "5m", "warning"],
      ["GatewayErrorRateHigh", "5m", "critical"],
    ]);
    for (const r of rules) expect(Object.keys(r.annotations)).toEqual(["summary", "description"]);
  });

  it("takes its thresholds from the stack config (production books 1.0 of GPU 1, so memory caps at 0.99)", () => {
    const rules = doc.groups[0]!.rules;
    expect(rules.map((r) => r.expr.match(/> ([\d.]+)$/)?.[1])).toEqual(["83", "0.99", undefined, "0.9", "0.05"]);
    const custom = rawValues("production");
    custom.monitoring = { enabled: true, alerts: { gpuTemperatureCelsius: 78, kvCacheUsageFraction: 0.8, forMinutes: 10 } };
    const p = planFromValues(custom, "production");
    const text = p.containers.find((c) => c.service === "prometheus")!.uploads[1]!.content as string;
    const r2 = (parse(text) as typeof doc).groups[0]!.rules;
    expect(r2[0]!.expr).toBe("max by (gpu, UUID, modelName) (DCGM_FI_DEV_GPU_TEMP) > 78");
    expect(r2[3]!.expr).toBe("max(vllm:kv_cache_usage_perc) > 0.8");
    expect(r2[0]!.for).toBe("10m");
  });

  it("uses only DCGM fields the exporter is told to collect", () => {
    const collected = new Set<string>(DCGM_COUNTERS.map((c) => c[0]));
    const used = [...rulesText.matchAll(/DCGM_FI_[A-Z_]+/g)].map((m) => m[0]);
    expect(used.length).toBeGreaterThan(0);
    for (const f of used) expect(collected.has(f)).toBe(true);
  });
});

describe("the Grafana dashboards", () => {
  const dashboards = uploads("grafana")
    .filter((u) => u.file.endsWith(".json"))
    .map((u) => JSON.parse(u.content) as {
      uid: string;
      title: string;
      panels: { id: number; title: string; datasource: { uid: string }; gridPos: { x: number; y: number; w: number; h: number }; targets: { refId: string; expr: string; datasource: { uid: string } }[] }[];
    });

  it("are JSON dashboards with the panels the operators asked for", () => {
    expect(dashboards.map((d) => [d.uid, d.panels.map((p) => p.title)])).toEqual([
      ["llmstack-gpu", ["GPU utilisation", "GPU memory used", "Temperature", "Power draw", "NVLink traffic", "SM clock"]],
      ["llmstack-vllm", ["Requests", "Tokens per second", "Time to first token", "KV cache usage", "Queue", "End-to-end latency"]],
      ["llmstack-litellm", ["Requests", "Errors", "Latency"]],
    ]);
  });

  it("query only the provisioned data source, with unique panel ids and non-overlapping positions", () => {
    for (const d of dashboards) {
      expect(new Set(d.panels.map((p) => p.id)).size).toBe(d.panels.length);
      const cells = d.panels.map((p) => `${p.gridPos.x},${p.gridPos.y}`);
      expect(new Set(cells).size).toBe(cells.length);
      for (const p of d.panels) {
        expect(p.datasource.uid).toBe("llmstack-prometheus");
        expect(p.targets.length).toBeGreaterThan(0);
        for (const t of p.targets) {
          expect(t.datasource.uid).toBe("llmstack-prometheus");
          // Balanced parentheses: a cheap guard against a broken PromQL string.
          let depth = 0;
          for (const ch of t.expr) {
            depth += ch === "(" ? 1 : ch === ")" ? -1 : 0;
            expect(depth).toBeGreaterThanOrEqual(0);
          }
          expect(depth).toBe(0);
        }
      }
    }
  });
});
