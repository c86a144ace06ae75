/**
 * Staging and production run images only by digest: `pulumi up` refuses a tag (the program, under Pulumi
 * mocks), `llmstack plan` still renders and lists what lacks one, development may use tags.
 */
import * as pulumi from "@pulumi/pulumi";
import { describe, expect, it, vi } from "vitest";
import { digestLine, hasDigest, unpinnedImages, unpinnedImagesMessage } from "../../src/plan/digests";
import { planJson, planTable } from "../../src/plan/render";
import { main } from "../../src/cli/main";
import { fakeIo } from "../helpers/fakeIo";
import { configFor, pinImagesForTests, ROOT, runProgram, testPinned } from "../helpers/pulumiMocks";
import { planFromValues, planOf, rawValues } from "../helpers/stacks";

/** What the checked-in files hold: tags, as no digest can be verified where they are written. */
const TAGGED = {
  "llmstack:images": rawValues("production").images,
  "llmstack:monitoring": rawValues("production").monitoring,
};

const PRODUCTION_UNPINNED =
  "vllm/vllm-openai:v0.21.0 (model-download, vllm), postgres:16.10 (postgres), redis:7.4.6 (redis), " +
  "qdrant/qdrant:v1.15.5 (qdrant), chrislusf/seaweedfs:3.97 (object-store), ghcr.io/berriai/litellm:v1.84.0 " +
  "(litellm, smoke-test), caddy:2.10.2 (gateway-tls), " +
  "nvcr.io/nvidia/k8s/dcgm-exporter:4.2.3-4.1.3-ubuntu22.04 (dcgm-exporter), prom/alertmanager:v0.28.1 " +
  "(alertmanager), prom/prometheus:v3.5.0 (prometheus), grafana/grafana:12.2.0 (grafana)";

const PRODUCTION_MESSAGE =
  "Pulumi.production.yaml: production runs images only by digest, so that a moved tag cannot change what runs, " +
  `but these have none: ${PRODUCTION_UNPINNED}. Pin them on a machine that can reach the registries (each image ` +
  "is written as repo:tag@sha256:<digest> into Pulumi.yaml, or the stack file where the stack sets its images), " +
  'review and commit the change, and deploy again; run "npx llmstack images pin --stack production"';

const pinnedPlan = (stack: string) =>
  planFromValues({ ...rawValues(stack), ...pinImagesForTests(rawValues(stack)) }, stack);

describe("which images need a digest", () => {
  it("reads a digest only after @", () => {
    expect(["postgres:16.10", "localhost:5000/x:1", `postgres:16.10@sha256:${"a".repeat(64)}`].map(hasDigest)).toEqual([
      false,
      false,
      true,
    ]);
  });

  it("development may run tags", () => {
    expect(unpinnedImages(planOf("development"))).toEqual([]);
    expect(digestLine(planOf("development"))).toBeNull();
  });

  it("production lists each tagged image once, with the containers that run it", () => {
    const plan = planOf("production");
    expect(unpinnedImagesMessage(plan, unpinnedImages(plan))).toBe(PRODUCTION_MESSAGE);
  });

  it("a pinned stack has none left", () => {
    for (const stack of ["staging", "production"]) {
      expect(unpinnedImages(pinnedPlan(stack))).toEqual([]);
      expect(digestLine(pinnedPlan(stack))).toBe("images: all pinned by digest");
    }
  });

  it("only the tagged ones are listed when some are pinned", () => {
    const values = { ...rawValues("staging"), ...pinImagesForTests(rawValues("staging")) };
    (values.images as Record<string, string>).postgres = "postgres:16.10";
    expect(unpinnedImages(planFromValues(values, "staging"))).toEqual([{ image: "postgres:16.10", services: ["postgres"] }]);
  });
});

describe("llmstack plan renders a stack without digests and lists them", () => {
  it("prints the table with the images to pin and the command, exit 0", async () => {
    const io = fakeIo(ROOT);
    expect(await main(["plan", "--stack", "production"], io)).toBe(0);
    expect(io.out().split("\n")).toContain(
      `images without a digest (production needs one): ${PRODUCTION_UNPINNED}; run: npx llmstack images pin --stack production`,
    );
  });

  it("says nothing of digests for development, and keeps them out of the JSON the diff compares", () => {
    expect(planTable(planOf("development"))).not.toContain("digest");
    expect(Object.keys(planJson(planOf("production")))).not.toContain("unpinnedImages");
  });
});

describe("pulumi up (the program under mocks)", () => {
  it("refuses production with tagged images before registering anything", async () => {
    const run = await runProgram("production", TAGGED);
    expect(run.error?.message).toBe(PRODUCTION_MESSAGE);
    expect(run.error?.name).toBe("StackConfigError");
    expect(run.registrations).toEqual([]);
  });

  it("refuses staging when one image lost its digest", async () => {
    const images = { ...(pinImagesForTests(rawValues("staging")).images as Record<string, string>), redis: "redis:7.4.6" };
    const run = await runProgram("staging", { "llmstack:images": images });
    expect(run.error?.message).toContain("these have none: redis:7.4.6 (redis). Pin them on a machine");
    expect(run.error?.message).toMatch(/; run "npx llmstack images pin --stack staging"$/);
    expect(run.registrations).toEqual([]);
  });

  it("deploys a pinned production stack by digest", async () => {
    const run = await runProgram("production");
    expect(run.error).toBeUndefined();
    expect(run.byName("production-postgres-image").inputs.name).toBe(testPinned("postgres:16.10"));
  });

  it("deploys development with tags", async () => {
    const run = await runProgram("development");
    expect(run.error).toBeUndefined();
    expect(run.byName("development-postgres-image").inputs.name).toBe("postgres:16.10");
  });

  // Last: a preview under mocks leaves outputs unknown, so this runs the program without awaiting them.
  it("previews a tagged production stack (a preview pulls nothing), warning instead", async () => {
    const warnings: string[] = [];
    pulumi.runtime.setMocks(
      { newResource: (a) => ({ id: `${a.name}-id`, state: a.inputs }), call: (a) => a.inputs },
      "llm-multimodal-stack",
      "production",
      true,
    );
    const { config, secretKeys } = configFor("production", TAGGED);
    pulumi.runtime.setAllConfig(config, secretKeys);
    const { deployStack } = await import("../../src/deploy/program");
    const warn = vi.spyOn(pulumi.log, "warn").mockImplementation(async (m: string) => void warnings.push(m));
    try {
      expect(() => deployStack()).not.toThrow();
    } finally {
      warn.mockRestore();
    }
    expect(warnings).toEqual([PRODUCTION_MESSAGE]);
  });
});
