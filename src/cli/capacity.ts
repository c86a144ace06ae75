/**
 * `llmstack capacity`: will the model fit, with how much KV cache, before anything is deployed.
 *   llmstack capacity --model <name|path/to/config.json> --gpu <name|MiB> [--gpus N] [--tp N] [--pp N]
 *     [--util F] [--max-model-len N] [--dtype D] [--quantization Q] [--kv-cache-dtype D]
 *     [--vllm-version V] [--max-num-seqs N] [--max-num-batched-tokens N] [--enforce-eager] [--json]
 * Exit 1 when a constraint is violated.
 */
import { parseArgs } from "node:util";
import { isAbsolute, resolve } from "node:path";
import { UsageError, type CliIo } from "./io";
import {
  estimateCapacity,
  lookupGpu,
  lookupModel,
  PINNED_VLLM_VERSION,
  readModelConfig,
  type Dtype,
  type KvCacheDtype,
  type ModelFacts,
  type Quantization,
} from "../capacity";

const DTYPES: readonly Dtype[] = ["auto", "float16", "bfloat16", "float32"];
const QUANTIZATIONS: readonly Quantization[] = ["none", "fp8", "int8", "awq", "gptq"];
const KV_DTYPES: readonly KvCacheDtype[] = ["auto", "fp8", "fp8_e4m3", "fp8_e5m2"];

function oneOf<T extends string>(flag: string, value: string | undefined, allowed: readonly T[], fallback: T): T {
  if (value === undefined) return fallback;
  if ((allowed as readonly string[]).includes(value)) return value as T;
  throw new UsageError(`--${flag} is "${value}"; allowed: ${allowed.join(", ")}`);
}

function wholeNumber(flag: string, value: string | undefined, fallback: number | undefined): number | undefined {
  if (value === undefined) return fallback;
  if (!/^\d+$/.test(value) || Number(value) < 1) {
    throw new UsageError(`--${flag} is "${value}"; it must be a whole number of at least 1`);
  }
  return Number(value);
}

function modelFrom(arg: string, cwd: string): ModelFacts {
  if (arg.endsWith(".json")) return readModelConfig(isAbsolute(arg) ? arg : resolve(cwd, arg));
  try {
    return lookupModel(arg);
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
}

/** A catalog name first ("3090" is a name), then a raw memory size in MiB ("24576"). */
function gpuFrom(arg: string): { memoryMiB: number; bandwidthGBs?: number; name: string } {
  try {
    const g = lookupGpu(arg);
    return { memoryMiB: g.memoryMiB, bandwidthGBs: g.bandwidthGBs, name: g.name };
  } catch (err) {
    if (/^\d+(\.\d+)?$/.test(arg)) return { memoryMiB: Number(arg), name: `${arg} MiB GPU` };
    throw new UsageError((err as Error).message);
  }
}

export async function capacityCommand(argv: string[], io: CliIo): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    strict: true,
    allowPositionals: false,
    options: {
      model: { type: "string" },
      gpu: { type: "string" },
      gpus: { type: "string" },
      tp: { type: "string" },
      pp: { type: "string" },
      util: { type: "string" },
      "max-model-len": { type: "string" },
      dtype: { type: "string" },
      quantization: { type: "string" },
      "kv-cache-dtype": { type: "string" },
      "vllm-version": { type: "string" },
      "max-num-seqs": { type: "string" },
      "max-num-batched-tokens": { type: "string" },
      "enforce-eager": { type: "boolean", default: false },
      json: { type: "boolean", default: false },
    },
  });
  if (values.model === undefined) throw new UsageError("--model is required: a catalog name or a config.json path");
  if (values.gpu === undefined) throw new UsageError("--gpu is required: a GPU name such as \"RTX 3090\" or its MiB");
  const model = modelFrom(values.model, io.cwd);
  const gpu = gpuFrom(values.gpu);
  const gpus = wholeNumber("gpus", values.gpus, 1) as number;
  const pp = wholeNumber("pp", values.pp, 1) as number;
  // Without --tp, every GPU not used for pipeline stages goes to tensor parallelism.
  const tp = wholeNumber("tp", values.tp, Math.max(1, Math.floor(gpus / pp))) as number;
  if (tp * pp !== gpus && values.gpus !== undefined) {
    throw new UsageError(`--tp ${tp} × --pp ${pp} = ${tp * pp} GPUs, but --gpus is ${gpus}; vLLM uses TP × PP GPUs`);
  }
  const util = values.util === undefined ? 0.9 : Number(values.util);
  if (!(util > 0 && util <= 1)) throw new UsageError(`--util is "${values.util}"; it must be a fraction above 0 and at most 1`);
  const maxModelLen = wholeNumber("max-model-len", values["max-model-len"], Math.min(model.maxPositionEmbeddings, 32768)) as number;

  const result = estimateCapacity({
    model,
    gpuMemoryMiB: gpu.memoryMiB,
    gpuBandwidthGBs: gpu.bandwidthGBs,
    tensorParallelSize: tp,
    pipelineParallelSize: pp,
    gpuMemoryUtilization: util,
    maxModelLen,
    dtype: oneOf("dtype", values.dtype, DTYPES, "auto"),
    quantization: oneOf("quantization", values.quantization, QUANTIZATIONS, "none"),
    kvCacheDtype: oneOf("kv-cache-dtype", values["kv-cache-dtype"], KV_DTYPES, "auto"),
    vllmVersion: values["vllm-version"] ?? PINNED_VLLM_VERSION,
    maxNumSeqs: wholeNumber("max-num-seqs", values["max-num-seqs"], undefined),
    maxNumBatchedTokens: wholeNumber("max-num-batched-tokens", values["max-num-batched-tokens"], undefined),
    enforceEager: values["enforce-eager"],
  });

  if (values.json) {
    const { weightsGiBPerGpu, kvCacheGiBPerGpu, kvCacheTokens, maxConcurrency, decodeTokensPerSecondUpperBound, violations } =
      result;
    io.stdout(
      JSON.stringify(
        { weightsGiBPerGpu, kvCacheGiBPerGpu, kvCacheTokens, maxConcurrency, decodeTokensPerSecondUpperBound, violations },
        null,
        2,
      ) + "\n",
    );
  } else {
    const d = result.detail;
    const lines = [
      `${model.name} on ${tp * pp} × ${gpu.name} (TP ${tp}, PP ${pp}), utilisation ${util}, max model length ${maxModelLen}, vLLM ${d.vllmVersion}`,
      `  per GPU: ${d.requestedGiBPerGpu} GiB of ${d.usableGiBPerGpu} GiB usable`,
      `    weights          ${result.weightsGiBPerGpu} GiB`,
      `    runtime overhead ${result.overheadGiBPerGpu} GiB (activations ${d.activationGiBPerGpu}, non-torch ${d.nonTorchGiBPerGpu}, CUDA graphs ${d.cudaGraphGiBPerGpu})`,
      `    KV cache         ${result.kvCacheGiBPerGpu} GiB`,
      `  KV cache: ${result.kvCacheTokens} tokens (${d.kvBytesPerTokenPerGpu} bytes per token per GPU)`,
      `  max concurrency at ${maxModelLen} tokens: ${result.maxConcurrency}x`,
      result.decodeTokensPerSecondUpperBound === null
        ? "  decode speed: no bound without the GPU's memory bandwidth (give --gpu by name)"
        : `  decode speed upper bound (bandwidth ÷ weight bytes per token, one stream): ${result.decodeTokensPerSecondUpperBound} tokens/s`,
    ];
    io.stdout(lines.join("\n") + "\n");
    for (const v of result.violations) io.stderr(`error [${v.code}]: ${v.message}\n`);
  }
  return result.violations.length > 0 ? 1 : 0;
}
