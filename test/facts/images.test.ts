/**
 * Every container of every planned stack, as `llmstack plan --json` prints it, held against the records
 * of its image (src/facts/imageRecords.ts) and the Docker provider's rules (src/facts/dockerProvider.ts).
 */
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import { providerProblems } from "../../src/facts/dockerProvider";
import { imageProblems, type ImageExpectation } from "../../src/facts/imageChecks";
import { allImageFacts, imageFactsFor, OWN_IMAGE_CONTRACT } from "../../src/facts/images";
import type { PlannedContainer } from "../../src/facts/planned";
import { DEFAULT_MONITORING_IMAGES } from "../../src/config/monitoringSchema";
import { parseStackConfig } from "../../src/config/parse";
import { planJson } from "../../src/plan/render";
import { planStack } from "../../src/plan/stack";
import type { StackPlan } from "../../src/plan/types";
import { ROOT } from "../helpers/root";
import { APP_IMAGES, planFromValues, planOf, rawValues, STACKS, withAppImages } from "../helpers/stacks";
import { ownImageKeys, ownImageOf, SERVICE_NAMES } from "../../src/config/services";

/** The worker's and the retrieval proxy's images are the user's own (src/config/services.ts): held to their contract. */
const OWN_SERVICES = new Set<string>(SERVICE_NAMES.filter((s) => ownImageOf(APP_IMAGES, s) !== undefined));
const OWN_IMAGE_KEYS = new Set(ownImageKeys());

function expectationFor(c: PlannedContainer): ImageExpectation {
  return OWN_SERVICES.has(c.service) ? OWN_IMAGE_CONTRACT : imageFactsFor(c.image);
}

function variant(stack: string, edit: (v: Record<string, any>) => void): StackPlan {
  const values = rawValues(stack) as Record<string, any>;
  edit(values);
  return planFromValues(values, stack);
}

const VARIANTS: [string, StackPlan][] = [
  ...STACKS.map((s): [string, StackPlan] => [s, planOf(s)]),
  ["production with your own worker and retrieval proxy images", variant("production", (v) => withAppImages(v))],
  ["development on a CPU host", variant("development", (v) => (v.gpu = { mode: "cpu" }))],
  ["development with monitoring", variant("development", (v) => (v.monitoring = { enabled: true }))],
  [
    "production on a CPU host (monitoring, no DCGM exporter)",
    variant("production", (v) => (v.gpu = { mode: "cpu", kvCacheSpaceGiB: 8 })),
  ],
  [
    "production with its own TLS certificate and a pinned model revision",
    variant("production", (v) => {
      v.gateway = { bindAddress: "0.0.0.0", port: 443, tls: { mode: "certificate", domain: "llm.example.org" } };
      v.model = { ...v.model, revision: "a09a35458c702b33eeacc393d103063234e8bc28" };
    }),
  ],
];

describe.each(VARIANTS)("the %s plan", (_name, plan) => {
  const containers = planJson(plan).containers as PlannedContainer[];

  it("calls only programs its images have, uploads only files their users can read, has no empty string", () => {
    expect(containers.length).toBeGreaterThanOrEqual(8);
    expect(containers.flatMap((c) => imageProblems(c, expectationFor(c)))).toEqual([]);
  });

  it("complies with the Docker provider's rules", () => {
    expect(containers.flatMap(providerProblems)).toEqual([]);
  });

  it("writes every upload as the user its image runs as", () => {
    for (const c of containers.filter((x) => x.uploads.length > 0)) {
      const { uid, gid } = imageFactsFor(c.image).user;
      for (const u of c.uploads) expect([c.service, u.file, u.owner, u.group]).toEqual([c.service, u.file, String(uid), String(gid)]);
    }
  });
});

describe("the uploads that failed on a real host", () => {
  const prod = planJson(planOf("production")).containers as PlannedContainer[];
  const upload = (service: string, file: string) => {
    const c = prod.find((x) => x.service === service)!;
    const u = c.uploads.find((x) => x.file === file)!;
    return { owner: u.owner, group: u.group, permissions: u.permissions };
  };

  it("gives redis.conf to redis (999:999), the user redis 7.4.6's entrypoint drops to, readable by it alone", () => {
    expect(upload("redis", "/usr/local/etc/redis/redis.conf")).toEqual({ owner: "999", group: "999", permissions: "0400" });
  });

  it("gives the other secrets to their images' users: s3.json, Caddy's key and Prometheus's copy of the master key", () => {
    expect(upload("object-store", "/etc/seaweedfs/s3.json")).toEqual({ owner: "0", group: "0", permissions: "0400" });
    expect(upload("prometheus", "/etc/prometheus/secrets/litellm-master-key")).toEqual({
      owner: "65534",
      group: "65534",
      permissions: "0400",
    });
    expect(upload("grafana", "/etc/grafana/provisioning/datasources/llmstack.yml")).toEqual({
      owner: "472",
      group: "0",
      permissions: "0444",
    });
  });

  it("follows a SeaweedFS tag bump to the seaweed user once the new image has its record", () => {
    const values = rawValues("production") as Record<string, any>;
    values.images = { ...values.images, objectStore: "chrislusf/seaweedfs:4.01" };
    // Without a record the bump stops the plan before anything is created...
    expect(() => planFromValues(values)).toThrow(
      "Pulumi.production.yaml: the object-store container runs chrislusf/seaweedfs:4.01: no record of the image " +
        "chrislusf/seaweedfs:4.01",
    );
    // ...and with one (here as a reader of 4.01's entrypoint would write it: su-exec seaweed, #7451) the
    // identities file follows the image's user.
    const recorded = imageFactsFor("chrislusf/seaweedfs:3.97");
    const seaweed = { ...recorded, ref: "chrislusf/seaweedfs:4.01", user: { uid: 1000, gid: 1000, name: "seaweed", how: "su-exec" } };
    const plan = planStack({
      project: "llm-multimodal-stack",
      stack: "production",
      stackFile: "Pulumi.production.yaml",
      config: parseStackConfig(values, "Pulumi.production.yaml"),
      secretsPresent: new Set(),
      imageFacts: (ref) => (ref === seaweed.ref ? seaweed : imageFactsFor(ref)),
    });
    const store = plan.containers.find((c) => c.service === "object-store")!;
    expect(store.uploads.map((u) => [u.file, u.owner, u.group, u.permissions])).toEqual([
      ["/etc/seaweedfs/s3.json", "1000", "1000", "0400"],
    ]);
  });
});

describe("every image the program can run has a record", () => {
  const project = parse(readFileSync(join(ROOT, "Pulumi.yaml"), "utf8")) as {
    config: Record<string, { value: Record<string, string> }>;
  };
  const projectImages = Object.entries(project.config["llmstack:images"]!.value).filter(([k]) => !OWN_IMAGE_KEYS.has(k));

  it.each(projectImages)("Pulumi.yaml images.%s: %s", (_key, ref) => {
    expect(imageFactsFor(ref).ref).toBe(ref);
  });

  it.each(Object.entries(DEFAULT_MONITORING_IMAGES))("monitoring images.%s: %s", (_key, ref) => {
    expect(imageFactsFor(ref).ref).toBe(ref);
  });

  it("records exactly those images, each once", () => {
    const expected = [...projectImages.map(([, r]) => r), ...Object.values(DEFAULT_MONITORING_IMAGES)].sort();
    expect(allImageFacts().map((f) => f.ref).sort()).toEqual(expected);
  });

  it("stops a tag bump without a record, naming the image and the file to add a record to", () => {
    expect(() => imageFactsFor("redis:7.4.7")).toThrow(
      'no record of the image redis:7.4.7: the program needs to know the user it runs as, its entrypoint and the ' +
        "programs it has before it can plan a container on it. Read the image's Dockerfile and entrypoint at that " +
        'tag and add a record for "redis:7.4.7" to src/facts/imageRecords.ts, or use a recorded tag: redis:7.4.6',
    );
  });

  it("stops the plan of a stack that runs an unrecorded image where it uploads a file", () => {
    const values = rawValues("production") as Record<string, any>;
    values.images = { ...values.images, redis: "redis:7.4.7" };
    expect(() => planFromValues(values)).toThrow(
      "Pulumi.production.yaml: the redis container runs redis:7.4.7: no record of the image redis:7.4.7: ",
    );
  });

  it("looks a digest-pinned or fully qualified reference up by repository and tag", () => {
    const digest = `@sha256:${"a".repeat(64)}`;
    expect(imageFactsFor(`redis:7.4.6${digest}`).ref).toBe("redis:7.4.6");
    expect(imageFactsFor("docker.io/library/postgres:16.10").ref).toBe("postgres:16.10");
    expect(imageFactsFor(`ghcr.io/berriai/litellm:v1.84.0${digest}`).ref).toBe("ghcr.io/berriai/litellm:v1.84.0");
  });

  it("keeps each record consistent: no entrypoint means the command is the program", () => {
    for (const f of allImageFacts()) {
      expect([f.ref, f.entrypoint.length === 0]).toEqual([f.ref, f.commandRole === "program"]);
      expect([f.ref, f.programs.includes("sh")]).toEqual([f.ref, true]);
    }
  });

  it("keeps src/facts pure: no Pulumi import", () => {
    const dir = join(ROOT, "src", "facts");
    for (const f of readdirSync(dir).filter((n) => n.endsWith(".ts"))) {
      expect([f, /from "@pulumi\//.test(readFileSync(join(dir, f), "utf8"))]).toEqual([f, false]);
    }
  });

  it("records the CUDA the vLLM image needs, for the driver check", () => {
    expect(imageFactsFor("vllm/vllm-openai:v0.21.0").cuda).toMatchObject({
      version: "13.0",
      requireCuda: "cuda>=13.0",
      olderDriverVariant: "vllm/vllm-openai:v0.21.0-cu129",
    });
    expect(imageFactsFor("vllm/vllm-openai-cpu:v0.21.0").cuda).toBeUndefined();
  });
});
