/**
 * How a container sees the GPUs it is given. Docker's device request takes host IDs; inside the
 * container those GPUs are renumbered from 0, so CUDA_VISIBLE_DEVICES uses container indices while
 * NVIDIA_VISIBLE_DEVICES repeats the host IDs (the NVIDIA runtime also sets it from the request, and
 * the two must agree). CUDA_DEVICE_ORDER=PCI_BUS_ID makes CUDA's order match nvidia-smi's.
 * A device request with only the "gpu" capability leaves NVIDIA_DRIVER_CAPABILITIES to the image, and
 * an image not built on nvidia/cuda then gets the runtime's default ("utility": no libcuda), so the
 * capabilities CUDA programs need are set here.
 * https://docs.nvidia.com/datacenter/cloud-native/container-toolkit/latest/docker-specialized.html
 */
import type { DeviceRequest } from "./types";

export interface GpuView {
  readonly deviceRequests: readonly DeviceRequest[];
  readonly env: Readonly<Record<string, string>>;
  readonly cudaVisibleDevices: string;
}

export function gpuView(hostDevices: readonly string[]): GpuView {
  const cudaVisibleDevices = hostDevices.map((_, i) => String(i)).join(",");
  return {
    deviceRequests: [{ driver: "nvidia", deviceIds: [...hostDevices], capabilities: ["gpu"] }],
    cudaVisibleDevices,
    env: {
      CUDA_DEVICE_ORDER: "PCI_BUS_ID",
      CUDA_VISIBLE_DEVICES: cudaVisibleDevices,
      NVIDIA_VISIBLE_DEVICES: hostDevices.join(","),
      NVIDIA_DRIVER_CAPABILITIES: "compute,utility",
    },
  };
}
