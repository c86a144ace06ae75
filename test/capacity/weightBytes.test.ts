/**
 * A checkpoint's exact weight bytes (read from its files) replace the parameter count × width when vLLM
 * loads the checkpoint as stored, and only then (src/capacity/weights.ts servedAsStored).
 */
import { describe, expect, it } from "vitest";
import { estimateCapacity, lookupModel, type CapacityInput, type ModelFacts } from "../../src/capacity";

const GiB = 1024 ** 3;
const qwen7b = lookupModel("Qwen/Qwen2.5-7B-Instruct");
// A stored size that differs from 2 × parameters (15,231,233,024 B), so the test tells them apart.
const stored: ModelFacts = { ...qwen7b, weightBytes: 20 * GiB };
const input = (model: ModelFacts, more: Partial<CapacityInput> = {}): CapacityInput => ({
  model,
  gpuMemoryMiB: 81920,
  tensorParallelSize: 2,
  pipelineParallelSize: 1,
  gpuMemoryUtilization: 0.9,
  maxModelLen: 8192,
  vllmVersion: "0.21.0",
  ...more,
});

describe("exact weight bytes", () => {
  it("are the weights when the checkpoint is served as stored: 20 GiB over TP 2 is 10 GiB each", () => {
    expect(estimateCapacity(input(stored)).weightsGiBPerGpu).toBe(10);
    expect(estimateCapacity(input(stored, { dtype: "float16" })).weightsGiBPerGpu).toBe(10);
  });

  it("give way to the parameters for quantization at load or another width", () => {
    // 7,615,616,512 × 2 B ÷ 2 = 7.09 GiB; × 4 B ÷ 2 = 14.19 GiB.
    expect(estimateCapacity(input(qwen7b)).weightsGiBPerGpu).toBe(7.09);
    expect(estimateCapacity(input(stored, { dtype: "float32" })).weightsGiBPerGpu).toBe(14.19);
    expect(estimateCapacity(input(stored, { quantization: "fp8" })).weightsGiBPerGpu).toBe(
      estimateCapacity(input(qwen7b, { quantization: "fp8" })).weightsGiBPerGpu,
    );
  });

  it("stand under --quantization awq or gptq, which read the checkpoint's packed tensors instead of quantizing", () => {
    // vLLM quantizes at load only for methods without a config file (fp8); awq and gptq need the
    // checkpoint's own quant_config.json / quantize_config.json, so 20 GiB stays 20 GiB: 10 GiB per GPU.
    expect(estimateCapacity(input(stored, { quantization: "awq" })).weightsGiBPerGpu).toBe(10);
    expect(estimateCapacity(input(stored, { quantization: "gptq" })).weightsGiBPerGpu).toBe(10);
  });

  it("of a float32 checkpoint are not used when vLLM's auto serves it as float16", () => {
    const fp32 = lookupModel("microsoft/DialoGPT-medium");
    expect(estimateCapacity(input({ ...fp32, weightBytes: 4 * GiB }, { maxModelLen: 1024 })).weightsGiBPerGpu).toBe(
      estimateCapacity(input(fp32, { maxModelLen: 1024 })).weightsGiBPerGpu,
    );
    expect(estimateCapacity(input({ ...fp32, weightBytes: 4 * GiB }, { maxModelLen: 1024, dtype: "float32" })).weightsGiBPerGpu).toBe(2);
  });
});
