/**
 * NVIDIA's DCGM exporter: GPU utilisation, memory, temperature, power and NVLink traffic for Prometheus.
 * https://docs.nvidia.com/datacenter/dcgm/latest/gpu-telemetry/dcgm-exporter.html
 *
 * It watches every GPU of the stack but allocates no GPU memory of its own worth budgeting: it holds no
 * CUDA context, it reads counters through NVML. So its device request asks for the `utility` driver
 * capability (NVML) on every stack GPU, and it is listed in GPU_MEMORY_FREE_SERVICES so the GPU budget
 * (the worker fraction rule) and the policies count no share for it.
 *
 * NVLink: DCGM_FI_DEV_NVLINK_BANDWIDTH_TOTAL reads 0 (or is absent) on GeForce cards before Blackwell,
 * including NVLink-bridged RTX 3090s: NVML does not report NVLink counters on them. Datacenter cards
 * (A100, H100, ...) report it. The GPU dashboard shows the panel either way and says so.
 */
import type { PlanContext } from "../plan/common";
import { baseContainer, healthcheck, physicalName } from "../plan/common";
import type { ContainerSpec, ServiceName } from "../plan/types";
import { MONITORING_MEMORY_MIB, MONITORING_PORTS, MONITORING_SERVICES, PATHS, stackGpus } from "./common";
import type { MonitoringConfig } from "../config/monitoringSchema";
import { GPU_WATCHERS } from "../config/services";

/**
 * Services that see GPUs but take no share of their memory (the `gpu: "watch"` role of the service table,
 * src/config/services.ts): the budget and policies skip them.
 */
export const GPU_MEMORY_FREE_SERVICES: ReadonlySet<ServiceName> = new Set<ServiceName>(GPU_WATCHERS);

/** Whether a container's GPUs count against the GPU memory budget. */
export function takesGpuMemory(spec: Pick<ContainerSpec, "service" | "deviceRequests">): boolean {
  return spec.deviceRequests.length > 0 && !GPU_MEMORY_FREE_SERVICES.has(spec.service);
}

/**
 * The DCGM fields the exporter collects: the dashboards and alert rules use these names and nothing
 * else. Format: https://github.com/NVIDIA/dcgm-exporter#changing-metrics (field, Prometheus type, help).
 */
export const DCGM_COUNTERS = [
  ["DCGM_FI_DEV_GPU_UTIL", "gauge", "GPU utilization (in %)."],
  ["DCGM_FI_DEV_MEM_COPY_UTIL", "gauge", "Memory utilization (in %)."],
  ["DCGM_FI_DEV_FB_USED", "gauge", "Framebuffer memory used (in MiB)."],
  ["DCGM_FI_DEV_FB_FREE", "gauge", "Framebuffer memory free (in MiB)."],
  ["DCGM_FI_DEV_GPU_TEMP", "gauge", "GPU temperature (in C)."],
  ["DCGM_FI_DEV_POWER_USAGE", "gauge", "Power draw (in W)."],
  ["DCGM_FI_DEV_SM_CLOCK", "gauge", "SM clock frequency (in MHz)."],
  ["DCGM_FI_DEV_XID_ERRORS", "gauge", "Value of the last XID error encountered."],
  ["DCGM_FI_DEV_NVLINK_BANDWIDTH_TOTAL", "counter", "Total number of NVLink bandwidth counters for all lanes."],
] as const;
export type DcgmField = (typeof DCGM_COUNTERS)[number][0];

export function dcgmCountersCsv(): string {
  return `# DCGM fields collected for the llmstack dashboards and alerts.\n${DCGM_COUNTERS.map((c) => c.join(", ")).join("\n")}\n`;
}

/** The exporter, or nothing on a CPU host. */
export function planDcgmExporter(ctx: PlanContext, m: MonitoringConfig): ContainerSpec | undefined {
  const gpus = stackGpus(ctx);
  if (gpus.length === 0) return undefined;
  return dcgmExporterSpec(ctx, m, gpus);
}

/** The exporter watching the given host GPUs (one host's). */
export function dcgmExporterSpec(ctx: PlanContext, m: MonitoringConfig, gpus: readonly string[]): ContainerSpec {
  return {
    ...baseContainer(ctx),
    service: MONITORING_SERVICES.dcgmExporter,
    name: physicalName(ctx, MONITORING_SERVICES.dcgmExporter),
    image: m.images.dcgmExporter,
    command: ["-f", PATHS.dcgmCounters, "-a", `:${MONITORING_PORTS.dcgmExporter}`],
    env: {},
    // NVML lives in the driver's `utility` capability; no `compute`, so no CUDA context on any GPU.
    deviceRequests: [{ driver: "nvidia", deviceIds: [...gpus], capabilities: ["gpu", "utility"] }],
    uploads: [{ file: PATHS.dcgmCounters, content: dcgmCountersCsv(), permissions: "0444" }],
    memory: MONITORING_MEMORY_MIB.dcgmExporter,
    // The image (Ubuntu) has neither curl nor wget, but has bash: the probe opens the metrics port.
    healthcheck: healthcheck(
      ["CMD", "bash", "-c", `exec 3<>/dev/tcp/127.0.0.1/${MONITORING_PORTS.dcgmExporter}`],
      60,
    ),
  };
}
