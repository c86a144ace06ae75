/**
 * `llmstack gpu detect [--topo F] [--query F] [--nvlink F] [--ssh HOST] [--json]`: the host's GPUs, NVLink
 * pairs and the layout `configure-gpu auto` would write. With capture files it reads only them; without,
 * it runs nvidia-smi here or on HOST over ssh.
 */
import { parseArgs } from "node:util";
import { readCaptureFiles } from "../gpu/captureFiles";
import { detectFromCaptures } from "../gpu/detect";
import { chooseLayout, type GpuLayout } from "../gpu/layout";
import { detectByRunning } from "../gpu/run";
import type { Detection } from "../gpu/types";
import { ArgumentError, pathArg, sshArg } from "./args";
import { type CliIo } from "./io";

export interface DetectionJson {
  readonly gpuCount: number;
  readonly gpus: readonly {
    index: number;
    uuid: string | null;
    name: string | null;
    memoryMiB: number | null;
    busId: string | null;
    computeCapability: string | null;
  }[];
  readonly nvlinkPairs: readonly (readonly [number, number])[];
  readonly mode: GpuLayout["mode"];
  readonly tensorParallelGroup: readonly number[];
  readonly workerGpu: number | null;
  /** Why no GPU is usable, with the fix; null when nvidia-smi worked. */
  readonly problem: string | null;
  readonly notes: readonly string[];
}

export function detectionJson(d: Detection): DetectionJson {
  const layout = d.problem === null ? chooseLayout(d, "auto") : chooseLayout(d, "cpu");
  return {
    gpuCount: d.gpus.length,
    gpus: d.gpus.map((g) => ({
      index: g.index,
      uuid: g.uuid,
      name: g.name,
      memoryMiB: g.memoryMiB,
      busId: g.busId,
      computeCapability: g.computeCapability,
    })),
    nvlinkPairs: [...d.nvlinkPairs].sort((a, b) => a[0] - b[0] || a[1] - b[1]),
    mode: layout.mode,
    tensorParallelGroup: layout.tensorParallelGroup,
    workerGpu: layout.workerGpu,
    problem: d.problem,
    notes: [...d.notes, ...(d.problem === null ? layout.reasons : [])],
  };
}

export function detectionTable(j: DetectionJson): string {
  const show = (v: string | number | null): string => (v === null ? "-" : String(v));
  const rows = [
    ["GPU", "NAME", "MEMORY MiB", "BUS ID", "CC", "UUID"],
    ...j.gpus.map((g) => [g.index, g.name, g.memoryMiB, g.busId, g.computeCapability, g.uuid].map(show)),
  ];
  const widths = (rows[0] ?? []).map((_, c) => Math.max(...rows.map((r) => (r[c] ?? "").length)));
  const table = rows.map((r) => r.map((cell, c) => cell.padEnd(widths[c] ?? 0)).join("  ").trimEnd());
  const lines = [
    ...(j.gpuCount > 0 ? table : []),
    `GPUs: ${j.gpuCount}`,
    `NVLink pairs: ${j.nvlinkPairs.length === 0 ? "none" : j.nvlinkPairs.map(([a, b]) => `${a}-${b}`).join(", ")}`,
    `mode: ${j.mode}`,
    `vLLM tensor-parallel group: ${j.tensorParallelGroup.length === 0 ? "none (CPU)" : j.tensorParallelGroup.join(", ")}`,
    `multimodal worker GPU: ${show(j.workerGpu)}`,
    ...j.notes.map((n) => `note: ${n}`),
  ];
  return `${lines.join("\n")}\n`;
}

export async function gpuCommand(argv: string[], io: CliIo): Promise<number> {
  const [sub, ...rest] = argv;
  if (sub !== "detect") {
    throw new ArgumentError(
      `gpu: unknown subcommand ${JSON.stringify(sub ?? "")}; use: llmstack gpu detect [--topo F] [--query F] [--nvlink F] [--ssh HOST] [--json]`,
    );
  }
  const { values } = parseArgs({
    args: rest,
    options: {
      topo: { type: "string" },
      query: { type: "string" },
      nvlink: { type: "string" },
      ssh: { type: "string" },
      json: { type: "boolean", default: false },
    },
    strict: true,
  });
  const fromFiles = values.topo !== undefined || values.query !== undefined || values.nvlink !== undefined;
  if (fromFiles && values.ssh !== undefined) {
    throw new ArgumentError("gpu detect: --ssh runs nvidia-smi on HOST, capture files are read here; give one or the other");
  }
  for (const flag of ["topo", "query", "nvlink"] as const) pathArg(flag, values[flag], io.cwd, "file");
  sshArg(values.ssh);
  const detection = fromFiles
    ? detectFromCaptures(readCaptureFiles(io.cwd, values))
    : await detectByRunning(io.exec, { ssh: values.ssh });
  const json = detectionJson(detection);
  io.stdout(values.json ? `${JSON.stringify(json, null, 2)}\n` : detectionTable(json));
  if (detection.problem !== null) {
    io.stderr(`llmstack gpu detect: ${detection.problem}\n`);
    return 1;
  }
  return 0;
}
