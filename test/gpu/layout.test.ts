/** The layout decision: exact cases, the section written to the stack file, and properties over generated hosts. */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { gpuSchema } from "../../src/config/schema";
import { chooseTensorParallelGroup } from "../../src/gpu/groups";
import { chooseLayout, decideLayout, type RequestedMode } from "../../src/gpu/layout";
import type { Detection, DetectedGpu, LinkType } from "../../src/gpu/types";

function gpu(index: number, over: Partial<DetectedGpu> = {}): DetectedGpu {
  return {
    index,
    uuid: `GPU-0000000${index}-aaaa-bbbb-cccc-dddddddddddd`,
    name: "NVIDIA GeForce RTX 3090",
    memoryMiB: 24576,
    memoryUsedMiB: 0,
    busId: null,
    computeCapability: "8.6",
    driverVersion: null,
    numaNode: 0,
    cpuAffinity: null,
    activeNvlinks: null,
    ...over,
  };
}

function host(links: LinkType[][], gpus?: DetectedGpu[]): Detection {
  const nvlinkPairs: [number, number][] = [];
  links.forEach((r, a) => r.forEach((l, b) => a < b && l === "NV" && nvlinkPairs.push([a, b])));
  return { gpus: gpus ?? links.map((_, i) => gpu(i)), links, nvlinkPairs, problem: null, notes: [] };
}

const uuid = (i: number): string => `GPU-0000000${i}-aaaa-bbbb-cccc-dddddddddddd`;

describe("decideLayout", () => {
  const twoNv = host([["X", "NV"], ["NV", "X"]]);

  it("auto on 2 bridged GeForce cards: multi with NVLink, worker shares GPU 1, pinned by UUID", () => {
    expect(decideLayout(twoNv, "auto", { environment: "production" })).toEqual({
      mode: "multi",
      vllmDevices: [uuid(0), uuid(1)],
      workerDevices: [uuid(1)],
      nvlink: true,
      cardClass: "consumer",
      tensorParallelSize: 2,
      memoryUtilization: 0.9,
      // Beside vLLM's 0.9 and two CUDA contexts GPU 1 leaves the worker at most 0.05 (docs/gpu-budget.md).
      workerMemoryFraction: 0.04,
      // The capacity check's facts: the cards' shared name and smallest memory.
      gpuName: "NVIDIA GeForce RTX 3090",
      memoryMiB: 24576,
    });
  });

  it("gives a worker that shares vLLM's GPU a share that fits beside vLLM, and keeps the schema's 0.1 elsewhere", () => {
    for (const environment of ["production", "staging", "development"]) {
      const section = gpuSchema.parse(decideLayout(twoNv, "auto", { environment }));
      expect(section.mode !== "cpu" ? section.workerMemoryFraction : null).toBe(
        { production: 0.04, staging: 0.04, development: 0.1 }[environment],
      );
    }
    const single = decideLayout(host([["X", "PHB"], ["PHB", "X"]]), "single", { environment: "production" });
    expect(single).not.toHaveProperty("workerMemoryFraction");
  });

  it("keeps the stack file's gpuName and memoryMiB when the captures give none (no query table)", () => {
    const blind = host([["X", "NV"], ["NV", "X"]], [gpu(0, { name: null, memoryMiB: null }), gpu(1, { name: null, memoryMiB: null })]);
    const previous = { gpuName: "NVIDIA GeForce RTX 3090", memoryMiB: 24576, workerMemoryFraction: 0.04 };
    expect(decideLayout(blind, "auto", { environment: "production", previous })).toMatchObject({
      gpuName: "NVIDIA GeForce RTX 3090",
      memoryMiB: 24576,
    });
    expect(decideLayout(blind, "auto", { environment: "production" })).not.toHaveProperty("memoryMiB");
  });

  it("keeps the per-environment choices of the previous section", () => {
    const previous = { mode: "cpu", kvCacheSpaceGiB: 8 };
    expect(decideLayout(twoNv, "single", { environment: "staging", previous })).toMatchObject({ memoryUtilization: 0.85 });
    const gpuPrev = { memoryUtilization: 0.7, workerMemoryFraction: 0.2, pipelineParallelSize: 2 };
    expect(decideLayout(twoNv, "multi", { environment: "production", previous: gpuPrev })).toEqual({
      mode: "multi",
      vllmDevices: [uuid(0), uuid(1)],
      workerDevices: [uuid(1)],
      nvlink: true,
      cardClass: "consumer",
      tensorParallelSize: 1,
      pipelineParallelSize: 2,
      memoryUtilization: 0.7,
      workerMemoryFraction: 0.2,
      gpuName: "NVIDIA GeForce RTX 3090",
      memoryMiB: 24576,
    });
    expect(decideLayout(twoNv, "cpu", { previous })).toEqual({ mode: "cpu", kvCacheSpaceGiB: 8 });
  });

  it("single on a 2-GPU host: vLLM on the bigger GPU, worker on the other; indices without UUIDs", () => {
    const d = host([["X", "PHB"], ["PHB", "X"]], [gpu(0, { uuid: null, memoryMiB: 12288 }), gpu(1, { uuid: null })]);
    const layout = chooseLayout(d, "single");
    expect(layout.reasons).toContain("GPUs pinned by index (nvidia-smi gave no UUIDs)");
    expect(decideLayout(d, "single")).toEqual({
      mode: "single",
      vllmDevices: ["1"],
      workerDevices: ["0"],
      nvlink: false,
      cardClass: "consumer",
      tensorParallelSize: 1,
      memoryUtilization: 0.8,
      gpuName: "NVIDIA GeForce RTX 3090",
      memoryMiB: 24576,
    });
  });

  it("5 datacenter PCIe cards on two switches: four of them (largest power of two) on the closest paths, NCCL defaults", () => {
    const l: LinkType[][] = [
      ["X", "PIX", "SYS", "SYS", "SYS"],
      ["PIX", "X", "SYS", "SYS", "SYS"],
      ["SYS", "SYS", "X", "PIX", "PIX"],
      ["SYS", "SYS", "PIX", "X", "PIX"],
      ["SYS", "SYS", "PIX", "PIX", "X"],
    ];
    const d = host(l, l.map((_, i) => gpu(i, { name: "NVIDIA L40S", numaNode: i < 2 ? 0 : 1 })));
    const layout = chooseLayout(d, "auto");
    // 4 of 5: the set with the fewest SYS hops keeps GPUs 2-4 together and adds GPU 0.
    expect(layout.tensorParallelGroup).toEqual([0, 2, 3, 4]);
    expect(layout.workerGpu).toBe(1);
    expect(layout.mode).toBe("multi-pcie");
    expect(layout.nccl).toEqual({ env: {}, disableCustomAllReduce: false, reason: "datacenter cards over PCIe do peer-to-peer: NCCL defaults kept" });
  });

  it("NVLink group prefers one NUMA node", () => {
    // GPUs 1-2 (NUMA 0/1) and 2-3 (NUMA 1/1) are both bridged: 2-3 stays on one node.
    const l: LinkType[][] = [
      ["X", "SYS", "SYS", "SYS"],
      ["SYS", "X", "NV", "SYS"],
      ["SYS", "NV", "X", "NV"],
      ["SYS", "SYS", "NV", "X"],
    ];
    const d = host(l, [gpu(0, { numaNode: 0 }), gpu(1, { numaNode: 0 }), gpu(2, { numaNode: 1 }), gpu(3, { numaNode: 1 })]);
    expect(chooseLayout(d, "auto").tensorParallelGroup).toEqual([2, 3]);
  });

  it.each<[RequestedMode, Detection, string]>([
    ["multi", host([["X"]]), "mode multi needs at least two GPUs, but the host has one (GPU 0 NVIDIA GeForce RTX 3090); use single (or auto)"],
    ["single", { gpus: [], links: null, nvlinkPairs: [], problem: null, notes: [] }, "mode single needs a GPU, but the host has none; use cpu"],
    ["multi", { gpus: [], links: null, nvlinkPairs: [], problem: "nvidia-smi: not installed", notes: [] }, "mode multi needs a GPU, but nvidia-smi: not installed"],
    ["auto", { gpus: [], links: null, nvlinkPairs: [], problem: "nvidia-smi: not installed", notes: [] }, "nvidia-smi: not installed (auto mode does not fall back to cpu on its own: fix the driver, or choose cpu explicitly)"],
  ])("%s refused: %s", (mode, d, message) => {
    expect(() => decideLayout(d, mode)).toThrow(message);
  });

  it("cpu always works, even with a broken driver", () => {
    const d: Detection = { gpus: [], links: null, nvlinkPairs: [], problem: "broken", notes: [] };
    expect(decideLayout(d, "cpu")).toEqual({ mode: "cpu" });
  });

  it("a pipeline size that does not divide the group is refused", () => {
    expect(() => decideLayout(twoNv, "auto", { previous: { pipelineParallelSize: 3, memoryUtilization: 0.8 } })).toThrow(
      "pipelineParallelSize 3 in the stack file does not divide the 2 GPU(s) chosen for vLLM; set pipelineParallelSize to 1 or to a divisor of 2",
    );
  });
});

/** Random hosts: 0-10 GPUs, a symmetric link matrix, some NVLink, NUMA nodes, UUIDs sometimes. */
const hosts = fc.integer({ min: 0, max: 10 }).chain((n) =>
  fc.record({
    n: fc.constant(n),
    cells: fc.array(fc.constantFrom<LinkType>("NV", "PIX", "PXB", "PHB", "NODE", "SYS"), { minLength: (n * (n - 1)) / 2, maxLength: (n * (n - 1)) / 2 }),
    numa: fc.array(fc.option(fc.integer({ min: 0, max: 1 })), { minLength: n, maxLength: n }),
    uuids: fc.boolean(),
    consumer: fc.boolean(),
  }),
);

function build(h: { n: number; cells: LinkType[]; numa: (number | null)[]; uuids: boolean; consumer: boolean }): Detection {
  const links: LinkType[][] = Array.from({ length: h.n }, (_, i) => Array.from({ length: h.n }, (_, j) => (i === j ? "X" : "SYS")));
  let k = 0;
  for (let i = 0; i < h.n; i++) {
    for (let j = i + 1; j < h.n; j++) {
      const c = h.cells[k++] ?? "SYS";
      (links[i] as LinkType[])[j] = c;
      (links[j] as LinkType[])[i] = c;
    }
  }
  const gpus = links.map((_, i) =>
    gpu(i, { uuid: h.uuids ? uuid(i) : null, numaNode: h.numa[i] ?? null, name: h.consumer ? "NVIDIA GeForce RTX 4090" : "NVIDIA H100 PCIe" }),
  );
  return host(links, gpus);
}

describe("properties over generated topologies", () => {
  it("no GPU assigned twice, power-of-two group within the GPUs present, NVLinked when multi-nvlink", () => {
    fc.assert(
      fc.property(hosts, fc.constantFrom<RequestedMode>("auto", "multi", "single", "cpu"), (h, mode) => {
        const d = build(h);
        let layout;
        try {
          layout = chooseLayout(d, mode);
        } catch {
          // Only impossible requests may fail.
          expect(mode === "multi" ? d.gpus.length < 2 : mode === "single" && d.gpus.length === 0).toBe(true);
          return;
        }
        const group = layout.tensorParallelGroup;
        expect(new Set(group).size).toBe(group.length);
        expect(group.length).toBeLessThanOrEqual(d.gpus.length);
        expect(group.every((g) => g >= 0 && g < d.gpus.length)).toBe(true);
        if (layout.mode === "cpu") {
          expect(group).toEqual([]);
          return;
        }
        expect(Number.isInteger(Math.log2(group.length))).toBe(true);
        // Without NVLink the group is the largest power of two the host holds.
        if (layout.mode === "multi-pcie") expect(group.length * 2).toBeGreaterThan(d.gpus.length);
        if (layout.mode === "multi-nvlink") {
          for (const a of group) for (const b of group) if (a !== b) expect(d.links?.[a]?.[b]).toBe("NV");
        }
        // The worker never takes a GPU of the group while one outside it is free.
        const free = d.gpus.filter((g) => !group.includes(g.index));
        expect(group.includes(layout.workerGpu as number)).toBe(free.length === 0);
        expect(new Set(layout.vllmDevices).size).toBe(layout.vllmDevices.length);
        // What configure-gpu writes always passes the schema.
        const parsed = gpuSchema.safeParse(decideLayout(d, mode, { environment: "production" }));
        expect(parsed.success).toBe(true);
      }),
      { numRuns: 400 },
    );
  });

  it("an NVLink clique of two or more always wins over PCIe", () => {
    fc.assert(
      fc.property(hosts, (h) => {
        const d = build(h);
        const choice = chooseTensorParallelGroup({ gpuCount: h.n, links: d.links, nvlinkPairs: d.nvlinkPairs, numaNodes: h.numa });
        expect(choice.nvlink).toBe(d.nvlinkPairs.length > 0);
      }),
      { numRuns: 300 },
    );
  });
});
