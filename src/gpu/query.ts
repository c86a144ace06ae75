/**
 * Parser for `nvidia-smi --query-gpu=<fields> --format=csv[,noheader][,nounits]`
 * (https://docs.nvidia.com/deploy/nvidia-smi/index.html, "GPU attributes"). With a header the columns are
 * named by it; without one the caller says which fields it asked for, in order.
 */
import { throwIfFailure, wholeNumber } from "./errors";
import type { QueryGpu } from "./types";

/** The fields every query asks for; every nvidia-smi with --query-gpu knows them. */
const GPU_FIELDS = ["index", "uuid", "name", "memory.total", "memory.used", "pci.bus_id"] as const;

/** The fields detection asks for; compute_cap is left out by the fallback on old drivers. */
export const QUERY_FIELDS = [...GPU_FIELDS, "compute_cap"] as const;

/**
 * The fields the preflight probe asks for: the driver version, compared with the CUDA the vLLM image needs;
 * no compute_cap, which old drivers reject (the probe runs one query and cannot fall back).
 */
export const PROBE_QUERY_FIELDS = [...GPU_FIELDS, "driver_version"] as const;

/** nvidia-smi accepts these aliases but prints the canonical name in the header. */
const ALIASES: Readonly<Record<string, string>> = {
  gpu_name: "name",
  gpu_uuid: "uuid",
  gpu_bus_id: "pci.bus_id",
};

export function queryArgs(fields: readonly string[]): string[] {
  return [`--query-gpu=${fields.join(",")}`, "--format=csv,noheader,nounits"];
}

/**
 * Reads the CSV. `fields` is required for output without a header; with a header it is ignored.
 * Rows without an index column take their position (nvidia-smi lists GPUs in index order).
 */
export function parseQueryCsv(text: string, where: string, fields?: readonly string[]): QueryGpu[] {
  throwIfFailure(text, where);
  const lines = text.split(/\r?\n/).filter((l) => l.trim() !== "");
  if (lines.length === 0) {
    throw new Error(`${where}: the query output is empty; nvidia-smi --query-gpu printed no GPU rows`);
  }
  const first = splitRow(lines[0] ?? "");
  const hasHeader = first.some((c) => KNOWN_HEADER.test(c)) && !first.some((c) => /^\d+$/.test(c));
  let columns: string[];
  if (hasHeader) {
    columns = first.map(canonical);
    lines.shift();
  } else if (fields !== undefined) {
    columns = fields.map(canonical);
  } else {
    throw new Error(
      `${where}: the CSV has no header line, so its columns are unknown; capture it again with the header ` +
        "(--format=csv, not csv,noheader)",
    );
  }
  if (lines.length === 0) {
    throw new Error(
      `${where}: the header has no GPU rows under it (cut off?); capture the whole output again`,
    );
  }
  if (!columns.includes("name") && !columns.includes("uuid") && !columns.includes("index")) {
    throw new Error(
      `${where}: the columns ${columns.join(", ")} name no GPU (need index, uuid or name); ` +
        `capture the query again with the fields ${QUERY_FIELDS.join(",")}`,
    );
  }
  return lines.map((line, row) => {
    const cells = splitRow(line);
    if (cells.length !== columns.length) {
      throw new Error(
        `${where}: row ${row + 1} "${line.trim()}" has ${cells.length} values but ${columns.length} columns ` +
          `(${columns.join(", ")}) were expected; capture the whole output again`,
      );
    }
    const get = (field: string): string | null => {
      const i = columns.indexOf(field);
      return i < 0 ? null : value(cells[i] ?? "");
    };
    const index = get("index");
    return {
      index: index === null ? row : int(index, "index", where, row),
      uuid: get("uuid"),
      name: get("name"),
      memoryMiB: mib(get("memory.total"), "memory.total", where, row),
      memoryUsedMiB: mib(get("memory.used"), "memory.used", where, row),
      busId: get("pci.bus_id"),
      computeCapability: get("compute_cap"),
      driverVersion: get("driver_version"),
    };
  });
}

const KNOWN_HEADER = /^(index|uuid|name|memory\.\w+|pci\.bus_id|compute_cap|driver_version|gpu_\w+)\b/;

function splitRow(line: string): string[] {
  return line.split(",").map((c) => c.trim());
}

/** "memory.total [MiB]" → "memory.total"; aliases → canonical names. */
function canonical(header: string): string {
  const name = header.replace(/\s*\[[^\]]*\]$/, "").trim();
  return ALIASES[name] ?? name;
}

/** "[N/A]", "N/A", "[Not Supported]" and blanks are unknown values. */
function value(cell: string): string | null {
  return cell === "" || /^\[?(N\/A|Not Supported|Unknown Error)\]?$/i.test(cell) ? null : cell;
}

function int(text: string, field: string, where: string, row: number): number {
  return wholeNumber(text, () => `${where}: row ${row + 1}: ${field} "${text}" is not a whole number`);
}

/** "40960 MiB" or "40960" (nounits) → 40960. */
function mib(text: string | null, field: string, where: string, row: number): number | null {
  if (text === null) return null;
  const m = /^(\d+)(\s*MiB)?$/.exec(text);
  if (m === null) {
    throw new Error(`${where}: row ${row + 1}: ${field} "${text}" is not a size in MiB such as "24576 MiB"`);
  }
  return wholeNumber(m[1]!, () => `${where}: row ${row + 1}: ${field} "${text}" is not a size in MiB such as "24576 MiB"`);
}
