/**
 * Model facts: the architecture numbers the memory math needs, for a small catalog of commonly served
 * models. Values are copied from /work/shared/reference/models.json (itself read from public copies of
 * each model's config.json); each entry names its source. Parameter counts are computed from the
 * config values by `parametersFromArchitecture` and a test checks them against models.json.
 */

/** How the decoder's MLP and embeddings are laid out; decides the parameter formula. */
export type ArchitectureFamily = "gated" | "gpt2" | "opt";

export interface ModelFacts {
  /** Hugging Face repository ID or the config.json path the facts were read from. */
  readonly name: string;
  readonly family: ArchitectureFamily;
  /** Total parameters (language model; a vision tower is not included). */
  readonly parameters: number;
  readonly numLayers: number;
  readonly numAttentionHeads: number;
  /** Equals numAttentionHeads for multi-head attention (config without num_key_value_heads). */
  readonly numKeyValueHeads: number;
  readonly headDim: number;
  readonly hiddenSize: number;
  readonly intermediateSize: number;
  readonly vocabSize: number;
  readonly maxPositionEmbeddings: number;
  /** Checkpoint dtype (torch_dtype); float32 checkpoints are served as float16 by vLLM's auto. */
  readonly dtype: "float16" | "bfloat16" | "float32";
  readonly tieWordEmbeddings: boolean;
  /** Qwen2 attention has q/k/v biases. */
  readonly qkvBias: boolean;
  /**
   * Exact bytes of the checkpoint's weights as stored (the safetensors index's metadata.total_size, or
   * the sum over a single file's tensors), when read from the model's files; vLLM loads this much when
   * it serves the checkpoint as stored. Absent for catalog entries and a bare config.json.
   */
  readonly weightBytes?: number;
}

interface Architecture {
  readonly family: ArchitectureFamily;
  readonly numLayers: number;
  readonly numAttentionHeads: number;
  readonly numKeyValueHeads: number;
  readonly headDim: number;
  readonly hiddenSize: number;
  readonly intermediateSize: number;
  readonly vocabSize: number;
  readonly maxPositionEmbeddings: number;
  readonly tieWordEmbeddings: boolean;
  readonly qkvBias: boolean;
}

/**
 * Parameters from the config values. Gated (Llama/Mistral/Qwen2): embeddings [+ untied lm_head] +
 * layers × (q,k,v,o [+ qkv bias] + 3 × hidden × intermediate + 2 norms) + final norm — the formula
 * models.json states. GPT-2 and OPT: learned positions (OPT keeps 2 extra rows), biases, 2-matrix MLP,
 * layer norms with bias, tied lm_head.
 */
export function parametersFromArchitecture(a: Architecture): number {
  const h = a.hiddenSize;
  const embeddings = a.vocabSize * h;
  if (a.family === "gated") {
    const q = h * a.numAttentionHeads * a.headDim;
    const kv = 2 * h * a.numKeyValueHeads * a.headDim;
    const o = a.numAttentionHeads * a.headDim * h;
    const bias = a.qkvBias ? (a.numAttentionHeads + 2 * a.numKeyValueHeads) * a.headDim : 0;
    const perLayer = q + kv + o + bias + 3 * h * a.intermediateSize + 2 * h;
    const lmHead = a.tieWordEmbeddings ? 0 : embeddings;
    return embeddings + lmHead + a.numLayers * perLayer + h;
  }
  const ffn = a.intermediateSize;
  const attention = 4 * h * h + 4 * h;
  const mlp = 2 * h * ffn + ffn + h;
  const perLayer = attention + mlp + 4 * h;
  const positionRows = a.family === "opt" ? a.maxPositionEmbeddings + 2 : a.maxPositionEmbeddings;
  return embeddings + positionRows * h + a.numLayers * perLayer + 2 * h;
}

function model(name: string, dtype: ModelFacts["dtype"], a: Architecture): ModelFacts {
  return { name, dtype, ...a, parameters: parametersFromArchitecture(a) };
}

const gated = (
  a: Omit<Architecture, "family" | "qkvBias"> & { qkvBias?: boolean },
): Architecture => ({ family: "gated", qkvBias: false, ...a });

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
