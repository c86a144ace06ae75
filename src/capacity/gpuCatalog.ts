/**
 * The GPU catalog: each card's memory and peak memory bandwidth, with the public source of both.
 *
 * Memory is `memory.total` in MiB as nvidia-smi (or NVML, which nvidia-smi reads) reported it on a
 * real machine wherever such a capture was found (`smi`); otherwise the vendor's GB figure (`spec`),
 * read as GiB because memory chips come in binary sizes, so a `spec` entry is a little above what
 * nvidia-smi will show (the driver keeps some memory, and ECC on GDDR cards takes 1/16). When the
 * stack file or nvidia-smi gives the real memory, that figure wins over the catalog's
 * (src/capacity/gpus.ts).
 *
 * Bandwidth is the peak in GB/s (10^9 bytes per second); `null` where no public figure was found.
 *
 * `model`, `sizesGB` and `forms` are what a name is matched on after normalisation
 * (src/capacity/gpus.ts): "NVIDIA A100-SXM4-80GB" is model "a100", size 80, form "sxm".
 */

export interface GpuMemoryFact {
  readonly mib: number;
  /** "nvidia-smi": memory.total of a real capture (nvidia-smi or NVML); "spec": the vendor's GB, read as GiB. */
  readonly from: "nvidia-smi" | "spec";
  readonly source: string;
}

export interface GpuBandwidthFact {
  readonly gbs: number;
  readonly source: string;
}

export interface GpuCatalogEntry {
  /** The name the capacity output shows, e.g. "RTX 3080 12GB"; it resolves to this entry. */
  readonly name: string;
  /** The normalised model: vendor, brand and form words removed ("NVIDIA GeForce RTX 3080 Ti" → "3080 ti"). */
  readonly model: string;
  /** Memory sizes (GB) a name of this card may carry: "A100 80GB PCIe", "GH200 480GB". */
  readonly sizesGB: readonly number[];
  /** Form factors a name of this card may carry; "" when its name carries none (nvidia-smi's "NVIDIA H200"). */
  readonly forms: readonly string[];
  readonly memory: GpuMemoryFact;
  readonly bandwidth: GpuBandwidthFact | null;
}

const GH = "https://github.com/";
/** One home per source: the captures and tables the entries below cite. */
const S = {
  // nvidia-smi captures
  ref3090: "test/fixtures/nvidia-smi/smi-2x3090-driver610-kmd.txt (https://github.com/noonghunna/club-3090/issues/405)",
  refA100: "test/fixtures/nvidia-smi/query-2xa100-pcie-units.csv (HPE-Japan-Presales/e-learning@b3530162 gpu/a100/mgmt_on_ubuntu22.04.4lts.md)",
  lium: `${GH}Datura-ai/lium-io/blob/2214edb3adcc6b953e478f4bd005a415cd30a3ba/neurons/validators/src/services/gpu_spec_table.py (NVML totals observed in production)`,
  telegraf: `${GH}influxdata/telegraf/blob/b27263146617cefe16c0b300107b58b111a7fa57/plugins/inputs/nvidia_smi/testdata/`,
  telegrafV13: `${GH}influxdata/telegraf/blob/58ff61d01be05ec0d4c2f57c8c89031e026fa0b9/plugins/inputs/nvidia_smi/testdata/`,
  exporter: `${GH}utkuozdemir/nvidia_gpu_exporter/blob/e656cd81a180e7e0e7862b53c9acd4c2fb0f590b/internal/captures/`,
  modal: `${GH}modal-labs/modal-client/pull/2797`,
  // tables of vendor figures
  runpod: `${GH}runpod/docs/blob/ba1309bfb467a89bf36cea3ab268bbe7107c919b/references/gpu-types.mdx`,
  turing: "https://gist.github.com/vassvik/300a9b921f69a58ff2f422ae8f010c43",
  consumer: `${GH}CYBIRD-D/How-to-Choose-your-LLM-Model-for-translation/blob/075270d91f4b13b01c0b0b8632407341a65ab6e8/Nvidia_GPU_Specification.md`,
  gpumap: `${GH}lamonoai/gpumap/blob/a2dfba25de6b207b939fdd2233aeab297035f1af/nvidia/GPU.md`,
  datasheets: `${GH}astroC86/gpu-datasheet/blob/42c5eff6821ee169fd8c424d6ce4037de9e04c44/GPUDatasheet/README.md (NVIDIA datasheet figures)`,
  specsJson: `${GH}winston-zhang-orz/gpu-specs/blob/4b0c72dd3846f0d25ec294b1cf4f5c83b10113b0/data/specs.json (NVIDIA datasheet figures)`,
  nvSheets: `${GH}atineoSE/coding-model-seeks-gpu/blob/cbdfc2fb1d6363eabc8aeadf6f5aac297bfc0def/pipeline/pipeline/sources/`,
  proBlackwell:
    "https://www.purepc.pl/nvidia-rtx-pro-6000-rtx-pro-6000-max-q-rtx-pro-5000-rtx-pro-4500-oraz-rtx-pro-4000-profesjonalne-karty-graficzne-blackwell",
} as const;

const smi = (mib: number, source: string): GpuMemoryFact => ({ mib, from: "nvidia-smi", source });
const spec = (gb: number, source: string): GpuMemoryFact => ({ mib: gb * 1024, from: "spec", source });
const bw = (gbs: number, source: string): GpuBandwidthFact => ({ gbs, source });

function card(
  name: string,
  model: string,
  sizeGB: number | readonly number[],
  memory: GpuMemoryFact,
  bandwidth: GpuBandwidthFact | null,
  forms: readonly string[] = [""],
): GpuCatalogEntry {
  return { name, model, sizesGB: typeof sizeGB === "number" ? [sizeGB] : sizeGB, forms, memory, bandwidth };
}

export const GPU_CATALOG: readonly GpuCatalogEntry[] = [
  // GeForce RTX 20 (Turing)
  card("RTX 2060 6GB", "2060", 6, spec(6, S.turing), bw(336, S.turing)),
  card("RTX 2060 12GB", "2060", 12, spec(12, `${S.lium} (nominal size)`), null),
  card("RTX 2060 SUPER", "2060 super", 8, spec(8, `${S.lium} (nominal size)`), null),
  card("RTX 2070", "2070", 8, smi(8192, `${S.telegrafV13}dual_2070-v13.xml`), bw(448, S.turing)),
  card("RTX 2070 SUPER", "2070 super", 8, spec(8, S.turing), bw(448, S.turing)),
  card("RTX 2080", "2080", 8, smi(8192, `${S.telegrafV13}dual_2080-v13.xml`), bw(448, S.turing)),
  card(
    "RTX 2080 SUPER",
    "2080 super",
    8,
    smi(8192, `${S.exporter}linux-x86_64__nvidia-geforce-rtx-2080-super__595.71.05.txt`),
    bw(496, "https://www.tweaktown.com/news/74545/nvidia-geforce-rtx-3080-specs-10gb-gddr6x-2-1ghz-max-gpu-clock/index.html"),
  ),
  card("RTX 2080 Ti", "2080 ti", 11, spec(11, S.turing), bw(616, S.turing)),
  // GeForce RTX 30 (Ampere)
  card("RTX 3060 8GB", "3060", 8, spec(8, S.consumer), bw(240, S.consumer)),
  card("RTX 3060 12GB", "3060", 12, smi(12288, `${S.telegraf}rtx-3060-v12.xml`), bw(360, S.consumer)),
  // The GDDR6X 3060 Ti (608 GB/s) has the same name and memory; the GDDR6 figure is the lower bound.
  card("RTX 3060 Ti", "3060 ti", 8, spec(8, S.consumer), bw(448, S.consumer)),
  card("RTX 3070", "3070", 8, spec(8, S.consumer), bw(448, S.consumer)),
  card("RTX 3070 Ti", "3070 ti", 8, smi(8192, S.lium), bw(608, S.consumer)),
  card("RTX 3080 10GB", "3080", 10, smi(10240, `${S.telegraf}rtx-3080-v12.xml`), bw(760, S.consumer)),
  card("RTX 3080 12GB", "3080", 12, spec(12, S.consumer), bw(912, S.consumer)),
  card("RTX 3080 Ti", "3080 ti", 12, spec(12, S.consumer), bw(912, S.consumer)),
  card("RTX 3090", "3090", 24, smi(24576, S.ref3090), bw(936, S.consumer)),
  card("RTX 3090 Ti", "3090 ti", 24, spec(24, S.consumer), bw(1008, S.consumer)),
  // GeForce RTX 40 (Ada Lovelace)
  card("RTX 4060", "4060", 8, spec(8, S.consumer), bw(272, S.consumer)),
  card("RTX 4060 Ti 8GB", "4060 ti", 8, spec(8, S.consumer), bw(288, S.consumer)),
  card("RTX 4060 Ti 16GB", "4060 ti", 16, spec(16, S.consumer), bw(288, S.consumer)),
  card("RTX 4070", "4070", 12, spec(12, S.consumer), bw(504, S.consumer)),
  card("RTX 4070 SUPER", "4070 super", 12, spec(12, S.consumer), bw(504, S.consumer)),
  card("RTX 4070 Ti", "4070 ti", 12, spec(12, S.consumer), bw(504, S.consumer)),
  card("RTX 4070 Ti SUPER", "4070 ti super", 16, spec(16, S.consumer), bw(672, S.consumer)),
  card("RTX 4080", "4080", 16, spec(16, S.consumer), bw(716.8, S.consumer)),
  card(
    "RTX 4080 SUPER",
    "4080 super",
    16,
    smi(16376, `${S.exporter}linux-x86_64__nvidia-geforce-rtx-4080-super__595.71.05.txt`),
    bw(736, S.consumer),
  ),
  card("RTX 4090", "4090", 24, smi(24564, `${GH}vllm-project/vllm/issues/7553`), bw(1008, S.consumer)),
  card("RTX 4090 D", "4090 d", 24, spec(24, S.consumer), bw(1008, S.consumer)),
  // GeForce RTX 50 (Blackwell)
  card("RTX 5060", "5060", 8, spec(8, S.consumer), bw(448, S.consumer)),
  card("RTX 5060 Ti 8GB", "5060 ti", 8, spec(8, S.consumer), bw(448, S.consumer)),
  card("RTX 5060 Ti 16GB", "5060 ti", 16, spec(16, S.consumer), bw(448, S.consumer)),
  card("RTX 5070", "5070", 12, spec(12, S.consumer), bw(672, S.consumer)),
  card("RTX 5070 Ti", "5070 ti", 16, spec(16, S.consumer), bw(896, S.consumer)),
  card("RTX 5080", "5080", 16, spec(16, S.consumer), bw(960, S.consumer)),
  card("RTX 5090", "5090", 32, smi(32607, `${GH}noonghunna/club-3090/issues/617`), bw(1792, S.consumer)),
  card("RTX 5090 D", "5090 d", 32, spec(32, S.consumer), bw(1792, S.consumer)),
  // RTX A-series (Ampere workstation)
  card("RTX A2000 6GB", "a2000", 6, spec(6, S.gpumap), bw(288, S.gpumap)),
  card("RTX A2000 12GB", "a2000", 12, spec(12, S.gpumap), bw(288, S.gpumap)),
  // 16376 MiB with ECC off; 15352 MiB with ECC on (the same source).
  card("RTX A4000", "a4000", 16, smi(16376, S.lium), bw(448, S.gpumap)),
  card("RTX A4500", "a4500", 20, spec(20, S.gpumap), bw(640, S.gpumap)),
  card("RTX A5000", "a5000", 24, smi(24564, `${S.telegrafV13}dual_a5000-v13.xml`), bw(768, S.gpumap)),
  card("RTX A5500", "a5500", 24, spec(24, S.gpumap), bw(768, S.gpumap)),
  card("RTX A6000", "a6000", 48, smi(49140, S.lium), bw(768, S.gpumap)),
  // RTX Ada Generation (workstation)
  card("RTX 2000 Ada", "2000 ada", 16, spec(16, S.runpod), null),
  card(
    "RTX 4000 SFF Ada",
    "4000 sff ada",
    20,
    smi(20475, `${S.telegraf}rtx-4000-sff-ada-v13.xml`),
    bw(280, S.gpumap),
  ),
  card("RTX 4000 Ada", "4000 ada", 20, spec(20, S.gpumap), bw(360, S.gpumap)),
  card("RTX 4500 Ada", "4500 ada", 24, spec(24, S.gpumap), bw(432, S.gpumap)),
  card("RTX 5000 Ada", "5000 ada", 32, spec(32, S.gpumap), bw(576, `${S.nvSheets}rtx5000ada_specs.md`)),
  // 49140 MiB with ECC off; 46068 MiB with ECC on (the same source).
  card("RTX 6000 Ada", "6000 ada", 48, smi(49140, S.lium), bw(960, `${S.nvSheets}rtx6000ada_specs.md`)),
  // RTX PRO Blackwell (workstation and server)
  card(
    "RTX PRO 6000 Blackwell Workstation",
    "pro 6000 blackwell workstation",
    96,
    smi(97887, S.lium),
    bw(1792, `${S.nvSheets}rtxpro6000_specs.md`),
  ),
  card(
    "RTX PRO 6000 Blackwell Max-Q Workstation",
    "pro 6000 blackwell max q workstation",
    96,
    smi(97887, `${S.telegrafV13}pro-6000-maxq-blackwell-v13.xml`),
    bw(1792, S.proBlackwell),
  ),
  card("RTX PRO 6000 Blackwell Server", "pro 6000 blackwell server", 96, smi(97887, S.lium), null),
  card(
    "RTX PRO 5000 Blackwell 48GB",
    "pro 5000 blackwell",
    48,
    spec(48, S.proBlackwell),
    bw(1344, S.proBlackwell),
  ),
  card(
    "RTX PRO 5000 Blackwell 72GB",
    "pro 5000 blackwell",
    72,
    spec(72, "https://grokipedia.com/page/Nvidia_RTX_Pro_5000_Blackwell"),
    bw(1344, "https://grokipedia.com/page/Nvidia_RTX_Pro_5000_Blackwell"),
  ),
  card(
    "RTX PRO 4500 Blackwell",
    "pro 4500 blackwell",
    32,
    spec(32, "https://technical.city/en/video/RTX-PRO-4500-Blackwell"),
    bw(896, "https://technical.city/en/video/RTX-PRO-4500-Blackwell"),
  ),
  card("RTX PRO 4000 Blackwell", "pro 4000 blackwell", 24, spec(24, `${S.lium} (nominal size)`), null),
  // Data centre: Volta, Turing, Ampere
  card("V100 PCIe 16GB", "v100", 16, spec(16, S.specsJson), bw(900, S.specsJson), ["pcie"]),
  card("V100 PCIe 32GB", "v100", 32, spec(32, S.specsJson), bw(900, S.specsJson), ["pcie"]),
  // nvidia-smi's table cut the name to "Tesla V100-SXM2..."; the 16GB SXM2 is the one with this memory.
  card(
    "V100 SXM2 16GB",
    "v100",
    16,
    smi(16160, `${GH}4paradigm/k8s-vgpu-scheduler/issues/7`),
    bw(900, S.specsJson),
    ["sxm"],
  ),
  card("V100 SXM2 32GB", "v100", 32, spec(32, S.specsJson), bw(900, S.specsJson), ["sxm"]),
  card("V100S PCIe 32GB", "v100s", 32, spec(32, S.specsJson), bw(1134, S.specsJson), ["pcie", ""]),
  card(
    "T4",
    "t4",
    16,
    smi(15360, `${S.telegraf}tesla-t4.xml`),
    bw(320, "https://www.nvidia.com/en-us/data-center/tesla-t4/"),
  ),
  card("A10", "a10", 24, smi(23028, S.modal), bw(600, S.datasheets)),
  // AWS's variant of the A10; neither NVIDIA nor AWS publishes its bandwidth.
  card("A10G", "a10g", 24, smi(23028, `${S.telegraf}a10g.xml`), null),
  card("A30", "a30", 24, spec(24, S.gpumap), bw(933, S.gpumap)),
  card("A40", "a40", 48, spec(48, S.gpumap), bw(696, S.datasheets)),
  card("A100 PCIe 40GB", "a100", 40, smi(40960, S.refA100), bw(1555, S.specsJson), ["pcie"]),
  card(
    "A100 SXM4 40GB",
    "a100",
    40,
    smi(40960, `${GH}bottlerocket-os/bottlerocket-core-kit/pull/834`),
    bw(1555, S.specsJson),
    ["sxm", ""],
  ),
  card("A100 PCIe 80GB", "a100", 80, smi(81920, S.lium), bw(1935, S.specsJson), ["pcie"]),
  card(
    "A100 SXM4 80GB",
    "a100",
    80,
    smi(81920, `${S.telegraf}a100-sxm4-v12.xml`),
    bw(2039, S.specsJson),
    ["sxm", ""],
  ),
  // Data centre: Ada Lovelace, Hopper, Blackwell
  card("L4", "l4", 24, smi(23034, S.modal), bw(300, S.specsJson)),
  card("L40", "l40", 48, smi(46068, S.lium), bw(864, S.datasheets)),
  card(
    "L40S",
    "l40s",
    48,
    smi(46068, `${S.exporter}linux-x86_64__nvidia-l40s__595.80.txt`),
    bw(864, S.datasheets),
  ),
  card("H100 PCIe", "h100", 80, smi(81559, S.lium), bw(2048, S.gpumap), ["pcie"]),
  // nvidia-smi calls the SXM card "NVIDIA H100 80GB HBM3".
  card(
    "H100 SXM",
    "h100",
    80,
    smi(81559, `${S.exporter}linux-x86_64__nvidia-h100-80gb-hbm3__590.48.01.txt`),
    bw(3350, S.datasheets),
    ["sxm", "hbm", ""],
  ),
  card(
    "H100 NVL",
    "h100",
    94,
    smi(95830, `${GH}NVIDIA/gpu-admin-tools/issues/4`),
    bw(3917, S.gpumap),
    ["nvl"],
  ),
  // NVIDIA publishes no H20 datasheet; 96 GB HBM3 at 4.0 TB/s as published for the card.
  card(
    "H20",
    "h20",
    96,
    spec(96, "https://willitrunai.com/es/gpus/h20-96gb"),
    bw(4000, "https://willitrunai.com/es/gpus/h20-96gb"),
  ),
  card(
    "H200 SXM",
    "h200",
    141,
    smi(143771, `${S.exporter}linux-x86_64__nvidia-h200__590.48.01.txt`),
    bw(4800, S.datasheets),
    ["sxm", "hbm", ""],
  ),
  card("H200 NVL", "h200", 141, smi(143771, S.lium), bw(4800, S.gpumap), ["nvl"]),
  // nvidia-smi names the 96 GB superchip by its total with the Grace memory: "NVIDIA GH200 480GB".
  card(
    "GH200 96GB",
    "gh200",
    [96, 480],
    spec(96, `${S.nvSheets}gh200_specs.md`),
    bw(4000, `${S.nvSheets}gh200_specs.md`),
    ["hbm", ""],
  ),
  card(
    "GH200 144GB",
    "gh200",
    144,
    spec(144, `${S.nvSheets}gh200_specs.md`),
    bw(4900, `${S.nvSheets}gh200_specs.md`),
    ["hbm", ""],
  ),
  // HGX B200: 180 GB HBM3E at 7.7 TB/s per GPU (NVIDIA's Blackwell datasheet).
  card(
    "B200",
    "b200",
    [180, 192],
    smi(183359, S.lium),
    bw(7700, `${S.nvSheets}gb200_specs.md`),
    ["sxm", "hbm", ""],
  ),
];
