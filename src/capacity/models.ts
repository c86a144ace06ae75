/**
 * Model facts: the architecture numbers the memory math needs, for a small catalog of commonly served
 * models. Values are copied from /work/shared/reference/models.json (itself read from public copies of
 * each model's config.json); each entry names its source. Parameter counts are computed from the
 * config values by `parametersFromArchitecture` and a test checks them against models.json.
 */

import { parameterBreakdown, type Architecture, type MoeLayout } from "./architecture";
import { parseQuantizationConfig, type QuantizationFacts } from "./quantization";

export type { Architecture, ArchitectureFamily } from "./architecture";

export interface ModelFacts extends Architecture {
  /** Hugging Face repository ID or the config.json path the facts were read from. */
  readonly name: string;
  /** Total parameters (language model; a vision tower is not included). */
  readonly parameters: number;
  /** Parameters one token uses: all of them for a dense model, the routed top-k experts for MoE. */
  readonly activeParameters: number;
  /** Checkpoint dtype (torch_dtype); float32 checkpoints are served as float16 by vLLM's auto. */
  readonly dtype: "float16" | "bfloat16" | "float32";
  /** The checkpoint's quantization_config; absent for a 16-bit checkpoint. */
  readonly quantization?: QuantizationFacts;
  /**
   * Total bytes of the checkpoint's tensors as stored (the safetensors index's metadata.total_size, or
   * the header of a single-file checkpoint), when read from the model's files; vLLM loads this much when
   * it serves the checkpoint as stored, so it is preferred over the bytes computed from the config.
   * Absent for a bare config.json.
   */
  readonly weightBytes?: number;
}

/** Total parameters from the config values; see parameterBreakdown for the layout of each part. */
export function parametersFromArchitecture(a: Architecture): number {
  return parameterBreakdown(a).total;
}

function model(
  name: string,
  dtype: ModelFacts["dtype"],
  a: Architecture,
  extra: Pick<ModelFacts, "quantization" | "weightBytes"> = {},
): ModelFacts {
  const { total, active } = parameterBreakdown(a);
  return { name, dtype, ...a, ...extra, parameters: total, activeParameters: active };
}

const gated = (
  a: Omit<Architecture, "family" | "qkvBias"> & { qkvBias?: boolean },
): Architecture => ({ family: "gated", qkvBias: false, ...a });

const moe = (m: Partial<MoeLayout> & Pick<MoeLayout, "experts" | "expertsPerToken" | "expertIntermediateSize" | "moeLayers" | "denseIntermediateSize">): MoeLayout => ({
  sharedIntermediateSize: 0, sharedExpertGate: false, routerBias: false, expertBias: false, ...m,
});

const MXFP4 = parseQuantizationConfig({ quant_method: "mxfp4" }, "gpt-oss config.json");

/** gpt-oss: alternating sliding (128) and full layers, biased attention with sinks, biased experts. */
const gptOss = (layers: number, experts: number): Architecture => gated({
  numLayers: layers, numAttentionHeads: 64, numKeyValueHeads: 8, headDim: 64, hiddenSize: 2880,
  intermediateSize: 2880, vocabSize: 201088, maxPositionEmbeddings: 131072, tieWordEmbeddings: false,
  qkvBias: true, outputBias: true, attentionSinks: true, slidingWindow: { window: 128, slidingLayers: layers / 2 },
  moe: moe({
    experts, expertsPerToken: 4, expertIntermediateSize: 2880, moeLayers: layers, denseIntermediateSize: 2880,
    routerBias: true, expertBias: true,
  }),
});

export const MODEL_CATALOG: readonly ModelFacts[] = [
  // https://huggingface.co/abhishek/llama-2-7b-hf-small-shards/blob/main/config.json (models.json)
  model("meta-llama/Llama-2-7b-hf", "float16", gated({
    numLayers: 32, numAttentionHeads: 32, numKeyValueHeads: 32, headDim: 128, hiddenSize: 4096,
    intermediateSize: 11008, vocabSize: 32000, maxPositionEmbeddings: 4096, tieWordEmbeddings: false,
  })),
  // https://huggingface.co/meta-llama/Llama-2-70b-hf/blob/main/config.json. Public copies agree: 80
  // layers, 4096 context; GEMM shapes 8192x10240 (q + 8 KV heads of 128), 8192x57344 (2 x 28672).
  model("meta-llama/Llama-2-70b-hf", "float16", gated({
    numLayers: 80, numAttentionHeads: 64, numKeyValueHeads: 8, headDim: 128, hiddenSize: 8192,
    intermediateSize: 28672, vocabSize: 32000, maxPositionEmbeddings: 4096, tieWordEmbeddings: false,
  })),
  // Meta-Llama-3-8B: the Llama 3.1 8B architecture with an 8192-token context (mlc-llm preset
  // llama3_8b in the same preset file as below).
  model("meta-llama/Meta-Llama-3-8B", "bfloat16", gated({
    numLayers: 32, numAttentionHeads: 32, numKeyValueHeads: 8, headDim: 128, hiddenSize: 4096,
    intermediateSize: 14336, vocabSize: 128256, maxPositionEmbeddings: 8192, tieWordEmbeddings: false,
  })),
  // https://github.com/mlc-ai/mlc-llm/blob/79d603f085f50500e9509fa01785ffa7ecfaaa93/python/mlc_llm/model/model_preset.py (llama3_1_8b)
  model("meta-llama/Llama-3.1-8B-Instruct", "bfloat16", gated({
    numLayers: 32, numAttentionHeads: 32, numKeyValueHeads: 8, headDim: 128, hiddenSize: 4096,
    intermediateSize: 14336, vocabSize: 128256, maxPositionEmbeddings: 131072, tieWordEmbeddings: false,
  })),
  // same preset file (llama3_1_70b)
  model("meta-llama/Llama-3.1-70B-Instruct", "bfloat16", gated({
    numLayers: 80, numAttentionHeads: 64, numKeyValueHeads: 8, headDim: 128, hiddenSize: 8192,
    intermediateSize: 28672, vocabSize: 128256, maxPositionEmbeddings: 131072, tieWordEmbeddings: false,
  })),
  // same preset file (mistral_7b_v03)
  model("mistralai/Mistral-7B-Instruct-v0.3", "bfloat16", gated({
    numLayers: 32, numAttentionHeads: 32, numKeyValueHeads: 8, headDim: 128, hiddenSize: 4096,
    intermediateSize: 14336, vocabSize: 32768, maxPositionEmbeddings: 32768, tieWordEmbeddings: false,
  })),
  // https://huggingface.co/Qwen/Qwen2.5-0.5B-Instruct/blob/main/config.json; the GGUF dump in
  // https://github.com/ollama/ollama/issues/9031 shows the same n_embd 896, n_layer 24, n_head 14,
  // n_head_kv 2, head 64, n_ctx_train 32768, vocab 151936.
  model("Qwen/Qwen2.5-0.5B-Instruct", "bfloat16", gated({
    numLayers: 24, numAttentionHeads: 14, numKeyValueHeads: 2, headDim: 64, hiddenSize: 896,
    intermediateSize: 4864, vocabSize: 151936, maxPositionEmbeddings: 32768, tieWordEmbeddings: true,
    qkvBias: true,
  })),
  // https://huggingface.co/Qwen/Qwen2.5-1.5B-Instruct/blob/main/config.json (same values in public
  // copies that pin Qwen/Qwen2.5-1.5B-Instruct: hidden 1536, 28 layers, 12 heads, 2 KV heads, tied)
  model("Qwen/Qwen2.5-1.5B-Instruct", "bfloat16", gated({
    numLayers: 28, numAttentionHeads: 12, numKeyValueHeads: 2, headDim: 128, hiddenSize: 1536,
    intermediateSize: 8960, vocabSize: 151936, maxPositionEmbeddings: 32768, tieWordEmbeddings: true,
    qkvBias: true,
  })),
  // https://huggingface.co/CarbonLover/krx_qwen2.5_it_test/blob/16a84c949674f98b43237c01e96cd9895eb1c509/config.json (models.json)
  model("Qwen/Qwen2.5-7B-Instruct", "bfloat16", gated({
    numLayers: 28, numAttentionHeads: 28, numKeyValueHeads: 4, headDim: 128, hiddenSize: 3584,
    intermediateSize: 18944, vocabSize: 152064, maxPositionEmbeddings: 32768, tieWordEmbeddings: false,
    qkvBias: true,
  })),
  // https://huggingface.co/Qwen/Qwen2.5-VL-7B-Instruct/blame/main/config.json (models.json); language
  // model only: the vision tower's weights are extra and not counted here.
  model("Qwen/Qwen2.5-VL-7B-Instruct", "bfloat16", gated({
    numLayers: 28, numAttentionHeads: 28, numKeyValueHeads: 4, headDim: 128, hiddenSize: 3584,
    intermediateSize: 18944, vocabSize: 152064, maxPositionEmbeddings: 128000, tieWordEmbeddings: false,
    qkvBias: true,
  })),
  // Qwen2.5-14B architecture (hidden 5120, 48 layers, 40 heads, 8 KV heads, intermediate 13824, vocab
  // 152064, 131072 positions): https://huggingface.co/deepseek-ai/DeepSeek-R1-Distill-Qwen-14B/blob/main/config.json
  model("deepseek-ai/DeepSeek-R1-Distill-Qwen-14B", "bfloat16", gated({
    numLayers: 48, numAttentionHeads: 40, numKeyValueHeads: 8, headDim: 128, hiddenSize: 5120,
    intermediateSize: 13824, vocabSize: 152064, maxPositionEmbeddings: 131072, tieWordEmbeddings: false,
    qkvBias: true,
  })),
  // https://github.com/RahulSChand/gpu_poor/blob/ad2fc0ef0e6ceeb7684363504eecc3342a5e7dc4/public/all_configs.json
  // and https://huggingface.co/arem/DialoGPT-medium-rickandmorty/blame/main/config.json (models.json);
  // fp32 checkpoint, which vLLM's --dtype auto serves as float16.
  model("microsoft/DialoGPT-medium", "float32", {
    family: "gpt2", numLayers: 24, numAttentionHeads: 16, numKeyValueHeads: 16, headDim: 64,
    hiddenSize: 1024, intermediateSize: 4096, vocabSize: 50257, maxPositionEmbeddings: 1024,
    tieWordEmbeddings: true, qkvBias: true,
  }),
  // https://huggingface.co/autoevaluate/zero-shot-classification/blob/main/config.json (models.json)
  model("facebook/opt-125m", "float16", {
    family: "opt", numLayers: 12, numAttentionHeads: 12, numKeyValueHeads: 12, headDim: 64,
    hiddenSize: 768, intermediateSize: 3072, vocabSize: 50272, maxPositionEmbeddings: 2048,
    tieWordEmbeddings: true, qkvBias: true,
  }),
  // MoE, MLA and sliding-window models. Each equals what config.ts reads from the fixture named (test
  // /fixtures/capacity/architectures/, sources in its sources.json).
  // qwen3-30b-a3b.config.json: 128 experts of 768, 8 per token, q/k norms.
  model("Qwen/Qwen3-30B-A3B", "bfloat16", gated({
    numLayers: 48, numAttentionHeads: 32, numKeyValueHeads: 4, headDim: 128, hiddenSize: 2048,
    intermediateSize: 6144, vocabSize: 151936, maxPositionEmbeddings: 40960, tieWordEmbeddings: false,
    qkNorm: true, moe: moe({ experts: 128, expertsPerToken: 8, expertIntermediateSize: 768, moeLayers: 48, denseIntermediateSize: 6144 }),
  })),
  // mixtral-8x7b-v0.1.config.json: 8 experts of 14336, 2 per token.
  model("mistralai/Mixtral-8x7B-v0.1", "bfloat16", gated({
    numLayers: 32, numAttentionHeads: 32, numKeyValueHeads: 8, headDim: 128, hiddenSize: 4096,
    intermediateSize: 14336, vocabSize: 32000, maxPositionEmbeddings: 32768, tieWordEmbeddings: false,
    moe: moe({ experts: 8, expertsPerToken: 2, expertIntermediateSize: 14336, moeLayers: 32, denseIntermediateSize: 14336 }),
  })),
  // deepseek-v2-lite.config.json: MLA without q_lora_rank, 64 routed + 2 shared experts, layer 0 dense.
  model("deepseek-ai/DeepSeek-V2-Lite", "bfloat16", gated({
    numLayers: 27, numAttentionHeads: 16, numKeyValueHeads: 16, headDim: 192, hiddenSize: 2048,
    intermediateSize: 10944, vocabSize: 102400, maxPositionEmbeddings: 163840, tieWordEmbeddings: false,
    mla: { kvLoraRank: 512, qLoraRank: null, qkNopeHeadDim: 128, qkRopeHeadDim: 64, vHeadDim: 128 },
    moe: moe({
      experts: 64, expertsPerToken: 6, expertIntermediateSize: 1408, sharedIntermediateSize: 2816, moeLayers: 26,
      denseIntermediateSize: 10944,
    }),
  })),
  // gpt-oss-20b.config.json: mxfp4 experts; checkpoint bytes from its model.safetensors.index.json.
  // The config has no torch_dtype (read as float32 like any config without one; served in 16 bits).
  model("openai/gpt-oss-20b", "float32", gptOss(24, 32), { quantization: MXFP4, weightBytes: 13761264768 }),
  // gpt-oss-120b.config.json
  model("openai/gpt-oss-120b", "float32", gptOss(36, 128), { quantization: MXFP4 }),
  // gemma-2-9b.config.json: every other layer slides over 4096 tokens.
  model("google/gemma-2-9b", "float32", gated({
    numLayers: 42, numAttentionHeads: 16, numKeyValueHeads: 8, headDim: 256, hiddenSize: 3584,
    intermediateSize: 14336, vocabSize: 256000, maxPositionEmbeddings: 8192, tieWordEmbeddings: true,
    normsPerLayer: 4, slidingWindow: { window: 4096, slidingLayers: 21 },
  })),
  // mistral-7b-instruct-v0.1.config.json: every layer slides over 4096 tokens.
  model("mistralai/Mistral-7B-Instruct-v0.1", "bfloat16", gated({
    numLayers: 32, numAttentionHeads: 32, numKeyValueHeads: 8, headDim: 128, hiddenSize: 4096,
    intermediateSize: 14336, vocabSize: 32000, maxPositionEmbeddings: 32768, tieWordEmbeddings: false,
    slidingWindow: { window: 4096, slidingLayers: 32 },
  })),
];

/** The catalog entry for a Hugging Face ID (case-insensitive); a clear error lists the known IDs. */
export function lookupModel(name: string): ModelFacts {
  const found = MODEL_CATALOG.find((m) => m.name.toLowerCase() === name.toLowerCase());
  if (found !== undefined) return found;
  throw new Error(
    `unknown model "${name}"; the catalog knows ${MODEL_CATALOG.map((m) => m.name).join(", ")}. ` +
      "Pass the path of the model's config.json instead to read its facts from the file.",
  );
}

export { model as modelFromArchitecture };
