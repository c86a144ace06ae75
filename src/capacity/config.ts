/**
 * Reading a model's own config.json (a model kept in a local directory). Real configs spell the same
 * fact several ways: GPT-2 style `n_head`/`n_layer`/`n_embd`/`n_positions`, OPT's `ffn_dim`, newer
 * multimodal configs nest the language model under `text_config`. A missing `num_key_value_heads`
 * means multi-head attention (KV heads = attention heads); a missing `head_dim` is hidden ÷ heads.
 * See the gotchas in /work/shared/reference/models.json.
 */
import { readInputFile } from "../config/readFile";
import { modelFromArchitecture, type ArchitectureFamily, type ModelFacts } from "./models";
import {
  hasQkNorm,
  mlaLayout,
  MODEL_TYPE_DEFAULTS,
  moeLayout,
  normsPerLayer,
  slidingWindowLayout,
} from "./configLayouts";
import { parseQuantizationConfig } from "./quantization";

type Json = Record<string, unknown>;

function pick(sources: readonly Json[], keys: readonly string[]): unknown {
  for (const source of sources) {
    for (const key of keys) {
      if (source[key] !== undefined && source[key] !== null) return source[key];
    }
  }
  return undefined;
}

/**
 * The largest architecture number read from a config.json (2^24). The largest in the reference models
 * (max_position_embeddings 131072, vocab_size 152064) are far below it; the ceiling keeps every product
 * the memory math forms finite, so an absurd file gets this error instead of Infinity GiB.
 */
export const MAX_ARCHITECTURE_NUMBER = 16_777_216;

function positiveInt(file: string, value: unknown, keys: readonly string[]): number {
  if (typeof value === "number" && Number.isInteger(value) && value > 0 && value <= MAX_ARCHITECTURE_NUMBER) return value;
  const shown = value === undefined ? "missing" : JSON.stringify(value);
  throw new Error(
    `${file}: ${keys.join(" / ")} is ${shown}; it must be a whole number from 1 to ${MAX_ARCHITECTURE_NUMBER}. ` +
      "Check that the file is the model's config.json (a Hugging Face transformers config).",
  );
}

function familyOf(config: Json): ArchitectureFamily {
  const type = typeof config.model_type === "string" ? config.model_type : "";
  const archs = Array.isArray(config.architectures) ? config.architectures.join(" ") : "";
  if (type === "opt" || /^OPT/.test(archs)) return "opt";
  if (type === "gpt2" || /^GPT2/.test(archs) || config.n_embd !== undefined) return "gpt2";
  return "gated";
}

function dtypeOf(config: Json): ModelFacts["dtype"] {
  const raw = config.torch_dtype ?? config.dtype;
  if (raw === "bfloat16" || raw === "float16") return raw;
  // fp32 or absent (the official DialoGPT config has no torch_dtype): vLLM's --dtype auto loads such
  // checkpoints as float16.
  return "float32";
}

/** Model facts from a parsed config.json object; `file` names the source in error messages. */
export function parseModelConfig(raw: unknown, file: string): ModelFacts {
  if (typeof raw !== "object" || raw === null || Array.isArray(raw)) {
    throw new Error(`${file}: expected a JSON object (a model's config.json)`);
  }
  const config = raw as Json;
  const text = typeof config.text_config === "object" && config.text_config !== null
    ? (config.text_config as Json)
    : undefined;
  const typeOf = (c: Json | undefined) => (typeof c?.model_type === "string" ? c.model_type : "");
  const type = typeOf(text) || typeOf(config);
  const sources = [...(text === undefined ? [config] : [text, config]), MODEL_TYPE_DEFAULTS[type] ?? {}];
  const read = (keys: readonly string[]) => pick(sources, keys);
  const get = (keys: readonly string[]) => positiveInt(file, read(keys), keys);
  const family = familyOf(config);

  const hiddenSize = get(["hidden_size", "n_embd", "d_model"]);
  const numAttentionHeads = get(["num_attention_heads", "n_head"]);
  const numLayers = get(["num_hidden_layers", "n_layer"]);
  const kvRaw = pick(sources, ["num_key_value_heads"]);
  const numKeyValueHeads =
    kvRaw === undefined ? numAttentionHeads : positiveInt(file, kvRaw, ["num_key_value_heads"]);
  const mla = mlaLayout(read);
  const headRaw = pick(sources, ["head_dim"]);
  // MLA configs have no head_dim; vLLM's get_head_size without MLA is qk_nope + qk_rope.
  const headDim = mla !== undefined
    ? mla.qkNopeHeadDim + mla.qkRopeHeadDim
    : headRaw === undefined ? hiddenSize / numAttentionHeads : positiveInt(file, headRaw, ["head_dim"]);
  if (!Number.isInteger(headDim)) {
    throw new Error(
      `${file}: hidden size ${hiddenSize} is not divisible by ${numAttentionHeads} attention heads and ` +
        "there is no head_dim key; add head_dim to the config.",
    );
  }
  const interRaw = pick(sources, ["intermediate_size", "ffn_dim", "n_inner"]);
  const intermediateSize =
    interRaw === undefined && family !== "gated"
      ? 4 * hiddenSize // GPT-2 leaves n_inner null: 4 × n_embd
      : positiveInt(file, interRaw, ["intermediate_size", "ffn_dim", "n_inner"]);
  const name = typeof config._name_or_path === "string" && config._name_or_path !== ""
    ? config._name_or_path
    : file;

  const moe = family === "gated" ? moeLayout(type, read, hiddenSize, intermediateSize, numLayers) : undefined;
  const slidingWindow = family === "gated" ? slidingWindowLayout(type, read, numLayers) : undefined;
  const quantization = parseQuantizationConfig(config.quantization_config ?? text?.quantization_config, file);
  return modelFromArchitecture(
    name,
    dtypeOf(config),
    {
      family,
      numLayers,
      numAttentionHeads,
      numKeyValueHeads,
      headDim,
      hiddenSize,
      intermediateSize,
      vocabSize: get(["vocab_size"]),
      maxPositionEmbeddings: get(["max_position_embeddings", "n_positions", "n_ctx"]),
      tieWordEmbeddings: family === "gated" ? read(["tie_word_embeddings"]) === true : true,
      qkvBias: family !== "gated" || read(["attention_bias"]) === true || type.startsWith("qwen2"),
      ...(family === "gated" && read(["attention_bias"]) === true ? { outputBias: true } : {}),
      ...(type === "gpt_oss" ? { attentionSinks: true } : {}),
      ...(hasQkNorm(type) ? { qkNorm: true } : {}),
      ...(normsPerLayer(type) !== 2 ? { normsPerLayer: normsPerLayer(type) } : {}),
      ...(moe !== undefined ? { moe } : {}),
      ...(mla !== undefined ? { mla } : {}),
      ...(slidingWindow !== undefined ? { slidingWindow } : {}),
    },
    quantization !== undefined ? { quantization } : {},
  );
}

/** Model facts from a config.json's text; errors name the file. */
export function modelConfigFromText(text: string, file: string): ModelFacts {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (err) {
    throw new Error(`${file} is not valid JSON: ${(err as Error).message}`, { cause: err });
  }
  return parseModelConfig(raw, file);
}

/** Reads and parses a config.json file; errors name the file. */
export function readModelConfig(path: string): ModelFacts {
  return modelConfigFromText(readInputFile(path, { what: "a model's config.json" }), path);
}
