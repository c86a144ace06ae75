/**
 * Volumes and the network in the plan diff: a volume dropped from the program, renamed by a project
 * rename, or given other options shows, with what `pulumi up` does to its data.
 */
import { describe, expect, it } from "vitest";
import { parseStackConfig } from "../../src/config/parse";
import { diffPlans } from "../../src/diff/compute";
import { diffMarkdown } from "../../src/diff/markdown";
import { diffText } from "../../src/diff/render";
import { diffVolumes, parsePlanDoc } from "../../src/diff/resources";
import type { PlanDoc } from "../../src/diff/types";
import { planJson } from "../../src/plan/render";
import { planStack } from "../../src/plan/stack";
import { rawValues } from "../helpers/stacks";

const PROJECT = "llm-multimodal-stack";

function doc(stack: string, edit: (v: Record<string, any>) => void = () => undefined, project = PROJECT): PlanDoc {
  const values = rawValues(stack) as Record<string, any>;
  edit(values);
  const stackFile = `Pulumi.${stack}.yaml`;
  const config = parseStackConfig(values, stackFile);
  const plan = planStack({ project, stack, stackFile, config, secretsPresent: new Set() });
  return planJson(plan) as unknown as PlanDoc;
}

const monitoringOff = (v: Record<string, any>): void => {
  v.monitoring.enabled = false;
};

const textLines = (d: ReturnType<typeof diffPlans>, prefix: string): string[] =>
  diffText(d).split("\n").filter((l) => l.includes(prefix));

describe("turning monitoring off", () => {
  it("production: both data volumes are protected, so pulumi up fails; the scratch volume is deleted", () => {
    const d = diffPlans({ stack: "production", base: "main", before: doc("production"), after: doc("production", monitoringOff) });
    const protectedRetained = { protect: true, retainOnDelete: true };
    expect(d.volumes).toEqual([
      {
        key: "prometheus-data",
        action: "delete",
        data: true,
        before: { name: `${PROJECT}-production-prometheus-data`, ...protectedRetained },
        outcome: "fails",
      },
      {
        key: "grafana-data",
        action: "delete",
        data: true,
        before: { name: `${PROJECT}-production-grafana-data`, ...protectedRetained },
        outcome: "fails",
      },
      {
        key: "litellm-metrics",
        action: "delete",
        data: false,
        before: { name: `${PROJECT}-production-litellm-metrics`, protect: false, retainOnDelete: false },
        outcome: "deleted",
      },
    ]);
    expect(d.changed).toBe(true);
    expect(textLines(d, "volume ")).toEqual([
      "-   DATA volume prometheus-data (llm-multimodal-stack-production-prometheus-data): removed from the program — " +
        "protected: `pulumi up` will fail on the protected delete; retained: the data stays on the host, orphaned",
      "-   DATA volume grafana-data (llm-multimodal-stack-production-grafana-data): removed from the program — " +
        "protected: `pulumi up` will fail on the protected delete; retained: the data stays on the host, orphaned",
      "-   volume litellm-metrics (llm-multimodal-stack-production-litellm-metrics): removed from the program — " +
        "deleted with its contents",
    ]);
    // Caddy serves no Grafana route by default, so the gateway's TLS proxy is unchanged.
    expect(diffText(d).split("\n").at(-2)).toBe(
      "2 to replace, 0 to update in place, 0 to create, 4 to delete, 7 unchanged; volumes: 3 to delete",
    );
    const md = diffMarkdown(d);
    expect(md).toContain(
      "> [!CAUTION]\n" +
        "> - DATA volume `prometheus-data` (`llm-multimodal-stack-production-prometheus-data`): removed from the program — " +
        "protected: `pulumi up` will fail on the protected delete; retained: the data stays on the host, orphaned.\n" +
        "> - DATA volume `grafana-data` (`llm-multimodal-stack-production-grafana-data`): removed from the program — " +
        "protected: `pulumi up` will fail on the protected delete; retained: the data stays on the host, orphaned.\n\n",
    );
    expect(md).toContain(
      "| | Volume | What `pulumi up` does |\n|---|---|---|\n" +
        "| - | DATA volume `prometheus-data` (`llm-multimodal-stack-production-prometheus-data`) | removed from the program — " +
        "protected: `pulumi up` will fail on the protected delete; retained: the data stays on the host, orphaned |\n",
    );
  });

  it("staging: the data volumes are retained, not protected: the data stays on the host, orphaned", () => {
    const d = diffPlans({ stack: "staging", base: "main", before: doc("staging"), after: doc("staging", monitoringOff) });
    expect(d.volumes.map((v) => [v.key, v.action, v.data, v.outcome])).toEqual([
      ["prometheus-data", "delete", true, "orphaned"],
      ["grafana-data", "delete", true, "orphaned"],
      ["litellm-metrics", "delete", false, "deleted"],
    ]);
    expect(textLines(d, "prometheus-data")).toEqual([
      "-   DATA volume prometheus-data (llm-multimodal-stack-staging-prometheus-data): removed from the program — " +
        "retained: the data stays on the host, orphaned",
    ]);
  });
});

describe("turning TLS off", () => {
  it("production: the certificate volume tls-data is protected, so pulumi up fails on its delete", () => {
    const tlsOff = (v: Record<string, any>): void => {
      delete v.gateway.tls;
      v.gateway.bindAddress = "127.0.0.1";
    };
    const d = diffPlans({ stack: "production", base: "main", before: doc("production"), after: doc("production", tlsOff) });
    expect(d.volumes).toEqual([
      {
        key: "tls-data",
        action: "delete",
        data: true,
        before: { name: `${PROJECT}-production-tls-data`, protect: true, retainOnDelete: true },
        outcome: "fails",
      },
    ]);
    expect(d.containers.find((c) => c.service === "gateway-tls")!.action).toBe("delete");
  });
});

describe("a project rename", () => {
  const before = doc("production");
  const after = doc("production", () => undefined, "acme-llm");
  const d = diffPlans({ stack: "production", base: "main", before, after });

  it("renames every volume: each new one is empty, and protected ones fail the update", () => {
    expect(d.volumes.map((v) => [v.key, v.action, v.before!.name, v.after!.name, v.outcome])).toEqual(
      (before.volumes ?? []).map((v) => [
        v.key,
        "rename",
        `${PROJECT}-production-${v.key}`,
        `acme-llm-production-${v.key}`,
        v.protect ? "fails" : "deleted",
      ]),
    );
    expect(d.volumes.find((v) => v.key === "postgres-data")).toEqual({
      key: "postgres-data",
      action: "rename",
      data: true,
      before: { name: `${PROJECT}-production-postgres-data`, protect: true, retainOnDelete: true },
      after: { name: "acme-llm-production-postgres-data", protect: true, retainOnDelete: true },
      outcome: "fails",
    });
    expect(textLines(d, "postgres-data:")).toEqual([
      "-/+ DATA volume postgres-data: physical name llm-multimodal-stack-production-postgres-data → " +
        "acme-llm-production-postgres-data: a new, EMPTY volume is created — protected: `pulumi up` will fail on the protected replacement",
    ]);
  });

  it("replaces the network", () => {
    expect(d.network).toEqual({ action: "replace", before: `${PROJECT}-production`, after: "acme-llm-production" });
    expect(textLines(d, "network ")).toEqual([
      "network llm-multimodal-stack-production → acme-llm-production: replaced, and every container on it with it",
    ]);
    expect(diffMarkdown(d)).toContain(
      "\n\nNetwork `llm-multimodal-stack-production` → `acme-llm-production`: replaced, and every container on it with it.\n",
    );
  });

  it("staging: a retained volume keeps its data in the old volume, orphaned", () => {
    const s = diffPlans({
      stack: "staging",
      base: "main",
      before: doc("staging"),
      after: doc("staging", () => undefined, "acme-llm"),
    });
    expect(textLines(s, "qdrant-data:")).toEqual([
      "-/+ DATA volume qdrant-data: physical name llm-multimodal-stack-staging-qdrant-data → acme-llm-staging-qdrant-data: " +
        "a new, EMPTY volume is created — retained: the data stays in llm-multimodal-stack-staging-qdrant-data on the host, " +
        "orphaned, and the containers start on the empty volume",
    ]);
  });

  it("unprotecting in the same change lets the replacement through (Pulumi allows both in one update)", () => {
    const unprotected = doc("production", (v) => (v.data = { protect: false }), "acme-llm");
    const u = diffPlans({ stack: "production", base: "main", before, after: unprotected });
    expect(u.volumes.find((v) => v.key === "postgres-data")!.outcome).toBe("orphaned");
  });
});

describe("option changes and edge cases", () => {
  it("unprotecting the data volumes changes nothing on the host, and says what it allows", () => {
    const d = diffPlans({
      stack: "production",
      base: "main",
      before: doc("production"),
      after: doc("production", (v) => (v.data = { protect: false })),
    });
    expect(d.volumes.map((v) => [v.key, v.action])).toEqual(
      ["hf-cache", "postgres-data", "redis-data", "qdrant-data", "object-store-data", "tls-data", "prometheus-data", "grafana-data"].map(
        (k) => [k, "options"],
      ),
    );
    expect(textLines(d, "postgres-data")).toEqual([
      "~   DATA volume postgres-data (llm-multimodal-stack-production-postgres-data): protected, retained → retained; " +
        "nothing changes on the host; a later removal is no longer refused",
    ]);
    expect(d.changed).toBe(true);
  });

  it("a new stack creates every volume and the network", () => {
    const after = doc("production");
    const d = diffPlans({ stack: "production", base: "main", before: null, after });
    expect(d.volumes.map((v) => v.action)).toEqual((after.volumes ?? []).map(() => "create"));
    expect(d.network).toEqual({ action: "create", after: `${PROJECT}-production` });
    expect(textLines(d, "hf-cache")).toEqual([
      "+   DATA volume hf-cache (llm-multimodal-stack-production-hf-cache): created, empty (protected, retained)",
    ]);
  });

  it("a base plan without a volume list says volume changes cannot be shown", () => {
    const { volumes: _v, ...old } = doc("production");
    expect(diffVolumes(old, doc("production"))).toEqual({ volumes: [], unknown: true });
    const d = diffPlans({ stack: "production", base: "v0.1", before: old, after: doc("production") });
    expect(textLines(d, "lists no volumes")).toEqual(["    the plan at v0.1 lists no volumes: volume changes cannot be shown"]);
  });

  it("a revision's plan document is checked before it is read", () => {
    expect(() => parsePlanDoc("not json")).toThrow('it did not print JSON: "not json"');
    expect(() => parsePlanDoc('{"stack":"p","containers":[{"service":1}]}')).toThrow(
      'its JSON is not a plan document: containers[0] needs a string "service" and "name"',
    );
    expect(() => parsePlanDoc('{"stack":"p","containers":[],"volumes":[{"key":"k"}]}')).toThrow(
      'its JSON is not a plan document: volumes[0] needs a string "key" and "name" and boolean "protect" and "retainOnDelete"',
    );
    expect(parsePlanDoc('{"stack":"p","containers":[],"network":"n"}')).toEqual({ stack: "p", containers: [], network: "n" });
  });
});
