/**
 * What llmstack reads of a model, in order, whatever the source (./sources.ts):
 * 1. config.json;
 * 2. the quantization config: `quantization_config` inside config.json (or its text_config, or
 *    compressed-tensors' `compression_config`), else the file a format ships it in, in vLLM's order
 *    (vllm/model_executor/model_loader/weight_utils.py `get_quant_config` reads the files each method's
 *    `get_config_filenames` names: GPTQ quantize_config.json, AWQ quant_config.json or
 *    quantize_config.json, ModelOpt hf_quant_config.json), folded into the config as quantization_config;
 * 3. the exact weight bytes: the safetensors index's metadata.total_size, else the tensors of a single
 *    model.safetensors, summed from its header (./safetensors.ts).
 * Written as a generator that yields each wanted file, so the same steps run against the cache alone
 * (synchronously, for the Pulumi program) and against the cache then the Hub (asynchronously, the CLI).
 */
import { parseModelConfig, type ModelFacts } from "../capacity";
import type { Got, Place, Want } from "./sources";

export const CONFIG_FILE = "config.json";
export const INDEX_FILE = "model.safetensors.index.json";
export const SINGLE_FILE = "model.safetensors";
/** Each separate quantization config file, with the method its format implies when it names none. */
export const QUANT_FILES: readonly { readonly file: string; readonly method: string }[] = [
  { file: "quantize_config.json", method: "gptq" },
  { file: "quant_config.json", method: "awq" },
  { file: "hf_quant_config.json", method: "modelopt" },
];

/** config.json could not be read: the answer the source gave. */
export class ConfigNotRead extends Error {
  constructor(readonly got: Exclude<Got, { state: "found" }>) {
    super(`config.json not read: ${got.state}`);
    this.name = "ConfigNotRead";
  }
}

export interface Gathered {
  readonly facts: ModelFacts;
  /** Each file read, with where it came from. */
  readonly read: readonly { readonly file: string; readonly from: Place }[];
  /** Why there is no exact weight figure, when there is none. */
  readonly weightsMissing: string | null;
}

type Json = Record<string, unknown>;

function jsonObject(text: string, where: string): Json {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (err) {
    throw new Error(`${where} is not valid JSON: ${(err as Error).message}`, { cause: err });
  }
  if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) throw new Error(`${where}: expected a JSON object`);
  return parsed as Json;
}

function hasInlineQuantization(config: Json): boolean {
  const text = config.text_config as Json | undefined;
  return config.quantization_config != null || config.compression_config != null || (typeof text === "object" && text?.quantization_config != null);
}

function totalSize(index: Json, where: string): number {
  const size = (index.metadata as Json | undefined)?.total_size;
  // Some writers store it as a float (15231233024.0), which JSON reads as the same whole number.
  if (typeof size === "number" && Number.isSafeInteger(size) && size > 0) return size;
  throw new Error(`${where}: metadata.total_size is ${JSON.stringify(size)}; it must be the weights' size in bytes, a whole number above 0`);
}

const reason = (file: string, got: Got): string =>
  got.state === "absent"
    ? `there is no ${file}`
    : got.state === "unavailable"
      ? `${file} is not cached and ${got.reason}`
      : got.state === "failed"
        ? `${file}: ${got.error.message}`
        : "";

/**
 * `repo` names the model (its facts carry this name; null: the config's own _name_or_path, as for a
 * config.json path); `where` prefixes file names in errors.
 */
export function* gather(repo: string | null, where: string): Generator<Want, Gathered, Got> {
  const read: { file: string; from: Place }[] = [];
  const configGot: Got = yield { file: CONFIG_FILE, kind: "text" };
  if (configGot.state !== "found") throw new ConfigNotRead(configGot);
  read.push({ file: CONFIG_FILE, from: configGot.from });
  const config = jsonObject(String(configGot.value), `${where}/${CONFIG_FILE}`);

  if (!hasInlineQuantization(config)) {
    for (const q of QUANT_FILES) {
      const got: Got = yield { file: q.file, kind: "text" };
      if (got.state !== "found") continue;
      read.push({ file: q.file, from: got.from });
      const quant = jsonObject(String(got.value), `${where}/${q.file}`);
      config.quantization_config = { quant_method: "w_bit" in quant ? "awq" : q.method, ...quant };
      break;
    }
  }
  const parsed = parseModelConfig(config, `${where}/${CONFIG_FILE}`);

  let weightBytes: number | undefined;
  let weightsMissing: string | null = null;
  const index: Got = yield { file: INDEX_FILE, kind: "text" };
  if (index.state === "found") {
    weightBytes = totalSize(jsonObject(String(index.value), `${where}/${INDEX_FILE}`), `${where}/${INDEX_FILE}`);
    read.push({ file: INDEX_FILE, from: index.from });
  } else {
    const single: Got = yield { file: SINGLE_FILE, kind: "safetensors" };
    if (single.state === "found") {
      weightBytes = Number(single.value);
      read.push({ file: `${SINGLE_FILE} header`, from: single.from });
    } else {
      weightsMissing = `${reason(INDEX_FILE, index)}; ${reason(SINGLE_FILE, single)}`;
    }
  }
  const facts: ModelFacts = { ...parsed, name: repo ?? parsed.name, ...(weightBytes !== undefined ? { weightBytes } : {}) };
  return { facts, read, weightsMissing };
}

export function runSync<T>(gen: Generator<Want, T, Got>, answer: (want: Want) => Got): T {
  let step = gen.next(undefined as unknown as Got);
  while (!step.done) step = gen.next(answer(step.value));
  return step.value;
}

export async function runAsync<T>(gen: Generator<Want, T, Got>, answer: (want: Want) => Promise<Got>): Promise<T> {
  let step = gen.next(undefined as unknown as Got);
  while (!step.done) step = gen.next(await answer(step.value));
  return step.value;
}
