/**
 * Parser for plain `nvidia-smi` (the default table), for users who paste that instead of the CSV query.
 * It gives index, name, bus ID, memory and the driver version of the header; UUIDs and compute capability
 * are not in the table (null).
 */
import { throwIfFailure, wholeNumber } from "./errors";
import type { QueryGpu } from "./types";

/** True when the text is nvidia-smi's default table rather than CSV. */
export function isSmiTable(text: string): boolean {
  return /^\|\s*NVIDIA-SMI \S+/m.test(text);
}

// "|   0  NVIDIA GeForce RTX 3090        Off |   00000000:17:00.0 Off |                  N/A |"
const GPU_LINE = /^\|\s+(\d+)\s+(.+?)\s+(On|Off|N\/A)\s+\|\s+([0-9A-Fa-f]{4,8}:[0-9A-Fa-f]{2}:[0-9A-Fa-f]{2}\.\d)\s/;
// "| 33%   28C    P8            188W /  350W |   23166MiB /  24576MiB |      0%      Default |"
const MEMORY = /\|\s+(\d+)MiB\s+\/\s+(\d+)MiB\s+\|/;

// "Driver Version: 555.42.02" up to driver 5xx; "KMD Version: 610.43.02" from driver 610 on.
const DRIVER = /\b(?:Driver|KMD) Version:\s*(\d+(?:\.\d+)+)/;

export function parseSmiTable(text: string, where: string): QueryGpu[] {
  throwIfFailure(text, where);
  const lines = text.split(/\r?\n/);
  const driverVersion = DRIVER.exec(text)?.[1] ?? null;
  const gpus: QueryGpu[] = [];
  lines.forEach((line, i) => {
    const m = GPU_LINE.exec(line);
    if (m === null) return;
    const mem = MEMORY.exec(lines[i + 1] ?? "");
    if (mem === null) {
      throw new Error(
        `${where}: line ${i + 2} should hold GPU ${m[1]}'s memory ("1MiB / 40960MiB") but reads ` +
          `"${(lines[i + 1] ?? "").trim()}"; capture the whole nvidia-smi output`,
      );
    }
    const num = (digits: string | undefined, what: string): number =>
      wholeNumber(digits ?? "", () => `${where}: line ${i + 1}: ${what} "${digits}" is not a whole number; capture the whole nvidia-smi output`);
    gpus.push({
      index: num(m[1], "GPU index"),
      uuid: null,
      name: (m[2] ?? "").trim(),
      memoryMiB: num(mem[2], "memory total"),
      memoryUsedMiB: num(mem[1], "memory used"),
      busId: m[4] ?? null,
      computeCapability: null,
      driverVersion,
    });
  });
  if (gpus.length === 0) {
    throw new Error(`${where}: an nvidia-smi table without GPU rows; capture the whole nvidia-smi output`);
  }
  return gpus;
}
