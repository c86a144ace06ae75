/**
 * Choosing vLLM's tensor-parallel group. vLLM splits every layer across the group, so each step waits on
 * all-reduces between all of its GPUs: the group should be as large as the host allows (a power of two,
 * which attention-head counts divide), all pairwise NVLinked when NVLink exists, on one NUMA node when
 * possible, and otherwise on the closest PCIe paths (https://docs.vllm.ai/en/stable/serving/parallelism_scaling.html).
 */
import type { LinkType } from "./types";

export interface GroupInputs {
  readonly gpuCount: number;
  /** GPU-to-GPU link matrix; null when unknown (every pair is then treated alike). */
  readonly links: readonly (readonly LinkType[])[] | null;
  readonly nvlinkPairs: readonly (readonly [number, number])[];
  /** NUMA node of each GPU, null when unknown. */
  readonly numaNodes: readonly (number | null)[];
}

export interface GroupChoice {
  readonly gpus: readonly number[];
  /** Every pair of the group joined by NVLink (false for a group of one). */
  readonly nvlink: boolean;
}

/** Exhaustive search stays fast up to 16 GPUs, the most one host carries (DGX-2, HGX-2). */
export const MAX_GPUS = 16;

/** PCIe closeness tiers: PIX/PXB (same switch) before PHB/NODE (host bridge) before SYS (across CPUs). */
export function pcieTier(link: LinkType): number {
  switch (link) {
    case "X":
    case "NV":
      return 0;
    case "PIX":
    case "PXB":
      return 1;
    case "PHB":
    case "NODE":
      return 2;
    case "SYS":
      return 3;
  }
}

export function largestPowerOfTwo(n: number): number {
  let p = 1;
  while (p * 2 <= n) p *= 2;
  return p;
}

/**
 * The largest power-of-two set all pairwise NVLinked (when one of at least two GPUs exists), preferring
 * one NUMA node; else the largest power-of-two set with the closest PCIe paths. Ties go to the lowest indices.
 */
export function chooseTensorParallelGroup(inputs: GroupInputs): GroupChoice {
  const n = inputs.gpuCount;
  if (n === 0) return { gpus: [], nvlink: false };
  if (n > MAX_GPUS) {
    throw new Error(`${n} GPUs: the layout search covers up to ${MAX_GPUS}; list vllmDevices in the stack file by hand`);
  }
  const linked = new Set(inputs.nvlinkPairs.map(([a, b]) => key(a, b)));
  const nv = (a: number, b: number): boolean => linked.has(key(a, b));
  for (let k = largestPowerOfTwo(n); k >= 2; k /= 2) {
    const best = bestSubset(n, k, nv, (s) => [numaSpread(s, inputs.numaNodes)]);
    if (best !== null) return { gpus: best, nvlink: true };
  }
  const tier = (a: number, b: number): number => {
    const link = inputs.links?.[a]?.[b];
    return link === undefined ? 2 : pcieTier(link);
  };
  const k = largestPowerOfTwo(n);
  const best = bestSubset(
    n,
    k,
    () => true,
    (s) => {
      const tiers = pairsOf(s).map(([a, b]) => tier(a, b));
      return [Math.max(0, ...tiers), numaSpread(s, inputs.numaNodes), tiers.reduce((x, y) => x + y, 0)];
    },
  );
  return { gpus: best ?? [], nvlink: false };
}

/** The k-subset allowed pairwise with the smallest score, then the lowest indices; null when none. */
function bestSubset(
  n: number,
  k: number,
  allowed: (a: number, b: number) => boolean,
  score: (s: readonly number[]) => number[],
): number[] | null {
  let best: { set: number[]; score: number[] } | null = null;
  const pick: number[] = [];
  const visit = (from: number): void => {
    if (pick.length === k) {
      const s = score(pick);
      if (best === null || less(s, best.score)) best = { set: [...pick], score: s };
      return;
    }
    for (let g = from; g <= n - (k - pick.length); g++) {
      if (pick.every((p) => allowed(p, g))) {
        pick.push(g);
        visit(g + 1);
        pick.pop();
      }
    }
  };
  visit(0);
  return (best as { set: number[] } | null)?.set ?? null;
}

/** Lexicographic; equal scores keep the first found, which has the lowest indices. */
function less(a: readonly number[], b: readonly number[]): boolean {
  for (let i = 0; i < a.length; i++) {
    if ((a[i] ?? 0) !== (b[i] ?? 0)) return (a[i] ?? 0) < (b[i] ?? 0);
  }
  return false;
}

/** How many NUMA nodes the set spans (unknown nodes count as one shared node). */
function numaSpread(s: readonly number[], numa: readonly (number | null)[]): number {
  return new Set(s.map((g) => numa[g] ?? -1)).size;
}

function pairsOf(s: readonly number[]): [number, number][] {
  return s.flatMap((a, i) => s.slice(i + 1).map((b) => [a, b] as [number, number]));
}

function key(a: number, b: number): string {
  return a < b ? `${a}-${b}` : `${b}-${a}`;
}
