/**
 * MoE, MLA and sliding-window models read from real config.json files (test/fixtures/capacity/
 * architectures, sources in its sources.json): exact parameter counts, held against the totals their
 * publishers state, and the layouts the memory math uses.
 */
import { describe, expect, it } from "vitest";
import { join } from "node:path";
import { parseModelConfig, readModelConfig, lookupModel, type ModelFacts } from "../../src/capacity";
import { parameterBreakdown } from "../../src/capacity/architecture";

const dir = join(__dirname, "../fixtures/capacity/architectures");
const read = (file: string) => readModelConfig(join(dir, file));
const billions = (n: number) => (n / 1e9).toFixed(1);

describe("parameter counts from config.json", () => {
  it("Qwen3-30B-A3B: 30.5B in total and 3.3B activated, as its model card states", () => {
    const m = read("qwen3-30b-a3b.config.json");
    /*
     * per layer: attention 2048×4096 + 2 × 2048×512 + 4096×2048 = 18,874,368; q/k norms 256;
     * 128 experts × 3 × 2048 × 768 = 603,979,776; router 2048 × 128 = 262,144; norms 4,096
     * = 623,120,640 × 48 layers = 29,909,790,720; + embeddings and lm_head 2 × 151,936 × 2048
     * = 622,329,856; + final norm 2,048 = 30,532,122,624.
     * Active: 8 of 128 experts, 120 × 4,718,592 × 48 = 27,179,089,920 fewer = 3,353,032,704.
     */
    expect([m.parameters, m.activeParameters]).toEqual([30_532_122_624, 3_353_032_704]);
    expect([billions(m.parameters), billions(m.activeParameters)]).toEqual(["30.5", "3.4"]);
    // The card's 29.9B non-embedding parameters: all but the embedding table and lm_head.
    expect(billions(m.parameters - 2 * m.vocabSize * m.hiddenSize)).toBe("29.9");
    expect(m.moe).toEqual({
      experts: 128, expertsPerToken: 8, expertIntermediateSize: 768, sharedIntermediateSize: 0,
      sharedExpertGate: false, moeLayers: 48, denseIntermediateSize: 6144, routerBias: false, expertBias: false,
    });
  });

  it("Mixtral-8x7B: 46.7B total and 12.9B active (Mistral's announcement)", () => {
    const m = read("mixtral-8x7b-v0.1.config.json");
    // 32 × (41,943,040 attention + 8 × 176,160,768 experts + 32,768 router + 8,192 norms)
    // + 2 × 131,072,000 embeddings + 4,096 = 46,702,792,704; active: 6 × 176,160,768 × 32 fewer.
    expect([m.parameters, m.activeParameters]).toEqual([46_702_792_704, 12_879_925_248]);
    expect([billions(m.parameters), billions(m.activeParameters)]).toEqual(["46.7", "12.9"]);
  });

  it("DeepSeek-V2-Lite: MLA without q_lora_rank, 2 shared experts, a dense first layer", () => {
    const m = read("deepseek-v2-lite.config.json");
    /*
     * MLA per layer: q 2048×16×192 = 6,291,456; kv_a 2048×576 = 1,179,648; kv_a norm 512;
     * kv_b 512×16×256 = 2,097,152; o 16×128×2048 = 4,194,304 → 13,763,072.
     * Layer 0: + dense MLP 3×2048×10944 = 67,239,936 + norms 4,096 = 81,007,104.
     * Layers 1–26: + 64 × 8,650,752 experts + shared 3×2048×2816 = 17,301,504 + router 131,072
     * + norms 4,096 = 584,847,872 each. Total with 2 × 209,715,200 embeddings and the final norm:
     * 15,706,484,224. Active: 58 of 64 experts unused, 26 × 58 × 8,650,752 fewer = 2,661,150,208.
     */
    expect([m.parameters, m.activeParameters]).toEqual([15_706_484_224, 2_661_150_208]);
    // The card's 16B total and 2.4B active; DeepSeek counts the active figure without the input
    // embedding table (decoding reads one row of it): 2,661,150,208 − 209,715,200.
    expect(billions(m.parameters)).toBe("15.7");
    expect(billions(m.activeParameters - m.vocabSize * m.hiddenSize)).toBe("2.5");
    expect(m.mla).toEqual({ kvLoraRank: 512, qLoraRank: null, qkNopeHeadDim: 128, qkRopeHeadDim: 64, vHeadDim: 128 });
    expect([m.moe?.moeLayers, m.moe?.sharedIntermediateSize, m.headDim]).toEqual([26, 2816, 192]);
  });

  it("DeepSeek-V3: 671B in the main model (README_WEIGHTS.md), the MTP layer left out as vLLM does", () => {
    const m = read("deepseek-v3.config.json");
    // 3 dense + 58 MoE layers of 256 routed and 1 shared expert, q_lora_rank 1536; the noaux_tc
    // router keeps one correction bias per expert.
    expect([m.parameters, m.activeParameters]).toEqual([671_026_419_200, 37_552_297_472]);
    expect(billions(m.parameters)).toBe("671.0");
    // DeepSeek states 36.6–36.7B activated; ours less the 0.93B input embedding table is 36.6B.
    expect(billions(m.activeParameters - m.vocabSize * m.hiddenSize)).toBe("36.6");
    expect([m.moe?.moeLayers, m.moe?.routerBias, m.quantization?.method]).toEqual([58, true, "fp8"]);
  });

  it("gpt-oss-20b and -120b: 20.9B/3.6B and 116.8B/5.1B as OpenAI's model card counts them", () => {
    const small = read("gpt-oss-20b.config.json");
    const large = read("gpt-oss-120b.config.json");
    /*
     * gpt-oss-20b per layer: attention with q/k/v/o biases 26,550,080 + 64 sinks; 32 experts of
     * gate_up 2880×5760 + 5760 bias and down 2880×2880 + 2880 bias (24,891,840 each); router
     * 2880×32 + 32 bias; 2 norms. 24 layers + 2 × 201,088 × 2880 embeddings + final norm.
     */
    expect([small.parameters, small.activeParameters]).toEqual([20_914_757_184, 4_187_440_704]);
    expect([large.parameters, large.activeParameters]).toEqual([116_829_156_672, 5_711_982_912]);
    // OpenAI's active counts leave out the embedding table: 3.61B and 5.13B.
    const withoutEmbedding = (m: ModelFacts) => ((m.activeParameters - m.vocabSize * m.hiddenSize) / 1e9).toFixed(2);
    expect([billions(small.parameters), withoutEmbedding(small)]).toEqual(["20.9", "3.61"]);
    expect([billions(large.parameters), withoutEmbedding(large)]).toEqual(["116.8", "5.13"]);
    expect([small.slidingWindow, large.slidingWindow]).toEqual([
      { window: 128, slidingLayers: 12 },
      { window: 128, slidingLayers: 18 },
    ]);
  });

  it("Gemma 2 9B: four norms per layer, tied embeddings, every other layer slides", () => {
    const m = read("gemma-2-9b.config.json");
    // 42 × (44,040,192 attention + 154,140,672 MLP + 4 × 3584 norms) + 256,000 × 3584 + 3584
    expect(m.parameters).toBe(9_241_705_984);
    expect([m.tieWordEmbeddings, m.normsPerLayer, m.slidingWindow]).toEqual([true, 4, { window: 4096, slidingLayers: 21 }]);
  });

  it("Gemma 3 27B: the nested text_config, transformers' defaults for what it leaves out, 5 sliding : 1 full", () => {
    const m = read("gemma-3-27b-it.config.json");
    // 62 × (66,060,288 attention + 256 q/k norms + 346,816,512 MLP + 21,504 norms) + 262,208 × 5376 + 5376
    expect(m.parameters).toBe(27_009_346_304);
    expect([m.vocabSize, m.maxPositionEmbeddings, m.tieWordEmbeddings, m.qkNorm]).toEqual([262208, 131072, true, true]);
    // sliding_window_pattern 6: layers 5, 11, …, 59 are full, the other 52 slide.
    expect(m.slidingWindow).toEqual({ window: 1024, slidingLayers: 52 });
  });

  it("Mistral 7B v0.1: every layer slides over 4096 tokens; Qwen2.5's unused window does not count", () => {
    const m = read("mistral-7b-instruct-v0.1.config.json");
    expect([m.parameters, m.slidingWindow]).toEqual([7_241_732_096, { window: 4096, slidingLayers: 32 }]);
    expect(lookupModel("Qwen/Qwen2.5-7B-Instruct").slidingWindow).toBeUndefined();
    expect(readModelConfig(join(__dirname, "../fixtures/capacity/qwen2.5-7b-instruct.config.json")).slidingWindow).toBeUndefined();
  });

  it.each([
    ["qwen3-30b-a3b.config.json", "Qwen/Qwen3-30B-A3B"],
    ["mixtral-8x7b-v0.1.config.json", "mistralai/Mixtral-8x7B-v0.1"],
    ["deepseek-v2-lite.config.json", "deepseek-ai/DeepSeek-V2-Lite"],
    ["gpt-oss-20b.config.json", "openai/gpt-oss-20b"],
    ["gpt-oss-120b.config.json", "openai/gpt-oss-120b"],
    ["gemma-2-9b.config.json", "google/gemma-2-9b"],
    ["mistral-7b-instruct-v0.1.config.json", "mistralai/Mistral-7B-Instruct-v0.1"],
  ])("%s reads the same as the catalog entry %s", (file, name) => {
    const { weightBytes: _known, ...catalog } = lookupModel(name);
    expect({ ...read(file), name }).toEqual(catalog);
  });
});

describe("MoE layers by family", () => {
  const base = {
    hidden_size: 1024, num_attention_heads: 8, num_hidden_layers: 8, intermediate_size: 4096,
    vocab_size: 1000, max_position_embeddings: 4096,
  };

  it("Qwen2-MoE: decoder_sparse_step and mlp_only_layers leave dense layers; the shared expert has a gate", () => {
    const m = parseModelConfig({
      ...base, model_type: "qwen2_moe", num_experts: 60, num_experts_per_tok: 4, moe_intermediate_size: 1408,
      shared_expert_intermediate_size: 5632, decoder_sparse_step: 2, mlp_only_layers: [1, 3],
    }, "qwen2-moe/config.json");
    // (i + 1) % 2 == 0 gives layers 1, 3, 5, 7; mlp_only_layers removes 1 and 3.
    expect([m.moe?.moeLayers, m.moe?.sharedIntermediateSize, m.moe?.sharedExpertGate, m.qkvBias]).toEqual([2, 5632, true, true]);
  });

  it("DeepSeek: first_k_dense_replace and moe_layer_freq", () => {
    const m = parseModelConfig(
      { ...base, model_type: "deepseek_v2", n_routed_experts: 16, num_experts_per_tok: 2, moe_intermediate_size: 512,
        n_shared_experts: 1, first_k_dense_replace: 2, moe_layer_freq: 2 },
      "deepseek/config.json",
    );
    // i >= 2 and i % 2 == 0: layers 2, 4, 6.
    expect([m.moe?.moeLayers, m.moe?.sharedIntermediateSize, m.mla]).toEqual([3, 512, undefined]);
  });

  it("Llama 4: interleave_moe_layer_step, one shared expert of intermediate_size, intermediate_size_mlp for dense layers", () => {
    const m = parseModelConfig({
      model_type: "llama4",
      text_config: {
        ...base, model_type: "llama4_text", num_local_experts: 128, num_experts_per_tok: 1,
        intermediate_size_mlp: 16384, interleave_moe_layer_step: 2,
      },
    }, "llama4/config.json");
    expect([m.moe?.moeLayers, m.moe?.sharedIntermediateSize, m.moe?.denseIntermediateSize, m.moe?.expertIntermediateSize])
      .toEqual([4, 4096, 16384, 4096]);
  });

  it("a dense model has no MoE layout, and its parts add up to the dense formula", () => {
    const m = lookupModel("meta-llama/Llama-3.1-8B-Instruct");
    const b = parameterBreakdown(m);
    expect([m.moe, b.total, b.active, m.activeParameters]).toEqual([undefined, 8_030_261_248, 8_030_261_248, 8_030_261_248]);
  });
});
