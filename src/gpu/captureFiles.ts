/**
 * Reading nvidia-smi captures from files, so a user can run nvidia-smi on the GPU box, copy the outputs, and
 * detect or configure from a laptop. A file that does not exist is an error naming it, not a missing fact.
 */
import { existsSync } from "node:fs";
import { readInputFile } from "../config/readFile";
import { join, resolve } from "node:path";
import type { Captures } from "./detect";
import { QUERY_FIELDS } from "./query";

export interface CaptureFiles {
  readonly topo?: string;
  readonly query?: string;
  readonly nvlink?: string;
}

/** The names `configure-gpu --from-dir DIR` looks for, and the command that makes each. */
export const CAPTURE_NAMES = {
  topo: { file: "topo.txt", command: "nvidia-smi topo -m > topo.txt" },
  query: {
    file: "query.csv",
    command: `nvidia-smi --query-gpu=${QUERY_FIELDS.join(",")} --format=csv > query.csv`,
  },
  nvlink: { file: "nvlink.txt", command: "nvidia-smi nvlink --status > nvlink.txt" },
} as const;

export function readCaptureFiles(cwd: string, files: CaptureFiles): Captures {
  const read = (path: string | undefined): string | undefined => {
    if (path === undefined) return undefined;
    return readInputFile(resolve(cwd, path), { shown: path, what: "an nvidia-smi capture" });
  };
  return {
    topo: read(files.topo),
    query: read(files.query),
    nvlink: read(files.nvlink),
    names: { topo: files.topo, query: files.query, nvlink: files.nvlink },
  };
}

/** Captures in DIR named topo.txt, query.csv, nvlink.txt; those missing are left out, at least one must exist. */
export function captureFilesInDir(cwd: string, dir: string): CaptureFiles {
  const full = resolve(cwd, dir);
  const pick = (name: string): string | undefined => (existsSync(join(full, name)) ? join(dir, name) : undefined);
  const files = {
    topo: pick(CAPTURE_NAMES.topo.file),
    query: pick(CAPTURE_NAMES.query.file),
    nvlink: pick(CAPTURE_NAMES.nvlink.file),
  };
  if (files.topo === undefined && files.query === undefined && files.nvlink === undefined) {
    throw new Error(
      `--from-dir ${dir}: none of topo.txt, query.csv, nvlink.txt is there; on the GPU host run ` +
        Object.values(CAPTURE_NAMES)
          .map((c) => `\`${c.command}\``)
          .join(", "),
    );
  }
  return files;
}
