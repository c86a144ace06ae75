/**
 * What a stack with hosts asks of each of its hosts, from the parsed stack config and its plan: per host,
 * the single-host needs cut to that host (its containers, images, published ports and, on a GPU host, its
 * own GPU section), and the model's replicas with the host, GPUs, address and port each is placed on.
 * The checks across hosts (./fleetChecks.ts) read these; nothing here runs a command.
 */
import { gpuHosts, replicaSize, type HostConfig } from "../config/hosts";
import type { StackConfig } from "../config/schema";
import type { StackPlan } from "../plan/types";
import { stackNeeds, type StackNeeds } from "./needs";

/**
 * One replica as the checks see it: a complete vLLM on GPUs of one host. A replica that spans hosts would
 * list one member per host; the per-replica checks (./fleetChecks.ts, REPLICA_CHECKS) take a replica and
 * the facts of every host, so a check for such a replica is one more entry there.
 */
export interface ReplicaNeed {
  /** `<host>-<slot>`, as the plan names it. */
  readonly id: string;
  /** The host it runs on. */
  readonly host: string;
  /** Host GPU IDs, as the stack file writes them. */
  readonly devices: readonly string[];
  /** The address the gateway dials and the port the replica publishes on it. */
  readonly address: string;
  readonly port: number;
  /** The port vLLM listens on inside its container, which the host's port publishes. */
  readonly internalPort: number;
  /** The replica's vLLM container (`<project>-<stack>-vllm-<id>`). */
  readonly container: string;
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

/** The needs of a stack with hosts; `plan` is its plan (which has `hosts` and `replicas`). */
export function fleetNeeds(config: StackConfig, plan: StackPlan): FleetNeeds {
  const hosts = config.hosts;
  if (hosts === undefined || plan.hosts === undefined || plan.replicas === undefined) {
    throw new Error("fleetNeeds takes the plan of a stack with hosts");
  }
  const gpuOf = new Map(gpuHosts(hosts).map(({ host, gpu }) => [host.name, gpu]));
  const replicas = plan.replicas.map((r): ReplicaNeed => {
    const vllm = plan.containers.find((c) => c.service === "vllm" && c.placement?.replica === r.id);
    const port = vllm?.ports[0];
    if (vllm === undefined || port === undefined) throw new Error(`the plan has no vLLM container for replica ${r.id}`);
    return {
      id: r.id,
      host: r.host,
      devices: [...r.devices],
      address: port.ip,
      port: port.external,
      internalPort: port.internal,
      container: vllm.name,
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
      ...(gpu !== undefined ? { replicaGpus: replicaSize(gpu) } : {}),
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
