/**
 * What a stack with hosts asks of each of its hosts, from the parsed stack config and its plan: per host,
 * the single-host needs cut to that host (its containers, images, published ports and, on a GPU host, its
 * own GPU section), and the model's replicas with the host, GPUs, address and port each is placed on.
 * The checks across hosts (./fleetChecks.ts) read these; nothing here runs a command.
 */
import { gpuHosts, replicaSize, type HostConfig } from "../config/hosts";
import type { StackConfig } from "../config/schema";
import type { StackPlan } from "../plan/types";
import { VLLM_MULTI_NODE } from "../facts/vllmMultiNode";
import { HF_CACHE_VOLUME } from "../plan/vllm";
import { stackNeeds, type StackNeeds } from "./needs";

/**
 * One replica as the checks see it: a complete vLLM on GPUs of one host, or a replica across hosts (`span`),
 * seen through its head (the member that serves the API) with every member listed. The per-replica checks
 * (./fleetChecks.ts, REPLICA_CHECKS) take a replica and the facts of every host.
 */
export interface ReplicaNeed {
  /** `<host>-<slot>`, as the plan names it. */
  readonly id: string;
  /** The host it runs on (for a replica across hosts, its head's). */
  readonly host: string;
  /** Host GPU IDs, as the stack file writes them (for a replica across hosts, its head's). */
  readonly devices: readonly string[];
  /** The address the gateway dials and the port the replica publishes (or, on the host network, listens) on it. */
  readonly address: string;
  readonly port: number;
  /** The port vLLM listens on inside its container, which the host's port publishes. */
  readonly internalPort: number;
  /** The replica's vLLM container (`<project>-<stack>-vllm-<id>`; for a replica across hosts, its head's). */
  readonly container: string;
  /** A replica across hosts: what its members share and each member; absent for a replica on one host. */
  readonly span?: SpanNeed;
}

/** One member host of a replica across hosts. */
export interface SpanMemberNeed {
  /** vLLM's node rank; 0 is the head. */
  readonly rank: number;
  readonly host: string;
  /** The host's position in llmstack:hosts, its endpoint, address and interface. */
  readonly index: number;
  readonly endpoint: string;
  readonly address: string;
  readonly interface: string;
  readonly devices: readonly string[];
  /** The member's vLLM container. */
  readonly container: string;
}

export interface SpanNeed {
  /** By node rank: the head first. */
  readonly members: readonly SpanMemberNeed[];
  /** The head's torch.distributed store port (`--master-port`), on the head's address. */
  readonly masterPort: number;
  /** The vLLM image every member runs. */
  readonly image: string;
  /** The model cache volume on each member host, and the model and revision it holds. */
  readonly volume: string;
  readonly model: string;
  readonly revision: string;
}

export interface HostNeeds {
  readonly name: string;
  /** Its position in llmstack:hosts, for the keys messages name (`llmstack:hosts[1].gpu`). */
  readonly index: number;
  readonly endpoint: string;
  readonly address: string;
  readonly roles: readonly string[];
  /** Whether the host runs replicas (the gpu role with a GPU section). */
  readonly gpu: boolean;
  /**
   * The single-host needs cut to this host: its docker endpoint, containers, images and ports (without
   * the replicas' ports, which the reach check holds), its GPU section on a GPU host (mode cpu elsewhere),
   * its data volumes on the state host (the plan cut to the host's containers gives each).
   */
  readonly needs: StackNeeds;
}

export interface FleetNeeds {
  readonly stack: string;
  readonly stackFile: string;
  /** In the stack's order. */
  readonly hosts: readonly HostNeeds[];
  /** The host that runs the gateway (LiteLLM), which dials every replica. */
  readonly gateway: string;
  readonly replicas: readonly ReplicaNeed[];
}

/**
 * The GPUs the model's weights are split over for the replicas on a host: a replica across hosts splits them
 * over every member's GPUs. The fewest when the host has several replicas (the one that holds the most
 * weights per GPU); undefined when none is on the host.
 */
function replicaGpus(plan: StackPlan, host: string): number | undefined {
  const sizes = (plan.replicas ?? []).flatMap((r) =>
    r.members === undefined
      ? r.host === host
        ? [r.devices.length]
        : []
      : r.members.some((m) => m.host === host)
        ? [r.members.reduce((n, m) => n + m.devices.length, 0)]
        : [],
  );
  return sizes.length === 0 ? undefined : Math.min(...sizes);
}

function spanNeed(
  config: StackConfig,
  plan: StackPlan,
  id: string,
  members: NonNullable<NonNullable<StackPlan["replicas"]>[number]["members"]>,
): SpanNeed {
  const hosts = config.hosts ?? [];
  const containers = plan.containers.filter((c) => c.service === "vllm" && c.placement?.replica === id);
  const head = containers.find((c) => c.placement?.nodeRank === 0);
  const volume = plan.volumes.find((v) => v.key === HF_CACHE_VOLUME);
  if (head === undefined || volume === undefined) throw new Error(`the plan has no head or model cache for replica ${id}`);
  const masterPort = Number(head.command[head.command.indexOf(VLLM_MULTI_NODE.flags.masterPort) + 1]);
  if (!Number.isInteger(masterPort)) throw new Error(`the head of replica ${id} has no ${VLLM_MULTI_NODE.flags.masterPort}`);
  return {
    members: members.map((m): SpanMemberNeed => {
      const index = hosts.findIndex((h) => h.name === m.host);
      const h = hosts[index]!;
      const c = containers.find((x) => x.placement?.nodeRank === m.nodeRank)!;
      return {
        rank: m.nodeRank,
        host: m.host,
        index,
        endpoint: h.endpoint,
        address: h.address,
        interface: h.interface ?? "",
        devices: [...m.devices],
        container: c.name,
      };
    }),
    masterPort,
    image: head.image,
    volume: volume.name,
    model: config.model.name,
    revision: config.model.revision ?? "main",
  };
}

/** The needs of a stack with hosts; `plan` is its plan (which has `hosts` and `replicas`). */
export function fleetNeeds(config: StackConfig, plan: StackPlan): FleetNeeds {
  const hosts = config.hosts;
  if (hosts === undefined || plan.hosts === undefined || plan.replicas === undefined) {
    throw new Error("fleetNeeds takes the plan of a stack with hosts");
  }
  const gpuOf = new Map(gpuHosts(hosts).map(({ host, gpu }) => [host.name, gpu]));
  const replicas = plan.replicas.map((r): ReplicaNeed => {
    const vllm = plan.containers.find(
      (c) => c.service === "vllm" && c.placement?.replica === r.id && (c.placement.nodeRank ?? 0) === 0,
    );
    // A member of a replica across hosts is on the host's network: its head listens, nothing is published.
    const port = vllm?.ports[0] ?? vllm?.listens?.[0];
    if (vllm === undefined || port === undefined) throw new Error(`the plan has no vLLM container for replica ${r.id}`);
    return {
      id: r.id,
      host: r.host,
      devices: [...r.devices],
      address: port.ip,
      port: port.external,
      internalPort: port.internal,
      container: vllm.name,
      ...(r.members !== undefined ? { span: spanNeed(config, plan, r.id, r.members) } : {}),
    };
  });
  const replicaContainers = new Set(replicas.map((r) => r.container));
  const hostNeeds = hosts.map((h: HostConfig, index): HostNeeds => {
    const containers = plan.containers.filter((c) => c.placement?.host === h.name);
    const onHost: StackPlan = { ...plan, dockerHost: h.endpoint, containers };
    const gpu = gpuOf.get(h.name);
    // The host's own GPU section, so the GPU checks read its vllmDevices, NVLink and memory share.
    const base = stackNeeds({ ...config, gpu: gpu ?? { mode: "cpu", kvCacheSpaceGiB: 0 } }, onHost);
    const needs: StackNeeds = {
      ...base,
      gpuKey: `llmstack:hosts[${index}].gpu`,
      ...(gpu !== undefined ? { replicaGpus: replicaGpus(plan, h.name) ?? replicaSize(gpu) } : {}),
      ports: base.ports.filter((p) => !containers.some((c) => c.service === p.service && replicaContainers.has(c.name))),
    };
    return {
      name: h.name,
      index,
      endpoint: h.endpoint,
      address: h.address,
      roles: [...h.roles],
      gpu: gpu !== undefined,
      needs,
    };
  });
  const gateway = hosts.find((h) => h.roles.includes("gateway"))?.name;
  if (gateway === undefined) throw new Error("a stack with hosts has a gateway host (checked by the schema)");
  return { stack: plan.stack, stackFile: plan.stackFile, hosts: hostNeeds, gateway, replicas };
}
