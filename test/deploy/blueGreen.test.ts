/**
 * A blue-green rollout under Pulumi mocks: the program checks the new vLLM against the running one that
 * `llmstack up` hands over, and registers vLLM create-first under its generation's name.
 */
import type * as pulumi from "@pulumi/pulumi";
import { describe, expect, it, vi } from "vitest";
import { parseStackConfig } from "../../src/config/parse";
import { LAST_GOOD_ENV, lastGoodRecord } from "../../src/plan/lastGood";
import { runProgram } from "../helpers/pulumiMocks";
import { planFromValues, rawValues } from "../helpers/stacks";

const FILE = "Pulumi.development.yaml";
const ROLLOUT = { "llmstack:rollout": { strategy: "blue-green" } };

/** The record of the running stack: development as checked in, rolled out blue-green. */
function runningRecord(): string {
  const values = { ...rawValues("development"), rollout: { strategy: "blue-green" } };
  return JSON.stringify(
    lastGoodRecord({
      plan: planFromValues(values, "development"),
      config: parseStackConfig(values, FILE),
      values,
      secretsPresent: new Set(),
    }),
  );
}

describe("the program with llmstack:rollout blue-green", () => {
  it("refuses an update that was not handed the running config, before registering anything", async () => {
    vi.stubEnv(LAST_GOOD_ENV, undefined);
    const run = await runProgram("development", ROLLOUT);
    expect(run.error?.message).toBe(
      `${FILE}: llmstack:rollout.strategy blue-green checks the new vLLM against the running one, whose config ` +
        'llmstack up hands over (from the stack output lastGoodConfig); deploy with it; run "llmstack up --stack development"',
    );
    expect(run.containers()).toEqual([]);
  });

  it("refuses a model change on the GPUs the running vLLM holds", async () => {
    vi.stubEnv(LAST_GOOD_ENV, runningRecord());
    const model = { ...(rawValues("development").model as Record<string, unknown>), maxModelLen: 2048 };
    const run = await runProgram("development", { ...ROLLOUT, "llmstack:model": model });
    expect(run.error?.message).toMatch(/^Pulumi\.development\.yaml: llmstack:rollout\.strategy blue-green starts the new vLLM beside the running one, so they cannot share a GPU/);
    expect(run.containers()).toEqual([]);
  });

  it("registers vLLM under its generation's name, replaced create-first, when the stack has no good update yet", async () => {
    vi.stubEnv(LAST_GOOD_ENV, "none");
    const run = await runProgram("development", ROLLOUT);
    expect(run.error).toBeUndefined();
    const values = { ...rawValues("development"), rollout: { strategy: "blue-green" } };
    const name = planFromValues(values, "development").containers.find((c) => c.service === "vllm")!.name;
    expect(name).toMatch(/^llm-multimodal-stack-development-vllm-[0-9a-f]{8}$/);
    expect(run.byName("development-vllm-container").inputs.name).toBe(name);
    const opts = run.options.find((o) => o.name === "development-vllm-container")!.opts as pulumi.CustomResourceOptions;
    expect(opts.deleteBeforeReplace).toBe(false);
    // The URN stays: only the physical name carries the generation.
    expect(run.byName("development-vllm-container").type).toBe("docker:index/container:Container");
  });
});
