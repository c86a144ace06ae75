/**
 * `npm run bench`: how fast the program's own work is: rendering every checked-in stack offline
 * (stack files → config → plan → JSON), estimating capacity, and parsing nvidia-smi captures.
 * Prints the median and 90th percentile of repeated runs; nothing here asserts a time.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { estimateCapacity, lookupModel } from "../src/capacity";
import { renderStack } from "../src/cli/renderStack";
import { readProjectConfig } from "../src/config/stackFile";
import { vllmRelease } from "../src/facts/vllmRelease";
import { detectFromCaptures } from "../src/gpu/detect";
import { planJson } from "../src/plan/render";

const ROOT = join(__dirname, "..");
const STACKS = ["development", "staging", "production"];

function measure(name: string, runs: number, fn: () => void): void {
  for (let i = 0; i < Math.min(20, runs); i++) fn(); // warm-up
  const times: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t0 = performance.now();
    fn();
    times.push(performance.now() - t0);
  }
  times.sort((a, b) => a - b);
  const at = (q: number): number => times[Math.min(times.length - 1, Math.floor(q * times.length))]!;
  console.log(
    `${name.padEnd(44)} runs ${String(runs).padStart(5)}  median ${at(0.5).toFixed(3).padStart(8)} ms  p90 ${at(0.9).toFixed(3).padStart(8)} ms`,
  );
}

const fixtures = join(ROOT, "test", "fixtures", "nvidia-smi");
const topo8 = readFileSync(join(fixtures, "topo-8xa100-p4d-nv12.txt"), "utf8");
const topo2 = readFileSync(join(fixtures, "topo-2x3090-nvlink-nv4.txt"), "utf8");
const nvlink2 = readFileSync(join(fixtures, "nvlink-2x3090-club3090.txt"), "utf8");

console.log(`node ${process.version}, ${new Date().toISOString()}`);
measure("render all 3 stacks (plan --json, offline)", 200, () => {
  for (const s of STACKS) JSON.stringify(planJson(renderStack(ROOT, s)));
});
for (const s of STACKS) measure(`render ${s}`, 200, () => void JSON.stringify(planJson(renderStack(ROOT, s))));
const qwen = lookupModel("Qwen/Qwen2.5-7B-Instruct");
// The release of the project's default vLLM image, as the stacks that do not override it run.
const vllmVersion = vllmRelease((readProjectConfig(ROOT).images as { vllm: string }).vllm) ?? "";
measure("capacity estimate (Qwen2.5-7B, 2 × 3090, TP 2)", 5000, () => {
  estimateCapacity({
    model: qwen,
    gpuMemoryMiB: 24576,
    gpuBandwidthGBs: 936,
    tensorParallelSize: 2,
    pipelineParallelSize: 1,
    gpuMemoryUtilization: 0.9,
    maxModelLen: 8192,
    vllmVersion,
  });
});
measure("detect: topo -m of 8 × A100 (p4d)", 2000, () => void detectFromCaptures({ topo: topo8 }));
measure("detect: topo -m + nvlink of 2 × 3090", 2000, () => void detectFromCaptures({ topo: topo2, nvlink: nvlink2 }));
