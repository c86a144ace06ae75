/**
 * Weight bytes: quantization_config read from config.json, the bytes each scheme packs a matrix into,
 * a known checkpoint size, and one GPU's share under tensor, data and expert parallelism.
 */
import { describe, expect, it } from "vitest";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { lookupModel, parseModelConfig, readModelConfig } from "../../src/capacity";
import { parseQuantizationConfig } from "../../src/capacity/quantization";
import { modelWeightBytes, weightBytesPerGpu } from "../../src/capacity/weights";

const dir = join(__dirname, "../fixtures/capacity/architectures");
const json = (file: string) => JSON.parse(readFileSync(join(dir, file), "utf8")) as Record<string, unknown>;
const withQuant = (file: string, quantization_config: unknown) =>
  parseModelConfig({ ...json(file), quantization_config }, `${file} + quantization_config`);

/*
 * Mixtral-8x7B's matrices: attention 32 × (2 × 4096² + 2 × 4096×1024) = 1,342,177,280 weights, experts
 * 768 × 4096×14336 = 45,097,156,608; all inputs divide into groups of 128. Outside them: 2 × 131,072,000
 * embedding/lm_head and 1,314,816 norms and router weights, all 16-bit.
 */
const MIXTRAL_MATRICES = 46_439_333_888;
const MIXTRAL_16BIT = 2 * (262_144_000 + 1_314_816);

describe("quantization_config", () => {
  it("AWQ 4-bit, group 128: half a byte per weight, an fp16 scale and a 4-bit zero per 128", () => {
    const m = withQuant("mixtral-8x7b-v0.1.config.json", { quant_method: "awq", bits: 4, group_size: 128, zero_point: true, version: "gemm" });
    // 46,439,333,888 × (0.5 + 2.5/128) = 24,126,685,184
    expect(modelWeightBytes(m, "none", 2).total).toBe(MIXTRAL_MATRICES * (0.5 + 2.5 / 128) + MIXTRAL_16BIT);
    expect(modelWeightBytes(m, "none", 2).total).toBe(24_653_602_816);
  });

  it("GPTQ 4-bit adds g_idx, one int32 per input row of every matrix", () => {
    const m = withQuant("mixtral-8x7b-v0.1.config.json", { quant_method: "gptq", bits: 4, group_size: 128, desc_act: false, sym: true });
    // input rows: attention 4096 × 128 matrices, experts 4096 × 512 (gate, up) + 14336 × 256 (down) = 6,291,456
    expect(modelWeightBytes(m, "none", 2).total).toBe(24_653_602_816 + 6_291_456 * 4);
  });

  it("bitsandbytes 4-bit: half a byte per weight and an fp32 absmax per 64 (double quantization undone at load)", () => {
    const m = withQuant("mistral-7b-instruct-v0.1.config.json", {
      quant_method: "bitsandbytes", load_in_4bit: true, bnb_4bit_quant_type: "nf4", bnb_4bit_use_double_quant: true,
    });
    // 6,979,321,856 matrix weights × (0.5 + 4/64) + 266,240 norms × 2 + 262,144,000 embedding/lm_head × 2
    expect(modelWeightBytes(m, "none", 2).total).toBe(6_979_321_856 * (0.5 + 4 / 64) + 266_240 * 2 + 262_144_000 * 2);
    expect(modelWeightBytes(m, "none", 2).total).toBe(4_450_689_024);
  });

  it("compressed-tensors FP8 per channel: a byte per weight and a 16-bit scale per output row; lm_head ignored", () => {
    const m = withQuant("mistral-7b-instruct-v0.1.config.json", {
      quant_method: "compressed-tensors", format: "float-quantized",
      config_groups: { group_0: { targets: ["Linear"], weights: { num_bits: 8, type: "float", strategy: "channel", symmetric: true } } },
      ignore: ["lm_head"],
    });
    // output rows per layer 4096 + 1024 + 1024 + 4096 + 2 × 14336 + 4096 = 43,008; × 32 layers × 2 bytes
    expect(modelWeightBytes(m, "none", 2).total).toBe(6_979_321_856 + 43_008 * 32 * 2 + 266_240 * 2 + 262_144_000 * 2);
  });

  it("MXFP4 packs only gpt-oss's experts, and gives its checkpoint's exact safetensors size", () => {
    const m = readModelConfig(join(dir, "gpt-oss-20b.config.json"));
    /*
     * experts: 24 × 32 × (2880×5760 + 2880×2880) = 19,110,297,600 weights × 0.5 byte + one scale byte per
     * 32 = 10,152,345,600; everything else (1,804,459,584 parameters, expert biases included) × 2 bytes
     * = 3,608,919,168; total 13,761,264,768 = metadata.total_size of openai/gpt-oss-20b's index.
     */
    const w = modelWeightBytes(m, "none", 2);
    expect(w.total).toBe(13_761_264_768);
    expect(w.total).toBe(lookupModel("openai/gpt-oss-20b").weightBytes);
    expect(w.routedExperts).toBe(10_152_345_600 + 24 * 32 * (5760 + 2880) * 2);
  });

  it("DeepSeek-V3's FP8 with 128×128 block scales: one fp32 scale per block of every matrix", () => {
    const w = modelWeightBytes(readModelConfig(join(dir, "deepseek-v3.config.json")), "none", 2);
    // one routed expert: 3 matrices of 14,680,064 bytes + 3 × (16 × 56 blocks × 4 bytes) = 44,050,944; × 256 × 58
    expect(w.routedExperts).toBe(44_050_944 * 256 * 58);
    expect(w.total).toBe(673_150_582_112);
  });

  it("a known checkpoint size wins, split in the computed proportions; --quantization fp8 re-quantizes instead", () => {
    const m = { ...lookupModel("Qwen/Qwen3-30B-A3B"), weightBytes: 61_000_000_000 };
    const w = modelWeightBytes(m, "none", 2);
    expect([w.total, w.source]).toEqual([61_000_000_000, "checkpoint"]);
    expect(w.routedExperts / w.total).toBeCloseTo(57_982_058_496 / 61_064_245_248, 12);
    const online = modelWeightBytes(m, "fp8", 2);
    // 30,532,122,624 parameters: 622,329,856 embedding/lm_head and 12,793,856 norms and router weights
    // stay 16-bit, the other 29,896,998,912 take a byte each plus one fp32 scale per matrix
    // (48 × (4 attention + 3 × 128 expert matrices) = 18,624).
    expect([online.total, online.source]).toEqual([29_896_998_912 + 18_624 * 4 + (622_329_856 + 12_793_856) * 2, "config"]);
    // --dtype float32 casts every parameter to 4 bytes: the config's 30,532,122,624 parameters, not the
    // stored bytes rescaled
    expect([modelWeightBytes(m, "none", 4).total, modelWeightBytes(m, "none", 4).source]).toEqual([122_128_490_496, "config"]);
  });

  it("a method the estimate cannot size is an error naming it, unless the checkpoint size is known", () => {
    const m = withQuant("mistral-7b-instruct-v0.1.config.json", { quant_method: "quark" });
    expect(() => modelWeightBytes(m, "none", 2)).toThrow(
      'mistralai/Mistral-7B-Instruct-v0.1: quantization_config.quant_method "quark" is not one the capacity estimate ' +
        "can size (it knows awq, gptq, fp8, mxfp4, bitsandbytes, compressed-tensors); give the checkpoint's weight " +
        "bytes (the safetensors index's metadata.total_size) instead.",
    );
    expect(modelWeightBytes({ ...m, weightBytes: 5_000_000_000 }, "none", 2).total).toBe(5_000_000_000);
  });

  it("bad values name the file, the key and what is allowed", () => {
    expect(() => parseQuantizationConfig({ quant_method: "gptq", bits: 5 }, "models/x/config.json")).toThrow(
      "models/x/config.json: quantization_config.bits is 5; it must be one of 2, 3, 4, 8. " +
        "Check the model's config.json (quantization_config as the quantizer wrote it).",
    );
    expect(() => parseQuantizationConfig({ quant_method: "awq", group_size: 0 }, "models/x/config.json")).toThrow(
      "models/x/config.json: quantization_config.group_size is 0; it must be a whole number of weights per group, or -1.",
    );
    expect(() => parseQuantizationConfig({ quant_method: "bitsandbytes" }, "models/x/config.json")).toThrow(
      "models/x/config.json: quantization_config.load_in_4bit / load_in_8bit is undefined; it must be true for one of them.",
    );
    expect(parseQuantizationConfig({ quant_method: "gptq", bits: 8, group_size: -1 }, "x")?.scales).toEqual({ kind: "channel" });
  });
});

describe("one GPU's weights", () => {
  const qwen = lookupModel("Qwen/Qwen3-30B-A3B");
  const w = modelWeightBytes(qwen, "none", 2); // 61,064,245,248 bytes, 57,982,058,496 of them routed experts
  const perGpu = (tp: number, dp: number, ep: boolean) =>
    weightBytesPerGpu(qwen, w, { tensorParallelSize: tp, pipelineParallelSize: 1, dataParallelSize: dp, expertParallel: ep });
  const dense = 61_064_245_248 - 57_982_058_496;

  it("TP splits everything", () => {
    expect(perGpu(2, 1, false)).toBe(61_064_245_248 / 2);
  });

  it("DP replicates attention and embeddings but shards the experts over TP × DP", () => {
    expect(perGpu(1, 2, false)).toBe(dense + 57_982_058_496 / 2);
  });

  it("expert parallelism puts whole experts on each rank, the first ranks taking the remainder", () => {
    // 128 experts over 3 ranks: 43, 43, 42; the fullest rank decides.
    expect(perGpu(1, 3, true)).toBe(dense + (43 * 57_982_058_496) / 128);
    expect(perGpu(1, 3, false)).toBe(dense + 57_982_058_496 / 3);
    expect(perGpu(1, 2, true)).toBe(perGpu(1, 2, false));
  });
});
