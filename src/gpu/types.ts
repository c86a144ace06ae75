/**
 * Facts about a host's GPUs as nvidia-smi reports them. Parsers produce these; the layout decision reads them.
 * A field nvidia-smi did not report (or a capture did not include) is null, never a guess.
 */

/** How two devices are connected, as `nvidia-smi topo -m` writes it (closest first). */
export type LinkType = "X" | "NV" | "PIX" | "PXB" | "PHB" | "NODE" | "SYS";

export interface TopoCell {
  readonly type: LinkType;
  /** Bonded NVLinks for NV# cells (NV4 → 4); null for PCIe paths. */
  readonly nvlinks: number | null;
  /** The text as printed (NV12, SYS, ...). */
  readonly raw: string;
}

export interface TopoGpu {
  readonly index: number;
  /** CPU Affinity column, e.g. "0-31,64-95"; null when blank or N/A. */
  readonly cpuAffinity: string | null;
  /** NUMA Affinity column; null when blank or N/A. */
  readonly numaNode: number | null;
}

export interface Topology {
  readonly gpus: readonly TopoGpu[];
  /** GPU-to-GPU block: links[i][j] for GPU i and GPU j (diagonal X). */
  readonly links: readonly (readonly TopoCell[])[];
  /** Non-GPU devices in the matrix (NIC0, mlx5_0, ...), which the layout ignores. */
  readonly otherDevices: readonly string[];
}

export interface QueryGpu {
  readonly index: number;
  readonly uuid: string | null;
  readonly name: string | null;
  readonly memoryMiB: number | null;
  readonly memoryUsedMiB: number | null;
  readonly busId: string | null;
  /** "8.6" style; null when the driver cannot report it (old nvidia-smi rejects compute_cap). */
  readonly computeCapability: string | null;
  /** The NVIDIA driver version ("580.65.06"); null when the capture does not include it. */
  readonly driverVersion: string | null;
}

export interface NvlinkGpu {
  readonly index: number;
  readonly name: string | null;
  readonly uuid: string | null;
  /** Per link: speed in GB/s, or null for a link nvidia-smi reports inactive. */
  readonly links: readonly { readonly link: number; readonly speedGBs: number | null }[];
  readonly activeLinks: number;
  /** Speed of its active links when they agree, else the slowest; null without active links. */
  readonly linkSpeedGBs: number | null;
}

/** One GPU as detection reports it, merged from every capture. */
export interface DetectedGpu extends QueryGpu {
  readonly numaNode: number | null;
  readonly cpuAffinity: string | null;
  readonly activeNvlinks: number | null;
}

export interface Detection {
  readonly gpus: readonly DetectedGpu[];
  /** GPU-to-GPU link matrix from `topo -m`; null without a topology capture. */
  readonly links: readonly (readonly LinkType[])[] | null;
  /** Pairs [a, b] (a < b, sorted) joined by NVLink. */
  readonly nvlinkPairs: readonly (readonly [number, number])[];
  /** Why nvidia-smi gave no GPUs (driver missing, ...), with the fix; null when it worked. */
  readonly problem: string | null;
  /** Things the reader should know (a field that could not be read, a fact inferred). */
  readonly notes: readonly string[];
}
