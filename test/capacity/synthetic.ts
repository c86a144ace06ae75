/**
 * A synthetic model and card whose capacity test/capacity/accounting.test.ts works out by hand for
 * every vLLM release rule; the bench script's test reuses it.
 *
 * The model: 8 layers, hidden 1024, 8 heads of 128 (no GQA), MLP 4096, vocabulary 32768, untied, fp16.
 */
import type { CapacityInput } from "../../src/capacity";
import { modelFromArchitecture } from "../../src/capacity/models";

export const syntheticModel = modelFromArchitecture("synthetic-8l", "float16", {
  family: "gated",
  numLayers: 8,
  numAttentionHeads: 8,
  numKeyValueHeads: 8,
  headDim: 128,
  hiddenSize: 1024,
  intermediateSize: 4096,
  vocabSize: 32768,
  maxPositionEmbeddings: 131072,
  tieWordEmbeddings: false,
  qkvBias: false,
});

/** Two RTX A6000s (49140 MiB, no NVSwitch), TP 2, utilisation 0.5, max model length 4096. */
export const syntheticInput: Omit<CapacityInput, "vllmVersion"> = {
  model: syntheticModel,
  gpuMemoryMiB: 49140,
  gpuName: "NVIDIA RTX A6000",
  tensorParallelSize: 2,
  pipelineParallelSize: 1,
  gpuMemoryUtilization: 0.5,
  maxModelLen: 4096,
};
