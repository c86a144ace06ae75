/**
 * Weight bytes: the whole checkpoint as vLLM holds it, the part that is routed experts, and one GPU's
 * share under tensor, pipeline, data and expert parallelism.
 *
 * vLLM shards the experts of a fused MoE layer over TP × DP ranks: without --enable-expert-parallel each
 * expert's matrices are split across all of them, with it whole experts are spread over the same ranks
 * (ep_size = TP × DP, tp_size = 1 inside the MoE layer), base + 1 on the first `experts % ep_size` ranks
 * (vllm/model_executor/layers/fused_moe/config.py FusedMoEParallelConfig.make and flatten_tp_across_dp;
 * fused_moe/layer.py determine_expert_map). Attention, dense MLPs, shared experts, embeddings and
 * lm_head are split over TP only and repeated in every data-parallel replica.
 * Pure: no I/O.
 */
import { linearParameters, parameterBreakdown, type LinearGroup } from "./architecture";
import type { ModelFacts } from "./models";
import { packedLinearBytes, quantizationFromFlag, type QuantizationFacts } from "./quantization";
import type { Quantization } from "./input";

export interface WeightBytes {
  /** All weights of the model as served. */
  readonly total: number;
  /** The routed experts' share of `total` (weights, scales, biases). */
  readonly routedExperts: number;
  /** Bytes one decoded token reads: everything but the routed experts it is not sent to. */
  readonly activePerToken: number;
  /** The scheme the bytes assume; undefined for 16-bit weights. */
  readonly quantization?: QuantizationFacts;
  /** "checkpoint" when the safetensors size was known, "config" when computed from the config. */
  readonly source: "checkpoint" | "config";
}

/** The scheme in force: the checkpoint's own quantization_config, else vLLM's --quantization flag. */
export function effectiveQuantization(model: ModelFacts, flag: Quantization): QuantizationFacts | undefined {
  if (model.quantization !== undefined) return model.quantization;
  return flag === "none" ? undefined : quantizationFromFlag(flag);
}

function linearBytes(g: LinearGroup, q: QuantizationFacts | undefined, activation: number): number {
  return q !== undefined && q.roles.includes(g.role) ? packedLinearBytes(g, q) : linearParameters(g) * activation;
}

/** Bytes per element of an unquantized checkpoint, by its config's torch_dtype. */
const storedWidth = (model: ModelFacts) => (model.dtype === "float32" ? 4 : 2);

/**
 * Whether vLLM holds the checkpoint's tensors as stored, so that its exact size (weightBytes) is the
 * weights' size on the GPUs. vLLM creates every parameter in the serving dtype
 * (`with set_default_torch_dtype(model_config.dtype): model = initialize_model(...)`, [1]) and copies
 * each checkpoint tensor into it, casting (`default_weight_loader`: `param.data.copy_(loaded_weight)`, [2]):
 * - a quantized checkpoint keeps its packed layout: its method reads the checkpoint's own tensors;
 * - `--quantization fp8` on an unquantized checkpoint quantizes it at load: fp8 has no config file to
 *   read, so `get_quant_config` returns its default config ("If the quantization config is not found,
 *   use the default config", [2]); the estimate's `int8` is taken as the same 8-bit quantization at load
 *   (quantizationFromFlag);
 * - `--quantization awq` or `gptq` does not quantize: it needs the checkpoint's own quant_config.json or
 *   quantize_config.json ("Cannot find the config file for awq" otherwise, [2]), so it loads as stored;
 * - an unquantized checkpoint served at another width (a float32 one under `--dtype auto`, which
 *   `_get_and_verify_dtype` serves in 16 bits, "Downcast for float32 models", [3]; a 16-bit one under
 *   `--dtype float32`) holds parameters × the serving width. Its stored byte count does not say how many
 *   parameters that is: metadata.total_size sums tensors of any dtype, the config's torch_dtype may be
 *   absent (vLLM then reads the tensors' dtypes, `_find_dtype` [3]), so the config's count is used.
 * [1] https://github.com/vllm-project/vllm/blob/01f62d3ec2d08e2e2c818871f69099831dd02f44/vllm/model_executor/model_loader/base_loader.py
 * [2] https://github.com/vllm-project/vllm/blob/0035bdf2b1ac243ef6f31eef27411b022461df8e/vllm/model_executor/model_loader/weight_utils.py
 * [3] https://github.com/vllm-project/vllm/blob/0052a5b818980ce8a0477706aaf9f75bd5af72cd/vllm/config/model.py
 */
function servedAsStored(model: ModelFacts, flag: Quantization, activation: number): boolean {
  if (model.quantization !== undefined) return true;
  if (flag === "fp8" || flag === "int8") return false;
  if (flag === "awq" || flag === "gptq") return true;
  return activation === storedWidth(model);
}

/**
 * Weight bytes of the whole model. `activation` is the serving dtype's bytes (2 for fp16/bf16). A known
 * checkpoint size (weightBytes) is used when vLLM holds the checkpoint as stored (servedAsStored); its
 * routed share is taken in the proportion the config gives.
 */
export function modelWeightBytes(model: ModelFacts, flag: Quantization, activation: number): WeightBytes {
  const q = effectiveQuantization(model, flag);
  if (q?.method === "other" && model.weightBytes === undefined) {
    throw new Error(
      `${model.name}: quantization_config.quant_method "${q.name}" is not one the capacity estimate can size ` +
        "(it knows awq, gptq, fp8, mxfp4, bitsandbytes, compressed-tensors); give the checkpoint's weight " +
        "bytes (the safetensors index's metadata.total_size) instead.",
    );
  }
  const b = parameterBreakdown(model);
  const lmHeadBytes = q?.lmHead === true && b.lmHead > 0
    ? packedLinearBytes({ role: "mlp", inFeatures: model.hiddenSize, outFeatures: model.vocabSize, count: 1 }, q)
    : b.lmHead * activation;
  let routed = b.routedExpertOther * activation;
  let total = (b.embedding + b.other) * activation + lmHeadBytes;
  for (const g of b.linears) {
    const bytes = linearBytes(g, q, activation);
    total += bytes;
    if (g.role === "routed-expert") routed += bytes;
  }
  const e = model.moe;
  const inactive = e === undefined ? 0 : routed * (1 - e.expertsPerToken / e.experts);
  if (model.weightBytes !== undefined && servedAsStored(model, flag, activation)) {
    const known = model.weightBytes;
    const scale = known / total;
    return {
      total: known,
      routedExperts: routed * scale,
      activePerToken: (total - inactive) * scale,
      ...(q !== undefined ? { quantization: q } : {}),
      source: "checkpoint",
    };
  }
  return {
    total,
    routedExperts: routed,
    activePerToken: total - inactive,
    ...(q !== undefined ? { quantization: q } : {}),
    source: "config",
  };
}

export interface Parallelism {
  readonly tensorParallelSize: number;
  readonly pipelineParallelSize: number;
  /** Data-parallel replicas (--data-parallel-size); MoE layers shard experts across TP × DP. */
  readonly dataParallelSize: number;
  /** --enable-expert-parallel: whole experts per rank instead of every expert split. */
  readonly expertParallel: boolean;
}

/** One GPU's weights: the non-expert part over TP, the experts over TP × DP, everything over PP. */
export function weightBytesPerGpu(model: ModelFacts, w: WeightBytes, p: Parallelism): number {
  const tp = p.tensorParallelSize;
  const ranks = tp * p.dataParallelSize;
  const dense = (w.total - w.routedExperts) / tp;
  const e = model.moe;
  let experts = w.routedExperts / ranks;
  if (e !== undefined && p.expertParallel && ranks > 1) {
    // The most loaded rank holds ceil(experts / ranks) whole experts.
    experts = (Math.ceil(e.experts / ranks) * w.routedExperts) / e.experts;
  }
  return (dense + experts) / p.pipelineParallelSize;
}
