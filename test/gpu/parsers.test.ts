/** Parser edge cases: paste damage, missing pieces, and each failure's exact message. */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { detectFromCaptures } from "../../src/gpu/detect";
import { CaptureError, NvidiaSmiError, smiFailure } from "../../src/gpu/errors";
import { parseNvlinkStatus } from "../../src/gpu/nvlinkStatus";
import { parseQueryCsv, QUERY_FIELDS } from "../../src/gpu/query";
import { parseTopo } from "../../src/gpu/topo";

const fixture = (f: string): string => readFileSync(join(__dirname, "../fixtures/nvidia-smi", f), "utf8");
const raws = (text: string): string[][] => parseTopo(text, "t").links.map((r) => r.map((c) => c.raw));

describe("parseTopo on damaged pastes", () => {
  const p4d = fixture("topo-8xa100-p4d-nv12.txt");
  const want = raws(p4d);

  it("spaces instead of tabs, indented by four spaces", () => {
    const pasted = p4d.replace(/\t/g, "   ").replace(/^/gm, "    ");
    expect(raws(pasted)).toEqual(want);
  });

  it("hard-wrapped rows and header (lines cut at 40 characters)", () => {
    const wrapped = p4d
      .split("\n")
      .flatMap((l) => (l.length > 40 ? [l.slice(0, 40).replace(/\S+$/, ""), "  " + l.slice(40 - (/\S+$/.exec(l.slice(0, 40))?.[0].length ?? 0))] : [l]))
      .join("\n");
    expect(wrapped.split("\n").length).toBeGreaterThan(p4d.split("\n").length);
    expect(raws(wrapped)).toEqual(want);
    expect(parseTopo(wrapped, "t").gpus.map((g) => g.numaNode)).toEqual([0, 0, 0, 0, 1, 1, 1, 1]);
  });

  it('two cells run together ("NV4NV4", "PIXSYS")', () => {
    const text =
      "\tGPU0\tGPU1\tGPU2\tNIC0\tCPU Affinity\tNUMA Affinity\n" +
      "GPU0\t X NV4NV4\tSYS\t0-7\t0\nGPU1\tNV4\t X \tPIXSYS\nGPU2\tNV4PIX\t X \tSYS\t0-7\t0\n" +
      "NIC0\tSYS\tSYS\tSYS\t X \n";
    // GPU1's row has no affinity values: they were lost in the paste, so they read as unknown.
    const topo = parseTopo(text, "t");
    expect(raws(text)).toEqual([
      ["X", "NV4", "NV4"],
      ["NV4", "X", "PIX"],
      ["NV4", "PIX", "X"],
    ]);
    expect(topo.gpus.map((g) => g.numaNode)).toEqual([0, null, 0]);
    expect(topo.otherDevices).toEqual(["NIC0"]);
    expect(() => parseTopo(text.replace("PIXSYS", "PIXSYSSYS"), "topo.txt")).toThrow(
      'topo.txt: row GPU1: "PIXSYSSYS" runs past the last of the 4 columns',
    );
  });

  it("old names: SOC reads as SYS, mlx5_0 NIC columns are ignored", () => {
    const text = "\tGPU0\tGPU1\tmlx5_0\tCPU Affinity\nGPU0\t X \tSOC\tPHB\t0-11\nGPU1\tSOC\t X \tSOC\t12-23\nmlx5_0\tPHB\tSOC\t X \n";
    const topo = parseTopo(text, "t");
    expect(topo.links.map((r) => r.map((c) => c.type))).toEqual([["X", "SYS"], ["SYS", "X"]]);
    expect(topo.otherDevices).toEqual(["mlx5_0"]);
    expect(topo.gpus.map((g) => g.cpuAffinity)).toEqual(["0-11", "12-23"]);
  });

  it("an asymmetric matrix is refused with the cells it doubts", () => {
    const text = "\tGPU0\tGPU1\nGPU0\t X \tNV4\nGPU1\tPHB\t X \n";
    expect(() => parseTopo(text, "topo.txt")).toThrow(
      'topo.txt: GPU0 to GPU1 reads "NV4" but GPU1 to GPU0 reads "PHB"; the matrix must be symmetric, so the capture is damaged; capture it again',
    );
  });

  it("a row cut short is refused", () => {
    const text = "\tGPU0\tGPU1\tGPU2\nGPU0\t X \tNV4\tSYS\nGPU1\tNV4\t X \n";
    expect(() => parseTopo(text, "topo.txt")).toThrow(
      'topo.txt: row GPU1 has 2 link cells before "end of text", but the header lists 3 devices; allowed cells are X, NV#, PIX, PXB, PHB, NODE, SYS',
    );
  });

  it("an unknown cell is refused", () => {
    const text = "\tGPU0\tGPU1\nGPU0\t X \tFOO\nGPU1\tFOO\t X \n";
    expect(() => parseTopo(text, "topo.txt")).toThrow(
      'topo.txt: row GPU0 has 1 link cells before "FOO", but the header lists 2 devices; allowed cells are X, NV#, PIX, PXB, PHB, NODE, SYS',
    );
  });

  it("text without a GPU0 column is refused", () => {
    expect(() => parseTopo("hello world\n", "topo.txt")).toThrow(
      "topo.txt: no GPU0 column found; this is not `nvidia-smi topo -m` output (or nvidia-smi saw no GPU); capture it again",
    );
  });
});

describe("parseQueryCsv", () => {
  const header =
    "index, uuid, name, memory.total [MiB], memory.used [MiB], pci.bus_id, compute_cap\n" +
    "0, GPU-1aff65f8-8897-eaee-29e4-6871ef7491a0, NVIDIA GeForce RTX 3090, 24576 MiB, 23166 MiB, 00000000:17:00.0, 8.6\n";
  const expected = {
    index: 0,
    uuid: "GPU-1aff65f8-8897-eaee-29e4-6871ef7491a0",
    name: "NVIDIA GeForce RTX 3090",
    memoryMiB: 24576,
    memoryUsedMiB: 23166,
    busId: "00000000:17:00.0",
    computeCapability: "8.6",
    driverVersion: null,
  };

  it("with header and units", () => expect(parseQueryCsv(header, "q")).toEqual([expected]));

  it("noheader,nounits with the field list", () => {
    const text = "0, GPU-1aff65f8-8897-eaee-29e4-6871ef7491a0, NVIDIA GeForce RTX 3090, 24576, 23166, 00000000:17:00.0, 8.6\n";
    expect(parseQueryCsv(text, "q", QUERY_FIELDS)).toEqual([expected]);
  });

  it("[N/A] values are unknown", () => {
    const text = "0, GPU-1aff65f8-8897-eaee-29e4-6871ef7491a0, NVIDIA GeForce RTX 3090, [N/A], [N/A], 00000000:17:00.0, [N/A]\n";
    expect(parseQueryCsv(text, "q", QUERY_FIELDS)[0]).toEqual({ ...expected, memoryMiB: null, memoryUsedMiB: null, computeCapability: null });
  });

  it("noheader without a field list is refused", () => {
    expect(() => parseQueryCsv("0, NVIDIA GeForce RTX 3090\n", "query.csv")).toThrow(
      "query.csv: the CSV has no header line, so its columns are unknown; capture it again with the header (--format=csv, not csv,noheader)",
    );
  });

  it("a row with a missing value is refused", () => {
    expect(() => parseQueryCsv("0, NVIDIA GeForce RTX 3090\n", "query.csv", ["index", "name", "memory.total"])).toThrow(
      'query.csv: row 1 "0, NVIDIA GeForce RTX 3090" has 2 values but 3 columns (index, name, memory.total) were expected; capture the whole output again',
    );
  });
});

describe("parseNvlinkStatus", () => {
  it("inactive links count as down", () => {
    const text = "GPU 0: NVIDIA A100-SXM4-80GB (UUID: GPU-aaaaaaaa-0000)\n\t Link 0: 25 GB/s\n\t Link 1: <inactive>\n";
    expect(parseNvlinkStatus(text, "n")).toEqual([
      {
        index: 0,
        name: "NVIDIA A100-SXM4-80GB",
        uuid: "GPU-aaaaaaaa-0000",
        links: [
          { link: 0, speedGBs: 25 },
          { link: 1, speedGBs: null },
        ],
        activeLinks: 1,
        linkSpeedGBs: 25,
      },
    ]);
  });

  it("an unknown line is refused, not skipped", () => {
    expect(() => parseNvlinkStatus("GPU 0: X (UUID: GPU-1)\n\t Lnk 0: 25 GB/s\n", "nvlink.txt")).toThrow(
      'nvlink.txt: line 2 "Lnk 0: 25 GB/s" under GPU 0 is neither "Link n: <speed> GB/s", "Link n: <inactive>" nor NVML\'s "all links are inActive" message; capture `nvidia-smi nvlink --status` again',
    );
  });
});

describe("nvidia-smi failures", () => {
  const cpu = "or run the stack without a GPU";
  it("not installed (exit code 127)", () => {
    expect(smiFailure("spawn nvidia-smi ENOENT", "nvidia-smi", 127)?.message).toBe(
      "nvidia-smi: nvidia-smi is not installed (exit code 127), so the NVIDIA driver is missing. Install the NVIDIA driver " +
        `(it ships nvidia-smi; https://docs.nvidia.com/datacenter/tesla/driver-installation-guide/), ${cpu}`,
    );
  });
  it("driver/library version mismatch", () => {
    const text = "Failed to initialize NVML: Driver/library version mismatch\nNVML library version: 550.54\n";
    expect(smiFailure(text, "nvidia-smi on gpu-box", 18)?.message).toBe(
      'nvidia-smi on gpu-box: "Failed to initialize NVML: Driver/library version mismatch": the loaded NVIDIA kernel module and ' +
        `nvidia-smi's library are different versions, usually after a driver upgrade without a reboot. Reboot the host (or reload the nvidia kernel modules), ${cpu}`,
    );
  });
  it("a failure in any capture means no usable GPU, with the fix", () => {
    const d = detectFromCaptures({ topo: "Failed to initialize NVML: Driver/library version mismatch\n", names: { topo: "topo.txt" } });
    expect(d.gpus).toEqual([]);
    expect(d.problem).toMatch(/^topo\.txt: "Failed to initialize NVML: Driver\/library version mismatch": /);
  });
  it("captures that disagree on the GPU count are refused", () => {
    expect(() =>
      detectFromCaptures({
        topo: fixture("topo-3xa6000-partial-nvlink.txt"),
        nvlink: fixture("nvlink-2xa100-pcie-none.txt"),
        names: { topo: "topo.txt", nvlink: "nvlink.txt" },
      }),
    ).toThrow("the captures disagree on the GPU count: topo.txt lists 3, nvlink.txt lists 2; capture all of them from the same host");
  });
});

describe("a capture detection cannot use names the captures to take again", () => {
  const caught = (f: () => unknown): unknown => {
    try {
      f();
    } catch (err) {
      return err;
    }
    return null;
  };
  it("a damaged capture: that one, with the parser's message", () => {
    const err = caught(() => detectFromCaptures({ topo: "hello world\n", names: { topo: "t.txt" } }));
    expect(err).toBeInstanceOf(CaptureError);
    expect([(err as CaptureError).captures, (err as CaptureError).unreadable, (err as CaptureError).message]).toEqual([
      ["topo"],
      false,
      "t.txt: no GPU0 column found; this is not `nvidia-smi topo -m` output (or nvidia-smi saw no GPU); capture it again",
    ]);
  });
  it("captures that disagree: each of them", () => {
    const err = caught(() =>
      detectFromCaptures({
        topo: fixture("topo-3xa6000-partial-nvlink.txt"),
        nvlink: fixture("nvlink-2xa100-pcie-none.txt"),
        names: { topo: "topo.txt", nvlink: "nvlink.txt" },
      }),
    );
    expect(err).toBeInstanceOf(CaptureError);
    expect((err as CaptureError).captures).toEqual(["topo", "nvlink"]);
  });
  it("nvidia-smi's own refusal of a field keeps its kind and field", () => {
    const err = caught(() => detectFromCaptures({ query: 'Field "compute_cap" is not a valid field to query.\n', names: { query: "q.csv" } }));
    expect(err).toBeInstanceOf(NvidiaSmiError);
    expect([(err as NvidiaSmiError).kind, (err as NvidiaSmiError).field]).toEqual(["invalid-field", "compute_cap"]);
  });
});
