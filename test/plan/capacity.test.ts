import { describe, expect, it } from "vitest";
import { budgetJson } from "../../src/plan/capacity";
import { runProgram } from "../helpers/pulumiMocks";
import { planFromValues, planOf, rawValues } from "../helpers/stacks";

describe("the stack's memory budget", () => {
  it("production: Qwen2.5-7B on 2 × RTX 3090, TP 2, utilisation 0.9", () => {
    // 0.9 × (24576 − 440 MiB CUDA reserve) = 21.21 GiB per GPU; bf16 weights 15.23 GB / 2 = 7.09 GiB;
    // overhead 2.51 GiB (test/capacity/estimate.test.ts); KV cache 21.21 − 7.09 − 2.51 = 11.61 GiB at 28672
    // bytes per token per GPU.
    expect(budgetJson(planOf("production").capacity)).toEqual({
      status: "checked",
      note: "Qwen/Qwen2.5-7B-Instruct on RTX 3090, vLLM 0.21.0 (model facts from the built-in catalog)",
      gpuMemoryMiB: 24576,
      weightsGiBPerGpu: 7.09,
      overheadGiBPerGpu: 2.51,
      kvCacheGiBPerGpu: 11.61,
      kvCacheTokens: 434816,
      maxConcurrency: 53.08,
      decodeTokensPerSecondUpperBound: 122.91,
      violations: [],
    });
  });

  it("applies the memory accounting of the vLLM release in the image's tag", () => {
    const values = rawValues("production") as Record<string, any>;
    // v0.20 counted no CUDA-graph memory: 1.68 GiB more KV cache per GPU than v0.21.0 on the same stack.
    values.images = { ...values.images, vllm: "vllm/vllm-openai:v0.20.1-cu129" };
    expect(budgetJson(planFromValues(values).capacity)).toMatchObject({
      note: "Qwen/Qwen2.5-7B-Instruct on RTX 3090, vLLM 0.20.1 (model facts from the built-in catalog)",
      overheadGiBPerGpu: 0.83,
      kvCacheGiBPerGpu: 13.29,
      kvCacheTokens: 497712,
    });
    // A digest after the tag keeps the tag's release.
    values.images.vllm = `vllm/vllm-openai:v0.20.1@sha256:${"a".repeat(64)}`;
    expect(budgetJson(planFromValues(values).capacity)).toMatchObject({ kvCacheTokens: 497712 });
  });

  it("says so when the vLLM image names no release, instead of guessing its accounting", () => {
    const values = rawValues("production") as Record<string, any>;
    values.images = { ...values.images, vllm: `vllm/vllm-openai@sha256:${"b".repeat(64)}` };
    expect(budgetJson(planFromValues(values).capacity)).toEqual({
      status: "unknown",
      note:
        `llmstack:images.vllm vllm/vllm-openai@sha256:${"b".repeat(64)} names no vLLM release (vllm/vllm-openai:v<release>), ` +
        'so which memory accounting applies is unknown; pin a release tag, or check by hand with "llmstack capacity --vllm-version V"',
    });
  });

  it("says what is missing when the stack file does not give the GPU's memory", () => {
    const values = rawValues("production") as Record<string, any>;
    delete values.gpu.gpuName;
    delete values.gpu.memoryMiB;
    // The worker on a GPU of its own: a GPU vLLM shares with it needs memoryMiB for the budget.
    Object.assign(values.gpu, { mode: "single", vllmDevices: ["0"], nvlink: false, tensorParallelSize: 1 });
    expect(budgetJson(planFromValues(values).capacity)).toEqual({
      status: "unknown",
      note: "the stack file gives neither gpu.memoryMiB nor a catalog gpu.gpuName; run configure-gpu or add one",
    });
  });

  it("takes nvidia-smi's name for a card the catalog lists in two sizes, and picks the size by gpu.memoryMiB", () => {
    const values = rawValues("production") as Record<string, any>;
    Object.assign(values.gpu, { gpuName: "NVIDIA GeForce RTX 3080", memoryMiB: 12288 });
    const budget = budgetJson(planFromValues(values).capacity);
    expect([budget.note, budget.gpuMemoryMiB]).toEqual(["Qwen/Qwen2.5-7B-Instruct on RTX 3080 12GB, vLLM 0.21.0 (model facts from the built-in catalog)", 12288]);
  });

  it("a gpuName the catalog does not know is no error when gpu.memoryMiB is given: no decode bound", () => {
    const values = rawValues("production") as Record<string, any>;
    values.gpu.gpuName = "NVIDIA TITAN RTX";
    const budget = budgetJson(planFromValues(values).capacity);
    expect(budget).toEqual({
      ...budgetJson(planOf("production").capacity),
      note:
        'Qwen/Qwen2.5-7B-Instruct on 24576 MiB GPUs (GPU "NVIDIA TITAN RTX" is not in the catalog; ' +
        "no memory bandwidth, so no decode-speed bound), vLLM 0.21.0 (model facts from the built-in catalog)",
      decodeTokensPerSecondUpperBound: null,
    });
  });

  it("says how to fix a gpuName the catalog cannot settle when gpu.memoryMiB is not given", () => {
    const values = rawValues("production") as Record<string, any>;
    values.gpu.gpuName = "NVIDIA GeForce RTX 3080";
    delete values.gpu.memoryMiB;
    Object.assign(values.gpu, { mode: "single", vllmDevices: ["0"], nvlink: false, tensorParallelSize: 1 });
    expect(budgetJson(planFromValues(values).capacity)).toEqual({
      status: "unknown",
      note:
        'gpu.gpuName: GPU "NVIDIA GeForce RTX 3080" names more than one card (RTX 3080 10GB, RTX 3080 12GB) and ' +
        'its memory is not known; name the variant, such as "RTX 3080 10GB", pass --gpu with its memory.total in ' +
        "MiB (nvidia-smi --query-gpu=memory.total --format=csv,noheader,nounits), or run `llmstack configure-gpu` " +
        "to write gpu.gpuName and gpu.memoryMiB into the stack file (docs/capacity.md lists the cards the catalog knows).",
    });
  });

  it("fails the program before any resource when the model cannot fit", async () => {
    const values = rawValues("production") as Record<string, any>;
    const run = await runProgram("production", {
      "llmstack:model": { ...values.model, name: "meta-llama/Llama-3.1-70B-Instruct", maxModelLen: 8192 },
    });
    expect(run.error?.message.split("\n")[0]).toBe(
      "Pulumi.production.yaml: the model does not fit the GPUs as configured:",
    );
    expect(run.error?.name).toBe("StackConfigError");
    expect(run.registrations).toEqual([]);
  });

  it("exports the budget as a stack output", async () => {
    const run = await runProgram("production");
    expect(run.error).toBeUndefined();
    expect(run.outputs.capacity).toEqual(budgetJson(planOf("production").capacity));
  });
});
