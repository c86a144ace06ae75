/**
 * A checkpoint's quantization_config, read from its config.json, and the bytes each packed weight
 * matrix takes. Layouts (what the checkpoint stores and vLLM keeps on the GPU):
 * - AWQ: qweight int32 packing 32/bits weights, qzeros the same packing per group, fp16 scales per
 *   group along the input dimension (vllm/model_executor/layers/quantization/awq.py, create_weights).
 * - GPTQ: the same, plus g_idx, one int32 per input row (vllm/model_executor/layers/quantization/gptq.py).
 * - FP8: one byte per weight; one fp32 scale per matrix, or per weight_block_size block
 *   (weight_scale_inv, DeepSeek V3's [128, 128]) (vllm/model_executor/layers/quantization/fp8.py).
 * - MXFP4 (gpt-oss): only the routed experts; 4-bit values plus one E8M0 byte per 32 along the input
 *   (the checkpoint's *_blocks / *_scales); attention, router, embeddings and lm_head stay bf16
 *   (modules_to_not_convert; vllm/model_executor/layers/quantization/mxfp4.py quantizes FusedMoE only).
 * - bitsandbytes: 4-bit packs two weights a byte with an fp32 absmax per 64; vLLM dequantizes a
 *   double-quantized absmax back to fp32 at load (vllm/model_executor/model_loader/bitsandbytes_loader.py
 *   `_dequantize_dq`). 8-bit keeps int8 weights and one fp32 scale per output row.
 * - compressed-tensors: config_groups[*].weights: num_bits, strategy (tensor, channel, group, block),
 *   group_size, symmetric (llm-compressor's format, read by vLLM's compressed_tensors.py).
 * Embeddings and lm_head stay 16-bit unless the scheme says otherwise; routers are never packed (vLLM
 * builds MoE gates with quant_config=None).
 */
import type { LinearGroup, LinearRole } from "./architecture";

export type QuantMethod = "awq" | "gptq" | "fp8" | "mxfp4" | "bitsandbytes" | "compressed-tensors";

/** The quantization methods this estimate sizes, in the words config.json uses. */
export const KNOWN_QUANT_METHODS: readonly QuantMethod[] = [
  "awq",
  "gptq",
  "fp8",
  "mxfp4",
  "bitsandbytes",
  "compressed-tensors",
];

export type ScaleLayout =
  | { readonly kind: "group"; readonly size: number }
  | { readonly kind: "block"; readonly rows: number; readonly cols: number }
  | { readonly kind: "channel" }
  | { readonly kind: "tensor" };

export interface QuantizationFacts {
  /** quant_method as config.json writes it; "other" for a method this estimate cannot size. */
  readonly method: QuantMethod | "other";
  /** The quant_method string itself, for messages. */
  readonly name: string;
  /** Bits per packed weight. */
  readonly bits: number;
  readonly scales: ScaleLayout;
  /** Bytes of one scale. */
  readonly scaleBytes: number;
  /** A packed zero point next to every scale (AWQ zero_point, GPTQ qzeros, asymmetric schemes). */
  readonly zeroPoints: boolean;
  /** GPTQ's g_idx: one int32 per input row of every packed matrix. */
  readonly groupIndex: boolean;
  /** The matrices the scheme packs; the rest stay in the serving dtype. */
  readonly roles: readonly LinearRole[];
  /** lm_head packed too (GPTQ's lm_head: true). */
  readonly lmHead: boolean;
}

const ALL_ROLES: readonly LinearRole[] = ["attention", "mlp", "shared-expert", "routed-expert"];
type Json = Record<string, unknown>;

const num = (v: unknown): number | undefined => (typeof v === "number" && Number.isFinite(v) ? v : undefined);
const list = (v: unknown): string[] => (Array.isArray(v) ? v.filter((x): x is string => typeof x === "string") : []);

/**
 * Roles a module list leaves unpacked (modules_to_not_convert, llm_int8_skip_modules, ignore): a name
 * with self_attn/attn keeps attention 16-bit, shared_expert the shared experts, experts the routed ones.
 */
function rolesExcept(excluded: readonly string[]): LinearRole[] {
  const has = (re: RegExp) => excluded.some((m) => re.test(m));
  return ALL_ROLES.filter((role) => {
    if (role === "attention") return !has(/self_attn|(^|\.)attn|attention/);
    if (role === "shared-expert") return !has(/shared_expert/);
    if (role === "routed-expert") return !has(/(^|\.)experts(\.|$|\*)/);
    return !has(/(^|\.)mlp(\.\*)?$|mlp\.(gate_proj|up_proj|down_proj)/);
  });
}

function bad(file: string, key: string, value: unknown, allowed: string): never {
  throw new Error(
    `${file}: quantization_config.${key} is ${JSON.stringify(value)}; it must be ${allowed}. ` +
      "Check the model's config.json (quantization_config as the quantizer wrote it).",
  );
}

function groupOf(file: string, key: string, raw: unknown, fallback: number): ScaleLayout {
  const g = raw === undefined ? fallback : num(raw);
  if (g === -1) return { kind: "channel" };
  if (g === undefined || !Number.isInteger(g) || g < 1) return bad(file, key, raw, "a whole number of weights per group, or -1");
  return { kind: "group", size: g };
}

function bitsOf(file: string, key: string, raw: unknown, fallback: number, allowed: readonly number[]): number {
  const b = raw === undefined ? fallback : num(raw);
  if (b === undefined || !allowed.includes(b)) return bad(file, key, raw, `one of ${allowed.join(", ")}`);
  return b;
}

function compressedTensors(q: Json, file: string): QuantizationFacts | undefined {
  const groups = typeof q.config_groups === "object" && q.config_groups !== null ? (q.config_groups as Json) : {};
  const entries = Object.values(groups).filter((g): g is Json => typeof g === "object" && g !== null);
  const group = entries.find((g) => list(g.targets).includes("Linear")) ?? entries[0];
  const w = group?.weights;
  if (typeof w !== "object" || w === null) return undefined; // activations or KV cache only
  const weights = w as Json;
  const bits = bitsOf(file, "config_groups.*.weights.num_bits", weights.num_bits, 8, [2, 3, 4, 8]);
  const strategy = weights.strategy ?? "tensor";
  let scales: ScaleLayout;
  if (strategy === "group") scales = groupOf(file, "config_groups.*.weights.group_size", weights.group_size, 128);
  else if (strategy === "channel" || strategy === "token") scales = { kind: "channel" };
  else if (strategy === "tensor") scales = { kind: "tensor" };
  else if (strategy === "block") {
    const [rows, cols] = Array.isArray(weights.block_structure) ? weights.block_structure : [128, 128];
    scales = { kind: "block", rows: num(rows) ?? 128, cols: num(cols) ?? 128 };
  } else return bad(file, "config_groups.*.weights.strategy", strategy, "tensor, channel, group or block");
  const ignore = list(q.ignore);
  return {
    method: "compressed-tensors",
    name: "compressed-tensors",
    bits,
    scales,
    scaleBytes: 2,
    zeroPoints: weights.symmetric === false,
    groupIndex: false,
    roles: rolesExcept(ignore),
    lmHead: !ignore.some((m) => /lm_head/.test(m)),
  };
}

/**
 * The facts of a config.json's quantization_config; undefined when there is none (or it quantizes
 * only activations / the KV cache). `file` names the source in error messages.
 */
export function parseQuantizationConfig(raw: unknown, file: string): QuantizationFacts | undefined {
  if (raw === undefined || raw === null) return undefined;
  if (typeof raw !== "object" || Array.isArray(raw)) return bad(file, "", raw, "an object");
  const q = raw as Json;
  const name = typeof q.quant_method === "string" ? q.quant_method.toLowerCase() : "";
  const base = { name, zeroPoints: false, groupIndex: false, lmHead: false };
  switch (name) {
    case "awq":
      return {
        ...base,
        method: "awq",
        bits: bitsOf(file, "bits", q.bits ?? q.w_bit, 4, [4]),
        scales: groupOf(file, "group_size", q.group_size ?? q.q_group_size, 128),
        scaleBytes: 2,
        zeroPoints: q.zero_point !== false,
        roles: rolesExcept(list(q.modules_to_not_convert)),
      };
    case "gptq":
      return {
        ...base,
        method: "gptq",
        bits: bitsOf(file, "bits", q.bits, 4, [2, 3, 4, 8]),
        scales: groupOf(file, "group_size", q.group_size, 128),
        scaleBytes: 2,
        zeroPoints: true,
        groupIndex: true,
        roles: rolesExcept(list(q.modules_to_not_convert)),
        lmHead: q.lm_head === true,
      };
    case "fp8": {
      const block = Array.isArray(q.weight_block_size) ? q.weight_block_size.map(num) : undefined;
      const scales: ScaleLayout =
        block !== undefined && block.length === 2 && block.every((x) => x !== undefined && x > 0)
          ? { kind: "block", rows: block[0] as number, cols: block[1] as number }
          : { kind: "tensor" };
      if (q.weight_block_size !== undefined && q.weight_block_size !== null && scales.kind !== "block") {
        bad(file, "weight_block_size", q.weight_block_size, "two positive numbers [rows, cols]");
      }
      const excluded = [...list(q.modules_to_not_convert), ...list(q.ignored_layers)];
      return { ...base, method: "fp8", bits: 8, scales, scaleBytes: 4, roles: rolesExcept(excluded) };
    }
    case "mxfp4":
      return { ...base, method: "mxfp4", bits: 4, scales: { kind: "group", size: 32 }, scaleBytes: 1, roles: ["routed-expert"] };
    case "bitsandbytes": {
      const roles = rolesExcept(list(q.llm_int8_skip_modules));
      if (q.load_in_4bit === true) {
        const block = num(q.bnb_4bit_blocksize) ?? 64;
        return { ...base, method: "bitsandbytes", bits: 4, scales: { kind: "group", size: block }, scaleBytes: 4, roles };
      }
      if (q.load_in_8bit === true) {
        return { ...base, method: "bitsandbytes", bits: 8, scales: { kind: "channel" }, scaleBytes: 4, roles };
      }
      return bad(file, "load_in_4bit / load_in_8bit", undefined, "true for one of them");
    }
    case "compressed-tensors":
      return compressedTensors(q, file);
    default:
      return { ...base, method: "other", name: name || String(q.quant_method), bits: 16, scales: { kind: "tensor" }, scaleBytes: 0, roles: [] };
  }
}

/** What vLLM's --quantization does to a checkpoint that has no quantization_config of its own. */
export function quantizationFromFlag(flag: "fp8" | "int8" | "awq" | "gptq"): QuantizationFacts {
  const base = { name: flag, zeroPoints: false, groupIndex: false, lmHead: false, roles: ALL_ROLES };
  if (flag === "fp8" || flag === "int8") {
    // Online quantization of a 16-bit checkpoint: one byte per weight, one fp32 scale per matrix.
    return { ...base, method: "fp8", bits: 8, scales: { kind: "tensor" }, scaleBytes: 4 };
  }
  // An AWQ/GPTQ checkpoint without its config: the common 4-bit, group-128 layout.
  return {
    ...base,
    method: flag,
    bits: 4,
    scales: { kind: "group", size: 128 },
    scaleBytes: 2,
    zeroPoints: true,
    groupIndex: flag === "gptq",
  };
}

/** Bytes of `g` packed by `q` (weights, scales, zero points, g_idx). */
export function packedLinearBytes(g: LinearGroup, q: QuantizationFacts): number {
  const elements = g.inFeatures * g.outFeatures * g.count;
  let scales: number;
  switch (q.scales.kind) {
    case "group":
      scales = Math.ceil(g.inFeatures / q.scales.size) * g.outFeatures * g.count;
      break;
    case "block":
      scales = Math.ceil(g.outFeatures / q.scales.rows) * Math.ceil(g.inFeatures / q.scales.cols) * g.count;
      break;
    case "channel":
      scales = g.outFeatures * g.count;
      break;
    case "tensor":
      scales = g.count;
      break;
  }
  const zeros = q.zeroPoints ? (scales * q.bits) / 8 : 0;
  const groupIndex = q.groupIndex ? g.inFeatures * g.count * 4 : 0;
  return (elements * q.bits) / 8 + scales * q.scaleBytes + zeros + groupIndex;
}
