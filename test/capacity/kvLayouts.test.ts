/**
 * KV cache per GPU for latent (MLA), sliding-window and hybrid attention, release by release, and the
 * budgets the estimate gives for such models.
 */
import { describe, expect, it } from "vitest";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { estimateCapacity, kvBytesPerToken, lookupModel, parseModelConfig, readModelConfig } from "../../src/capacity";
import { blocksPerRequest, kvCacheLayout } from "../../src/capacity/kvcache";
import { parseVllmVersion } from "../../src/capacity/version";

const dir = join(__dirname, "../fixtures/capacity/architectures");
const gemma3 = readModelConfig(join(dir, "gemma-3-27b-it.config.json"));
const deepseekV3 = readModelConfig(join(dir, "deepseek-v3.config.json"));
const kv = (name: string, tp: number, version = "0.21.0") => kvBytesPerToken(lookupModel(name), tp, 1, 2, version);

describe("KV bytes per token per GPU (bf16), TP 1 and TP 2", () => {
  it.each([
    // 2 (K, V) × layers × KV heads on the GPU × head dim × 2 bytes
    ["Qwen/Qwen3-30B-A3B", 98_304, 49_152], // 2 × 48 × 4 × 128 × 2
    ["mistralai/Mixtral-8x7B-v0.1", 131_072, 65_536], // 2 × 32 × 8 × 128 × 2
    ["openai/gpt-oss-20b", 49_152, 24_576], // 2 × 24 × 8 × 64 × 2
    ["openai/gpt-oss-120b", 73_728, 36_864], // 2 × 36 × 8 × 64 × 2
    ["google/gemma-2-9b", 344_064, 172_032], // 2 × 42 × 8 × 256 × 2: 21 sliding + 21 full groups of 21
    ["mistralai/Mistral-7B-Instruct-v0.1", 131_072, 65_536],
  ])("%s: %i bytes, %i with TP 2", (name, tp1, tp2) => {
    expect([kv(name, 1), kv(name, 2)]).toEqual([tp1, tp2]);
  });

  it("MLA keeps one latent of kv_lora_rank + qk_rope_head_dim per layer, the same on every TP rank", () => {
    // DeepSeek-V2-Lite: 27 layers × (512 + 64) × 2 bytes, not divided by TP (vLLM: one KV head per rank)
    expect([kv("deepseek-ai/DeepSeek-V2-Lite", 1), kv("deepseek-ai/DeepSeek-V2-Lite", 2)]).toEqual([31_104, 31_104]);
    // DeepSeek-V3: 61 × 576 × 2; fp8 KV halves it; TP 8 does not
    expect([1, 2, 8].map((tp) => kvBytesPerToken(deepseekV3, tp, 1, 2, "0.21.0"))).toEqual([70_272, 70_272, 70_272]);
    expect(kvBytesPerToken(deepseekV3, 8, 1, 1, "0.21.0")).toBe(35_136);
  });

  it("before MLA (vLLM < 0.7.1) DeepSeek kept K and V for every head, padded to head size 256", () => {
    // 27 × 2 × 16 heads × 256 × 2 = 442,368 B: the 35.42 GiB / 5,373 blocks of 16 that vLLM logged for
    // DeepSeek-V2-Lite-Chat before MLA (https://github.com/vllm-project/vllm/pull/10927)
    expect([kv("deepseek-ai/DeepSeek-V2-Lite", 1, "0.7.0"), kv("deepseek-ai/DeepSeek-V2-Lite", 2, "0.7.0")]).toEqual([
      442_368, 221_184,
    ]);
    expect(kv("deepseek-ai/DeepSeek-V2-Lite", 1, "0.7.1")).toBe(31_104);
  });

  it("Gemma 3: the hybrid manager logs tokens over 7 groups of 10 layers (8 of them padding), so 70 layers' worth", () => {
    // per layer 2 × 16 × 128 × 2 = 8,192 B; 62 layers before the hybrid manager
    expect([kvBytesPerToken(gemma3, 1, 1, 2, "0.9.0"), kvBytesPerToken(gemma3, 2, 1, 2, "0.9.0")]).toEqual([507_904, 253_952]);
    expect([kvBytesPerToken(gemma3, 1, 1, 2, "0.9.1"), kvBytesPerToken(gemma3, 2, 1, 2, "0.9.1")]).toEqual([573_440, 286_720]);
  });
});

describe("KV cache groups", () => {
  const layout = (name: string, version: string, pp = 1) =>
    kvCacheLayout(lookupModel(name), { tensorParallelSize: 1, pipelineParallelSize: pp, kvDtypeBytes: 2, version: parseVllmVersion(version) });

  it("V0 gives every layer every token; V1 gives an all-sliding model one sliding group", () => {
    expect(layout("mistralai/Mistral-7B-Instruct-v0.1", "0.7.3")).toEqual({
      bytesPerTokenPerLayer: 4096, groupSize: 32, groups: [{ window: null }], slidingGroups: false,
    });
    expect(layout("mistralai/Mistral-7B-Instruct-v0.1", "0.8.0")).toEqual({
      bytesPerTokenPerLayer: 4096, groupSize: 32, groups: [{ window: 4096 }], slidingGroups: true,
    });
  });

  it("mixed models are all-full in V1 until the hybrid manager, then one group per type of 12 layers (gpt-oss)", () => {
    expect(layout("openai/gpt-oss-20b", "0.9.0").groups).toEqual([{ window: null }]);
    const hybrid = layout("openai/gpt-oss-20b", "0.9.1");
    expect([hybrid.groupSize, hybrid.groups]).toEqual([12, [{ window: null }, { window: 128 }]]);
    // a request of 131,072 tokens: 8,192 blocks for the full group, cdiv(127 + 2,048, 16) + 1 = 137 for the window
    expect(blocksPerRequest(hybrid, 131_072, 2048)).toBe(8_192 + 137);
  });

  it("a pipeline stage groups its own layers", () => {
    // gpt-oss-120b over 2 stages: 9 sliding and 9 full layers each
    const l = layout("openai/gpt-oss-120b", "0.21.0", 2);
    expect([l.groupSize, l.groups.length]).toEqual([9, 2]);
  });
});

describe("budgets", () => {
  const h100 = { gpuMemoryMiB: 81559, tensorParallelSize: 1, pipelineParallelSize: 1, gpuMemoryUtilization: 0.9, maxModelLen: 32768, vllmVersion: "0.21.0" };

  it("Gemma 3 27B on an H100: fewer logged tokens but more concurrency once sliding layers need only the window", () => {
    const before = estimateCapacity({ ...h100, model: gemma3, vllmVersion: "0.9.0" });
    const after = estimateCapacity({ ...h100, model: gemma3, vllmVersion: "0.9.1" });
    // 0.9 × 79.22 GiB = 71.30 GiB, less 50.31 GiB of weights (27,009,346,304 parameters × 2 B) and the
    // profile's peak: its sampler pass, 1,024 requests × 262,208 logits × 16 B = 4.00 GiB, above the
    // 8,192-token forward pass (1.27 GiB). 0.9.0 also charges the CUDA context (0.27 GiB) besides 0.25 GiB
    // outside torch, 0.9.1 only the latter: 16.47 GiB of KV before, 16.74 GiB after.
    // 0.9.0: 2,176 blocks of 16 × 507,904 B → 34,816 tokens, 34,816 / 32,768 = 1.06x.
    // 0.9.1: blocks of 10 layers × 16 × 8,192 B = 13,710; 13,710 // 7 groups × 16 = 31,328 tokens; a request
    // takes 2,048 full blocks + 6 × (cdiv(1,023 + 8,192, 16) + 1) = 5,510, so 13,710 / 5,510 = 2.49x.
    expect([before.kvCacheGiBPerGpu, before.kvCacheTokens, before.maxConcurrency]).toEqual([16.47, 34_816, 1.06]);
    expect([after.kvCacheGiBPerGpu, after.kvCacheTokens, after.maxConcurrency]).toEqual([16.74, 31_328, 2.49]);
  });

  it("gpt-oss-20b at its full 131,072 context on a 24 GiB card: fewer logged tokens than the context, yet it fits", () => {
    const r = estimateCapacity({
      model: lookupModel("openai/gpt-oss-20b"), gpuMemoryMiB: 24576, tensorParallelSize: 1, pipelineParallelSize: 1,
      gpuMemoryUtilization: 0.9, maxModelLen: 131_072, vllmVersion: "0.21.0",
    });
    // 0.9 × 23.57 GiB = 21.21 GiB, less 12.82 GiB of weights (the checkpoint's 13,761,264,768 bytes) and
    // 2.70 GiB of overhead (sampler 256 × 201,088 × 16 B = 0.77, outside torch 0.25, 86 CUDA graphs × 20 MiB
    // = 1.68): 5.70 GiB of KV = 15,565 blocks of 12 layers × 16 × 2,048 B → 15,565 // 2 groups × 16 =
    // 124,512 logged tokens, while one request needs 8,192 + 137 = 8,329 blocks: 15,565 / 8,329 = 1.87x.
    expect([r.weightsGiBPerGpu, r.kvCacheGiBPerGpu, r.kvCacheTokens, r.maxConcurrency, r.violations]).toEqual([
      12.82, 5.7, 124_512, 1.87, [],
    ]);
  });

  it("a context that does not fit names the longest that does, counting the window as vLLM does", () => {
    const r = estimateCapacity({
      model: lookupModel("openai/gpt-oss-20b"), gpuMemoryMiB: 24576, tensorParallelSize: 1, pipelineParallelSize: 1,
      gpuMemoryUtilization: 0.72, maxModelLen: 131_072, vllmVersion: "0.21.0",
    });
    // 0.72 × 23.57 GiB = 16.97 GiB, less the same 12.82 + 2.70 GiB: 1.46 GiB = 3,980 blocks of 393,216 B
    // (3,980 // 2 × 16 = 31,840 logged tokens); a full-length request needs 8,329 (3.05 GiB); the longest
    // that fits needs cdiv(len, 16) + 137 ≤ 3,980 blocks: 3,843 × 16 = 61,488 tokens. 8,329 blocks fit from
    // (3.05 + 12.82 + 2.70 GiB) / 23.57 GiB = 0.788 up: 0.79.
    expect(r.violations).toEqual([
      {
        code: "kv-too-small",
        message:
          "one sequence of max model length 131072 needs 3.05 GiB of KV cache per GPU but only 1.46 GiB " +
          "(31840 tokens) is left; lower maxModelLen to at most 61488, or raise memoryUtilization to at least 0.79, " +
          "or add GPUs (tensor parallelism)",
      },
    ]);
  });

  it("Qwen3-30B-A3B in bf16 does not fit 2 × RTX 3090; its AWQ checkpoint does, and decode reads the active experts only", () => {
    const rtx3090 = { gpuMemoryMiB: 24576, gpuBandwidthGBs: 936, tensorParallelSize: 2, pipelineParallelSize: 1, gpuMemoryUtilization: 0.9, maxModelLen: 32768, vllmVersion: "0.21.0" };
    const bf16 = estimateCapacity({ ...rtx3090, model: lookupModel("Qwen/Qwen3-30B-A3B") });
    // 61,064,245,248 B / 2 = 28.44 GiB per GPU, plus 2.51 GiB of overhead (sampler 256 × 151,936 × 16 B =
    // 0.58, outside torch 0.25, CUDA graphs 1.68) = 30.94 GiB > 21.21 GiB; a token reads 61,064,245,248 −
    // 120/128 of the 57,982,058,496 expert bytes = 6,706,065,408 B: 936 GB/s × 2 / that = 279.15 tokens/s.
    expect([bf16.weightsGiBPerGpu, bf16.decodeTokensPerSecondUpperBound, bf16.violations.map((v) => v.code)]).toEqual([
      28.44, 279.15, ["no-kv-memory"],
    ]);
    const config = JSON.parse(readFileSync(join(dir, "qwen3-30b-a3b.config.json"), "utf8")) as object;
    const awq = parseModelConfig(
      { ...config, quantization_config: { quant_method: "awq", bits: 4, group_size: 128, zero_point: true, version: "gemm" } },
      "Qwen3-30B-A3B-AWQ/config.json",
    );
    const r = estimateCapacity({ ...rtx3090, model: awq });
    // 16,802,672,640 B of AWQ weights / 2 = 7.82 GiB; 21.21 − 7.82 − 2.51 = 10.88 GiB of KV at 49,152 B
    // per token (48 layers × 2 × 2 KV heads × 128 × 2 B): 14,854 blocks of 16 → 237,664 tokens
    expect([r.weightsGiBPerGpu, r.kvCacheGiBPerGpu, r.kvCacheTokens, r.violations]).toEqual([7.82, 10.88, 237_664, []]);
  });

  it("DeepSeek-V2-Lite on 2 × H100: MLA (0.7.1) holds 7x the tokens of the padded per-head cache (0.7.0)", () => {
    const base = { ...h100, model: lookupModel("deepseek-ai/DeepSeek-V2-Lite"), tensorParallelSize: 2, maxModelLen: 8192 };
    const before = estimateCapacity({ ...base, vllmVersion: "0.7.0" });
    const after = estimateCapacity({ ...base, vllmVersion: "0.7.1" });
    // 71.30 GiB − 14.63 GiB of weights (15,706,484,224 parameters × 2 B / 2) − 0.39 GiB (sampler 256 ×
    // 102,400 × 16 B, above the 8,192-token forward pass's 0.38) − 0.25 GiB outside torch = 56.03 GiB of KV,
    // the same for both releases: ÷ (16 × 221,184 B) = 16,999 blocks → 271,984 tokens; ÷ (16 × 31,104 B) =
    // 120,883 blocks → 1,934,128 tokens, 7.1 times as many
    expect([before.kvCacheGiBPerGpu, after.kvCacheGiBPerGpu, after.weightsGiBPerGpu]).toEqual([56.03, 56.03, 14.63]);
    expect([before.kvCacheTokens, after.kvCacheTokens]).toEqual([271_984, 1_934_128]);
    expect(Math.floor(after.kvCacheTokens / before.kvCacheTokens)).toBe(7);
  });
});
