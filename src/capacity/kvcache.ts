/**
 * How vLLM lays out the KV cache of one GPU, release by release, for full, sliding-window and latent
 * (MLA) attention. A "group" is a set of layers sharing one block table; every group has `groupSize`
 * layers, and one block id costs groupSize × page bytes (one page in each of the groupSize pools).
 *
 * Rules, each with its vLLM source:
 * - Bytes per token per layer: 2 (K and V) × KV heads on the GPU × head size × dtype bytes, KV heads
 *   replicated when TP exceeds them (vllm/config/model.py get_num_kv_heads).
 * - MLA (DeepSeek V2/V3/R1, Kimi K2), since v0.7.1: one latent of kv_lora_rank + qk_rope_head_dim
 *   per token per layer, no separate K and V, and one KV "head" on every TP rank, i.e. the whole latent
 *   is repeated on every GPU (get_num_kv_heads: "When using MLA during decode it becomes MQA", return 1;
 *   get_head_size: kv_lora_rank + qk_rope_head_dim; vllm/v1/kv_cache_interface.py MLAAttentionSpec
 *   page size without the factor 2). MLA arrived in v0.7.1 (https://neuralmagic.com/blog/enhancing-
 *   deepseek-models-with-mla-and-fp8-optimizations-in-vllm/); before it DeepSeek V2/V3 kept K and V for
 *   every head, padded to head size 256 ("we need to pad head_size 192 to 256", vllm/config.py).
 * - V0 (before v0.8.0, when V1 became the default engine) allocates every layer for every token; a
 *   sliding window only changes the attention kernel (vllm/worker/cache_engine.py get_cache_block_size:
 *   num_attention_layers × block × heads × head size, K and V).
 * - V1 keeps a model whose layers are all sliding-window in one group that only needs the window
 *   (SlidingWindowSpec, PR #14097). A model mixing full and sliding layers is treated as all full
 *   (unify_hybrid_kv_cache_specs) until the hybrid KV cache manager (PR #17996), which groups layers by
 *   type: group size = the smaller layer count (the larger when it is under 1.5 × the smaller), padding
 *   the last group of a type; sliding groups need only window − 1 + max_num_batched_tokens tokens (+ 1
 *   block) per request (vllm/v1/core/kv_cache_utils.py _get_kv_cache_groups_uniform_page_size,
 *   get_kv_cache_config_from_groups, _report_kv_cache_config; kv_cache_interface.py SlidingWindowSpec).
 *   The logged "GPU KV cache size" is num_blocks // groups × block_size tokens.
 * Llama 4's chunked local attention is treated as full: vLLM disables the hybrid manager for it by
 * default ("latency regression", vllm/config/vllm.py).
 * Pure: no I/O.
 */
import type { ModelFacts } from "./models";
import { atLeastVersion, type Version } from "./version";

/** vLLM's default KV cache block size (tokens). */
export const KV_BLOCK_SIZE = 16;
/** V1 became vLLM's default engine (V0 before). */
export const V1_DEFAULT_VERSION = "0.8.0";
/** MLA's latent KV cache (DeepSeek V2/V3). */
export const MLA_VERSION = "0.7.1";
/**
 * The hybrid KV cache manager (PR #17996, merged June 2025 after v0.9.0 and before v0.9.1; release
 * inferred from the merge date).
 */
export const HYBRID_KV_CACHE_VERSION = "0.9.1";
/** Head size vLLM padded DeepSeek's 192-wide heads to before MLA. */
const PRE_MLA_DEEPSEEK_HEAD_SIZE = 256;

export interface KvGroup {
  /** Tokens a layer of this group attends to; null for full attention. */
  readonly window: number | null;
}

export interface KvCacheLayout {
  /** Bytes one token takes in one layer on one GPU. */
  readonly bytesPerTokenPerLayer: number;
  readonly groupSize: number;
  readonly groups: readonly KvGroup[];
  /** Some group keeps only a window per request (vLLM V1), so a request costs fewer blocks than its length. */
  readonly slidingGroups: boolean;
}

export interface KvLayoutInput {
  readonly tensorParallelSize: number;
  readonly pipelineParallelSize: number;
  readonly kvDtypeBytes: number;
  readonly version: Version;
}

const cdiv = (a: number, b: number) => Math.ceil(a / b);

function bytesPerTokenPerLayer(model: ModelFacts, input: KvLayoutInput): number {
  const tp = input.tensorParallelSize;
  if (model.mla !== undefined) {
    if (atLeastVersion(input.version, MLA_VERSION)) {
      return (model.mla.kvLoraRank + model.mla.qkRopeHeadDim) * input.kvDtypeBytes;
    }
    const heads = Math.max(1, Math.ceil(model.numKeyValueHeads / tp));
    return 2 * heads * PRE_MLA_DEEPSEEK_HEAD_SIZE * input.kvDtypeBytes;
  }
  const kvHeads = Math.max(1, Math.ceil(model.numKeyValueHeads / tp));
  return 2 * kvHeads * model.headDim * input.kvDtypeBytes;
}

/** The KV cache groups of one GPU (one pipeline stage). */
export function kvCacheLayout(model: ModelFacts, input: KvLayoutInput): KvCacheLayout {
  const pp = input.pipelineParallelSize;
  const bytes = bytesPerTokenPerLayer(model, input);
  const layers = Math.ceil(model.numLayers / pp);
  const full = (): KvCacheLayout => ({ bytesPerTokenPerLayer: bytes, groupSize: layers, groups: [{ window: null }], slidingGroups: false });
  const sw = model.slidingWindow;
  if (sw === undefined || sw.slidingLayers === 0 || !atLeastVersion(input.version, V1_DEFAULT_VERSION)) return full();
  const window = sw.window;
  if (sw.slidingLayers === model.numLayers) {
    return { bytesPerTokenPerLayer: bytes, groupSize: layers, groups: [{ window }], slidingGroups: true };
  }
  if (!atLeastVersion(input.version, HYBRID_KV_CACHE_VERSION)) return full();
  const sliding = Math.ceil(sw.slidingLayers / pp);
  const fullLayers = Math.ceil((model.numLayers - sw.slidingLayers) / pp);
  const min = Math.min(sliding, fullLayers);
  const max = Math.max(sliding, fullLayers);
  const groupSize = max < min * 1.5 ? max : min;
  const groups: KvGroup[] = [
    ...Array.from({ length: cdiv(fullLayers, groupSize) }, () => ({ window: null })),
    ...Array.from({ length: cdiv(sliding, groupSize) }, () => ({ window })),
  ];
  return { bytesPerTokenPerLayer: bytes, groupSize, groups, slidingGroups: true };
}

/** Bytes one block id costs on the GPU: one page of BLOCK_SIZE tokens in each of groupSize pools. */
export const bytesPerBlock = (l: KvCacheLayout) => l.bytesPerTokenPerLayer * KV_BLOCK_SIZE * l.groupSize;

/** Bytes per token as vLLM's "GPU KV cache size: N tokens" counts them. */
export const bytesPerLoggedToken = (l: KvCacheLayout) => l.bytesPerTokenPerLayer * l.groupSize * l.groups.length;

/** Blocks that fit in `available` bytes. */
export const kvBlocks = (l: KvCacheLayout, available: number) =>
  available > 0 ? Math.floor(available / bytesPerBlock(l)) : 0;

/** The token count vLLM logs for `blocks` blocks. */
export const loggedTokens = (l: KvCacheLayout, blocks: number) =>
  Math.floor(blocks / l.groups.length) * KV_BLOCK_SIZE;

/** Blocks one request of `maxModelLen` tokens needs across all groups. */
export function blocksPerRequest(l: KvCacheLayout, maxModelLen: number, maxNumBatchedTokens: number): number {
  let blocks = 0;
  for (const g of l.groups) {
    blocks +=
      g.window === null
        ? cdiv(maxModelLen, KV_BLOCK_SIZE)
        : cdiv(Math.min(g.window - 1 + maxNumBatchedTokens, maxModelLen), KV_BLOCK_SIZE) + 1;
  }
  return blocks;
}

/** The longest request that fits `available` bytes (0 when not even one token does). */
export function longestRequestThatFits(
  l: KvCacheLayout,
  available: number,
  maxModelLen: number,
  maxNumBatchedTokens: number,
): number {
  const fits = (len: number) => blocksPerRequest(l, len, maxNumBatchedTokens) * bytesPerBlock(l) <= available;
  if (!fits(1)) return 0;
  let lo = 1;
  let hi = maxModelLen;
  while (lo < hi) {
    const mid = Math.ceil((lo + hi) / 2);
    if (fits(mid)) lo = mid;
    else hi = mid - 1;
  }
  return lo;
}
