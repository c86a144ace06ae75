/**
 * The oldest Linux x86_64 NVIDIA driver for each CUDA release, from NVIDIA's CUDA Toolkit release notes,
 * section "CUDA Driver", table "CUDA Toolkit and Corresponding Driver Versions"
 * (https://docs.nvidia.com/cuda/cuda-toolkit-release-notes/index.html#cuda-driver; the 13.0 GA row also in
 * https://docs.nvidia.com/cuda/archive/13.0.0/cuda-toolkit-release-notes/index.html). Each CUDA version is its
 * GA row: a driver of that branch reports that CUDA version, which is what an image's
 * `NVIDIA_REQUIRE_CUDA=cuda>=X.Y` asks of the host.
 *
 * Not counted here: NVIDIA's forward compatibility package, which lets datacenter GPUs (never GeForce) run a
 * newer CUDA on some older long-term driver branches
 * (https://docs.nvidia.com/deploy/cuda-compatibility/). The table covers the CUDA versions vLLM's images
 * are built on (12.1 through 13.0).
 */

export interface CudaDriverFloor {
  /** CUDA major.minor, e.g. "13.0". */
  readonly cuda: string;
  /** The oldest Linux driver for that CUDA release's GA, e.g. "580.65.06". */
  readonly minDriver: string;
}

export const CUDA_DRIVER_FLOORS: readonly CudaDriverFloor[] = [
  { cuda: "12.1", minDriver: "530.30.02" },
  { cuda: "12.4", minDriver: "550.54.14" },
  { cuda: "12.6", minDriver: "560.28.03" },
  { cuda: "12.8", minDriver: "570.26" },
  { cuda: "12.9", minDriver: "575.51.03" },
  { cuda: "13.0", minDriver: "580.65.06" },
];

/** The oldest Linux driver for a CUDA major.minor, or null when the table does not list it. */
export function minimumDriver(cuda: string): string | null {
  return CUDA_DRIVER_FLOORS.find((f) => f.cuda === cuda)?.minDriver ?? null;
}

/**
 * Orders NVIDIA driver versions ("580.65.06", "570.26", "610.43.02") by their numeric parts:
 * negative when a is older than b, 0 when equal, positive when newer. A missing part counts as 0.
 */
export function compareDriverVersions(a: string, b: string): number {
  const pa = a.split(".").map(Number);
  const pb = b.split(".").map(Number);
  for (let i = 0; i < Math.max(pa.length, pb.length); i++) {
    const d = (pa[i] ?? 0) - (pb[i] ?? 0);
    if (d !== 0) return d;
  }
  return 0;
}
