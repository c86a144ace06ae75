/**
 * The plan of a stack with hosts: the model's replicas placed on the GPU hosts (./placement.ts), one
 * vLLM container per replica and one model download per GPU host, and every other container on the host
 * of its role. The host is a property of each container's placement, never a global: nothing here names
 * Docker beyond the endpoint a host is reached on, so another target can read the same placements.
 *
 * LiteLLM lists every replica by the address `plannedReplicas` gives it (src/plan/litellm.ts). A replica
 * across hosts (opt-in) is one vLLM container per member host (./span.ts). Monitoring across hosts is
 * planned in src/monitoring/fleet.ts. Not yet planned here (docs/fleet.md): the multimodal worker.
 */
import type { HostConfig, HostRole } from "../config/hosts";
import type { ServiceName } from "../config/services";
import { planCapacity, type CapacityBudget } from "./capacity";
import type { ModelLookup } from "../capacity";
import { INTERNAL_PORTS, physicalName, type PlanContext } from "./common";
import { placeReplicas, type Replica } from "./placement";
import type { ContainerSpec, PlannedHost, PlannedReplica, VolumeSpec } from "./types";
import { spanContainers } from "./span";
import { planVllm } from "./vllm";

/**
 * The role whose host runs each service; "replica" is a GPU host holding a replica. Typed over every
 * service, so a new service must say where it runs on a stack with hosts.
 */
export const SERVICE_ROLES: Readonly<Record<ServiceName, HostRole | "replica">> = {
  "model-download": "replica",
  vllm: "replica",
  litellm: "gateway",
  "vllm-router": "gateway",
  "gateway-tls": "gateway",
  "smoke-test": "gateway",
  "retrieval-proxy": "gateway",
  // Refused on a stack with hosts for now (src/config/hosts.ts); it would sit beside a replica.
  "multimodal-worker": "replica",
  postgres: "state",
  redis: "state",
  qdrant: "state",
  "object-store": "state",
  // The scheduled backup, beside the stores it reaches by name (src/plan/stack.ts places it).
  backup: "state",
  "backup-postgres": "state",
  "backup-redis": "state",
  // One per GPU host, on that host (src/monitoring/fleet.ts places them): it reads its own host's GPUs.
  "dcgm-exporter": "gpu",
  prometheus: "monitoring",
  alertmanager: "monitoring",
  grafana: "monitoring",
};

/**
 * Host port of a replica's vLLM on its host's address: vLLM's own port plus the replica's slot, so the
 * replicas of one host do not share a port. The gateway dials `address:port`.
 */
export function replicaPort(r: Pick<Replica, "slot">): number {
  return INTERNAL_PORTS.vllm + r.slot;
}

export interface FleetInput {
  readonly model?: ModelLookup;
}

export interface FleetReplicas {
  readonly replicas: readonly Replica[];
  readonly budgets: ReadonlyMap<string, CapacityBudget>;
}

/** The replicas, placed and each with its capacity budget; throws when they cannot be placed. */
export function fleetReplicas(ctx: PlanContext, hosts: readonly HostConfig[], input: FleetInput): FleetReplicas {
  const { config } = ctx;
  const budget = (gpu: Replica["gpu"]) => planCapacity({ ...config, gpu }, input.model);
  const replicas = placeReplicas({
    stackFile: ctx.stackFile,
    hosts,
    replicas: config.model.replicas ?? config.model.placement?.length ?? 1,
    ...(config.model.placement ? { pinned: config.model.placement } : {}),
    unfit: (gpu) => {
      const violations = budget(gpu).result?.violations ?? [];
      return violations.length === 0 ? null : violations.map((v) => v.message).join("; ");
    },
  });
  return { replicas, budgets: new Map(replicas.map((r) => [r.id, budget(r.gpu)])) };
}

/**
 * The stack's containers with vLLM and its download replaced by one vLLM per replica and one download per
 * GPU host that has a replica (replicas of one host share its model cache).
 */
export function replicaContainers(
  ctx: PlanContext,
  containers: readonly ContainerSpec[],
  hosts: readonly HostConfig[],
  replicas: readonly Replica[],
): ContainerSpec[] {
  const host = hostByName(hosts);
  const download = containers.find((c) => c.service === "model-download");
  const out: ContainerSpec[] = [];
  for (const c of containers) {
    if (c.service === "model-download" && download) {
      // Every host of a replica, each member host of one across hosts included, loads the model from its own cache.
      for (const name of new Set(replicas.flatMap((r) => r.members?.map((m) => m.host) ?? [r.host]))) {
        out.push({ ...download, name: physicalName(ctx, `model-download-${name}`), host: host(name).endpoint, placement: { host: name } });
      }
    } else if (c.service === "vllm") {
      for (const r of replicas) {
        if (r.members) {
          out.push(...spanContainers(ctx, { id: r.id, members: r.members }, hosts));
          continue;
        }
        const h = host(r.host);
        const vllm = planVllm({ ...ctx, config: { ...ctx.config, gpu: r.gpu } });
        out.push({
          ...vllm,
          name: physicalName(ctx, `vllm-${r.id}`),
          host: h.endpoint,
          placement: { host: r.host, replica: r.id },
          ports: [{ internal: INTERNAL_PORTS.vllm, external: replicaPort(r), ip: h.address, protocol: "tcp" }],
        });
      }
    } else {
      out.push(c);
    }
  }
  return out;
}

/** Every container not yet placed, on the host of its service's role (the gateway, state, monitoring host). */
export function placeOnHosts(containers: readonly ContainerSpec[], hosts: readonly HostConfig[]): ContainerSpec[] {
  return containers.map((c) => {
    if (c.placement) return c;
    const role = SERVICE_ROLES[c.service];
    const h = hosts.find((x) => x.roles.includes(role === "replica" ? "gpu" : role));
    if (h === undefined) throw new Error(`no host has the ${role} role for ${c.service} (checked by the schema)`);
    return { ...c, host: h.endpoint, placement: { host: h.name } };
  });
}

/** Each volume on the hosts of the containers that mount it (the model cache: every GPU host with a replica). */
export function placeVolumes(volumes: readonly VolumeSpec[], containers: readonly ContainerSpec[]): VolumeSpec[] {
  return volumes.flatMap((v) => {
    const on = [...new Set(containers.filter((c) => c.volumes.some((m) => m.volume === v.key)).map((c) => c.placement!.host))];
    return on.map((host) => ({ ...v, host }));
  });
}

export function plannedHosts(hosts: readonly HostConfig[]): PlannedHost[] {
  return hosts.map((h) => ({
    name: h.name,
    endpoint: h.endpoint,
    address: h.address,
    ...(h.interface !== undefined ? { interface: h.interface } : {}),
    roles: [...h.roles],
    ...(h.hostKey !== undefined ? { hostKey: h.hostKey } : {}),
  }));
}

export function plannedReplicas(r: FleetReplicas, hosts: readonly HostConfig[]): PlannedReplica[] {
  const host = hostByName(hosts);
  return r.replicas.map((x) => ({
    id: x.id,
    host: x.host,
    devices: [...x.devices],
    tensorParallelSize: x.gpu.tensorParallelSize,
    pipelineParallelSize: x.gpu.pipelineParallelSize,
    endpoint: `${bracketed(host(x.host).address)}:${replicaPort(x)}`,
    capacity: r.budgets.get(x.id)!,
    ...(x.members ? { members: x.members.map((m) => ({ host: m.host, devices: [...m.devices], nodeRank: m.rank })) } : {}),
  }));
}

function bracketed(address: string): string {
  return address.includes(":") ? `[${address}]` : address;
}

function hostByName(hosts: readonly HostConfig[]): (name: string) => HostConfig {
  return (name) => {
    const h = hosts.find((x) => x.name === name);
    if (h === undefined) throw new Error(`no host named ${name} (checked by the schema)`);
    return h;
  };
}

