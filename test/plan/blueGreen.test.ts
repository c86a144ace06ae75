/**
 * llmstack:rollout blue-green: vLLM per generation, created before the old one is deleted, LiteLLM moved to
 * it by name; refused when the new vLLM cannot run beside the running one. Stacks without it plan as before.
 */
import { describe, expect, it } from "vitest";
import { StackConfigError } from "../../src/config/errors";
import { parseStackConfig } from "../../src/config/parse";
import { vllmGeneration } from "../../src/plan/blueGreen";
import { textToString } from "../../src/plan/render";
import { planStack } from "../../src/plan/stack";
import type { StackPlan } from "../../src/plan/types";
import { container, planFromValues, rawValues, STACKS, withAppImages } from "../helpers/stacks";

const FILE = "Pulumi.development.yaml";
const PROJECT = "llm-multimodal-stack";

type Values = Record<string, unknown>;

const gpuOf = (v: Values) => v.gpu as Record<string, unknown>;

/** Development with a blue-green rollout, its GPU section changed by `gpu`, its model by `model`. */
function blueGreen(gpu: Values = {}, model: Values = {}, base: Values = rawValues("development")): Values {
  return {
    ...base,
    rollout: { strategy: "blue-green" },
    gpu: { ...gpuOf(base), ...gpu },
    model: { ...(base.model as Values), ...model },
  };
}

function plan(values: Values, running?: Values): StackPlan {
  const config = parseStackConfig(values, FILE);
  return planStack({
    project: PROJECT,
    stack: "development",
    stackFile: FILE,
    config,
    secretsPresent: new Set(),
    ...(running !== undefined ? { running: parseStackConfig(running, FILE) } : {}),
  });
}

const litellmConfig = (p: StackPlan): string => textToString(container(p, "litellm").uploads[0]!.content, () => "********");

describe("a stack without llmstack:rollout", () => {
  it.each(STACKS)("%s: vLLM keeps its one name, replaces delete-first, and LiteLLM reaches it as vllm", (stack) => {
    const p = planFromValues(rawValues(stack), stack);
    expect(container(p, "vllm").name).toBe(`${PROJECT}-${stack}-vllm`);
    expect(container(p, "vllm").deleteBeforeReplace).toBe(true);
    expect(litellmConfig(p)).toContain("api_base: http://vllm:8000/v1\n");
  });
});

describe("llmstack:rollout blue-green", () => {
  it("names vLLM by its generation, creates it before deleting the old one, and points LiteLLM at that name", () => {
    const p = plan(blueGreen());
    const ctx = { project: PROJECT, stack: "development", stackFile: FILE, config: parseStackConfig(blueGreen(), FILE) };
    const name = `${PROJECT}-development-vllm-${vllmGeneration(ctx)}`;
    expect(vllmGeneration(ctx)).toMatch(/^[0-9a-f]{8}$/);
    expect(container(p, "vllm").name).toBe(name);
    expect(container(p, "vllm").deleteBeforeReplace).toBe(false);
    expect(litellmConfig(p)).toContain(`api_base: http://${name}:8000/v1\n`);
    // The gateway changes only after vLLM's create, which waits for its health check.
    expect(container(p, "litellm").dependsOn).toContain("vllm");
    expect(container(p, "vllm").wait).toBe(true);
  });

  it("a new generation for a vLLM change, the same one for a change elsewhere", () => {
    const name = (v: Values) => container(plan(v), "vllm").name;
    expect(name(blueGreen({}, { maxModelLen: 2048 }))).not.toBe(name(blueGreen()));
    expect(name({ ...blueGreen(), gateway: { bindAddress: "127.0.0.1", port: 4100 } })).toBe(name(blueGreen()));
  });

  it("plans a model change onto GPUs the running vLLM does not use", () => {
    const running = blueGreen({ vllmDevices: ["0", "1"], workerDevices: ["1"] });
    const next = blueGreen({ vllmDevices: ["2", "3"], workerDevices: ["3"] }, { maxModelLen: 2048 });
    const p = plan(next, running);
    expect(container(p, "vllm").deviceRequests[0]!.deviceIds).toEqual(["2", "3"]);
    expect(container(p, "vllm").name).not.toBe(container(plan(running), "vllm").name);
  });

  it("refuses a changed vLLM on a GPU the running one holds", () => {
    const running = blueGreen();
    const next = blueGreen({}, { maxModelLen: 2048 });
    expect(() => plan(next, running)).toThrow(StackConfigError);
    expect(() => plan(next, running)).toThrow(
      "Pulumi.development.yaml: llmstack:rollout.strategy blue-green starts the new vLLM beside the running one, so " +
        "they cannot share a GPU, but gpu.vllmDevices [0, 1] and the running vLLM's [0, 1] share GPU 0, 1; give " +
        "gpu.vllmDevices GPUs the running vLLM does not use, or set llmstack:rollout.strategy to replace (vLLM stops " +
        "before the new one starts)",
    );
  });

  it("needs no spare GPU when vLLM does not change", () => {
    const running = blueGreen();
    expect(() => plan({ ...blueGreen(), gateway: { bindAddress: "127.0.0.1", port: 4100 } }, running)).not.toThrow();
  });

  it("refuses when the worker beside the running vLLM leaves no room: the budget holds for both at once", () => {
    // The running vLLM books 0.9 of GPUs 0 and 1; the new one moves to 2 and 3, but the worker stays on GPU 1.
    const base = withAppImages(rawValues("development"));
    const running = blueGreen({ memoryUtilization: 0.9, workerMemoryFraction: 0.05 }, {}, base);
    const next = blueGreen({ vllmDevices: ["2", "3"], workerDevices: ["1"], workerMemoryFraction: 0.1 }, { maxModelLen: 2048 }, base);
    let message = "";
    try {
      plan(next, running);
    } catch (err) {
      message = (err as Error).message;
    }
    expect(message.split("\n")[0]).toBe(
      "Pulumi.development.yaml: llmstack:rollout.strategy blue-green starts the new vLLM beside the running one, and the GPUs do not hold both at once:",
    );
    expect(message.split("\n")[1]).toBe(
      "  - gpu.workerMemoryFraction: GPU 1 is shared by the multimodal worker (workerMemoryFraction 0.1) and the running " +
        "vLLM (memoryUtilization 0.9): 0.1 + 0.9 of the 24136 MiB CUDA can allocate (memory.total 24576 MiB less 440 MiB " +
        "the driver keeps) plus a 512 MiB CUDA context per process come to 25160 MiB, 1024 MiB more than there is; vLLM " +
        "starts only when its whole share is free, so it could not start again while the multimodal worker holds its " +
        "share; lower workerMemoryFraction to 0.05 or less, or memoryUtilization to 0.85 or less, or give the multimodal " +
        "worker a GPU vLLM does not use",
    );
    expect(message.split("\n").at(-1)).toBe(
      "Free GPUs for the new vLLM, or set llmstack:rollout.strategy to replace (vLLM stops before the new one starts).",
    );
  });

  it("is refused for a cpu stack, which has no GPU to spare", () => {
    const cpu = { ...rawValues("development"), gpu: { mode: "cpu" }, rollout: { strategy: "blue-green" } };
    expect(() => parseStackConfig(cpu, FILE)).toThrow(
      "  - llmstack:rollout.strategy: blue-green brings a second vLLM up on GPUs to spare, and a cpu stack has none; use replace",
    );
  });
});
