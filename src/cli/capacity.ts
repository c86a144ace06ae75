/**
 * `llmstack capacity`: will the model fit, with how much KV cache, before anything is deployed.
 *   llmstack capacity --model <org/name|dir|path/to/config.json> [--revision REV] --gpu <name|MiB> [--gpus N] [--tp N] [--pp N]
 *     [--util F] [--max-model-len N] [--dtype D] [--quantization Q] [--kv-cache-dtype D]
 *     [--vllm-version V] [--max-num-seqs N] [--max-num-batched-tokens N] [--enforce-eager] [--json]
 * Exit 1 when a constraint is violated.
 */
import { existsSync, statSync } from "node:fs";
import { isAbsolute, join, resolve } from "node:path";
import { gitRevisionProblem, hfRepoId } from "../config/names";
import { readProjectConfig } from "../config/stackFile";
import { vllmRelease } from "../facts/vllmRelease";
import { gpuSchema, MAX_GPU_MEMORY_MIB, modelSchema } from "../config/schema";
import { resolveModel, resolveModelDirectory } from "../hub";
import { downloadCommand } from "../hub/messages";
import { ArgumentError, choiceArg, fractionArg, intArg, pathArg, shownArg, textArg } from "./args";
import { violationFix, type FlagChanges } from "./capacityFixes";
import { commandLine, defineCommand, parseCommand, PROGRAM_ROOT, withOptions } from "./command";
import { runnable } from "./fixes";
import { UsageError, type CliIo } from "./io";
import {
  estimateCapacity,
  lookupGpu,
  parseVllmVersion,
  readModelConfig,
  type Dtype,
  type KvCacheDtype,
  type ModelFound,
  type ModelLookup,
  type Quantization,
  type CapacityInput,
} from "../capacity";

/** The capacity command line as given, with flags changed: the re-run a fix names. */
type Rerun = (changes: FlagChanges) => string;

const DTYPES: readonly Dtype[] = ["auto", "float16", "bfloat16", "float32"];
const QUANTIZATIONS: readonly Quantization[] = ["none", "fp8", "int8", "awq", "gptq"];
const KV_DTYPES: readonly KvCacheDtype[] = ["auto", "fp8", "fp8_e4m3", "fp8_e5m2"];

/** The stack schema's own limits, so the command and a stack file agree on what is possible. */
const MAX_PARALLEL = gpuSchema.options[0].shape.tensorParallelSize.maxValue ?? 64;
const MAX_MODEL_LEN = modelSchema.shape.maxModelLen.maxValue ?? 1_048_576;
/** A ceiling on vLLM's scheduler sizes against typing slips (vLLM's defaults are 256/1024 and 2048/8192). */
const MAX_SCHEDULER_SIZE = 16_777_216;
const MIN_GPU_MEMORY_MIB = gpuSchema.options[0].shape.memoryMiB.unwrap().minValue ?? 1024;

/**
 * A config.json path, a model directory, or a Hugging Face repository ID: the Hugging Face cache, then
 * the Hub, then the built-in catalog (src/hub). A local directory wins over a repository ID of the same
 * name, as in vLLM.
 */
async function modelFrom(arg: string, revision: string | undefined, io: CliIo, rerun: Rerun): Promise<ModelFound> {
  textArg("model", arg, "a Hugging Face repository ID such as Qwen/Qwen3-30B-A3B, a model directory or a config.json path");
  const full = isAbsolute(arg) ? arg : resolve(io.cwd, arg);
  const local = arg.endsWith(".json") || statSync(full, { throwIfNoEntry: false })?.isDirectory() === true;
  if (local && revision !== undefined) throw new ArgumentError("--revision belongs to a Hugging Face repository ID, not a local path");
  let lookup: ModelLookup;
  // A local file or directory that does not hold a config.json llmstack reads: the model's own, from the Hub.
  const fromHub = rerun({ model: "<org/name>" });
  if (arg.endsWith(".json")) {
    pathArg("model", arg, io.cwd, "file");
    try {
      lookup = { facts: readModelConfig(full), source: "file", detail: full };
    } catch (err) {
      throw new UsageError((err as Error).message, fromHub);
    }
  } else if (local) {
    lookup = resolveModelDirectory(full);
    if (lookup.facts === null) throw new UsageError(lookup.problem, fromHub);
  } else {
    if (!hfRepoId.safeParse(arg).success) {
      throw new ArgumentError(
        `--model ${shownArg(arg)}: not a config.json path, a model directory or a Hugging Face repository ID such as Qwen/Qwen3-30B-A3B`,
      );
    }
    lookup = await resolveModel({ name: arg, ...(revision !== undefined ? { revision } : {}) }, { env: io.env, fetch: io.fetch });
  }
  if (lookup.facts === null) throw new UsageError(lookup.problem, hubFix(lookup.problem, arg, revision, io.env, rerun));
  return lookup;
}

/**
 * What gets a model the cache and the Hub could not give: the download the message names when it names one
 * (src/hub/messages.ts); the variable it names when the Hub setting is at fault (a bad HF_ENDPOINT, a token
 * refused or without access); else the model's config.json, from wherever it is at hand.
 */
function hubFix(problem: string, name: string, revision: string | undefined, env: NodeJS.ProcessEnv, rerun: Rerun): string {
  const download = downloadCommand(name, revision ?? "main");
  if (problem.includes(download)) return download;
  if (/\bHF_ENDPOINT\b/.test(problem) && env.HF_ENDPOINT !== undefined) return "unset HF_ENDPOINT";
  if (/\bHF_TOKEN\b/.test(problem)) return "export HF_TOKEN=<a token of an account with access to the model>";
  return rerun({ model: "<path/to/config.json>", revision: null });
}

function revisionFrom(raw: string | undefined): string | undefined {
  if (raw === undefined) return undefined;
  textArg("revision", raw, "a branch, tag or commit of the model repository");
  const problem = gitRevisionProblem(raw);
  if (problem !== null) throw new ArgumentError(`--revision ${shownArg(raw)}: a git revision ${problem}`);
  return raw;
}

/** A catalog name first ("3090" is a name), then a memory size in whole MiB ("24576"). */
function gpuFrom(arg: string, rerun: Rerun): { memoryMiB: number; bandwidthGBs?: number; name: string; gpuName?: string } {
  textArg("gpu", arg, 'a GPU name such as "RTX 3090" or its memory in MiB');
  try {
    const g = lookupGpu(arg);
    return { memoryMiB: g.memoryMiB, ...(g.bandwidthGBs !== undefined ? { bandwidthGBs: g.bandwidthGBs } : {}), name: g.name, gpuName: arg };
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
    throw new ArgumentError(`--gpu: ${(err as Error).message}`, rerun({ gpu: "<memory.total in MiB>" }));
  }
}

/**
 * The release of the project's vLLM image (`llmstack:images.vllm` in Pulumi.yaml: the working directory's
 * project, else this program's own), which the stacks run unless their stack file sets another.
 */
function projectRelease(dir: string): { ref: unknown; release: string | null } {
  const ref = (readProjectConfig(dir).images as { vllm?: unknown } | undefined)?.vllm;
  return { ref, release: typeof ref === "string" ? vllmRelease(ref) : null };
}

function defaultVllmVersion(cwd: string, rerun: Rerun): string {
  const dir = existsSync(join(cwd, "Pulumi.yaml")) ? cwd : PROGRAM_ROOT;
  const { ref, release } = projectRelease(dir);
  if (release === null) {
    // The release this program's own Pulumi.yaml runs, else one to fill in.
    const ours = dir === PROGRAM_ROOT ? null : projectRelease(PROGRAM_ROOT).release;
    throw new UsageError(
      `--vllm-version: ${join(dir, "Pulumi.yaml")} sets llmstack:images.vllm to ${JSON.stringify(ref ?? null)}, which names ` +
        "no vLLM release (vllm/vllm-openai:v<release>); give the release it runs with --vllm-version",
      rerun({ "vllm-version": ours ?? "<release>" }),
    );
  }
  return release;
}

function vllmVersionFrom(raw: string | undefined, cwd: string, rerun: Rerun): string {
  if (raw === undefined) return defaultVllmVersion(cwd, rerun);
  textArg("vllm-version", raw, "a vLLM release such as the tag of its image without the v");
  try {
    parseVllmVersion(raw);
  } catch (err) {
    throw new ArgumentError(`--vllm-version: ${(err as Error).message}`);
  }
  return raw;
}

export const capacityCli = () =>
  defineCommand("capacity", {
    summary: "will the model fit: weights, KV cache and the constraints vLLM checks, before anything is deployed",
    usage: "--model <org/name|dir|config.json> [--revision <rev>] --gpu <name|MiB> [options]",
    details: "Exit status: 0 when the model fits, 1 when a constraint is violated, 2 for a malformed command line.",
    examples: [
      'llmstack capacity --model Qwen/Qwen2.5-7B-Instruct --gpu "NVIDIA GeForce RTX 3090" --tp 2',
      "llmstack capacity --model ./config.json --gpu 24576 --util 0.85 --json",
      'llmstack capacity --model Qwen/Qwen3-30B-A3B --gpu "NVIDIA GeForce RTX 3090" --gpus 2',
    ],
  })
    .option(
      "--model <org/name|dir|file>",
      "a Hugging Face model (read from the Hugging Face cache, else the Hub, else the built-in catalog), a model directory or a config.json (required)",
    )
    .option("--revision <rev>", "the model's branch, tag or commit on the Hub (default main)")
    .option("--gpu <name|MiB>", "a catalogued GPU name or each GPU's memory in MiB (required)")
    .option("--gpus <n>", "GPUs given to vLLM (default 1)")
    .option("--tp <n>", "tensor parallel size (default: --gpus / --pp)")
    .option("--pp <n>", "pipeline parallel size (default 1)")
    .option("--util <f>", "vLLM's gpu_memory_utilization, above 0 and at most 1 (default 0.9)")
    .option("--max-model-len <n>", "context length in tokens (default: the model's, at most 32768)")
    .option("--dtype <d>", `${DTYPES.join(", ")} (default auto)`)
    .option("--quantization <q>", `weight quantization: ${QUANTIZATIONS.join(", ")} (default none)`)
    .option("--kv-cache-dtype <d>", `${KV_DTYPES.join(", ")} (default auto)`)
    .option("--vllm-version <v>", "the vLLM release whose memory accounting to use (default: the release in the tag of llmstack:images.vllm in Pulumi.yaml)")
    .option("--max-num-seqs <n>", "vLLM's --max-num-seqs")
    .option("--max-num-batched-tokens <n>", "vLLM's --max-num-batched-tokens")
    .option("--enforce-eager", "no CUDA graphs")
    .option("--json", "print the budget as JSON");

interface CapacityOptions {
  model?: string;
  revision?: string;
  gpu?: string;
  gpus?: string;
  tp?: string;
  pp?: string;
  util?: string;
  maxModelLen?: string;
  dtype?: string;
  quantization?: string;
  kvCacheDtype?: string;
  vllmVersion?: string;
  maxNumSeqs?: string;
  maxNumBatchedTokens?: string;
  enforceEager?: boolean;
  json?: boolean;
}

export async function capacityCommand(argv: string[], io: CliIo): Promise<number> {
  const { opts: values } = parseCommand<CapacityOptions>(capacityCli, argv, io);
  const rerun: Rerun = (changes) => commandLine("llmstack", "capacity", ...withOptions(capacityCli, argv, changes));
  const example = commandLine("llmstack", "capacity", "--model", values.model ?? "Qwen/Qwen2.5-7B-Instruct", "--gpu", values.gpu ?? "RTX 3090");
  if (values.model === undefined) {
    throw new ArgumentError("--model is required: a Hugging Face repository ID, a model directory or a config.json path", example);
  }
  if (values.gpu === undefined) throw new ArgumentError('--gpu is required: a GPU name such as "RTX 3090" or its MiB', example);
  // Every flag is read before the model file, so a bad flag is reported as such.
  const gpu = gpuFrom(values.gpu, rerun);
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
  const kvCacheDtype = choiceArg("kv-cache-dtype", values.kvCacheDtype, KV_DTYPES, "auto");
  const vllmVersion = vllmVersionFrom(values.vllmVersion, io.cwd, rerun);
  const maxNumSeqs = intArg("max-num-seqs", values.maxNumSeqs, undefined, 1, MAX_SCHEDULER_SIZE);
  const maxNumBatchedTokens = intArg("max-num-batched-tokens", values.maxNumBatchedTokens, undefined, 1, MAX_SCHEDULER_SIZE);
  const maxModelLenArg = intArg("max-model-len", values.maxModelLen, undefined, 1, MAX_MODEL_LEN);
  const revision = revisionFrom(values.revision);
  const lookup = await modelFrom(values.model, revision, io, rerun);
  const model = lookup.facts;
  const maxModelLen = maxModelLenArg ?? Math.min(model.maxPositionEmbeddings, 32768);

  const input: CapacityInput = {
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
    enforceEager: values.enforceEager === true,
  };
  const result = estimateCapacity(input);

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
    const fixContext = { input, gpusGiven: values.gpus !== undefined, maxParallel: MAX_PARALLEL };
    for (const v of result.violations) {
      // Nothing the flags can do: another model.
      const fix = rerun(violationFix(v, fixContext) ?? { model: "<a smaller model>", revision: null });
      io.stderr(`error [${v.code}]: ${v.message}; run "${runnable(fix)}"\n`);
    }
  }
  io.stderr(`note: model facts: ${lookup.detail}\n`);
  return result.violations.length > 0 ? 1 : 0;
}
