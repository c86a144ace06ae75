/**
 * The shape of a decoder model as far as memory is concerned, and its parameter count split into the
 * parts that quantization, tensor/expert parallelism and the decode bound treat differently.
 *
 * Layouts follow the Hugging Face transformers modeling code the configs belong to, and vLLM's model
 * files that load them (vllm/model_executor/models/{llama,qwen2,qwen3,qwen2_moe,qwen3_moe,mixtral,
 * deepseek_v2,gpt_oss,gemma2,gemma3,llama4}.py):
 * - MoE: every routed expert is a gated MLP (gate, up, down) and all of them stay resident; a router
 *   (hidden × experts) picks `expertsPerToken` of them. DeepSeek adds shared experts (an MLP of
 *   n_shared_experts × moe_intermediate_size), Qwen2-MoE a shared expert with a one-output gate, Llama 4
 *   one shared expert of intermediate_size. gpt-oss gives experts and router biases.
 * - MLA (DeepSeek V2/V3, Kimi K2): q_a/q_b (or one q_proj without q_lora_rank), kv_a_proj_with_mqa
 *   (hidden → kv_lora_rank + qk_rope_head_dim), kv_b_proj (kv_lora_rank → heads × (nope + v)), o_proj.
 * Pure: no I/O.
 */

/** How the decoder's MLP and embeddings are laid out; decides the parameter formula. */
export type ArchitectureFamily = "gated" | "gpt2" | "opt";

/** Mixture of experts, as the config declares it. */
export interface MoeLayout {
  /** Routed experts in each MoE layer (num_local_experts / num_experts / n_routed_experts). */
  readonly experts: number;
  /** Experts each token is routed to (num_experts_per_tok / experts_per_token). */
  readonly expertsPerToken: number;
  /** Intermediate size of one routed expert (moe_intermediate_size, else intermediate_size). */
  readonly expertIntermediateSize: number;
  /** Intermediate size of the always-active shared expert MLP of a MoE layer; 0 without one. */
  readonly sharedIntermediateSize: number;
  /** Qwen2-MoE scales the shared expert by a hidden → 1 gate. */
  readonly sharedExpertGate: boolean;
  /** Decoder layers whose MLP is the MoE block; the others use a dense MLP. */
  readonly moeLayers: number;
  /** Intermediate size of the dense MLP in the other layers. */
  readonly denseIntermediateSize: number;
  /** Router bias: gpt-oss's router bias, DeepSeek V3's e_score_correction_bias (noaux_tc). */
  readonly routerBias: boolean;
  /** gpt-oss experts carry biases on gate_up (2 × intermediate) and down (hidden). */
  readonly expertBias: boolean;
}

/** Multi-head latent attention (DeepSeek V2/V3/R1, Kimi K2). */
export interface MlaLayout {
  readonly kvLoraRank: number;
  /** null: queries use one full q_proj (DeepSeek-V2-Lite). */
  readonly qLoraRank: number | null;
  readonly qkNopeHeadDim: number;
  readonly qkRopeHeadDim: number;
  readonly vHeadDim: number;
}

/** Layers that attend to a window of recent tokens only; absent when every layer sees the whole context. */
export interface SlidingWindowLayout {
  /** Tokens a sliding-window layer attends to (sliding_window). */
  readonly window: number;
  /** How many decoder layers use the window; the rest are full attention. */
  readonly slidingLayers: number;
}

export interface Architecture {
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
  /** q/k/v biases (Qwen2, attention_bias). */
  readonly qkvBias: boolean;
  /** o_proj bias too (attention_bias: true in Llama-style configs, gpt-oss). */
  readonly outputBias?: boolean;
  /** gpt-oss: one learned attention sink per head per layer. */
  readonly attentionSinks?: boolean;
  /** Qwen3 and Gemma 3 normalise q and k over head_dim (2 × head_dim per layer). */
  readonly qkNorm?: boolean;
  /** RMSNorms per decoder layer: 2, or 4 for Gemma 2/3 (pre/post attention and feed-forward). */
  readonly normsPerLayer?: number;
  readonly moe?: MoeLayout;
  readonly mla?: MlaLayout;
  readonly slidingWindow?: SlidingWindowLayout;
}

/** Where a matrix sits; quantization schemes and expert parallelism treat the roles differently. */
export type LinearRole = "attention" | "mlp" | "shared-expert" | "routed-expert";

/** `count` matrices of in × out weights (no bias), e.g. every layer's q_proj. */
export interface LinearGroup {
  readonly role: LinearRole;
  readonly inFeatures: number;
  readonly outFeatures: number;
  readonly count: number;
}

export interface ParameterBreakdown {
  /** Input embedding table (and learned positions for GPT-2/OPT). */
  readonly embedding: number;
  /** Untied lm_head; 0 when tied to the embedding. */
  readonly lmHead: number;
  /** The weight matrices a quantization scheme may pack. */
  readonly linears: readonly LinearGroup[];
  /** Everything else, kept in the checkpoint dtype: norms, biases, routers, sinks. */
  readonly other: number;
  /** The part of `other` that belongs to routed experts (gpt-oss expert biases). */
  readonly routedExpertOther: number;
  readonly total: number;
  /** Parameters one token uses: total minus the routed experts it is not sent to. */
  readonly active: number;
}

const sum = (xs: readonly number[]) => xs.reduce((a, b) => a + b, 0);
export const linearParameters = (g: LinearGroup) => g.inFeatures * g.outFeatures * g.count;

function gatedMlp(role: LinearRole, h: number, inter: number, count: number): LinearGroup[] {
  if (inter === 0 || count === 0) return [];
  return [
    { role, inFeatures: h, outFeatures: inter, count: 2 * count }, // gate and up
    { role, inFeatures: inter, outFeatures: h, count }, // down
  ];
}

function attentionLinears(a: Architecture): { linears: LinearGroup[]; other: number } {
  const h = a.hiddenSize;
  const L = a.numLayers;
  const heads = a.numAttentionHeads;
  const m = a.mla;
  if (m !== undefined) {
    const qkHead = m.qkNopeHeadDim + m.qkRopeHeadDim;
    const q: LinearGroup[] =
      m.qLoraRank === null
        ? [{ role: "attention", inFeatures: h, outFeatures: heads * qkHead, count: L }]
        : [
            { role: "attention", inFeatures: h, outFeatures: m.qLoraRank, count: L },
            { role: "attention", inFeatures: m.qLoraRank, outFeatures: heads * qkHead, count: L },
          ];
    return {
      linears: [
        ...q,
        { role: "attention", inFeatures: h, outFeatures: m.kvLoraRank + m.qkRopeHeadDim, count: L },
        { role: "attention", inFeatures: m.kvLoraRank, outFeatures: heads * (m.qkNopeHeadDim + m.vHeadDim), count: L },
        { role: "attention", inFeatures: heads * m.vHeadDim, outFeatures: h, count: L },
      ],
      // q_a_layernorm and kv_a_layernorm
      other: L * ((m.qLoraRank ?? 0) + m.kvLoraRank),
    };
  }
  const qOut = heads * a.headDim;
  const kvOut = a.numKeyValueHeads * a.headDim;
  const bias =
    (a.qkvBias ? qOut + 2 * kvOut : 0) + (a.outputBias === true ? h : 0) + (a.attentionSinks === true ? heads : 0);
  return {
    linears: [
      { role: "attention", inFeatures: h, outFeatures: qOut, count: L },
      { role: "attention", inFeatures: h, outFeatures: kvOut, count: 2 * L },
      { role: "attention", inFeatures: qOut, outFeatures: h, count: L },
    ],
    other: L * (bias + (a.qkNorm === true ? 2 * a.headDim : 0)),
  };
}

/** GPT-2 and OPT: learned positions (OPT keeps 2 extra rows), biases, 2-matrix MLP, tied lm_head. */
function classicBreakdown(a: Architecture): ParameterBreakdown {
  const h = a.hiddenSize;
  const L = a.numLayers;
  const ffn = a.intermediateSize;
  const positionRows = a.family === "opt" ? a.maxPositionEmbeddings + 2 : a.maxPositionEmbeddings;
  const embedding = a.vocabSize * h + positionRows * h;
  const linears: LinearGroup[] = [
    { role: "attention", inFeatures: h, outFeatures: h, count: 4 * L },
    { role: "mlp", inFeatures: h, outFeatures: ffn, count: L },
    { role: "mlp", inFeatures: ffn, outFeatures: h, count: L },
  ];
  // 4 attention biases, 2 MLP biases, 2 layer norms with bias per layer; the final layer norm.
  const other = L * (4 * h + ffn + h + 4 * h) + 2 * h;
  const total = embedding + sum(linears.map(linearParameters)) + other;
  return { embedding, lmHead: 0, linears, other, routedExpertOther: 0, total, active: total };
}

/**
 * Parameters by part. Gated (Llama/Mistral/Qwen and their MoE/MLA relatives): embeddings [+ untied
 * lm_head] + layers × (attention + MLP or MoE block + norms) + final norm. Dense gated models give the
 * formula /work/shared/reference/models.json states.
 */
export function parameterBreakdown(a: Architecture): ParameterBreakdown {
  if (a.family !== "gated") return classicBreakdown(a);
  const h = a.hiddenSize;
  const L = a.numLayers;
  const embedding = a.vocabSize * h;
  const lmHead = a.tieWordEmbeddings ? 0 : embedding;
  const attention = attentionLinears(a);
  const norms = L * (a.normsPerLayer ?? 2) * h + h;
  const e = a.moe;
  if (e === undefined) {
    const linears = [...attention.linears, ...gatedMlp("mlp", h, a.intermediateSize, L)];
    const total = embedding + lmHead + sum(linears.map(linearParameters)) + attention.other + norms;
    return { embedding, lmHead, linears, other: attention.other + norms, routedExpertOther: 0, total, active: total };
  }
  const moeL = e.moeLayers;
  const routed = gatedMlp("routed-expert", h, e.expertIntermediateSize, moeL * e.experts);
  const linears = [
    ...attention.linears,
    ...gatedMlp("mlp", h, e.denseIntermediateSize, L - moeL),
    ...gatedMlp("shared-expert", h, e.sharedIntermediateSize, moeL),
    ...routed,
  ];
  const routedExpertOther = e.expertBias ? moeL * e.experts * (2 * e.expertIntermediateSize + h) : 0;
  const router = moeL * (h * e.experts + (e.routerBias ? e.experts : 0) + (e.sharedExpertGate ? h : 0));
  const other = attention.other + norms + router + routedExpertOther;
  const total = embedding + lmHead + sum(linears.map(linearParameters)) + other;
  const perExpert = 3 * h * e.expertIntermediateSize + (e.expertBias ? 2 * e.expertIntermediateSize + h : 0);
  const active = total - moeL * (e.experts - e.expertsPerToken) * perExpert;
  return { embedding, lmHead, linears, other, routedExpertOther, total, active };
}
