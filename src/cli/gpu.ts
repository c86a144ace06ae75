/**
 * `llmstack gpu detect [--topo F] [--query F] [--nvlink F] [--ssh HOST] [--json]`: the host's GPUs, NVLink
 * pairs and the layout `configure-gpu auto` would write. With capture files it reads only them; without,
 * it runs nvidia-smi here or on HOST over ssh.
 */
import { readCaptureFiles } from "../gpu/captureFiles";
import { detectFromCaptures } from "../gpu/detect";
import { chooseLayout, type GpuLayout } from "../gpu/layout";
import { detectByRunning } from "../gpu/run";
import type { Detection } from "../gpu/types";
import { tableLines } from "../table";
import { ArgumentError, pathArg, sshArg } from "./args";
import { commandLine, defineCommand, parseCommand } from "./command";
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
  /** Why no GPU is usable and what to do; null when nvidia-smi worked. */
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
  const rows = j.gpus.map((g) => [g.index, g.name, g.memoryMiB, g.busId, g.computeCapability, g.uuid].map(show));
  const lines = [
    ...(j.gpuCount > 0 ? tableLines(rows, ["GPU", "NAME", "MEMORY MiB", "BUS ID", "CC", "UUID"]) : []),
    `GPUs: ${j.gpuCount}`,
    `NVLink pairs: ${j.nvlinkPairs.length === 0 ? "none" : j.nvlinkPairs.map(([a, b]) => `${a}-${b}`).join(", ")}`,
    `mode: ${j.mode}`,
    `vLLM tensor-parallel group: ${j.tensorParallelGroup.length === 0 ? "none (CPU)" : j.tensorParallelGroup.join(", ")}`,
    `multimodal worker GPU: ${show(j.workerGpu)}`,
    ...j.notes.map((n) => `note: ${n}`),
  ];
  return `${lines.join("\n")}\n`;
}

export const gpuCli = () =>
  defineCommand("gpu", {
    summary: "show the host's GPUs, NVLink pairs and the layout configure-gpu would write",
    usage: "detect [--topo <file>] [--query <file>] [--nvlink <file>] [--ssh <host>] [--json]",
    details:
      "With capture files it reads only them; without, it runs nvidia-smi here or on <host> over ssh. " +
      "Exit status: 0 when a GPU layout was found, 1 when nvidia-smi failed, 2 for a malformed command line.",
    examples: ["llmstack gpu detect", "llmstack gpu detect --ssh admin@gpu-box", "llmstack gpu detect --topo topo.txt --query query.csv --json"],
  })
    .argument("[action]", 'what to do: "detect" (the only action)')
    .option("--topo <file>", "a saved `nvidia-smi topo -m`")
    .option("--query <file>", "a saved `nvidia-smi --query-gpu=... --format=csv`")
    .option("--nvlink <file>", "a saved `nvidia-smi nvlink --status`")
    .option("--ssh <host>", "run nvidia-smi on <host> over ssh")
    .option("--json", "print the detection as JSON");

interface GpuOptions {
  topo?: string;
  query?: string;
  nvlink?: string;
  ssh?: string;
  json?: boolean;
}

export async function gpuCommand(argv: string[], io: CliIo): Promise<number> {
  const { opts: values, args } = parseCommand<GpuOptions>(gpuCli, argv, io);
  const sub = args[0];
  if (sub !== "detect") {
    throw new ArgumentError(`unknown action ${JSON.stringify(sub ?? "")}; the only one is "detect"`, "llmstack gpu detect");
  }
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
    io.stderr(`llmstack gpu detect: ${detection.problem}; run "${commandLine("llmstack", "configure-gpu", "cpu", "--stack", "<name>")}"\n`);
    return 1;
  }
  return 0;
}
