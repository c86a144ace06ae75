/**
 * Reading nvidia-smi captures from files, so a user can run nvidia-smi on the GPU box, copy the outputs, and
 * detect or configure from a laptop. A file that does not exist is an error naming it, not a missing fact.
 */
import { existsSync } from "node:fs";
import { readInputFile } from "../config/readFile";
import { shellWord } from "../config/shell";
import { join, resolve } from "node:path";
import type { Captures } from "./detect";
import { CaptureError, type CaptureKind } from "./errors";
import { QUERY_FIELDS } from "./query";

export interface CaptureFiles {
  readonly topo?: string;
  readonly query?: string;
  readonly nvlink?: string;
}

export const CAPTURE_KINDS: readonly CaptureKind[] = ["topo", "query", "nvlink"];

/** The names `configure-gpu --from-dir DIR` looks for. */
export const CAPTURE_NAMES: Readonly<Record<CaptureKind, string>> = {
  topo: "topo.txt",
  query: "query.csv",
  nvlink: "nvlink.txt",
};

/** nvidia-smi's arguments for the capture of `kind`; the query with its header, so its columns are known. */
export function captureArgs(kind: CaptureKind, fields: readonly string[] = QUERY_FIELDS): string[] {
  switch (kind) {
    case "topo":
      return ["topo", "-m"];
    case "query":
      return [`--query-gpu=${fields.join(",")}`, "--format=csv"];
    case "nvlink":
      return ["nvlink", "--status"];
  }
}

/** The shell command, run on the GPU host, that writes the capture of `kind` to `path`. */
export function captureCommand(kind: CaptureKind, path: string, fields?: readonly string[]): string {
  return `nvidia-smi ${captureArgs(kind, fields).join(" ")} > ${shellWord(path)}`;
}

export function readCaptureFiles(cwd: string, files: CaptureFiles): Captures {
  const read = (kind: CaptureKind): string | undefined => {
    const path = files[kind];
    if (path === undefined) return undefined;
    try {
      return readInputFile(resolve(cwd, path), { shown: path, what: "an nvidia-smi capture" });
    } catch (err) {
      throw new CaptureError((err as Error).message, [kind], true);
    }
  };
  return {
    topo: read("topo"),
    query: read("query"),
    nvlink: read("nvlink"),
    names: { topo: files.topo, query: files.query, nvlink: files.nvlink },
  };
}

/** Captures in DIR named topo.txt, query.csv, nvlink.txt; those missing are left out, at least one must exist. */
export function captureFilesInDir(cwd: string, dir: string): CaptureFiles {
  const full = resolve(cwd, dir);
  const pick = (kind: CaptureKind): string | undefined =>
    existsSync(join(full, CAPTURE_NAMES[kind])) ? join(dir, CAPTURE_NAMES[kind]) : undefined;
  const files = { topo: pick("topo"), query: pick("query"), nvlink: pick("nvlink") };
  if (files.topo === undefined && files.query === undefined && files.nvlink === undefined) {
    throw new CaptureError(
      `--from-dir ${dir}: none of ${Object.values(CAPTURE_NAMES).join(", ")} is there; capture them on the GPU host`,
      CAPTURE_KINDS,
    );
  }
  return files;
}
