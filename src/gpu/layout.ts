/**
 * The GPU layout decision: detection facts + the mode a user asks for → which GPUs vLLM and the
 * multimodal worker get, the NCCL settings, and the `llmstack:gpu` section of the stack file.
 * Pure: `configure-gpu` writes what this returns, preflight compares a stack against it.
 */
import type { z } from "zod";
import type { gpuSchema } from "../config/schema";
import { chooseTensorParallelGroup, type GroupChoice } from "./groups";
import { cardClassOf, ncclSettings, type CardClass, type NcclSettings } from "./nccl";
import type { Detection, DetectedGpu } from "./types";

export const REQUESTED_MODES = ["auto", "multi", "single", "cpu"] as const;
export type RequestedMode = (typeof REQUESTED_MODES)[number];
export type DetectedMode = "cpu" | "single" | "multi-nvlink" | "multi-pcie";

/** The GPU section as written in the stack file (schema defaults left out). */
export type GpuSection = z.input<typeof gpuSchema>;

export interface GpuLayout {
  readonly mode: DetectedMode;
  /** Host indices of vLLM's GPUs (the tensor-parallel group); empty in cpu mode. */
  readonly tensorParallelGroup: readonly number[];
  /** Host index of the worker's GPU; null in cpu mode. */
  readonly workerGpu: number | null;
  /** Whether the worker shares a GPU with vLLM (no GPU outside the group). */
  readonly workerShares: boolean;
  readonly nvlink: boolean;
  readonly cardClass: CardClass;
  /** IDs in the stack file are UUIDs (survive renumbering) when nvidia-smi gave them, else indices. */
  readonly pinBy: "uuid" | "index";
  readonly vllmDevices: readonly string[];
  readonly workerDevices: readonly string[];
  readonly nccl: NcclSettings;
  /** vLLM's GPUs' name when they all share one, for the capacity check; null when unknown or mixed. */
  readonly gpuName: string | null;
  /** The smallest memory.total (MiB) among vLLM's GPUs, for the capacity check; null when unknown. */
  readonly memoryMiB: number | null;
  /** Sentences explaining the choice, for CLI output. */
  readonly reasons: readonly string[];
}

/** A mode the host cannot run; the message says why and what to choose instead. */
export class LayoutError extends Error {
  constructor(
    message: string,
    /** The mode to write instead, when another one runs on this host. */
    readonly instead?: RequestedMode,
  ) {
    super(message);
    this.name = "LayoutError";
  }
}

const CPU_LAYOUT: Omit<GpuLayout, "reasons"> = {
  mode: "cpu",
  tensorParallelGroup: [],
  workerGpu: null,
  workerShares: false,
  nvlink: false,
  cardClass: "consumer",
  pinBy: "index",
  vllmDevices: [],
  workerDevices: [],
  nccl: ncclSettings({ gpuCount: 0, nvlink: false, cardClass: "consumer" }),
  gpuName: null,
  memoryMiB: null,
};

export function chooseLayout(detection: Detection, requested: RequestedMode): GpuLayout {
  const gpus = detection.gpus;
  if (requested === "cpu") return { ...CPU_LAYOUT, reasons: ["cpu mode requested: vLLM runs on the CPU backend"] };
  if (detection.problem !== null) {
    if (requested === "auto") {
      throw new LayoutError(
        `${detection.problem} (auto mode does not fall back to cpu on its own: fix the driver, or choose cpu explicitly)`,
        "cpu",
      );
    }
    throw new LayoutError(`mode ${requested} needs a GPU, but ${detection.problem}`, "cpu");
  }
  if (gpus.length === 0) {
    if (requested !== "auto") throw new LayoutError(`mode ${requested} needs a GPU, but the host has none; use cpu`, "cpu");
    return { ...CPU_LAYOUT, reasons: ["no GPU on the host: vLLM runs on the CPU backend"] };
  }
  if (requested === "multi" && gpus.length < 2) {
    throw new LayoutError(
      `mode multi needs at least two GPUs, but the host has one (${describe(gpus[0])}); use single (or auto)`,
      "single",
    );
  }
  const single = requested === "single" || gpus.length === 1;
  const group: GroupChoice = single
    ? { gpus: [biggest(gpus)], nvlink: false }
    : chooseTensorParallelGroup({
        gpuCount: gpus.length,
        links: detection.links,
        nvlinkPairs: detection.nvlinkPairs,
        numaNodes: gpus.map((g) => g.numaNode),
      });
  const outside = gpus.map((g) => g.index).filter((i) => !group.gpus.includes(i));
  // The worker shares the last GPU of the group when none is free, as vLLM's memory utilisation leaves room.
  const workerGpu = outside[0] ?? group.gpus[group.gpus.length - 1] ?? 0;
  const used = [...group.gpus, workerGpu].map((i) => gpus[i]);
  const pinBy = used.every((g) => g?.uuid != null) ? "uuid" : "index";
  const id = (i: number): string => (pinBy === "uuid" ? (gpus[i]?.uuid ?? String(i)) : String(i));
  const cardClass = classOf(group.gpus.map((i) => gpus[i]));
  const nccl = ncclSettings({ gpuCount: group.gpus.length, nvlink: group.nvlink, cardClass });
  const mode: DetectedMode = group.gpus.length < 2 ? "single" : group.nvlink ? "multi-nvlink" : "multi-pcie";
  const reasons = [
    modeReason(mode, group, gpus.length),
    outside.length > 0
      ? `multimodal worker on GPU ${workerGpu}, outside vLLM's group`
      : `multimodal worker shares GPU ${workerGpu} with vLLM (no GPU left outside the group)`,
    `GPUs pinned by ${pinBy === "uuid" ? "UUID (stable if the host renumbers its GPUs)" : "index (nvidia-smi gave no UUIDs)"}`,
    `NCCL: ${nccl.reason}`,
  ];
  if (gpus.some((g) => g.name === null)) {
    reasons.push("card names unknown (no --query capture): card class consumer assumed, the safe NCCL choice");
  }
  return {
    mode,
    tensorParallelGroup: group.gpus,
    workerGpu,
    workerShares: outside.length === 0,
    nvlink: group.nvlink,
    cardClass,
    pinBy,
    vllmDevices: group.gpus.map(id),
    workerDevices: [id(workerGpu)],
    nccl,
    gpuName: sharedName(group.gpus.map((i) => gpus[i]?.name ?? null)),
    memoryMiB: smallest(group.gpus.map((i) => gpus[i]?.memoryMiB ?? null)),
    reasons,
  };
}

export interface DecideOptions {
  /** The stack file's current `llmstack:gpu` value: memoryUtilization, workerMemoryFraction,
   * pipelineParallelSize and kvCacheSpaceGiB are per-environment choices and are kept. */
  readonly previous?: unknown;
  /** `llmstack:environment`, which picks memoryUtilization when the file has none. */
  readonly environment?: string;
}

/** Default vLLM memory utilisation per environment when the stack file has none yet. */
export const DEFAULT_UTILIZATION: Readonly<Record<string, number>> = { production: 0.9, staging: 0.85 };
export const FALLBACK_UTILIZATION = 0.8;
/**
 * The worker's share of a GPU it shares with vLLM, per environment, when the stack file has none yet
 * (elsewhere the schema's default, 0.1, applies). Beside vLLM's 0.9 and two CUDA contexts a 24 GB card
 * leaves the worker at most 0.05 (docs/gpu-budget.md); staging gives the worker production's cap.
 */
export const DEFAULT_SHARED_WORKER_FRACTION: Readonly<Record<string, number>> = { production: 0.04, staging: 0.04 };

/** The `llmstack:gpu` section for this host and mode. Throws LayoutError when the mode cannot run. */
export function decideLayout(detection: Detection, requested: RequestedMode, options: DecideOptions = {}): GpuSection {
  return sectionFor(chooseLayout(detection, requested), options);
}

export function sectionFor(layout: GpuLayout, options: DecideOptions = {}): GpuSection {
  const prev = isRecord(options.previous) ? options.previous : {};
  const num = (k: string): number | undefined => (typeof prev[k] === "number" ? (prev[k] as number) : undefined);
  if (layout.mode === "cpu") {
    const kv = num("kvCacheSpaceGiB");
    return kv === undefined ? { mode: "cpu" } : { mode: "cpu", kvCacheSpaceGiB: kv };
  }
  const pp = num("pipelineParallelSize");
  const size = layout.vllmDevices.length;
  if (pp !== undefined && size % pp !== 0) {
    throw new LayoutError(
      `pipelineParallelSize ${pp} in the stack file does not divide the ${size} GPU(s) chosen for vLLM; ` +
        `set pipelineParallelSize to 1 or to a divisor of ${size}`,
    );
  }
  const util = num("memoryUtilization") ?? DEFAULT_UTILIZATION[options.environment ?? ""] ?? FALLBACK_UTILIZATION;
  const gpuName = layout.gpuName ?? (typeof prev.gpuName === "string" ? prev.gpuName : undefined);
  const memoryMiB = layout.memoryMiB ?? num("memoryMiB");
  const fraction =
    num("workerMemoryFraction") ?? (layout.workerShares ? DEFAULT_SHARED_WORKER_FRACTION[options.environment ?? ""] : undefined);
  return {
    mode: size >= 2 ? "multi" : "single",
    vllmDevices: [...layout.vllmDevices],
    workerDevices: [...layout.workerDevices],
    nvlink: layout.nvlink,
    cardClass: layout.cardClass,
    tensorParallelSize: size / (pp ?? 1),
    ...(pp === undefined ? {} : { pipelineParallelSize: pp }),
    memoryUtilization: util,
    ...(fraction === undefined ? {} : { workerMemoryFraction: fraction }),
    // Captures without the query table give no name or memory: the stack file's own stay.
    ...(gpuName === undefined ? {} : { gpuName }),
    ...(memoryMiB === undefined ? {} : { memoryMiB }),
  };
}

function sharedName(names: readonly (string | null)[]): string | null {
  const first = names[0] ?? null;
  return first !== null && names.every((n) => n === first) ? first : null;
}

function smallest(values: readonly (number | null)[]): number | null {
  if (values.length === 0 || values.some((v) => v === null)) return null;
  return Math.min(...(values as number[]));
}

function modeReason(mode: DetectedMode, group: GroupChoice, total: number): string {
  const list = group.gpus.join(", ");
  if (mode === "single") return `single: vLLM on GPU ${list} of ${total}`;
  if (mode === "multi-nvlink") return `multi-nvlink: vLLM's ${group.gpus.length} GPUs (${list}) are all joined by NVLink`;
  return `multi-pcie: vLLM's ${group.gpus.length} GPUs (${list}) talk over PCIe (no NVLink between all of them)`;
}

/** The GPU with the most memory (lowest index on a tie, or when memory is unknown). */
function biggest(gpus: readonly DetectedGpu[]): number {
  let best = gpus[0] as DetectedGpu;
  for (const g of gpus) if ((g.memoryMiB ?? 0) > (best.memoryMiB ?? 0)) best = g;
  return best.index;
}

/** Consumer if any card is consumer or unknown: disabling P2P is safe everywhere, enabling it is not. */
function classOf(gpus: readonly (DetectedGpu | undefined)[]): CardClass {
  return gpus.every((g) => g?.name != null && cardClassOf(g.name) === "datacenter") ? "datacenter" : "consumer";
}

function describe(g: DetectedGpu | undefined): string {
  return g === undefined ? "none" : `GPU ${g.index}${g.name === null ? "" : ` ${g.name}`}`;
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === "object" && !Array.isArray(v);
}
