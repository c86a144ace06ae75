/**
 * The parts of a config.json beyond a dense decoder: mixture of experts, multi-head latent attention,
 * sliding-window layers, and the per-family details that change the parameter count. Each rule names
 * the transformers / vLLM model code it follows. Used by config.ts; pure.
 */
import type { MlaLayout, MoeLayout, SlidingWindowLayout } from "./architecture";

type Json = Record<string, unknown>;

/** Reads a key from the text config first, then the top level (multimodal configs nest the LM). */
export type Pick = (keys: readonly string[]) => unknown;

const int = (v: unknown): number | undefined =>
  typeof v === "number" && Number.isInteger(v) && v >= 0 ? v : undefined;

/**
 * Defaults transformers applies for keys a config.json leaves out, where the model's own file omits
 * them: Gemma 3's text config (configuration_gemma3.py Gemma3TextConfig: vocab_size 262_208,
 * max_position_embeddings 131_072, tie_word_embeddings True, sliding_window_pattern 6), and Gemma 1/2's
 * tied embeddings (configuration_gemma2.py tie_word_embeddings=True).
 */
export const MODEL_TYPE_DEFAULTS: Readonly<Record<string, Json>> = {
  gemma3_text: { vocab_size: 262_208, max_position_embeddings: 131_072, tie_word_embeddings: true, sliding_window_pattern: 6 },
  gemma2: { tie_word_embeddings: true },
  gemma: { tie_word_embeddings: true },
};

/** Which decoder layers are MoE, by family (the `is_moe_layer` test of each vLLM model file). */
function moeLayerCount(type: string, pick: Pick, layers: number): number {
  const indices = Array.from({ length: layers }, (_, i) => i);
  if (type.startsWith("qwen2_moe") || type.startsWith("qwen3_moe")) {
    // qwen2_moe.py / qwen3_moe.py: not in mlp_only_layers and (i + 1) % decoder_sparse_step == 0.
    const step = int(pick(["decoder_sparse_step"])) ?? 1;
    const denseOnly = new Set((pick(["mlp_only_layers"]) as number[] | undefined) ?? []);
    return indices.filter((i) => !denseOnly.has(i) && step > 0 && (i + 1) % step === 0).length;
  }
  if (pick(["first_k_dense_replace", "moe_layer_freq"]) !== undefined) {
    // deepseek_v2.py: i >= first_k_dense_replace and i % moe_layer_freq == 0.
    const first = int(pick(["first_k_dense_replace"])) ?? 0;
    const freq = int(pick(["moe_layer_freq"])) ?? 1;
    return indices.filter((i) => i >= first && i % freq === 0).length;
  }
  if (type.startsWith("llama4")) {
    // llama4.py: (i + 1) % interleave_moe_layer_step == 0.
    const step = int(pick(["interleave_moe_layer_step"])) ?? 1;
    return indices.filter((i) => step > 0 && (i + 1) % step === 0).length;
  }
  return layers; // Mixtral, gpt-oss: every layer
}

/** The MoE layout of a config, or undefined for a dense model. */
export function moeLayout(type: string, pick: Pick, hidden: number, intermediate: number, layers: number): MoeLayout | undefined {
  const experts = int(pick(["num_local_experts", "num_experts", "n_routed_experts"]));
  if (experts === undefined || experts < 2) return undefined;
  const perToken = int(pick(["num_experts_per_tok", "experts_per_token", "moe_topk"])) ?? 2;
  const expertInter = int(pick(["moe_intermediate_size"])) ?? intermediate;
  const sharedExperts = int(pick(["n_shared_experts"])) ?? 0;
  let shared = sharedExperts * expertInter; // DeepSeek: n_shared_experts × moe_intermediate_size
  const qwenShared = int(pick(["shared_expert_intermediate_size"]));
  if (qwenShared !== undefined) shared = qwenShared;
  let dense = intermediate;
  if (type.startsWith("llama4")) {
    // Llama 4: one shared expert of intermediate_size; dense layers use intermediate_size_mlp.
    shared = intermediate;
    dense = int(pick(["intermediate_size_mlp"])) ?? intermediate;
  }
  return {
    experts,
    expertsPerToken: Math.min(perToken, experts),
    expertIntermediateSize: expertInter,
    sharedIntermediateSize: shared,
    sharedExpertGate: qwenShared !== undefined && qwenShared > 0,
    moeLayers: moeLayerCount(type, pick, layers),
    denseIntermediateSize: dense,
    // gpt-oss router bias; DeepSeek V3's noaux_tc gate keeps e_score_correction_bias (one per expert).
    routerBias: type === "gpt_oss" || pick(["topk_method"]) === "noaux_tc",
    expertBias: type === "gpt_oss",
  };
}

/** MLA when the config has a kv_lora_rank (vLLM's is_deepseek_mla also requires it, config/model.py). */
export function mlaLayout(pick: Pick): MlaLayout | undefined {
  const kvLoraRank = int(pick(["kv_lora_rank"]));
  if (kvLoraRank === undefined || kvLoraRank === 0) return undefined;
  const q = int(pick(["q_lora_rank"]));
  return {
    kvLoraRank,
    qLoraRank: q === undefined || q === 0 ? null : q,
    qkNopeHeadDim: int(pick(["qk_nope_head_dim"])) ?? 128,
    qkRopeHeadDim: int(pick(["qk_rope_head_dim"])) ?? 64,
    vHeadDim: int(pick(["v_head_dim"])) ?? 128,
  };
}

/**
 * Sliding-window layers: an explicit layer_types list (gpt-oss, newer Gemma/Cohere configs); Gemma 2's
 * every other layer (modeling_gemma2.py: even layers slide); Gemma 3's sliding_window_pattern (layer i
 * slides unless (i + 1) % pattern == 0); otherwise every layer slides when sliding_window is set and
 * use_sliding_window is not false (Mistral v0.1; Qwen2 configs carry a window they do not use).
 */
export function slidingWindowLayout(type: string, pick: Pick, layers: number): SlidingWindowLayout | undefined {
  const window = int(pick(["sliding_window"]));
  if (window === undefined || window === 0) return undefined;
  const layerTypes = pick(["layer_types"]);
  if (Array.isArray(layerTypes)) {
    const sliding = layerTypes.filter((t) => t === "sliding_attention").length;
    return sliding === 0 ? undefined : { window, slidingLayers: sliding };
  }
  if (pick(["use_sliding_window"]) === false) return undefined;
  if (type === "gemma2") return { window, slidingLayers: Math.ceil(layers / 2) };
  const pattern = int(pick(["sliding_window_pattern"]));
  if (pattern !== undefined && pattern > 0) {
    const full = Math.floor(layers / pattern);
    return { window, slidingLayers: layers - full };
  }
  if (window >= (int(pick(["max_position_embeddings"])) ?? Infinity)) return undefined;
  return { window, slidingLayers: layers };
}

/** RMSNorms per decoder layer: Gemma 2/3 norm before and after both attention and MLP. */
export const normsPerLayer = (type: string) => (type.startsWith("gemma2") || type.startsWith("gemma3") ? 4 : 2);

/** Qwen3 (dense and MoE) and Gemma 3 normalise q and k per head (q_norm, k_norm). */
export const hasQkNorm = (type: string) => type.startsWith("qwen3") || type.startsWith("gemma3");
