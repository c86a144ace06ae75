/** Capacity planning: model and GPU facts, and the memory math vLLM does at start-up. */
export { MODEL_CATALOG, lookupModel, parametersFromArchitecture, type ModelFacts } from "./models";
export { modelConfigFromText, parseModelConfig, readModelConfig } from "./config";
export { GPU_CATALOG, lookupGpu, MAX_GPU_MEMORY_MIB, type GpuFacts } from "./gpus";
export {
  estimateCapacity,
  parseVllmVersion,
  PINNED_VLLM_VERSION,
  type CapacityInput,
  type CapacityResult,
  type Dtype,
  type KvCacheDtype,
  type Quantization,
} from "./estimate";
export { capacityViolationsMessage, kvBytesPerToken, type Violation } from "./constraints";
