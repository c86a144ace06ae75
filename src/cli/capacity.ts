/**
 * `llmstack capacity`: will the model fit, with how much KV cache, before anything is deployed.
 *   llmstack capacity --model <name|path/to/config.json> --gpu <name|MiB> [--gpus N] [--tp N] [--pp N]
 *     [--util F] [--max-model-len N] [--dtype D] [--quantization Q] [--kv-cache-dtype D]
 *     [--vllm-version V] [--max-num-seqs N] [--max-num-batched-tokens N] [--enforce-eager] [--json]
 * Exit 1 when a constraint is violated.
 */
import { parseArgs } from "node:util";
import { isAbsolute, resolve } from "node:path";
import { gpuSchema, MAX_GPU_MEMORY_MIB, modelSchema } from "../config/schema";
import { ArgumentError, choiceArg, fractionArg, intArg, pathArg, shownArg, textArg } from "./args";
import { type CliIo } from "./io";
import {
  estimateCapacity,
  lookupGpu,
  lookupModel,
  parseVllmVersion,
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

/** The stack schema's own limits, so the command and a stack file agree on what is possible. */
const MAX_PARALLEL = gpuSchema.options[0].shape.tensorParallelSize.maxValue ?? 64;
const MAX_MODEL_LEN = modelSchema.shape.maxModelLen.maxValue ?? 1_048_576;
/** A ceiling on vLLM's scheduler sizes against typing slips (vLLM's defaults are 256/1024 and 2048/8192). */
const MAX_SCHEDULER_SIZE = 16_777_216;
const MIN_GPU_MEMORY_MIB = gpuSchema.options[0].shape.memoryMiB.unwrap().minValue ?? 1024;

function modelFrom(arg: string, cwd: string): ModelFacts {
  if (arg.endsWith(".json")) {
    pathArg("model", arg, cwd, "file");
    return readModelConfig(isAbsolute(arg) ? arg : resolve(cwd, arg));
  }
  textArg("model", arg, "a catalog name such as Qwen/Qwen2.5-7B-Instruct or a config.json path");
  try {
    return lookupModel(arg);
  } catch (err) {
    throw new ArgumentError(`--model: ${(err as Error).message}`);
  }
}

/** A catalog name first ("3090" is a name), then a memory size in whole MiB ("24576"). */
function gpuFrom(arg: string): { memoryMiB: number; bandwidthGBs?: number; name: string; gpuName?: string } {
  textArg("gpu", arg, 'a GPU name such as "RTX 3090" or its memory in MiB');
  try {
    const g = lookupGpu(arg);
    return { memoryMiB: g.memoryMiB, bandwidthGBs: g.bandwidthGBs, name: g.name, gpuName: arg };
  } catch (err) {
    if (/^[\d.eE+-]+$/.test(arg)) {
      const memoryMiB = /^\d{1,16}$/.test(arg) ? Number(arg) : Number.NaN;
      if (!(memoryMiB >= MIN_GPU_MEMORY_MIB && memoryMiB <= MAX_GPU_MEMORY_MIB)) {
        throw new ArgumentError(
          `--gpu ${shownArg(arg)}: a memory size must be whole MiB from ${MIN_GPU_MEMORY_MIB} to ${MAX_GPU_MEMORY_MIB} ` +
            "(nvidia-smi --query-gpu=memory.total --format=csv), or give a GPU name such as \"RTX 3090\"",
        );
      }
      return { memoryMiB, name: `${arg} MiB GPU` };
    }
    throw new ArgumentError(`--gpu: ${(err as Error).message}`);
  }
}

function vllmVersionFrom(raw: string | undefined): string {
  if (raw === undefined) return PINNED_VLLM_VERSION;
  textArg("vllm-version", raw, `a vLLM version such as ${PINNED_VLLM_VERSION}`);
  try {
    parseVllmVersion(raw);
  } catch (err) {
    throw new ArgumentError(`--vllm-version: ${(err as Error).message}`);
  }
  return raw;
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
  if (values.model === undefined) throw new ArgumentError("--model is required: a catalog name or a config.json path");
  if (values.gpu === undefined) throw new ArgumentError("--gpu is required: a GPU name such as \"RTX 3090\" or its MiB");
  // Every flag is read before the model file, so a bad flag is reported as such.
  const gpu = gpuFrom(values.gpu);
  const gpus = intArg("gpus", values.gpus, 1, 1, MAX_PARALLEL * MAX_PARALLEL);
  const pp = intArg("pp", values.pp, 1, 1, MAX_PARALLEL);
  // Without --tp, every GPU not used for pipeline stages goes to tensor parallelism.
  const tp = intArg("tp", values.tp, Math.max(1, Math.floor(gpus / pp)), 1, MAX_PARALLEL);
  if (tp * pp !== gpus && values.gpus !== undefined) {
    throw new ArgumentError(`--tp ${tp} × --pp ${pp} = ${tp * pp} GPUs, but --gpus is ${gpus}; vLLM uses TP × PP GPUs`);
  }
  const util = fractionArg("util", values.util, 0.9, 0, 1);
  const dtype = choiceArg("dtype", values.dtype, DTYPES, "auto");
  const quantization = choiceArg("quantization", values.quantization, QUANTIZATIONS, "none");
  const kvCacheDtype = choiceArg("kv-cache-dtype", values["kv-cache-dtype"], KV_DTYPES, "auto");
  const vllmVersion = vllmVersionFrom(values["vllm-version"]);
  const maxNumSeqs = intArg("max-num-seqs", values["max-num-seqs"], undefined, 1, MAX_SCHEDULER_SIZE);
  const maxNumBatchedTokens = intArg("max-num-batched-tokens", values["max-num-batched-tokens"], undefined, 1, MAX_SCHEDULER_SIZE);
  const maxModelLenArg = intArg("max-model-len", values["max-model-len"], undefined, 1, MAX_MODEL_LEN);
  const model = modelFrom(values.model, io.cwd);
  const maxModelLen = maxModelLenArg ?? Math.min(model.maxPositionEmbeddings, 32768);

  const result = estimateCapacity({
    model,
    gpuMemoryMiB: gpu.memoryMiB,
    gpuBandwidthGBs: gpu.bandwidthGBs,
    ...(gpu.gpuName !== undefined ? { gpuName: gpu.gpuName } : {}),
    tensorParallelSize: tp,
    pipelineParallelSize: pp,
    gpuMemoryUtilization: util,
    maxModelLen,
    dtype,
    quantization,
    kvCacheDtype,
    vllmVersion,
    maxNumSeqs,
    maxNumBatchedTokens,
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
