/**
 * The re-run that clears each violation `llmstack capacity` reports: the flag its advice names (a tensor
 * parallel size the heads allow, --max-model-len, --util, more GPUs), at the value the estimate itself
 * accepts. Each candidate is checked by running the estimate again with it, so the command printed is one
 * that no longer shows the violation, not a guess.
 */
import { estimateCapacity, type CapacityInput, type Violation } from "../capacity";
import { MEMORY_UTILISATION_MAX } from "../config/schema";

/** Flags (long names without dashes) and their new values, or null to drop one. */
export type FlagChanges = Readonly<Record<string, string | null>>;

export interface FixContext {
  readonly input: CapacityInput;
  /** Whether the command line gave --gpus: a new TP or PP then changes it too (vLLM uses TP × PP GPUs). */
  readonly gpusGiven: boolean;
  /** The largest tensor or pipeline parallel size a stack may set. */
  readonly maxParallel: number;
}

type Code = Violation["code"];

/** The estimate with `change` applied is free of every code in `codes`. */
function clears(ctx: FixContext, change: Partial<CapacityInput>, codes: readonly Code[]): boolean {
  const { violations } = estimateCapacity({ ...ctx.input, ...change });
  return !violations.some((v) => codes.includes(v.code));
}

/** Tensor parallel sizes vLLM takes for the model: they divide the heads, and divide or are divided by the KV heads. */
function validTp(ctx: FixContext): number[] {
  const { numAttentionHeads: heads, numKeyValueHeads: kv } = ctx.input.model;
  const out: number[] = [];
  for (let t = 1; t <= ctx.maxParallel; t++) if (heads % t === 0 && (kv % t === 0 || t % kv === 0)) out.push(t);
  return out;
}

function parallel(ctx: FixContext, tp: number, pp: number): FlagChanges {
  const changes: Record<string, string> = tp !== ctx.input.tensorParallelSize ? { tp: String(tp) } : { pp: String(pp) };
  if (ctx.gpusGiven) changes.gpus = String(tp * pp);
  return changes;
}

/** The largest whole number in [lo, hi] for which `ok` holds, when `ok` holds below some point and not above it. */
function largest(lo: number, hi: number, ok: (n: number) => boolean): number | null {
  if (hi < lo || !ok(lo)) return null;
  while (lo < hi) {
    const mid = Math.ceil((lo + hi) / 2);
    if (ok(mid)) lo = mid;
    else hi = mid - 1;
  }
  return lo;
}

/** The smallest utilisation above the current one, in hundredths up to the stack's limit, that clears `codes`. */
function utilFix(ctx: FixContext, codes: readonly Code[]): FlagChanges | null {
  const max = ctx.input.maxMemoryUtilization ?? MEMORY_UTILISATION_MAX;
  for (let h = Math.floor(ctx.input.gpuMemoryUtilization * 100 + 1e-9) + 1; h <= Math.round(max * 100); h++) {
    if (clears(ctx, { gpuMemoryUtilization: h / 100 }, codes)) return { util: (h / 100).toFixed(2) };
  }
  return null;
}

/** More GPUs: the smallest tensor parallel size above the current one that the heads allow and that clears `codes`. */
function moreGpusFix(ctx: FixContext, codes: readonly Code[]): FlagChanges | null {
  const { tensorParallelSize: tp, pipelineParallelSize: pp } = ctx.input;
  const t = validTp(ctx).find((c) => c > tp && clears(ctx, { tensorParallelSize: c }, [...codes, "tp-attention-heads", "tp-kv-heads"]));
  return t === undefined ? null : parallel(ctx, t, pp);
}

/** The flags whose change clears the violation, or null when no candidate does. */
export function violationFix(v: Violation, ctx: FixContext): FlagChanges | null {
  const { input } = ctx;
  const { tensorParallelSize: tp, pipelineParallelSize: pp, maxModelLen, model } = input;
  switch (v.code) {
    case "tp-attention-heads":
    case "tp-kv-heads": {
      // The nearest allowed size, fewer GPUs first.
      const sizes = validTp(ctx).sort((a, b) => Math.abs(a - tp) - Math.abs(b - tp) || a - b);
      return sizes.length === 0 ? null : parallel(ctx, sizes[0]!, pp);
    }
    case "pp-layers":
      return parallel(ctx, tp, Math.min(model.numLayers, ctx.maxParallel));
    case "max-model-len":
      return { "max-model-len": String(model.maxPositionEmbeddings) };
    case "kv-too-small": {
      const len = largest(1, Math.min(maxModelLen - 1, model.maxPositionEmbeddings), (n) =>
        clears(ctx, { maxModelLen: n }, ["kv-too-small", "no-kv-memory"]),
      );
      return len !== null ? { "max-model-len": String(len) } : (utilFix(ctx, [v.code]) ?? moreGpusFix(ctx, [v.code, "no-kv-memory"]));
    }
    case "no-kv-memory":
      return utilFix(ctx, [v.code, "kv-too-small"]) ?? moreGpusFix(ctx, [v.code, "kv-too-small"]);
    case "shared-gpu":
      // The command line books no worker on vLLM's GPUs.
      return null;
  }
}
