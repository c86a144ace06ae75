/**
 * Detection: the facts about a host's GPUs merged from whichever nvidia-smi captures are at hand
 * (`--query-gpu` CSV or the plain table, `topo -m`, `nvlink --status`). Captures that disagree (different
 * GPU counts, NVLink in one and not the other) are an error, not a vote.
 */
import { CaptureError, NvidiaSmiError, smiFailure, type CaptureKind } from "./errors";
import { parseNvlinkStatus } from "./nvlinkStatus";
import { parseQueryCsv } from "./query";
import { isSmiTable, parseSmiTable } from "./smiTable";
import { parseTopo } from "./topo";
import type { Detection, DetectedGpu, NvlinkGpu, QueryGpu, Topology } from "./types";

export interface Captures {
  /** `nvidia-smi topo -m` output. */
  readonly topo?: string;
  /** `nvidia-smi --query-gpu=... --format=csv[,noheader][,nounits]` output, or plain `nvidia-smi`. */
  readonly query?: string;
  /** `nvidia-smi nvlink --status` output. */
  readonly nvlink?: string;
  /** Fields of a query capture without a header, in order. */
  readonly queryFields?: readonly string[];
  /** Names of the captures for messages (file names); default "topo -m", "query", "nvlink --status". */
  readonly names?: { readonly topo?: string; readonly query?: string; readonly nvlink?: string };
}

/** Failures that mean "this host has no usable GPU"; anything else is a bad capture and throws. */
const NO_GPU_KINDS = new Set(["not-installed", "no-driver", "version-mismatch", "no-devices"]);

export function detectFromCaptures(captures: Captures): Detection {
  const names = {
    topo: captures.names?.topo ?? "nvidia-smi topo -m",
    query: captures.names?.query ?? "nvidia-smi --query-gpu",
    nvlink: captures.names?.nvlink ?? "nvidia-smi nvlink --status",
  };
  const given = (["query", "topo", "nvlink"] as const).filter((k) => captures[k] !== undefined);
  if (given.length === 0) {
    throw new Error("no nvidia-smi capture given; pass at least one of --query, --topo, --nvlink");
  }
  for (const k of given) {
    const failure = smiFailure(captures[k] ?? "", names[k]);
    if (failure !== null && NO_GPU_KINDS.has(failure.kind)) return noGpu(failure);
  }

  const query = reading("query", captures.query, (t) => readQuery(t, names.query, captures.queryFields));
  const topo = reading("topo", captures.topo, (t) => parseTopo(t, names.topo));
  const nvlink = reading("nvlink", captures.nvlink, (t) => parseNvlinkStatus(t, names.nvlink));
  const notes: string[] = [];

  const counts: [string, number][] = [];
  if (query !== null) counts.push([names.query, query.length]);
  if (topo !== null) counts.push([names.topo, topo.gpus.length]);
  if (nvlink !== null) counts.push([names.nvlink, nvlink.length]);
  const n = counts[0]?.[1] ?? 0;
  const odd = counts.find(([, c]) => c !== n);
  if (odd !== undefined) {
    throw new CaptureError(
      `the captures disagree on the GPU count: ${counts.map(([w, c]) => `${w} lists ${c}`).join(", ")}; ` +
        `capture all of them from the same host`,
      given,
    );
  }

  const gpus: DetectedGpu[] = [];
  for (let i = 0; i < n; i++) {
    const q = query?.find((g) => g.index === i);
    if (query !== null && q === undefined) {
      throw new CaptureError(`${names.query}: no row for GPU index ${i}; indices must run 0..${n - 1}`, ["query"]);
    }
    const l = nvlink?.find((g) => g.index === i);
    if (nvlink !== null && l === undefined) {
      throw new CaptureError(`${names.nvlink}: no "GPU ${i}:" line; indices must run 0..${n - 1}`, ["nvlink"]);
    }
    gpus.push(mergeGpu(i, q ?? null, l ?? null, topo, names));
  }
  if (query !== null && query.some((g) => g.computeCapability === null) && n > 0) {
    notes.push("compute capability unknown (this driver's nvidia-smi does not report compute_cap)");
  }
  if (topo === null && nvlink === null && n >= 2) {
    notes.push("NVLink unknown (no topo -m or nvlink --status capture): treated as none; pass --topo to know");
  }
  const nvlinkPairs = pairs(topo, nvlink, names, notes);
  const links = topo?.links.map((row) => row.map((c) => c.type)) ?? null;
  return { gpus, links, nvlinkPairs, problem: null, notes };
}

/**
 * Runs one capture's parser (null when there is no such capture); what it refuses is that capture's
 * problem, a CaptureError naming it, except nvidia-smi's own failures, which keep their kind.
 */
function reading<T>(kind: CaptureKind, text: string | undefined, parse: (text: string) => T): T | null {
  if (text === undefined) return null;
  try {
    return parse(text);
  } catch (err) {
    if (err instanceof NvidiaSmiError || err instanceof CaptureError || !(err instanceof Error)) throw err;
    throw new CaptureError(err.message, [kind]);
  }
}

function noGpu(failure: NvidiaSmiError): Detection {
  return { gpus: [], links: null, nvlinkPairs: [], problem: failure.message, notes: [] };
}

function readQuery(text: string, where: string, fields?: readonly string[]): QueryGpu[] {
  return isSmiTable(text) ? parseSmiTable(text, where) : parseQueryCsv(text, where, fields);
}

function mergeGpu(
  i: number,
  q: QueryGpu | null,
  l: NvlinkGpu | null,
  topo: Topology | null,
  names: { query: string; nvlink: string },
): DetectedGpu {
  if (q !== null && l !== null) {
    for (const field of ["uuid", "name"] as const) {
      const a = q[field];
      const b = l[field];
      if (a !== null && b !== null && a !== b) {
        throw new CaptureError(
          `GPU ${i}: ${names.query} says ${field} "${a}" but ${names.nvlink} says "${b}"; capture both from the same host`,
          ["query", "nvlink"],
        );
      }
    }
  }
  const t = topo?.gpus[i];
  return {
    index: i,
    uuid: q?.uuid ?? l?.uuid ?? null,
    name: q?.name ?? l?.name ?? null,
    memoryMiB: q?.memoryMiB ?? null,
    memoryUsedMiB: q?.memoryUsedMiB ?? null,
    busId: q?.busId ?? null,
    computeCapability: q?.computeCapability ?? null,
    driverVersion: q?.driverVersion ?? null,
    numaNode: t?.numaNode ?? null,
    cpuAffinity: t?.cpuAffinity ?? null,
    activeNvlinks: l?.activeLinks ?? null,
  };
}

/** NVLink pairs: `topo -m` names them; `nvlink --status` alone only says which GPUs have links up. */
function pairs(
  topo: Topology | null,
  nvlink: readonly NvlinkGpu[] | null,
  names: { topo: string; nvlink: string },
  notes: string[],
): [number, number][] {
  if (topo !== null) {
    const out: [number, number][] = [];
    topo.links.forEach((row, a) =>
      row.forEach((c, b) => {
        if (a < b && c.type === "NV") out.push([a, b]);
      }),
    );
    for (const [a, b] of out) {
      for (const g of [a, b]) {
        if (nvlink?.[g]?.activeLinks === 0) {
          throw new CaptureError(
            `${names.topo} shows GPU${a} and GPU${b} joined by ${topo.links[a]?.[b]?.raw}, but ${names.nvlink} shows ` +
              `GPU ${g} with no active link; capture both again (a bridge may be loose)`,
            ["topo", "nvlink"],
          );
        }
      }
    }
    return out;
  }
  if (nvlink !== null) {
    const active = nvlink.filter((g) => g.activeLinks > 0).map((g) => g.index);
    if (active.length === 0) return [];
    if (nvlink.length === 2 && active.length === 2) {
      notes.push("NVLink pair 0-1 taken from nvlink --status: with two GPUs their links can only join each other");
      return [[0, 1]];
    }
    throw new CaptureError(
      `${names.nvlink} shows active NVLinks on GPU ${active.join(", ")} but not which GPUs they join; ` +
        `add the \`nvidia-smi topo -m\` capture (--topo)`,
      ["topo"],
    );
  }
  return [];
}
