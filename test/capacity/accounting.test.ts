/**
 * Every release rule of src/capacity/accounting.ts on one synthetic model and card, with the expected
 * figures worked out by hand below. Synthetic inputs only: the real start-up logs are the held-out set
 * of `npm run bench:capacity` and no test reads them.
 */
import { describe, expect, it } from "vitest";
import {
  accountingRule,
  defaultEngine,
  defaultGpuMemoryUtilization,
  estimateCapacity,
  profileDefaults,
} from "../../src/capacity";
import {
  CUDA_CONTEXT_BYTES,
  NON_TORCH_BYTES,
  NVSWITCH_COMMUNICATION_BYTES,
  onNvSwitch,
  ruleCharges,
} from "../../src/capacity/accounting";
import { parseVllmVersion } from "../../src/capacity/version";
import { syntheticInput, syntheticModel } from "./synthetic";

const GiB = 1024 ** 3;
const v = parseVllmVersion;

/*
 * The model (test/capacity/synthetic.ts): 8 layers, hidden 1024, 8 heads of 128, MLP 4096, vocabulary
 * 32768, untied, fp16.
 *   parameters = 32768 × 1024 × 2 + 8 × (4 × 1024² + 3 × 1024 × 4096 + 2 × 1024) + 1024 = 201,344,000
 *   weights per GPU at TP 2 = 201,344,000 × 2 B ÷ 2 = 201,344,000 B
 * The card: 49140 MiB (RTX A6000), utilisation 0.5, TP 2 (PCIe, no NVSwitch):
 *   usable = (49140 − 440) MiB = 51,065,651,200 B; requested = 25,532,825,600 B
 *   activation per token at TP 2 = 2 B × (3 × 4096 ÷ 2 + (4 + 2 × 4) × 128 + 2 × 1024) = 19,456 B
 *   KV per token per GPU = 2 × 8 layers × 4 heads × 128 × 2 B = 16,384 B; a block of 16 = 262,144 B
 *   sampler pass = max_num_seqs × 32768 × 16 B (fp32 logits, sorted copy, int64 indices)
 */
const model = syntheticModel;
const input = syntheticInput;

describe("each release's accounting on the same model and card", () => {
  it("has the parameter count the comment works from", () => {
    expect(model.parameters).toBe(201_344_000);
  });

  /*
   * kv = 25,532,825,600 − 201,344,000 − activation − non-torch − all-reduce inputs − CUDA graphs
   *   V0 profiles max(4096, 2048) = 4096 tokens, 256 sequences: forward 4096 × 19,456 = 79,691,776 B <
   *   sampler 256 × 32768 × 16 = 134,217,728 B. V1 on a 48 GiB card: 2048 tokens, 1024 sequences up to
   *   v0.8.3 (sampler 536,870,912 B), 256 from v0.8.4.
   *   context 287,047,680 B; non-torch 0.25 GiB = 268,435,456 B
   *   v0.2.5 keeps 2 × 8 layers × 4096 tokens × 1024 × 2 B = 134,217,728 B of all-reduce inputs
   *   v0.21.0 subtracts (51 + 35) graphs × 20 MiB = 1,803,550,720 B
   */
  it.each([
    // version, rule, engine, tokens, seqs, non-torch B, all-reduce B, KV GiB, KV tokens
    ["0.2.4", "v0-torch-peak", "v0", 4096, 256, 0, 0, 23.47, 1_537_904],
    ["0.2.5", "v0-device-used-all-reduce", "v0", 4096, 256, 555_483_136, 134_217_728, 22.82, 1_495_808],
    ["0.3.0", "v0-device-used", "v0", 4096, 256, 555_483_136, 0, 22.95, 1_504_000],
    ["0.6.3", "v0-free-delta", "v0", 4096, 256, 268_435_456, 0, 23.22, 1_521_520],
    ["0.6.4", "v0-torch-peak-plus-non-torch", "v0", 4096, 256, 555_483_136, 0, 22.95, 1_504_000],
    ["0.7.3", "v0-baseline", "v0", 4096, 256, 268_435_456, 0, 23.22, 1_521_520],
    ["0.8.0", "v1-torch-peak-plus-non-torch", "v1", 2048, 1024, 555_483_136, 0, 22.57, 1_479_424],
    ["0.8.4", "v1-torch-peak-plus-non-torch", "v1", 2048, 256, 555_483_136, 0, 22.95, 1_504_000],
    ["0.10.0", "v1-baseline", "v1", 2048, 256, 268_435_456, 0, 23.22, 1_521_520],
    ["0.21.0", "v1-baseline-cuda-graphs", "v1", 2048, 256, 268_435_456, 0, 21.54, 1_411_440],
  ] as const)("vLLM %s: %s", (version, rule, engine, tokens, seqs, nonTorch, allReduce, kvGiB, kvTokens) => {
    const r = estimateCapacity({ ...input, vllmVersion: version });
    expect(r.detail).toMatchObject({ accountingRule: rule, engine, profiledTokens: tokens, maxNumSeqs: seqs });
    expect(r.detail.nonTorchGiBPerGpu).toBe(Math.round((nonTorch / GiB) * 100) / 100);
    expect(r.detail.allReduceInputsGiBPerGpu).toBe(Math.round((allReduce / GiB) * 100) / 100);
    expect([r.kvCacheGiBPerGpu, r.kvCacheTokens]).toEqual([kvGiB, kvTokens]);
  });

  it("charges the context, non-torch memory and NCCL's NVSwitch buffers by the rule's own terms", () => {
    const ctx = { tensorParallelSize: 2, layersPerGpu: 8, profiledTokens: 4096, hiddenSize: 1024, activationBytes: 2 };
    const at = (version: string, engine: "v0" | "v1", gpuName?: string) =>
      ruleCharges(accountingRule(v(version), engine), { ...ctx, ...(gpuName ? { gpuName } : {}) });
    expect(at("0.2.4", "v0", "NVIDIA H100 80GB HBM3")).toEqual({ nonTorch: 0, allReduceInputs: 0 });
    expect(at("0.19.0", "v1", "NVIDIA H100 80GB HBM3")).toEqual({
      nonTorch: NON_TORCH_BYTES + NVSWITCH_COMMUNICATION_BYTES,
      allReduceInputs: 0,
    });
    expect(at("0.6.4", "v0", "NVIDIA H100 PCIe")).toEqual({ nonTorch: CUDA_CONTEXT_BYTES + NON_TORCH_BYTES, allReduceInputs: 0 });
    expect(ruleCharges(accountingRule(v("0.19.0"), "v1"), { ...ctx, tensorParallelSize: 1, gpuName: "NVIDIA H100 80GB HBM3" }))
      .toEqual({ nonTorch: NON_TORCH_BYTES, allReduceInputs: 0 });
    expect(NVSWITCH_COMMUNICATION_BYTES).toBe(1.79 * GiB);
  });

  it("knows which boards sit on an NVSwitch", () => {
    expect(["NVIDIA H100 80GB HBM3", "NVIDIA H200", "NVIDIA B200", "NVIDIA GH200 480GB"].map(onNvSwitch)).toEqual([
      true, true, true, true,
    ]);
    expect(["NVIDIA H100 PCIe", "NVIDIA H100 NVL", "NVIDIA A100-SXM4-80GB", "NVIDIA GeForce RTX 4090", undefined].map(onNvSwitch))
      .toEqual([false, false, false, false, false]);
  });
});

describe("the engine and the profile defaults of each release", () => {
  it("runs V0 before 0.8.0, V1 from 0.8.0 except below compute capability 8.0, V1 only from 0.11.0", () => {
    expect(defaultEngine(v("0.7.3"))).toBe("v0");
    expect(defaultEngine(v("0.8.0"), "NVIDIA GeForce RTX 3090")).toBe("v1");
    expect(defaultEngine(v("0.10.1.1"), "Tesla T4")).toBe("v0");
    expect(defaultEngine(v("0.9.2"), "Tesla V100-SXM2-32GB")).toBe("v0");
    expect(defaultEngine(v("0.11.0"), "Tesla T4")).toBe("v1");
  });

  it("refuses an engine the release does not have", () => {
    expect(() => accountingRule(v("0.7.3"), "v1")).toThrow('vLLM 0.7.3 has no V1 engine; V1 starts at 0.8.0 (use engine "v0")');
    expect(() => accountingRule(v("0.11.0"), "v0")).toThrow(
      'vLLM 0.11.0 has no V0 engine; it was removed in 0.11.0 (use engine "v1")',
    );
  });

  const big = { maxModelLen: 8192, totalBytes: 79.2 * GiB };
  const small = { maxModelLen: 8192, totalBytes: 23.6 * GiB };
  it.each([
    ["0.1.7", "v0", small, 2560, 256],
    ["0.2.0", "v0", { ...small, maxModelLen: 1024 }, 2048, 256],
    ["0.5.2", "v0", { ...small, maxModelLen: 65536 }, 65536, 256],
    ["0.5.3", "v0", { ...small, maxModelLen: 65536 }, 512, 256],
    ["0.6.5", "v0", { ...small, maxModelLen: 65536 }, 2048, 256],
    ["0.6.5", "v0", { ...small, maxModelLen: 32768 }, 32768, 256],
    ["0.8.0", "v1", { ...big, gpuName: "NVIDIA H100 80GB HBM3" }, 8192, 1024],
    ["0.8.0", "v1", { ...big, gpuName: "NVIDIA A100-SXM4-80GB" }, 2048, 1024],
    ["0.8.4", "v1", small, 2048, 256],
    ["0.8.5", "v1", { ...big, gpuName: "NVIDIA A100-SXM4-80GB" }, 8192, 1024],
    ["0.9.0", "v1", { ...big, gpuName: "NVIDIA A100-SXM4-80GB" }, 2048, 256],
    ["0.19.0", "v1", { ...big, gpuName: "NVIDIA H100 80GB HBM3" }, 8192, 1024],
    ["0.19.0", "v1", small, 2048, 256],
  ] as const)("vLLM %s %s: %o profiles %i tokens and %i sequences", (version, engine, ctx, tokens, seqs) => {
    expect(profileDefaults(v(version), engine, ctx)).toMatchObject({ maxNumBatchedTokens: tokens, maxNumSeqs: seqs });
  });

  it("defaults the utilisation to 0.9, and to 0.92 from 0.21.0", () => {
    expect([defaultGpuMemoryUtilization(v("0.20.2")), defaultGpuMemoryUtilization(v("0.21.0"))]).toEqual([0.9, 0.92]);
  });
});
