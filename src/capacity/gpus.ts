/**
 * GPU facts: total memory as nvidia-smi reports it (`memory.total [MiB]`) and peak memory bandwidth
 * (GB/s, NVIDIA's datasheet figure) for the decode-speed bound. A raw MiB value works too.
 */

export interface GpuFacts {
  readonly name: string;
  readonly aliases: readonly string[];
  /** nvidia-smi memory.total, MiB. */
  readonly memoryMiB: number;
  /** Peak memory bandwidth, GB/s (10^9 bytes per second). */
  readonly bandwidthGBs: number;
}

export const GPU_CATALOG: readonly GpuFacts[] = [
  // 24576 MiB: /work/shared/reference/nvidia-smi/smi-2x3090-driver610-kmd.txt; 936 GB/s:
  // https://www.nvidia.com/en-us/geforce/graphics-cards/30-series/rtx-3090-3090ti/
  { name: "RTX 3090", aliases: ["3090", "rtx3090", "geforce rtx 3090"], memoryMiB: 24576, bandwidthGBs: 936 },
  // 24564 MiB: nvidia-smi in https://github.com/vllm-project/vllm/issues/7553; 1008 GB/s:
  // https://www.nvidia.com/en-us/geforce/graphics-cards/40-series/rtx-4090/
  { name: "RTX 4090", aliases: ["4090", "rtx4090", "geforce rtx 4090"], memoryMiB: 24564, bandwidthGBs: 1008 },
  // 32607 MiB: nvidia-smi in https://github.com/vllm-project/vllm/issues/34076 (5090 D, same memory);
  // 1792 GB/s: https://www.nvidia.com/en-us/geforce/graphics-cards/50-series/rtx-5090/
  { name: "RTX 5090", aliases: ["5090", "rtx5090", "geforce rtx 5090"], memoryMiB: 32607, bandwidthGBs: 1792 },
  // 40960 MiB: /work/shared/reference/nvidia-smi/query-2xa100-pcie-units.csv; 1555 GB/s:
  // https://www.nvidia.com/content/dam/en-zz/Solutions/Data-Center/a100/pdf/nvidia-a100-datasheet-us-nvidia-1758950-r4-web.pdf
  { name: "A100 40GB", aliases: ["a100-40gb", "a100-pcie-40gb", "a100 40gb"], memoryMiB: 40960, bandwidthGBs: 1555 },
  // 81920 MiB (80 GiB HBM2e), 2039 GB/s (SXM): same A100 datasheet
  { name: "A100 80GB", aliases: ["a100", "a100-80gb", "a100-sxm4-80gb", "a100 80gb"], memoryMiB: 81920, bandwidthGBs: 2039 },
  // 81559 MiB: nvidia-smi of H100 80GB HBM3; 3350 GB/s (SXM): https://www.nvidia.com/en-us/data-center/h100/
  { name: "H100 80GB", aliases: ["h100", "h100-sxm", "h100 80gb", "h100-80gb"], memoryMiB: 81559, bandwidthGBs: 3350 },
  // 143771 MiB: nvidia-smi of H200 141 GB; 4800 GB/s: https://www.nvidia.com/en-us/data-center/h200/
  { name: "H200", aliases: ["h200", "h200-141gb"], memoryMiB: 143771, bandwidthGBs: 4800 },
  // 46068 MiB (48 GB GDDR6 with ECC); 864 GB/s: https://www.nvidia.com/en-us/data-center/l40s/
  { name: "L40S", aliases: ["l40s"], memoryMiB: 46068, bandwidthGBs: 864 },
  // 49140 MiB; 768 GB/s: https://www.nvidia.com/en-us/design-visualization/rtx-a6000/
  { name: "RTX A6000", aliases: ["a6000", "rtx-a6000"], memoryMiB: 49140, bandwidthGBs: 768 },
  // 23028 MiB; 600 GB/s: https://www.nvidia.com/en-us/data-center/products/a10-gpu/
  { name: "A10", aliases: ["a10", "a10g"], memoryMiB: 23028, bandwidthGBs: 600 },
  // 23034 MiB; 300 GB/s: https://www.nvidia.com/en-us/data-center/l4/
  { name: "L4", aliases: ["l4"], memoryMiB: 23034, bandwidthGBs: 300 },
  // 15360 MiB; 320 GB/s: https://www.nvidia.com/en-us/data-center/tesla-t4/
  { name: "T4", aliases: ["t4", "tesla-t4"], memoryMiB: 15360, bandwidthGBs: 320 },
];

const normalise = (s: string) => s.trim().toLowerCase().replace(/^nvidia\s+/, "").replace(/[\s_]+/g, " ");

/** The catalog entry for a name or alias (case-insensitive); a clear error lists the known names. */
export function lookupGpu(name: string): GpuFacts {
  const key = normalise(name);
  const found = GPU_CATALOG.find(
    (g) => normalise(g.name) === key || g.aliases.some((a) => normalise(a) === key),
  );
  if (found !== undefined) return found;
  throw new Error(
    `unknown GPU "${name}"; the catalog knows ${GPU_CATALOG.map((g) => g.name).join(", ")}. ` +
      "Pass the card's memory in MiB instead (nvidia-smi --query-gpu=memory.total --format=csv).",
  );
}

