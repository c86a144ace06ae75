/** Capacity planning: model and GPU facts, and the memory math vLLM does at start-up. */
export { MODEL_CATALOG, lookupModel, parametersFromArchitecture, type ModelFacts } from "./models";
export {
  parameterBreakdown,
  type Architecture,
  type MlaLayout,
  type MoeLayout,
  type SlidingWindowLayout,
} from "./architecture";
export { modelConfigFromText, parseModelConfig, readModelConfig } from "./config";
export { GPU_CATALOG, lookupGpu, type GpuFacts } from "./gpus";
export {
  estimateCapacity,
  parseVllmVersion,
  PINNED_VLLM_VERSION,
  type CapacityResult,
} from "./estimate";
export type { CapacityInput, Dtype, KvCacheDtype, Quantization } from "./input";
export { capacityViolationsMessage, kvBytesPerToken, type Violation } from "./constraints";
export { parseQuantizationConfig, type QuantizationFacts } from "./quantization";
export { modelWeightBytes, weightBytesPerGpu, type WeightBytes } from "./weights";
export { kvCacheLayout, type KvCacheLayout } from "./kvcache";
