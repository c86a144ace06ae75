/**
 * GPU names as nvidia-smi prints them ("Tesla T4", "NVIDIA A100 80GB PCIe", "NVIDIA H100 80GB HBM3",
 * "NVIDIA GeForce RTX 2060 12GB") or as a person types them ("RTX 3090", "a100-80gb"), resolved
 * against the catalog in ./gpuCatalog.ts.
 *
 * A name is normalised to a model, an optional memory size and optional form factors. Variants that
 * share a name (the 10 and 12 GB RTX 3080 are both "NVIDIA GeForce RTX 3080") are told apart by the
 * memory the stack file or nvidia-smi gives. A name the catalog does not know is no error when that
 * memory is known: the memory comes from the caller and the decode-speed bound goes without bandwidth.
 */
import { GPU_CATALOG, type GpuCatalogEntry } from "./gpuCatalog";

export { GPU_CATALOG, type GpuCatalogEntry } from "./gpuCatalog";

/** A GPU as the capacity estimate uses it. */
export interface GpuFacts {
  /** The catalog's name for the card, or the name as given when the catalog does not know it. */
  readonly name: string;
  /** memory.total in MiB: the caller's figure when given, otherwise the catalog's. */
  readonly memoryMiB: number;
  /** Peak memory bandwidth, GB/s; absent when unknown. */
  readonly bandwidthGBs?: number;
  /** The catalog entry the name resolved to; null when the facts came from the caller's memory alone. */
  readonly entry: GpuCatalogEntry | null;
  /** Why the catalog could not supply the facts; null when it did. */
  readonly note: string | null;
}

export interface ParsedGpuName {
  readonly model: string;
  readonly sizeGB: number | null;
  readonly forms: readonly string[];
}

/** Words that name the vendor or the product line, not the card. */
const NOISE = new Set([
  ...["nvidia", "tesla", "geforce", "quadro", "rtx"],
  ...["generation", "edition", "gpu", "tensor", "core"],
]);
/** Form-factor words, each mapped to the form the catalog lists. */
const FORMS: Record<string, string> = {
  pcie: "pcie",
  sxm: "sxm",
  sxm2: "sxm",
  sxm4: "sxm",
  sxm5: "sxm",
  sxm6: "sxm",
  nvl: "nvl",
  hbm2: "hbm",
  hbm2e: "hbm",
  hbm3: "hbm",
  hbm3e: "hbm",
};
const SIZE = /^(\d{1,4})(gb|gib|g)$/;

export function parseGpuName(name: string): ParsedGpuName {
  const tokens = name
    .toLowerCase()
    .replace(/\.{3,}|…/g, " ") // nvidia-smi's table cuts long names: "Tesla V100-SXM2..."
    .replace(/[-_/(),]+/g, " ")
    .replace(/\brtx(?=\d)/g, "rtx ") // "rtx3090"
    .replace(/(\d)(ti|super)\b/g, "$1 $2") // "4070ti"
    .split(/\s+/)
    .filter((t) => t !== "");
  const model: string[] = [];
  const forms: string[] = [];
  let sizeGB: number | null = null;
  for (let i = 0; i < tokens.length; i++) {
    const t = tokens[i]!;
    const size = SIZE.exec(t);
    if (size) sizeGB = Number(size[1]);
    else if (/^\d{1,4}$/.test(t) && ["gb", "gib", "g"].includes(tokens[i + 1] ?? "")) {
      sizeGB = Number(t); // "A100 80 GB"
      i++;
    } else if (FORMS[t] !== undefined) forms.push(FORMS[t]!);
    else if (!NOISE.has(t)) model.push(t);
  }
  return { model: model.join(" "), sizeGB, forms: [...new Set(forms)] };
}

/** How far a known memory may sit from a catalog entry's and still be that card (ECC on GDDR takes 1/16). */
export const MEMORY_MATCH_TOLERANCE = 0.1;

const FIX =
  "pass --gpu with its memory.total in MiB " +
  "(nvidia-smi --query-gpu=memory.total --format=csv,noheader,nounits), " +
  "or run `llmstack configure-gpu` to write gpu.gpuName and gpu.memoryMiB into the stack file " +
  "(docs/capacity.md lists the cards the catalog knows)";

export class GpuNameError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "GpuNameError";
  }
}

const sameFacts = (a: GpuCatalogEntry, b: GpuCatalogEntry) =>
  a.memory.mib === b.memory.mib && (a.bandwidth?.gbs ?? null) === (b.bandwidth?.gbs ?? null);

const within = (entry: GpuCatalogEntry, mib: number) =>
  Math.abs(entry.memory.mib - mib) <= MEMORY_MATCH_TOLERANCE * entry.memory.mib;

/** Narrow to `keep`, unless nothing would remain: then the name's words said nothing about it. */
function prefer(list: GpuCatalogEntry[], keep: (e: GpuCatalogEntry) => boolean): GpuCatalogEntry[] {
  const kept = list.filter(keep);
  return kept.length > 0 ? kept : list;
}

type Match =
  | { readonly kind: "entry"; readonly entry: GpuCatalogEntry }
  | { readonly kind: "unknown" }
  | { readonly kind: "variant"; readonly family: readonly GpuCatalogEntry[] }
  | { readonly kind: "ambiguous"; readonly candidates: readonly GpuCatalogEntry[] };

function match(parsed: ParsedGpuName, knownMiB: number | null): Match {
  const family = GPU_CATALOG.filter((e) => e.model === parsed.model);
  if (family.length === 0) return { kind: "unknown" };
  let list = family.filter(
    (e) =>
      (parsed.sizeGB === null || e.sizesGB.includes(parsed.sizeGB)) &&
      parsed.forms.every((f) => e.forms.includes(f)),
  );
  if (parsed.forms.length === 0) list = prefer(list, (e) => e.forms.includes(""));
  if (knownMiB !== null) {
    list = list.filter((e) => within(e, knownMiB));
    list.sort((a, b) => Math.abs(a.memory.mib - knownMiB) - Math.abs(b.memory.mib - knownMiB));
  }
  if (list.length === 0) return { kind: "variant", family };
  if (list.length === 1 || knownMiB !== null || list.every((e) => sameFacts(e, list[0]!))) {
    return { kind: "entry", entry: list[0]! };
  }
  return { kind: "ambiguous", candidates: list };
}

const names = (list: readonly GpuCatalogEntry[]) => list.map((e) => e.name).join(", ");

/**
 * The GPU a name stands for. `knownMemoryMiB` is the memory.total the stack file or nvidia-smi
 * gives: it picks between variants of one name, it is the memory used, and with it an unknown
 * name is no error. Without it, a name the catalog cannot settle throws one error saying how to fix it.
 */
export function lookupGpu(name: string, knownMemoryMiB: number | null = null): GpuFacts {
  const m = match(parseGpuName(name), knownMemoryMiB);
  if (m.kind === "entry") {
    const { entry } = m;
    return {
      name: entry.name,
      memoryMiB: knownMemoryMiB ?? entry.memory.mib,
      ...(entry.bandwidth ? { bandwidthGBs: entry.bandwidth.gbs } : {}),
      entry,
      note: null,
    };
  }
  const why =
    m.kind === "unknown"
      ? `GPU "${name}" is not in the catalog`
      : m.kind === "variant"
        ? `GPU "${name}" is a variant the catalog does not list (it knows ${names(m.family)})`
        : `GPU "${name}" names more than one card (${names(m.candidates)})`;
  if (knownMemoryMiB !== null) {
    const note = `${why}; no memory bandwidth, so no decode-speed bound`;
    return { name, memoryMiB: knownMemoryMiB, entry: null, note };
  }
  const variant = m.kind === "ambiguous" ? `name the variant, such as "${m.candidates[0]!.name}", ` : "";
  throw new GpuNameError(`${why} and its memory is not known; ${variant}${FIX}.`);
}
