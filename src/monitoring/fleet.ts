/**
 * Monitoring across hosts (docs/fleet.md "Monitoring across hosts"): one DCGM exporter on each GPU host,
 * publishing its port on the host's address, and Prometheus on the monitoring host (the gateway host,
 * src/config/hosts.ts) scraping every replica's vLLM and every GPU host's exporter at those addresses, each
 * target labelled with its `host` (and `replica`), so the rules and dashboards can break down by them.
 */
import { gpuHosts } from "../config/hosts";
import { physicalName, type PlanContext } from "../plan/common";
import type { ContainerSpec } from "../plan/types";
import { MONITORING_PORTS, MONITORING_SERVICES, type MonitoringFleet } from "./common";
import { dcgmExporterSpec } from "./dcgm";
import type { MonitoringConfig } from "../config/monitoringSchema";

/** A Prometheus target with the labels it gets (`host`, `replica`). */
export interface LabelledTarget {
  readonly target: string;
  readonly labels: Readonly<Record<string, string>>;
}

function hostPort(address: string, port: number): string {
  return `${address.includes(":") ? `[${address}]` : address}:${port}`;
}

/**
 * One exporter per GPU host, named by the host, watching the GPUs vLLM may use there; it publishes its
 * port on the host's address, where the monitoring host's Prometheus reaches it.
 */
export function planFleetDcgmExporters(ctx: PlanContext, m: MonitoringConfig, fleet: MonitoringFleet): ContainerSpec[] {
  const port = MONITORING_PORTS.dcgmExporter;
  return gpuHosts(fleet.hosts).map(({ host, gpu }) => ({
    ...dcgmExporterSpec(ctx, m, gpu.vllmDevices),
    name: physicalName(ctx, `${MONITORING_SERVICES.dcgmExporter}-${host.name}`),
    host: host.endpoint,
    placement: { host: host.name },
    ports: [{ internal: port, external: port, ip: host.address, protocol: "tcp" }],
  }));
}

/** Each GPU host's exporter at its address, labelled with the host. */
export function fleetDcgmTargets(fleet: MonitoringFleet): LabelledTarget[] {
  return gpuHosts(fleet.hosts).map(({ host }) => ({
    target: hostPort(host.address, MONITORING_PORTS.dcgmExporter),
    labels: { host: host.name },
  }));
}

/**
 * Each replica's vLLM at the address and port it publishes, labelled with its host and name. vLLM's
 * --api-key does not guard /metrics (VLLM_METRICS in src/facts/vllmMetrics.ts, held by a test), so
 * Prometheus sends no key.
 */
export function fleetVllmTargets(fleet: MonitoringFleet): LabelledTarget[] {
  return fleet.replicas.map((r) => ({ target: r.endpoint, labels: { host: r.host, replica: r.id } }));
}
