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
      note: "Qwen/Qwen2.5-7B-Instruct on RTX 3090",
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
