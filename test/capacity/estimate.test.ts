import { describe, expect, it } from "vitest";
import fc from "fast-check";
import {
  capacityViolationsMessage,
  estimateCapacity,
  lookupGpu,
  lookupModel,
  MODEL_CATALOG,
  type CapacityInput,
} from "../../src/capacity";

const qwen7b = lookupModel("Qwen/Qwen2.5-7B-Instruct");
const rtx3090 = lookupGpu("RTX 3090");
/** The release whose accounting the numbers below follow by hand (it counts CUDA-graph memory). */
const V0_21 = "0.21.0";

describe("Qwen/Qwen2.5-7B-Instruct (bf16) on RTX 3090s, vLLM 0.21.0, utilisation 0.9", () => {
  /*
   * By hand, per GPU (GiB = 2^30 bytes):
   *   usable    = 24576 MiB (nvidia-smi) − 440 MiB kept by the driver = 24136 MiB = 23.5703 GiB
   *   requested = 0.9 × 23.5703                                        = 21.2133 GiB
   *   overhead  = sampler pass 256 seqs × 152064 vocab × 16 B        =  0.5801 GiB
   *               (larger than 2048 profiled tokens × 75,776 B = 0.1445 GiB)
   *             + non-torch 0.25 GiB (V1 from v0.9.1 counts no CUDA context; 3090s have no NVSwitch)
   *             + CUDA graphs (51 piecewise + 35 full) × 20 MiB = 1720 MiB = 1.6797 GiB
   *             = 2.5098 GiB
   */
  it("reference stack: 2 × RTX 3090, TP 2, max model length 32768", () => {
    const r = estimateCapacity({
      model: qwen7b,
      gpuMemoryMiB: rtx3090.memoryMiB,
      gpuBandwidthGBs: rtx3090.bandwidthGBs,
      tensorParallelSize: 2,
      pipelineParallelSize: 1,
      gpuMemoryUtilization: 0.9,
      maxModelLen: 32768,
      vllmVersion: V0_21,
    });
    /*
     *   weights   = 7,615,616,512 params × 2 B ÷ 2 GPUs = 7,615,616,512 B = 7.0926 GiB
     *   KV cache  = 21.2133 − 7.0926 − 2.5098           = 11.6109 GiB
     *   KV/token  = 2 × 28 layers × (4 KV heads ÷ 2) × 128 × 2 B = 28,672 B; a block of 16 = 458,752 B
     *   blocks    = floor(11.6109 GiB ÷ 458,752 B) = 27,176 → 434,816 tokens
     *   concurrency = 434,816 ÷ 32,768 = 13.27
     *   decode bound = 936 GB/s × 2 GPUs ÷ 15,231,233,024 B per token = 122.91 tokens/s
     */
    expect(r).toMatchObject({
      weightsGiBPerGpu: 7.09,
      overheadGiBPerGpu: 2.51,
      kvCacheGiBPerGpu: 11.61,
      kvCacheTokens: 434816,
      maxConcurrency: 13.27,
      decodeTokensPerSecondUpperBound: 122.91,
      violations: [],
    });
    expect(r.detail.kvBytesPerTokenPerGpu).toBe(28672);
    expect(r.detail.cudaGraphGiBPerGpu).toBe(1.68);
  });

  it("single 24 GiB card, TP 1, max model length 8192", () => {
    const r = estimateCapacity({
      model: qwen7b,
      gpuMemoryMiB: 24576,
      gpuBandwidthGBs: 936,
      tensorParallelSize: 1,
      pipelineParallelSize: 1,
      gpuMemoryUtilization: 0.9,
      maxModelLen: 8192,
      vllmVersion: V0_21,
    });
    /*
     *   weights  = 15,231,233,024 B = 14.1852 GiB
     *   KV cache = 21.2133 − 14.1852 − 2.5098 (activation 2048 × 137,216 B = 0.26 GiB < sampler 0.58) = 4.5183 GiB
     *   KV/token = 2 × 28 × 4 × 128 × 2 = 57,344 B; block 917,504 B → floor(4.5183 GiB ÷ 917,504) = 5,287 blocks
     *            = 84,592 tokens; concurrency 84,592 ÷ 8,192 = 10.33
     *   decode bound = 936e9 ÷ 15,231,233,024 = 61.45 tokens/s
     */
    expect(r).toMatchObject({
      weightsGiBPerGpu: 14.19,
      overheadGiBPerGpu: 2.51,
      kvCacheGiBPerGpu: 4.52,
      kvCacheTokens: 84592,
      maxConcurrency: 10.33,
      decodeTokensPerSecondUpperBound: 61.45,
      violations: [],
    });
  });

  it("the same card at max model length 32768 still fits one full sequence", () => {
    const r = estimateCapacity({
      model: qwen7b, gpuMemoryMiB: 24576, tensorParallelSize: 1, pipelineParallelSize: 1,
      gpuMemoryUtilization: 0.9, maxModelLen: 32768, vllmVersion: V0_21,
    });
    expect([r.kvCacheTokens, r.maxConcurrency, r.decodeTokensPerSecondUpperBound]).toEqual([84592, 2.58, null]);
  });
});

const base: CapacityInput = {
  model: qwen7b, gpuMemoryMiB: 24576, tensorParallelSize: 2, pipelineParallelSize: 1,
  gpuMemoryUtilization: 0.9, maxModelLen: 32768, vllmVersion: V0_21,
};

describe("constraints", () => {
  it("TP 3 does not divide 28 attention heads nor 4 KV heads", () => {
    const r = estimateCapacity({ ...base, tensorParallelSize: 3 });
    expect(r.violations.map((v) => v.message)).toEqual([
      "tensor parallel size 3 does not divide Qwen/Qwen2.5-7B-Instruct's 28 attention heads (28 % 3 = 1); " +
        "use a tensor parallel size from 1, 2, 4, 7, 14, 28",
      "tensor parallel size 3 and Qwen/Qwen2.5-7B-Instruct's 4 KV heads do not divide each other; " +
        "vLLM needs TP to divide the KV heads or the KV heads to divide TP (e.g. 1, 2, 4 or a multiple of 4)",
    ]);
    // whole heads per GPU even when the split is invalid: 2 × 28 × ceil(4 / 3) × 128 × 2
    expect(r.detail.kvBytesPerTokenPerGpu).toBe(28672);
  });

  it("TP 8 on 4 KV heads replicates them (KV heads divide TP) but fails the attention heads", () => {
    const r = estimateCapacity({ ...base, tensorParallelSize: 8 });
    expect(r.violations.map((v) => v.code)).toEqual(["tp-attention-heads"]);
    // one KV head per GPU, not half of one: 2 × 28 × 1 × 128 × 2
    expect(r.detail.kvBytesPerTokenPerGpu).toBe(14336);
  });

  it("PP above the layers, and a max model length above the model's", () => {
    const r = estimateCapacity({ ...base, tensorParallelSize: 1, pipelineParallelSize: 29, maxModelLen: 40000 });
    expect(r.violations.map((v) => v.message)).toEqual([
      "pipeline parallel size 29 exceeds Qwen/Qwen2.5-7B-Instruct's 28 layers; use at most 28 pipeline stages",
      "max model length 40000 exceeds Qwen/Qwen2.5-7B-Instruct's max_position_embeddings 32768; set maxModelLen to at most 32768",
    ]);
  });

  it("a GPU shared with the multimodal worker is held to the GPU budget, in the stack schema's words", () => {
    // 0.9 + 0.1 is exactly the GPU, which left nothing for the two CUDA contexts and passed before.
    const r = estimateCapacity({ ...base, gpuMemoryUtilization: 0.9, worker: { gpu: "1", memoryFraction: 0.1 } });
    expect(r.violations).toEqual([
      {
        code: "shared-gpu",
        message:
          "GPU 1 is shared by vLLM (memoryUtilization 0.9) and the multimodal worker (workerMemoryFraction 0.1): " +
          "0.9 + 0.1 of the 24136 MiB CUDA can allocate (memory.total 24576 MiB less 440 MiB the driver keeps) plus " +
          "a 512 MiB CUDA context per process come to 25160 MiB, 1024 MiB more than there is; vLLM starts only when " +
          "its whole share is free, so it could not start again while the multimodal worker holds its share; lower " +
          "workerMemoryFraction to 0.05 or less, or memoryUtilization to 0.85 or less, or give the multimodal worker " +
          "a GPU vLLM does not use",
      },
    ]);
    expect(estimateCapacity({ ...base, gpuMemoryUtilization: 0.9, worker: { gpu: "1", memoryFraction: 0.05 } }).violations).toEqual([]);
  });

  it("advises a utilisation only up to the stack's limit (the schema's per-environment maximum)", () => {
    // A 40000-token sequence of Llama 3.1 8B on one 3090 needs utilisation 0.95: the schema's limit,
    // beyond production's 0.92.
    const input = { ...base, model: lookupModel("meta-llama/Llama-3.1-8B-Instruct"), tensorParallelSize: 1, maxModelLen: 40000 };
    const head =
      "one sequence of max model length 40000 needs 4.88 GiB of KV cache per GPU but only 3.84 GiB (31424 tokens) " +
      "is left; lower maxModelLen to at most 31424";
    expect(estimateCapacity(input).violations.map((v) => v.message)).toEqual([
      `${head}, or raise memoryUtilization to at least 0.95, or add GPUs (tensor parallelism)`,
    ]);
    expect(estimateCapacity({ ...input, maxMemoryUtilization: 0.92 }).violations.map((v) => v.message)).toEqual([
      `${head}, or add GPUs (tensor parallelism)`,
    ]);
  });

  it("a full sequence that does not fit the KV cache names the largest length that does", () => {
    const llama = lookupModel("meta-llama/Llama-3.1-8B-Instruct");
    const r = estimateCapacity({ ...base, model: llama, tensorParallelSize: 1, maxModelLen: 131072 });
    // 21.2133 − 14.9575 weights − (0.4893 sampler + 0.25 + 1.6797 graphs) = 3.8368 GiB ÷ 131,072 B = 31,431
    // tokens, 1,964 whole blocks of 16 = 31,424 tokens
    expect(r.kvCacheTokens).toBe(31424);
    expect(r.violations).toEqual([
      {
        code: "kv-too-small",
        message:
          "one sequence of max model length 131072 needs 16.00 GiB of KV cache per GPU but only 3.84 GiB " +
          "(31424 tokens) is left; lower maxModelLen to at most 31424, or add GPUs (tensor parallelism)",
      },
    ]);
  });

  it("weights larger than the budget leave no KV memory", () => {
    const r = estimateCapacity({ ...base, model: lookupModel("meta-llama/Llama-3.1-70B-Instruct"), maxModelLen: 8192 });
    expect(r.kvCacheTokens).toBe(0);
    expect(r.kvCacheGiBPerGpu).toBe(0);
    expect(capacityViolationsMessage(r, "Pulumi.production.yaml")).toBe(
      "Pulumi.production.yaml: the model does not fit the GPUs as configured:\n" +
        "  - no memory is left for the KV cache: weights and runtime overhead take 68.13 GiB per GPU but " +
        "utilisation 0.9 allows 21.21 GiB; quantize the model, use a smaller one or add GPUs (tensor parallelism) [no-kv-memory]",
    );
  });

  it("AWQ 4-bit keeps embeddings in 16 bits and shrinks the rest to about a quarter", () => {
    const r = estimateCapacity({ ...base, tensorParallelSize: 1, quantization: "awq" });
    // (7,615,616,512 − 1,089,994,752 embedding params) × (0.5 + 2.5/128) + 1,089,994,752 × 2
    // = 3,390,283,... + 2,179,989,504 ≈ 5,570,... bytes = 5.19 GiB
    expect(r.weightsGiBPerGpu).toBe(5.19);
  });

  it("fp8 KV cache halves the bytes per token", () => {
    const r = estimateCapacity({ ...base, kvCacheDtype: "fp8" });
    expect(r.detail.kvBytesPerTokenPerGpu).toBe(14336);
    // 11.6109 GiB ÷ (16 × 14,336 B) = 54,352 whole blocks (the 28,672 B case rounded 27,176.x down)
    expect(r.kvCacheTokens).toBe(869632);
  });

  it("older vLLM without CUDA-graph accounting leaves more for the KV cache", () => {
    const r = estimateCapacity({ ...base, vllmVersion: "0.20.1" });
    // 11.6109 + 1.6797 GiB of graphs = 13.2906 GiB ÷ 458,752 B = 31,107 blocks
    expect([r.detail.cudaGraphGiBPerGpu, r.kvCacheTokens]).toEqual([0, 497712]);
  });

  it("rejects nonsense input with the key, value and what is allowed", () => {
    expect(() => estimateCapacity({ ...base, gpuMemoryUtilization: 1.5 })).toThrow(
      "capacity: gpuMemoryUtilization is 1.5; it must be a fraction above 0 and at most 1",
    );
    expect(() => estimateCapacity({ ...base, tensorParallelSize: 0 })).toThrow(
      "capacity: tensorParallelSize is 0; it must be a whole number of at least 1",
    );
    expect(() => estimateCapacity({ ...base, vllmVersion: "latest" })).toThrow(
      'vLLM version "latest" is not a version number; write it as major.minor.patch, the way vLLM\'s image tags do',
    );
  });
});

describe("properties", () => {
  const arbInput = fc.record({
    model: fc.constantFrom(...MODEL_CATALOG),
    gpuMemoryMiB: fc.integer({ min: 1024, max: 200_000 }),
    tensorParallelSize: fc.constantFrom(1, 2, 4, 8),
    pipelineParallelSize: fc.integer({ min: 1, max: 4 }),
    gpuMemoryUtilization: fc.double({ min: 0.05, max: 0.95, noNaN: true }),
    maxModelLen: fc.integer({ min: 128, max: 131072 }),
    vllmVersion: fc.constantFrom("0.6.4", "0.10.0", "0.21.0"),
  });

  it("memory figures are never negative", () => {
    fc.assert(
      fc.property(arbInput, (input) => {
        const r = estimateCapacity(input);
        return [r.weightsGiBPerGpu, r.overheadGiBPerGpu, r.kvCacheGiBPerGpu, r.kvCacheTokens, r.maxConcurrency].every(
          (x) => x >= 0,
        );
      }),
    );
  });

  it("more utilisation never means fewer KV tokens", () => {
    fc.assert(
      fc.property(arbInput, fc.double({ min: 0, max: 0.05, noNaN: true }), (input, more) => {
        const a = estimateCapacity(input).kvCacheTokens;
        const b = estimateCapacity({ ...input, gpuMemoryUtilization: input.gpuMemoryUtilization + more }).kvCacheTokens;
        return b >= a;
      }),
    );
  });

  it("more tensor parallelism never increases the weights per GPU", () => {
    fc.assert(
      fc.property(arbInput, fc.constantFrom(1, 2, 4), (input, factor) => {
        const a = estimateCapacity(input).weightsGiBPerGpu;
        const b = estimateCapacity({ ...input, tensorParallelSize: input.tensorParallelSize * factor }).weightsGiBPerGpu;
        return b <= a;
      }),
    );
  });
});
