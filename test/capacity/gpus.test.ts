/**
 * GPU names as nvidia-smi prints them, resolved against the catalog: the project's own nvidia-smi
 * captures, a table of real names from public sources (test/fixtures/capacity/gpu-names.json, each
 * row with its source), variants told apart by name and memory, the fallback to a known memory, and
 * the error when neither the name nor the memory settles the card.
 */
import { describe, expect, it } from "vitest";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { GPU_CATALOG, GpuNameError, lookupGpu, parseGpuName } from "../../src/capacity";
import { MEMORY_MATCH_TOLERANCE } from "../../src/capacity/gpus";

interface NameRow {
  readonly name: string;
  readonly memoryMiB: number | null;
  readonly entry: string | null;
  readonly source: string;
  readonly files?: readonly string[];
}

const FIXTURES = join(__dirname, "../fixtures");
const names = JSON.parse(readFileSync(join(FIXTURES, "capacity/gpu-names.json"), "utf8")) as {
  captures: NameRow[];
  public: NameRow[];
};

/** Every GPU name in the nvidia-smi captures: the table (`gpus`), the query CSV (`rows`), `nvlink -s` (`perGpu`). */
function captureNames(): { file: string; name: string; memoryMiB: number | null }[] {
  const dir = join(FIXTURES, "nvidia-smi");
  return readdirSync(dir)
    .filter((f) => f.endsWith(".json"))
    .sort()
    .flatMap((file) => {
      const capture = JSON.parse(readFileSync(join(dir, file), "utf8")) as Record<string, unknown>;
      const gpus = [capture.gpus, capture.rows, capture.perGpu].flatMap((list) => (Array.isArray(list) ? list : []));
      return (gpus as { name?: string; memoryTotalMiB?: number }[])
        .filter((g) => typeof g.name === "string")
        .map((g) => ({ file, name: g.name!, memoryMiB: g.memoryTotalMiB ?? null }));
    });
}

const resolved = (name: string, memoryMiB: number | null) => {
  const g = lookupGpu(name, memoryMiB);
  return { entry: g.entry?.name ?? null, memoryMiB: g.memoryMiB };
};

describe("GPU names in the project's nvidia-smi captures", () => {
  const found = captureNames();

  it("the fixture lists every name the captures hold, file by file", () => {
    const listed = names.captures.flatMap((row) => row.files!.map((file) => `${file}: ${row.name}`)).sort();
    expect([...new Set(found.map((c) => `${c.file}: ${c.name}`))].sort()).toEqual(listed);
  });

  it.each(found)("$file: $name resolves to its catalog entry, with the captured memory", ({ name, memoryMiB }) => {
    const row = names.captures.find((r) => r.name === name)!;
    expect(resolved(name, memoryMiB)).toEqual({ entry: row.entry, memoryMiB: memoryMiB ?? lookupGpu(name).memoryMiB });
    expect(resolved(name, null).entry).toBe(row.entry);
  });
});

describe("real GPU names from public sources", () => {
  it.each(names.public)("$name ($memoryMiB MiB) → $entry  [$source]", (row) => {
    expect(row.source).toMatch(/^https:\/\/github\.com\//);
    const expected = { entry: row.entry, memoryMiB: row.memoryMiB ?? lookupGpu(row.name).memoryMiB };
    expect(resolved(row.name, row.memoryMiB)).toEqual(expected);
  });

  it("resolves each name the same without the memory, except where the memory tells the variant", () => {
    for (const row of names.public.filter((r) => r.entry !== null && r.memoryMiB !== null)) {
      const family = GPU_CATALOG.filter((e) => e.model === parseGpuName(row.name).model);
      const oneCard = new Set(family.map((e) => e.memory.mib)).size === 1 || parseGpuName(row.name).sizeGB !== null;
      if (oneCard) expect(lookupGpu(row.name).entry?.name).toBe(row.entry);
    }
  });
});

describe("normalising a name", () => {
  it.each([
    ["NVIDIA A100-SXM4-80GB", { model: "a100", sizeGB: 80, forms: ["sxm"] }],
    ["NVIDIA A100 80GB PCIe", { model: "a100", sizeGB: 80, forms: ["pcie"] }],
    ["Tesla V100-PCIE-32GB", { model: "v100", sizeGB: 32, forms: ["pcie"] }],
    ["NVIDIA H100 80GB HBM3", { model: "h100", sizeGB: 80, forms: ["hbm"] }],
    ["NVIDIA GH200 144G HBM3e", { model: "gh200", sizeGB: 144, forms: ["hbm"] }],
    ["NVIDIA GeForce RTX 2060 12GB", { model: "2060", sizeGB: 12, forms: [] }],
    ["NVIDIA RTX 6000 Ada Generation", { model: "6000 ada", sizeGB: null, forms: [] }],
    ["NVIDIA RTX PRO 6000 Blackwell Max-Q Workstation Edition", { model: "pro 6000 blackwell max q workstation", sizeGB: null, forms: [] }],
    ["NVIDIA_GeForce_RTX_4090", { model: "4090", sizeGB: null, forms: [] }],
    ["Tesla V100-SXM2...", { model: "v100", sizeGB: null, forms: ["sxm"] }],
    ["rtx4070ti super", { model: "4070 ti super", sizeGB: null, forms: [] }],
    ["A100 80 GB", { model: "a100", sizeGB: 80, forms: [] }],
    ["NVIDIA GeForce RTX 4090 Laptop GPU", { model: "4090 laptop", sizeGB: null, forms: [] }],
  ])("%s", (name, parsed) => {
    expect(parseGpuName(name)).toEqual(parsed);
  });
});

describe("variants", () => {
  const bandwidth = (name: string, memoryMiB: number | null = null) => {
    const g = lookupGpu(name, memoryMiB);
    return [g.name, g.memoryMiB, g.bandwidthGBs ?? null];
  };

  it("memory in the name: A100 40 vs 80 GB, V100 16 vs 32 GB, RTX 2060 6 vs 12 GB, 4060 Ti 8 vs 16 GB", () => {
    expect(bandwidth("NVIDIA A100-PCIE-40GB")).toEqual(["A100 PCIe 40GB", 40960, 1555]);
    expect(bandwidth("NVIDIA A100 80GB PCIe")).toEqual(["A100 PCIe 80GB", 81920, 1935]);
    expect(bandwidth("Tesla V100-SXM2-16GB")).toEqual(["V100 SXM2 16GB", 16160, 900]);
    expect(bandwidth("Tesla V100-SXM2-32GB")).toEqual(["V100 SXM2 32GB", 32768, 900]);
    expect(bandwidth("NVIDIA GeForce RTX 2060 12GB")).toEqual(["RTX 2060 12GB", 12288, null]);
    expect(bandwidth("RTX 2060 6GB")).toEqual(["RTX 2060 6GB", 6144, 336]);
    expect(bandwidth("RTX 4060 Ti 16GB")).toEqual(["RTX 4060 Ti 16GB", 16384, 288]);
  });

  it("the same name, told apart by the memory nvidia-smi reports: RTX 3080, 3060, 4060 Ti, 5060 Ti, RTX 2060, A2000", () => {
    expect(bandwidth("NVIDIA GeForce RTX 3080", 10240)).toEqual(["RTX 3080 10GB", 10240, 760]);
    expect(bandwidth("NVIDIA GeForce RTX 3080", 12288)).toEqual(["RTX 3080 12GB", 12288, 912]);
    expect(bandwidth("NVIDIA GeForce RTX 3060", 8192)).toEqual(["RTX 3060 8GB", 8192, 240]);
    expect(bandwidth("NVIDIA GeForce RTX 4060 Ti", 8188)).toEqual(["RTX 4060 Ti 8GB", 8188, 288]);
    expect(bandwidth("NVIDIA GeForce RTX 4060 Ti", 16380)).toEqual(["RTX 4060 Ti 16GB", 16380, 288]);
    expect(bandwidth("NVIDIA GeForce RTX 5060 Ti", 16311)).toEqual(["RTX 5060 Ti 16GB", 16311, 448]);
    expect(bandwidth("NVIDIA GeForce RTX 2060", 12288)).toEqual(["RTX 2060 12GB", 12288, null]);
    expect(bandwidth("NVIDIA RTX A2000", 6138)).toEqual(["RTX A2000 6GB", 6138, 288]);
    expect(bandwidth("Tesla V100-SXM2...", 32510)).toEqual(["V100 SXM2 32GB", 32510, 900]);
  });

  it("bandwidth by form factor: H100 PCIe, SXM and NVL; A100 PCIe and SXM; H200 and H200 NVL", () => {
    expect(bandwidth("NVIDIA H100 PCIe")).toEqual(["H100 PCIe", 81559, 2048]);
    expect(bandwidth("NVIDIA H100 80GB HBM3")).toEqual(["H100 SXM", 81559, 3350]);
    expect(bandwidth("NVIDIA H100 NVL")).toEqual(["H100 NVL", 95830, 3917]);
    expect(bandwidth("NVIDIA A100-SXM4-80GB")).toEqual(["A100 SXM4 80GB", 81920, 2039]);
    expect(bandwidth("NVIDIA H200")).toEqual(["H200 SXM", 143771, 4800]);
    expect(bandwidth("NVIDIA H200 NVL")).toEqual(["H200 NVL", 143771, 4800]);
    expect(bandwidth("NVIDIA GH200 480GB")).toEqual(["GH200 96GB", 98304, 4000]);
    expect(bandwidth("NVIDIA GH200 144G HBM3e")).toEqual(["GH200 144GB", 147456, 4900]);
  });

  it("short names people type keep working: 3090, rtx4090, A100 80GB, H100 80GB, H200, tesla-t4", () => {
    expect(bandwidth("3090")).toEqual(["RTX 3090", 24576, 936]);
    expect(bandwidth("rtx4090")).toEqual(["RTX 4090", 24564, 1008]);
    expect(bandwidth("A100 80GB")).toEqual(["A100 SXM4 80GB", 81920, 2039]);
    expect(bandwidth("A100 40GB")).toEqual(["A100 SXM4 40GB", 40960, 1555]);
    expect(bandwidth("H100 80GB")).toEqual(["H100 SXM", 81559, 3350]);
    expect(bandwidth("H200")).toEqual(["H200 SXM", 143771, 4800]);
    expect(bandwidth("tesla-t4")).toEqual(["T4", 15360, 320]);
  });

  it("the host's memory wins over the catalog's (ECC on takes 1/16 of a GDDR card)", () => {
    expect(bandwidth("NVIDIA L40S", 49140)).toEqual(["L40S", 49140, 864]);
    expect(bandwidth("NVIDIA RTX A4000", 15352)).toEqual(["RTX A4000", 15352, 448]);
  });
});

describe("a name the catalog cannot settle", () => {
  it("falls back to the known memory, without bandwidth, and says why", () => {
    expect(lookupGpu("NVIDIA A800-SXM4-80GB", 81920)).toEqual({
      name: "NVIDIA A800-SXM4-80GB",
      memoryMiB: 81920,
      entry: null,
      note: 'GPU "NVIDIA A800-SXM4-80GB" is not in the catalog; no memory bandwidth, so no decode-speed bound',
    });
    // A 2080 Ti with 22 GB fitted is no 11 GB 2080 Ti: its bandwidth is not assumed either.
    expect(lookupGpu("NVIDIA GeForce RTX 2080 Ti", 22528)).toEqual({
      name: "NVIDIA GeForce RTX 2080 Ti",
      memoryMiB: 22528,
      entry: null,
      note:
        'GPU "NVIDIA GeForce RTX 2080 Ti" is a variant the catalog does not list (it knows RTX 2080 Ti); ' +
        "no memory bandwidth, so no decode-speed bound",
    });
  });

  const FIX =
    "pass --gpu with its memory.total in MiB (nvidia-smi --query-gpu=memory.total --format=csv,noheader,nounits), " +
    "or run `llmstack configure-gpu` to write gpu.gpuName and gpu.memoryMiB into the stack file " +
    "(docs/capacity.md lists the cards the catalog knows).";

  it.each([
    ["NVIDIA Foo 9000", `GPU "NVIDIA Foo 9000" is not in the catalog and its memory is not known; ${FIX}`],
    [
      "NVIDIA A100-SXM-64GB",
      'GPU "NVIDIA A100-SXM-64GB" is a variant the catalog does not list (it knows A100 PCIe 40GB, A100 SXM4 40GB, ' +
        `A100 PCIe 80GB, A100 SXM4 80GB) and its memory is not known; ${FIX}`,
    ],
    [
      "NVIDIA GeForce RTX 3080",
      'GPU "NVIDIA GeForce RTX 3080" names more than one card (RTX 3080 10GB, RTX 3080 12GB) and its memory is not ' +
        `known; name the variant, such as "RTX 3080 10GB", ${FIX}`,
    ],
  ])("without the memory, %s is one error saying how to fix it", (name, message) => {
    expect(() => lookupGpu(name)).toThrow(new GpuNameError(message));
  });
});

describe("the catalog", () => {
  it.each(GPU_CATALOG.map((e) => [e.name, e] as const))("%s resolves from its own name", (name, entry) => {
    expect(lookupGpu(name).entry).toBe(entry);
  });

  it("each entry's memory agrees with a size its names carry", () => {
    for (const e of GPU_CATALOG) {
      expect(e.sizesGB.some((gb) => Math.abs(gb * 1024 - e.memory.mib) <= MEMORY_MATCH_TOLERANCE * e.memory.mib)).toBe(true);
    }
  });

  it("variants a name cannot tell apart differ in memory by more than the match tolerance, or not at all", () => {
    for (const a of GPU_CATALOG) {
      for (const b of GPU_CATALOG.filter((x) => x !== a && x.model === a.model)) {
        const sameName = a.forms.some((f) => b.forms.includes(f));
        if (!sameName) continue;
        const apart = Math.abs(a.memory.mib - b.memory.mib) > MEMORY_MATCH_TOLERANCE * Math.max(a.memory.mib, b.memory.mib);
        expect(apart || (a.memory.mib === b.memory.mib && a.bandwidth?.gbs === b.bandwidth?.gbs)).toBe(true);
      }
    }
  });

  it("every figure names its source: a URL or a fixture in this repository", () => {
    for (const e of GPU_CATALOG) {
      for (const source of [e.memory.source, ...(e.bandwidth ? [e.bandwidth.source] : [])]) {
        expect(source).toMatch(/^(https:\/\/|test\/fixtures\/nvidia-smi\/)/);
      }
    }
  });

  it("docs/capacity.md lists every card the catalog knows", () => {
    const doc = readFileSync(join(__dirname, "../../docs/capacity.md"), "utf8");
    const listed = /<!-- gpu-catalog -->\n([\s\S]*?)\n<!-- \/gpu-catalog -->/.exec(doc)?.[1] ?? "";
    expect(listed.split(/, |\n/).filter((n) => n !== "")).toEqual(GPU_CATALOG.map((e) => e.name));
  });
});
