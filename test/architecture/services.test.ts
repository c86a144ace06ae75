/**
 * The service table (src/config/services.ts) is the one list of services: every layer that names services
 * reads it, and these tests hold the places that cannot read it (the planner registries, Pulumi.yaml, the
 * image records, the deploy components) to it.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import { DEFAULT_MONITORING_IMAGES, monitoringImagesSchema } from "../../src/config/monitoringSchema";
import { gpuSchema, imagesSchema } from "../../src/config/schema";
import {
  componentType,
  imageSlots,
  ownImageKeys,
  SERVICE_NAMES,
  serviceEntry,
  serviceRuns,
  SERVICES,
  type ServiceName,
} from "../../src/config/services";
import { imageProblems } from "../../src/facts/imageChecks";
import { findImageFacts, imageFactsFor, OWN_IMAGE_CONTRACT } from "../../src/facts/images";
import type { PlannedContainer } from "../../src/facts/planned";
import { MONITORING_PLANNERS } from "../../src/monitoring/plan";
import { planJson } from "../../src/plan/render";
import { PLANNED_SERVICES, PLANNERS } from "../../src/plan/services";
import { ROOT, runProgram, testPinned } from "../helpers/pulumiMocks";
import { fleetPlan, fleetValues } from "../helpers/fleet";
import { planFromValues, rawValues } from "../helpers/stacks";

const PROJECT = "llm-multimodal-stack";
const projectImages = (
  parse(readFileSync(join(ROOT, "Pulumi.yaml"), "utf8")) as { config: Record<string, { value: Record<string, string> }> }
).config["llmstack:images"]!.value;

/** An image of your own for every own-image key of the table, as a stack that runs them all sets them. */
const ownImages = Object.fromEntries(
  ownImageKeys().map((key) => [key, `registry.example.com/acme/${key.toLowerCase()}:1.0.0`]),
);

/** Production with every service of the table running: your own images set, monitoring and TLS on. */
function everythingValues(): Record<string, any> {
  const values = rawValues("production") as Record<string, any>;
  values.images = { ...values.images, ...ownImages };
  values.monitoring = { ...values.monitoring, enabled: true };
  values.backup = { schedule: "03:30", keep: 7, to: "/srv/llmstack-backups" };
  return values;
}
const everything = planFromValues(everythingValues());

/**
 * The services a single-host stack cannot run: vLLM's router stands in front of replicas on several hosts
 * (model.router: cache_aware); test/deploy/fleet.test.ts deploys it on the example fleet.
 */
const HOSTS_ONLY: readonly ServiceName[] = ["vllm-router"];

const groupOf = (group: string): ServiceName[] => SERVICE_NAMES.filter((s) => serviceEntry(s).group === group);

describe("the service table", () => {
  it("gives every service exactly one planner, in the registry of its group", () => {
    expect([...PLANNED_SERVICES].sort()).toEqual(groupOf("stack").sort());
    expect(Object.keys(MONITORING_PLANNERS).sort()).toEqual(groupOf("monitoring").sort());
    // The check is planned last from every other container (src/plan/smokeTest.ts).
    expect(groupOf("check")).toEqual(["smoke-test"]);
    expect(Object.keys(PLANNERS).filter((s) => Object.hasOwn(MONITORING_PLANNERS, s))).toEqual([]);
  });

  it("is planned whole when everything runs: each planner plans its own service, under its physical name", () => {
    expect(everything.containers.map((c) => c.service).sort()).toEqual(SERVICE_NAMES.filter((s) => !HOSTS_ONLY.includes(s)).sort());
    for (const c of everything.containers) expect([c.service, c.name]).toEqual([c.service, `${PROJECT}-production-${c.service}`]);
    const fleet = fleetValues();
    fleet.model.router = "cache_aware";
    const onHosts = fleetPlan(fleet).containers.filter((c) => HOSTS_ONLY.includes(c.service));
    expect(onHosts.map((c) => [c.service, c.name])).toEqual(HOSTS_ONLY.map((s) => [s, `${PROJECT}-fleet-${s}`]));
  });

  it("runs a service on your own image only when the stack sets it", () => {
    const own = SERVICE_NAMES.filter((s) => serviceEntry(s).images.some((i) => i.own));
    expect(own).toEqual(expect.arrayContaining(["multimodal-worker", "retrieval-proxy"]));
    const planned = planFromValues(rawValues("production")).containers.map((c) => c.service);
    for (const s of own) {
      expect([s, serviceRuns({}, s), planned.includes(s)]).toEqual([s, false, false]);
      expect([s, serviceRuns(ownImages, s)]).toEqual([s, true]);
    }
  });

  it("lists the keys of llmstack:images and llmstack:monitoring.images, in table order", () => {
    expect(Object.keys(imagesSchema.shape)).toEqual(imageSlots("images").map((i) => i.slot.key));
    expect(Object.keys(imagesSchema.shape).slice(0, 3)).toEqual(["vllm", "vllmCpu", "litellm"]);
    expect(Object.keys(monitoringImagesSchema.shape)).toEqual(["dcgmExporter", "prometheus", "alertmanager", "grafana"]);
    expect(DEFAULT_MONITORING_IMAGES).toEqual({
      dcgmExporter: "nvcr.io/nvidia/k8s/dcgm-exporter:4.2.3-4.1.3-ubuntu22.04",
      prometheus: "prom/prometheus:v3.5.0",
      alertmanager: "prom/alertmanager:v0.28.1",
      grafana: "grafana/grafana:12.2.0",
    });
  });

  it("has each image key once, with its default in one place: Pulumi.yaml, the table (monitoring), or none (your own)", () => {
    const keys = [...imageSlots("images"), ...imageSlots("monitoring")].map((i) => i.slot.key);
    expect(new Set(keys).size).toBe(keys.length);
    for (const { service, slot } of imageSlots("images")) {
      const where = slot.own ? "none" : "Pulumi.yaml";
      expect([service, slot.key, slot.default, Object.hasOwn(projectImages, slot.key) ? "Pulumi.yaml" : "none"]).toEqual([
        service,
        slot.key,
        undefined,
        where,
      ]);
    }
    for (const { service, slot } of imageSlots("monitoring")) {
      expect([service, slot.key, typeof slot.default, slot.own]).toEqual([service, slot.key, "string", undefined]);
    }
    expect(Object.keys(projectImages).filter((k) => !keys.includes(k))).toEqual([]);
  });

  it("has a record of every image it runs by default, and holds every container of the whole plan to it", () => {
    const defaults = [
      ...imageSlots("images").flatMap(({ slot }) => (slot.own ? [] : [projectImages[slot.key]!])),
      ...imageSlots("monitoring").map(({ slot }) => slot.default!),
    ];
    expect(defaults.filter((ref) => findImageFacts(ref)?.ref !== ref)).toEqual([]);
    const own = new Set(Object.values(ownImages));
    const containers = planJson(everything).containers as PlannedContainer[];
    const problems = containers.flatMap((c) =>
      imageProblems(c, own.has(c.image) ? OWN_IMAGE_CONTRACT : imageFactsFor(c.image)),
    );
    expect(problems).toEqual([]);
  });

  it("gives each component its own type token, and a child's its parent's", () => {
    const tokens = SERVICE_NAMES.flatMap((s) => {
      const c = serviceEntry(s).component;
      return typeof c === "string" ? [c] : [];
    });
    expect(new Set(tokens).size).toBe(tokens.length);
    for (const t of tokens) expect(t).toMatch(/^llmstack:(service|check):[A-Z][A-Za-z0-9]*$/);
    expect(SERVICES["model-download"].component).toEqual({ within: "vllm" });
    expect(componentType("model-download")).toBe("llmstack:service:Vllm");
    expect(componentType("smoke-test")).toBe("llmstack:check:SmokeTest");
  });

  it("names GPU settings that the llmstack:gpu schema has", () => {
    const keys = Object.keys(gpuSchema.options[0].shape);
    for (const s of SERVICE_NAMES) {
      const gpu = serviceEntry(s).gpu;
      if (gpu === undefined || gpu === "watch") continue;
      expect([s, keys.includes(gpu.devicesKey), keys.includes(gpu.shareKey)]).toEqual([s, true, true]);
    }
  });
});

describe("the deployed stack with every service running", () => {
  it("creates each service's component under its table token", async () => {
    const images = Object.fromEntries(
      Object.entries({ ...projectImages, ...ownImages }).map(([k, ref]) => [k, testPinned(ref)]),
    );
    // Production runs monitoring and TLS already; configFor pins its monitoring images. The scheduled
    // backup is added.
    const run = await runProgram("production", {
      "llmstack:images": images,
      "llmstack:backup": { schedule: "03:30", keep: 7, to: "/srv/llmstack-backups" },
    });
    expect(run.error).toBeUndefined();
    const components = run.registrations.filter((r) => r.type.startsWith("llmstack:") && r.type !== "llmstack:index:LlmStack");
    const expected = SERVICE_NAMES.filter((s) => typeof serviceEntry(s).component === "string" && !HOSTS_ONLY.includes(s)).map(
      (s) => `${componentType(s)}::production-${s}`,
    );
    expect(components.map((r) => `${r.type}::${r.name}`).sort()).toEqual(expected.sort());
    // Every service has its container, the model download inside vLLM's component.
    const containers = run.containers().map((r) => r.name);
    for (const s of SERVICE_NAMES.filter((x) => !HOSTS_ONLY.includes(x))) {
      const name = s === "model-download" ? "production-vllm-model-download-container" : `production-${s}-container`;
      expect([s, containers.includes(name)]).toEqual([s, true]);
    }
  });
});
