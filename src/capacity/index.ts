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
export { catalogFacts, catalogLookup, SOURCE_LABELS, type ModelFound, type ModelLookup, type ModelMissing, type ModelSource } from "./lookup";
export { GPU_CATALOG, GpuNameError, lookupGpu, parseGpuName, type GpuCatalogEntry, type GpuFacts } from "./gpus";
export {
  estimateCapacity,
  parseVllmVersion,
  type CapacityResult,
} from "./estimate";
export type { CapacityInput, Dtype, KvCacheDtype, Quantization } from "./input";
export {
  ACCOUNTING_RULES,
  accountingRule,
  defaultEngine,
  defaultGpuMemoryUtilization,
  profileDefaults,
  type AccountingRule,
  type Engine,
} from "./accounting";
export { capacityViolationsMessage, kvBytesPerToken, type Violation } from "./constraints";
export { parseQuantizationConfig, type QuantizationFacts } from "./quantization";
export { modelWeightBytes, weightBytesPerGpu, type WeightBytes } from "./weights";
export { kvCacheLayout, type KvCacheLayout } from "./kvcache";
