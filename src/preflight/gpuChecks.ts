/**
 * GPU checks against nvidia-smi facts (parsed by src/gpu): the stack's device IDs exist, each GPU is big
 * enough, vLLM's GPUs are joined by NVLink when the stack says so, and memory other processes already hold
 * leaves what vLLM asks for. vLLM refuses to start when `gpu_memory_utilization × VRAM` is not free
 * (https://docs.vllm.ai/en/stable/configuration/conserving_memory.html); memory held by the stack's own
 * running containers is the stack's and is given back when they are replaced.
 */
import { bookingLine, gpuBookings, resolveHostGpu } from "../config/gpuBookings";
import type { DetectedGpu, Detection } from "../gpu/types";
import { shellWord } from "../config/shell";
import type { StackNeeds } from "./needs";
import { fail, hostCount, mibText, pass, warn, type CheckResult, type Section } from "./types";

export interface ComputeApp {
  readonly pid: number;
  readonly usedMiB: number | null;
  readonly gpuUuid: string;
}

/** `nvidia-smi --query-compute-apps=pid,used_memory,gpu_uuid --format=csv,noheader,nounits`. */
export function parseComputeApps(section: Section | undefined): ComputeApp[] | null {
  if (section === undefined || section.rc !== 0) return null;
  return section.text
    .split("\n")
    .map((l) => l.split(",").map((c) => c.trim()))
    .filter((c) => c.length === 3 && hostCount(c[0]) !== null)
    .map(([pid, used, uuid]) => ({ pid: hostCount(pid)!, usedMiB: hostCount(used), gpuUuid: uuid ?? "" }));
}

/** `docker top` lines written by the probe: "<container> <pid>". */
export function parseStackPids(section: Section | undefined): Map<number, string> {
  const out = new Map<number, string>();
  for (const line of section?.text.split("\n") ?? []) {
    const m = /^(\S+) +(\d+)\s*$/.exec(line);
    const pid = hostCount(m?.[2]);
    if (m && pid !== null) out.set(pid, m[1] ?? "");
  }
  return out;
}

/** Finds a stack GPU ID (index or UUID) among the host's GPUs. */
export function resolveGpu(id: string, gpus: readonly DetectedGpu[]): DetectedGpu | undefined {
  return resolveHostGpu(id, gpus);
}

function label(g: DetectedGpu): string {
  return `GPU ${g.index}${g.name ? ` (${g.name})` : ""}`;
}

export function checkGpusPresent(needs: StackNeeds, det: Detection): CheckResult {
  const name = "gpu.devices";
  const file = `${needs.stackFile}: ${needs.gpuKey ?? "llmstack:gpu"}`;
  if (det.problem !== null) {
    return fail(
      name,
      det.problem,
      needs.gpuKey === undefined
        ? `fix the driver, or set ${file}.mode to cpu (llmstack configure-gpu cpu --stack ${needs.stack})`
        : `fix the driver on this host, or take the gpu role and ${needs.gpuKey} off it in ${needs.stackFile}`,
    );
  }
  const missing = needs.gpus.filter((n) => resolveGpu(n.id, det.gpus) === undefined);
  const have = det.gpus.map((g) => `${g.index}${g.uuid ? ` = ${g.uuid}` : ""}${g.name ? ` (${g.name})` : ""}`);
  if (missing.length > 0) {
    return fail(
      name,
      `the stack asks for GPU ${missing.map((m) => `${m.id} (${m.services.join(", ")})`).join(", ")}, which this host ` +
        `does not have; it has ${det.gpus.length} GPU(s): ${have.join("; ") || "none"}`,
      needs.gpuKey === undefined
        ? `list host GPUs that exist in ${file}.vllmDevices / workerDevices, or run llmstack configure-gpu auto --stack ${needs.stack}`
        : `list GPUs this host has in ${file}.vllmDevices (and in llmstack:model.placement where it pins them)`,
    );
  }
  return pass(name, `GPU ${needs.gpus.map((n) => n.id).join(", ")} found among the host's ${det.gpus.length}: ${have.join("; ")}`);
}

/**
 * The GPU budget again, with the host's GPUs: indices and UUIDs resolve to one physical GPU (so one GPU
 * under two names is found), and each GPU's memory.total is the host's, not the stack file's.
 */
export function checkGpuBudget(needs: StackNeeds, det: Detection): CheckResult {
  const name = "gpu.budget";
  const { gpus, problems } = gpuBookings(needs.budget.tenants, { memoryMiB: needs.budget.memoryMiB, host: det.gpus });
  if (problems.length > 0) {
    return fail(
      name,
      problems.map((p) => `${p.key}: ${p.message}`).join("; "),
      `${problems.map((p) => p.fix).join("; ")} (${needs.stackFile}: ${needs.gpuKey ?? "llmstack:gpu"})`,
    );
  }
  return pass(name, gpus.map(bookingLine).join("; "));
}

/** The model's weights, split over vLLM's GPUs, must fit in the share of each GPU vLLM takes. */
export function checkGpuSize(needs: StackNeeds, det: Detection): CheckResult {
  const name = "gpu.size";
  const vllm = needs.vllmDevices.map((id) => resolveGpu(id, det.gpus)).filter((g): g is DetectedGpu => g !== undefined);
  const util = needs.memoryUtilization ?? 0;
  if (needs.modelBytes === null) {
    return warn(name, `${needs.model} has no known facts (not in the Hugging Face cache, the Hub or the built-in catalog), so its weights were not compared with GPU memory`, null);
  }
  const gpusPerVllm = Math.max(1, needs.replicaGpus ?? needs.vllmDevices.length);
  const perGpuMiB = needs.modelBytes / gpusPerVllm / 2 ** 20;
  const small = vllm.filter((g) => g.memoryMiB !== null && perGpuMiB > util * g.memoryMiB);
  if (small.length > 0) {
    const g = small[0]!;
    return fail(
      name,
      `${needs.model} needs about ${mibText(perGpuMiB)} of weights per vLLM GPU, more than memoryUtilization ${util} × ` +
        `${mibText(g.memoryMiB ?? 0)} = ${mibText(util * (g.memoryMiB ?? 0))} on ${label(g)}`,
      `use a smaller model, more GPUs (tensorParallelSize) or GPUs with more memory in ${needs.stackFile}; ` +
        "llmstack capacity shows what fits before you change it: " +
        `llmstack capacity --model ${shellWord(needs.model)} --gpu ${g.memoryMiB ?? 0} --gpus ${gpusPerVllm} --util ${util}`,
    );
  }
  return pass(
    name,
    `${needs.model} weights, about ${mibText(perGpuMiB)} per vLLM GPU, fit in ${util} of ` +
      vllm.map((g) => `${label(g)} ${mibText(g.memoryMiB ?? 0)}`).join(", "),
  );
}

export function checkNvlink(needs: StackNeeds, det: Detection, known: boolean): CheckResult | null {
  const name = "gpu.nvlink";
  if (!needs.nvlink || needs.vllmDevices.length < 2) return null;
  const gpus = needs.vllmDevices.map((id) => resolveGpu(id, det.gpus));
  if (gpus.some((g) => g === undefined)) return null; // gpu.devices already failed
  const idx = gpus.map((g) => g!.index);
  if (!known) {
    return warn(name, "neither nvidia-smi topo -m nor nvlink --status answered, so NVLink between vLLM's GPUs is unknown", "check `nvidia-smi topo -m` on the host");
  }
  const linked = new Set(det.nvlinkPairs.map(([a, b]) => `${a}-${b}`));
  const missing: string[] = [];
  idx.forEach((a, i) =>
    idx.slice(i + 1).forEach((b) => {
      const [x, y] = a < b ? [a, b] : [b, a];
      if (!linked.has(`${x}-${y}`)) missing.push(`GPU ${x}–GPU ${y} (${det.links?.[x]?.[y] ?? "no active NVLink"})`);
    }),
  );
  if (missing.length > 0) {
    return fail(
      name,
      `${needs.stackFile} says nvlink: true, but vLLM's GPUs ${idx.join(", ")} are not all joined by NVLink on this host: ` +
        `${missing.join(", ")}`,
      needs.gpuKey === undefined
        ? `set llmstack:gpu.nvlink to false in ${needs.stackFile} (llmstack configure-gpu auto --stack ${needs.stack} ` +
            `writes what the host has), or seat the NVLink bridge`
        : `set ${needs.gpuKey}.nvlink to false in ${needs.stackFile}, or seat the NVLink bridge`,
    );
  }
  return pass(name, `vLLM's GPUs ${idx.join(", ")} are joined by NVLink`);
}

export function checkGpuMemoryInUse(
  needs: StackNeeds,
  det: Detection,
  apps: readonly ComputeApp[] | null,
  stackPids: ReadonlyMap<number, string>,
): CheckResult {
  const name = "gpu.memory-in-use";
  const problems: string[] = [];
  const fixes: string[] = [];
  const cautions: string[] = [];
  const ok: string[] = [];
  const util = needs.memoryUtilization ?? 0;
  for (const need of needs.gpus) {
    const g = resolveGpu(need.id, det.gpus);
    if (g === undefined || g.memoryMiB === null || g.memoryUsedMiB === null) continue;
    const onGpu = (apps ?? []).filter((a) => a.gpuUuid === g.uuid);
    const own = onGpu.filter((a) => stackPids.has(a.pid));
    const ownMiB = own.reduce((s, a) => s + (a.usedMiB ?? 0), 0);
    const otherMiB = Math.max(0, g.memoryUsedMiB - ownMiB);
    const freeMiB = g.memoryMiB - otherMiB;
    const ownText = own.length
      ? `; ${mibText(ownMiB)} held by the stack's own ${[...new Set(own.map((a) => stackPids.get(a.pid)))].join(", ")} counts as the stack's`
      : "";
    // vLLM refuses to start unless memoryUtilization × VRAM is free; that is the hard limit.
    const vllmMiB = need.services.includes("vllm") ? util * g.memoryMiB : 0;
    const workerMiB = (need.fraction - (need.services.includes("vllm") ? util : 0)) * g.memoryMiB;
    if (vllmMiB > freeMiB) {
      const others = onGpu.filter((a) => !stackPids.has(a.pid));
      const listed = others.reduce((s, a) => s + (a.usedMiB ?? 0), 0);
      const who = others.length
        ? `by ${others.map((a) => `pid ${a.pid} (${mibText(a.usedMiB ?? 0)})`).join(", ")}` +
          (otherMiB - listed > 256 ? ` and ${mibText(otherMiB - listed)} nvidia-smi cannot attribute` : "")
        : "by processes nvidia-smi does not list (another container's or a display's)";
      problems.push(
        `${label(g)}: ${mibText(otherMiB)} of ${mibText(g.memoryMiB)} already used ${who}; vLLM asks memoryUtilization ` +
          `${util} = ${mibText(vllmMiB)} but only ${mibText(freeMiB)} is free${ownText}`,
      );
      const maxUtil = Math.floor((freeMiB / g.memoryMiB) * 100) / 100;
      fixes.push(maxUtil > 0 ? `stop what holds ${label(g)} or lower memoryUtilization to ${maxUtil} or less` : `stop what holds ${label(g)}`);
    } else if (workerMiB > freeMiB - vllmMiB + 0.5) {
      cautions.push(
        `${label(g)}: ${mibText(freeMiB)} free; after vLLM's ${mibText(vllmMiB)} the multimodal worker's ` +
          `${mibText(workerMiB)} (workerMemoryFraction) does not fit in the ${mibText(freeMiB - vllmMiB)} left${ownText}`,
      );
    } else {
      ok.push(`${label(g)} ${mibText(freeMiB)} free for ${mibText(vllmMiB + workerMiB)} asked${ownText}`);
    }
  }
  if (problems.length > 0) {
    return fail(name, [...problems, ...cautions].join("; "), `${fixes.join("; ")} (${needs.stackFile}: ${needs.gpuKey ?? "llmstack:gpu"})`);
  }
  if (cautions.length > 0) {
    return warn(name, [...cautions, ...ok].join("; "), `lower memoryUtilization or workerMemoryFraction in ${needs.stackFile}, or give the worker its own GPU`);
  }
  return pass(name, ok.join("; "));
}
