/**
 * Every real nvidia-smi capture in test/fixtures/nvidia-smi/ against its recorded ground truth (the sibling
 * .json, which also names the source). A capture without a row in EXPECTED fails, so none is skipped.
 */
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { detectFromCaptures } from "../../src/gpu/detect";
import { NvidiaSmiError } from "../../src/gpu/errors";
import { chooseLayout } from "../../src/gpu/layout";
import { parseNvlinkStatus } from "../../src/gpu/nvlinkStatus";
import { parseQueryCsv } from "../../src/gpu/query";
import { parseSmiTable } from "../../src/gpu/smiTable";
import { parseTopo } from "../../src/gpu/topo";

const DIR = join(__dirname, "../fixtures/nvidia-smi");
const captures = readdirSync(DIR).filter((f) => /\.(txt|csv)$/.test(f));

/** Mode, vLLM group and worker GPU each topology implies (the ground truth's "Expected mode" note). */
const EXPECTED: Record<string, { mode: string; group: number[]; worker: number | null } | "checked-below"> = {
  "topo-1x5090-single-nic.txt": { mode: "single", group: [0], worker: 0 },
  "topo-2x3090-nvlink-nv4.txt": { mode: "multi-nvlink", group: [0, 1], worker: 1 },
  "topo-2x3090-pcie-phb.txt": { mode: "multi-pcie", group: [0, 1], worker: 1 },
  "topo-3xa6000-partial-nvlink.txt": { mode: "multi-nvlink", group: [0, 1], worker: 2 },
  "topo-8x4090-sys-nic.txt": { mode: "multi-pcie", group: [0, 1, 2, 3, 4, 5, 6, 7], worker: 7 },
  "topo-8xa100-p4d-nv12.txt": { mode: "multi-nvlink", group: [0, 1, 2, 3, 4, 5, 6, 7], worker: 7 },
  "nvlink-2x3090-club3090.txt": { mode: "multi-nvlink", group: [0, 1], worker: 1 },
  "nvlink-2xa100-pcie-none.txt": { mode: "multi-pcie", group: [0, 1], worker: 1 },
  "nvlink-3xa6000-one-inactive.txt": "checked-below",
  "query-2x3090-noheader.csv": { mode: "multi-pcie", group: [0, 1], worker: 1 },
  "query-2xa100-pcie-units.csv": { mode: "multi-pcie", group: [0, 1], worker: 1 },
  "query-compute-cap-invalid-field.txt": "checked-below",
  "smi-2x3090-driver610-kmd.txt": { mode: "multi-pcie", group: [0, 1], worker: 1 },
  "smi-2xa100-pcie-40gb.txt": { mode: "multi-pcie", group: [0, 1], worker: 1 },
  "smi-error-no-driver.txt": { mode: "cpu", group: [], worker: null },
};

function load(file: string): { text: string; truth: Record<string, any> } {
  const text = readFileSync(join(DIR, file), "utf8");
  const truth = JSON.parse(readFileSync(join(DIR, file.replace(/\.(txt|csv)$/, ".json")), "utf8"));
  return { text, truth };
}

describe("every capture has a ground truth with its source and an expected result", () => {
  it.each(captures)("%s", (file) => {
    const { truth } = load(file);
    expect(typeof truth.source.url).toBe("string");
    expect(Object.keys(EXPECTED)).toContain(file);
  });
  it("covers 15 captures", () => expect(captures.length).toBe(15));
});

describe("topo -m captures", () => {
  it.each(captures.filter((f) => f.startsWith("topo-")))("%s", (file) => {
    const { text, truth } = load(file);
    const topo = parseTopo(text, file);
    expect(topo.gpus.length).toBe(truth.gpuCount);
    expect(topo.links.map((r) => r.map((c) => c.raw))).toEqual(truth.linkTypes);
    expect(topo.otherDevices).toEqual(truth.nicRows.map((r: { name: string }) => r.name));
    if (truth.cpuAffinity) expect(topo.gpus.map((g) => g.cpuAffinity)).toEqual(truth.cpuAffinity);
    if (truth.numaAffinity) expect(topo.gpus.map((g) => g.numaNode)).toEqual(truth.numaAffinity);
    const detection = detectFromCaptures({ topo: text });
    expect(detection.gpus.length).toBe(truth.gpuCount);
    expect(detection.nvlinkPairs).toEqual(truth.nvlinkPairs);
    const layout = chooseLayout(detection, "auto");
    const want = EXPECTED[file];
    expect({ mode: layout.mode, group: layout.tensorParallelGroup, worker: layout.workerGpu }).toEqual(want);
  });
});

describe("nvlink --status captures", () => {
  it.each(captures.filter((f) => f.startsWith("nvlink-")))("%s", (file) => {
    const { text, truth } = load(file);
    const gpus = parseNvlinkStatus(text, file);
    expect(gpus.length).toBe(truth.gpuCount);
    for (const want of truth.perGpu) {
      const got = gpus[want.index];
      expect(got?.name).toBe(want.name);
      expect(got?.activeLinks).toBe(want.activeLinks);
      expect(got?.linkSpeedGBs).toBe(want.linkSpeedGBs ?? null);
      if (want.uuid !== undefined) expect(got?.uuid).toBe(want.uuid);
    }
  });

  it("2x3090 bridged: NVLink pair 0-1 inferred from the two GPUs' active links", () => {
    const d = detectFromCaptures({ nvlink: load("nvlink-2x3090-club3090.txt").text });
    expect(d.nvlinkPairs).toEqual([[0, 1]]);
    const layout = chooseLayout(d, "auto");
    expect({ mode: layout.mode, group: layout.tensorParallelGroup, worker: layout.workerGpu }).toEqual(
      EXPECTED["nvlink-2x3090-club3090.txt"],
    );
    expect(layout.cardClass).toBe("consumer");
    expect(layout.nccl.env).toEqual({ NCCL_P2P_LEVEL: "NVL" });
  });

  it("3xA6000 with GPU 2 unbridged: nvlink --status alone cannot say which GPUs pair, topo -m settles it", () => {
    const nvlink = load("nvlink-3xa6000-one-inactive.txt").text;
    expect(() => detectFromCaptures({ nvlink, names: { nvlink: "nvlink.txt" } })).toThrow(
      "nvlink.txt shows active NVLinks on GPU 0, 1 but not which GPUs they join; add the `nvidia-smi topo -m` capture (--topo)",
    );
    const d = detectFromCaptures({ nvlink, topo: load("topo-3xa6000-partial-nvlink.txt").text });
    expect(d.nvlinkPairs).toEqual([[0, 1]]);
    expect(d.gpus.map((g) => g.activeNvlinks)).toEqual([4, 4, 0]);
    expect(d.gpus.map((g) => g.uuid)).toEqual([
      "GPU-5baec991-de63-c196-1766-04c38407e133",
      "GPU-39fc2446-cb50-2067-2867-d95efd470a2c",
      "GPU-02c05ee3-bdb5-aac7-f9e8-a4c8f3f725b3",
    ]);
    const layout = chooseLayout(d, "auto");
    expect(layout.mode).toBe("multi-nvlink");
    expect(layout.vllmDevices).toEqual(["GPU-5baec991-de63-c196-1766-04c38407e133", "GPU-39fc2446-cb50-2067-2867-d95efd470a2c"]);
    expect(layout.workerDevices).toEqual(["GPU-02c05ee3-bdb5-aac7-f9e8-a4c8f3f725b3"]);
    expect(layout.cardClass).toBe("datacenter");
    expect(layout.nccl.env).toEqual({ NCCL_P2P_LEVEL: "NVL" });
  });
});

describe("--query-gpu captures", () => {
  it.each(captures.filter((f) => f.startsWith("query-") && f.endsWith(".csv")))("%s", (file) => {
    const { text, truth } = load(file);
    const fields = /--query-gpu=(\S+)/.exec(truth.command)?.[1]?.split(",");
    const gpus = parseQueryCsv(text, file, fields);
    expect(gpus.map((g) => g.index)).toEqual(truth.rows.map((r: { index: number }) => r.index));
    expect(gpus.map((g) => g.name)).toEqual(truth.rows.map((r: { name: string }) => r.name));
    expect(gpus.map((g) => g.busId)).toEqual(truth.rows.map((r: { pciBusId?: string }) => r.pciBusId ?? null));
    expect(gpus.map((g) => g.memoryMiB)).toEqual(truth.rows.map((r: { memoryTotalMiB?: number }) => r.memoryTotalMiB ?? null));
    expect(gpus.map((g) => g.memoryUsedMiB)).toEqual(truth.rows.map((r: { memoryUsedMiB?: number }) => r.memoryUsedMiB ?? null));
    expect(gpus.map((g) => g.driverVersion)).toEqual(truth.rows.map((r: { driverVersion?: string }) => r.driverVersion ?? null));
    const layout = chooseLayout(detectFromCaptures({ query: text, queryFields: fields }), "auto");
    const want = EXPECTED[file];
    expect({ mode: layout.mode, group: layout.tensorParallelGroup, worker: layout.workerGpu }).toEqual(want);
  });

  it("an old driver rejecting compute_cap is an invalid-field error naming the field", () => {
    const { text } = load("query-compute-cap-invalid-field.txt");
    let error: unknown;
    try {
      parseQueryCsv(text, "query.csv");
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(NvidiaSmiError);
    expect((error as NvidiaSmiError).kind).toBe("invalid-field");
    expect((error as NvidiaSmiError).field).toBe("compute_cap");
    expect((error as Error).message).toBe(
      'query.csv: this nvidia-smi does not know the field "compute_cap" (older drivers lack it); capture the query without it, or upgrade the driver',
    );
  });
});

describe("plain nvidia-smi captures", () => {
  it.each(captures.filter((f) => f.startsWith("smi-") && !f.includes("error")))("%s", (file) => {
    const { text, truth } = load(file);
    const gpus = parseSmiTable(text, file);
    expect(gpus).toEqual(
      truth.gpus.map((g: Record<string, any>) => ({
        index: g.index,
        uuid: null,
        name: g.name,
        memoryMiB: g.memoryTotalMiB,
        memoryUsedMiB: g.memoryUsedMiB,
        busId: g.busId,
        computeCapability: null,
        driverVersion: truth.driverVersion,
      })),
    );
    const layout = chooseLayout(detectFromCaptures({ query: text }), "auto");
    const want = EXPECTED[file];
    expect({ mode: layout.mode, group: layout.tensorParallelGroup, worker: layout.workerGpu }).toEqual(want);
  });

  it("smi-error-no-driver.txt: no GPU, cpu mode, and the error says how to fix the driver", () => {
    const { text, truth } = load("smi-error-no-driver.txt");
    const d = detectFromCaptures({ query: text, names: { query: "nvidia-smi.txt" } });
    expect(d.gpus.length).toBe(truth.gpuCount);
    expect(d.problem).toBe(
      'nvidia-smi.txt: "NVIDIA-SMI has failed because it couldn\'t communicate with the NVIDIA driver. Make sure that the latest NVIDIA driver is installed and running.": ' +
        "nvidia-smi is installed but the NVIDIA kernel driver is not loaded. Install or reload the driver " +
        "(check `lsmod | grep nvidia`; reboot after a driver or kernel upgrade), or run the stack without a GPU",
    );
    expect(() => parseSmiTable(text, "nvidia-smi.txt")).toThrow(d.problem as string);
  });
});
