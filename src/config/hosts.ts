/**
 * `llmstack:hosts`: the machines of a stack that outgrew one Docker host. Each host has a name, the
 * endpoint its Docker daemon answers on, the address its peers and the gateway dial, the network
 * interface NCCL and Gloo use, its roles, and (for a GPU host) the same GPU section `configure-gpu`
 * writes for a single-host stack. A stack without `hosts` is the single-host stack of `llmstack:dockerHost`
 * and `llmstack:gpu`.
 *
 * Nothing here is Docker-only but the endpoint: a host is a name, an address, roles and GPUs, so another
 * target (Kubernetes nodes) can read the same list.
 */
import { z } from "zod";
import { gpuId, gpuSchema, utilisationAllowed, utilisationRange, type Environment, type GpuConfig } from "./gpuSchema";
import { DOCKER_HOST } from "./names";

export const HOST_ROLES = ["gpu", "gateway", "state", "monitoring"] as const;

/** The network a host reaches its peers on; a host that does not say is on plain Ethernet. */
export const HOST_FABRICS = ["ethernet", "infiniband", "roce"] as const;
export type HostFabric = (typeof HOST_FABRICS)[number];

/** A host's fabric: `ethernet` unless its entry says otherwise. */
export function hostFabric(h: Pick<HostConfig, "fabric">): HostFabric {
  return h.fabric ?? "ethernet";
}
export type HostRole = (typeof HOST_ROLES)[number];

/**
 * Roles exactly one host holds: the gateway (LiteLLM and its TLS proxy) and the state (Postgres, Redis,
 * Qdrant, the object store). Monitoring is at most one host; GPU is one or more.
 */
const ONE_HOST_ROLES: readonly HostRole[] = ["gateway", "state"];

/** A host's name: part of container, volume and resource names, so short, lowercase and DNS-safe. */
export const hostName = z.string().regex(/^[a-z]([a-z0-9-]{0,30}[a-z0-9])?$/, {
  message:
    'must be a lowercase name such as "gpu-a": letters, digits and "-", starting with a letter, at most 32 ' +
    "characters (it becomes part of container and resource names)",
});

/**
 * A host key as `ssh-keyscan` prints it after the host name (`ssh-ed25519 AAAA...`): the key ssh must see,
 * so a changed or spoofed host is refused instead of trusted on first use.
 */
export const SSH_HOST_KEY =
  /^(ssh-ed25519|ssh-rsa|ecdsa-sha2-nistp(256|384|521)|sk-ssh-ed25519@openssh\.com|sk-ecdsa-sha2-nistp256@openssh\.com) [A-Za-z0-9+/]+={0,2}$/;

/**
 * A Linux network interface name: at most 15 characters (IFNAMSIZ is 16 with the terminating NUL,
 * include/uapi/linux/if.h), no "/" or whitespace.
 */
const interfaceName = z.string().regex(/^[A-Za-z0-9_.:-]{1,15}$/, {
  message: 'must be a network interface name such as "eth0" or "enp65s0f0" (at most 15 characters)',
});

/**
 * A known_hosts line for an ssh:// endpoint: the host as ssh names it (`[host]:port` off port 22), then
 * the key (sshd(8), SSH_KNOWN_HOSTS FILE FORMAT).
 */
export function knownHostsLine(endpoint: string, hostKey: string): string {
  const { host, port } = sshEndpoint(endpoint);
  return `${port === undefined || port === "22" ? host : `[${host}]:${port}`} ${hostKey}`;
}

/** The parts of an `ssh://user@host[:port]` endpoint: `destination` is what ssh takes (`user@host`). */
export function sshEndpoint(endpoint: string): { destination: string; host: string; port?: string } {
  const m = /^ssh:\/\/([^@]+)@([^:]+)(?::(\d+))?$/.exec(endpoint);
  if (!m) throw new Error(`${endpoint} is not an ssh://user@host[:port] endpoint`);
  const [, user, host, port] = m;
  return { destination: `${user}@${host}`, host: host!, ...(port === undefined ? {} : { port }) };
}

export const hostSchema = z.strictObject({
  /** The host's name in this stack: placements, replicas and resource names use it. */
  name: hostName.describe("the host's name in this stack (placements, replica and resource names use it)"),
  /** The Docker daemon: `ssh://user@host[:port]` (with hostKey), `tcp://host:2376` (TLS) or `unix://...`. */
  endpoint: z
    .string()
    .regex(DOCKER_HOST, {
      message:
        'must be "ssh://user@host", "tcp://host:2376" or "unix:///var/run/docker.sock" ' +
        '(user and host may not start with "-"; no control characters)',
    })
    .describe("the Docker daemon: ssh://user@host (needs hostKey), tcp://host:2376 (TLS from the dockerTls secret) or unix://"),
  /** For an ssh endpoint: the host key ssh must see (`ssh-keyscan -t ed25519 HOST`, without the host name). */
  hostKey: z
    .string()
    .regex(SSH_HOST_KEY, {
      message: 'must be a host key as ssh-keyscan prints it after the host name, e.g. "ssh-ed25519 AAAAC3Nz..."',
    })
    .optional()
    .describe("for an ssh endpoint (required there): the host key ssh must see, as `ssh-keyscan -t ed25519 HOST` prints it after the host"),
  /** The address peers and the gateway dial; replicas publish their port on it. */
  address: z
    .union([z.ipv4(), z.ipv6()], {
      message: "must be an IPv4 or IPv6 address such as 10.0.0.11, one this host owns (not a host name)",
    })
    .describe("the IP address peers and the gateway dial (an address this host owns)"),
  /** The network interface that owns `address`, for NCCL_SOCKET_IFNAME and GLOO_SOCKET_IFNAME. */
  interface: interfaceName
    .optional()
    .describe("the network interface that owns address (NCCL_SOCKET_IFNAME, GLOO_SOCKET_IFNAME for a model across hosts)"),
  /**
   * The network between this host and its peers, for a model across hosts: `ethernet` (the default when
   * left out), `infiniband` or `roce`. Tensor parallelism across hosts needs InfiniBand or RoCE; pipeline
   * parallelism runs over Ethernet, with a warning.
   */
  fabric: z
    .enum(HOST_FABRICS)
    .optional()
    .describe("the network to its peers for a model across hosts: ethernet (default), infiniband or roce; tensor parallelism across hosts needs infiniband or roce"),
  /** What the host runs: gpu (vLLM replicas), gateway, state (the data stores), monitoring. */
  roles: z
    .array(z.enum(HOST_ROLES))
    .min(1, { message: "must list at least one role" })
    .describe("gpu: vLLM replicas; gateway: LiteLLM and its TLS proxy (one host); state: the data stores (the gateway host); monitoring (at most one host, the gateway host)"),
  /** A GPU host's GPU section, the shape `llmstack configure-gpu` writes for `llmstack:gpu`. */
  gpu: gpuSchema
    .optional()
    .describe("a GPU host's GPU section, as llmstack configure-gpu writes llmstack:gpu; each replica takes tensorParallelSize × pipelineParallelSize of its vllmDevices"),
});
export type HostConfig = z.infer<typeof hostSchema>;
export type GpuHostSection = Exclude<GpuConfig, { mode: "cpu" }>;

export const hostsSchema = z
  .array(hostSchema)
  .min(1, { message: "must list at least one host, or be left out for a single-host stack" })
  .describe("the stack's hosts (a fleet); leave out for one Docker host (llmstack:dockerHost, llmstack:gpu)");

/** A pinned replica: the host and the GPUs it runs on. */
export const replicaPinSchema = z.strictObject({
  host: hostName.describe("the GPU host the replica runs on"),
  devices: z
    .array(gpuId)
    .min(1, { message: "must list at least one GPU" })
    .describe("the host's GPUs the replica takes (tensorParallelSize × pipelineParallelSize of its vllmDevices)"),
});
export type ReplicaPin = z.infer<typeof replicaPinSchema>;

/** How a replica across hosts splits the model between its hosts (docs/fleet.md "One model across hosts"). */
export const SPAN_SPLITS = ["pipeline", "tensor"] as const;

/**
 * One replica across several GPU hosts (opt-in, for a model no single host holds): one member per host,
 * each a pin of that host's GPUs. The first member is node rank 0, the head that serves the API.
 */
export const replicaSpanSchema = z.strictObject({
  span: z
    .array(replicaPinSchema)
    .min(2, { message: "must list at least two members (one per host); a replica on one host is a plain {host, devices} pin" })
    .max(64)
    .describe("the replica's members, one per GPU host, each {host, devices}; the first is the head (node rank 0) that serves the API"),
  across: z
    .enum(SPAN_SPLITS)
    .optional()
    .describe("what crosses the hosts: pipeline (default: pipeline parallel across hosts, tensor parallel within each) or tensor (needs fabric infiniband or roce on every member host)"),
});
export type ReplicaSpan = z.infer<typeof replicaSpanSchema>;

/** An entry of `model.placement`: a replica pinned to one host, or one across hosts. */
export const replicaPlacementSchema = z.union([replicaPinSchema, replicaSpanSchema]);
export type ReplicaPlacement = z.infer<typeof replicaPlacementSchema>;

export function isSpan(p: ReplicaPlacement): p is ReplicaSpan {
  return "span" in p;
}

/** One issue of the hosts' rules: the path under the stack config and the sentence. */
export interface HostIssue {
  readonly path: (string | number)[];
  readonly message: string;
}

/** What the hosts' rules need of the rest of the stack config. */
export interface FleetFacts {
  readonly environment: Environment;
  readonly hosts: readonly HostConfig[];
  /** Whether the stack file sets llmstack:gpu / llmstack:dockerHost (a fleet takes both from hosts). */
  readonly gpuSet: boolean;
  readonly dockerHostSet: boolean;
  readonly monitoringEnabled: boolean;
  readonly workerEnabled: boolean;
}

/** The GPU section of every host with the gpu role, in stack order. */
export function gpuHosts(hosts: readonly HostConfig[]): { host: HostConfig; gpu: GpuHostSection }[] {
  return hosts.flatMap((host) =>
    host.roles.includes("gpu") && host.gpu !== undefined && host.gpu.mode !== "cpu" ? [{ host, gpu: host.gpu }] : [],
  );
}

/** GPUs one replica on this host takes: tensor parallel × pipeline parallel. */
export function replicaSize(gpu: GpuHostSection): number {
  return gpu.tensorParallelSize * gpu.pipelineParallelSize;
}

/** Every rule across hosts, one issue each; empty when the list is sound. */
export function hostIssues(f: FleetFacts): HostIssue[] {
  const out: HostIssue[] = [];
  const at = (i: number, ...rest: (string | number)[]) => ["hosts", i, ...rest];
  if (f.gpuSet) {
    out.push({
      path: ["gpu"],
      message: "a stack with hosts keeps each GPU host's section under hosts[].gpu; move llmstack:gpu there and remove it",
    });
  }
  if (f.dockerHostSet) {
    out.push({
      path: ["dockerHost"],
      message: "a stack with hosts takes each Docker endpoint from hosts[].endpoint; remove llmstack:dockerHost",
    });
  }
  if (f.workerEnabled) {
    out.push({
      path: ["images", "multimodalWorker"],
      message:
        "the multimodal worker is not yet placed on a stack with hosts; remove images.multimodalWorker for now (docs/fleet.md)",
    });
  }
  const seen = (key: (h: HostConfig) => string, what: string, fix: string): void => {
    const first = new Map<string, number>();
    f.hosts.forEach((h, i) => {
      const k = key(h);
      const j = first.get(k);
      if (j === undefined) first.set(k, i);
      else out.push({ path: at(i), message: `hosts[${j}] and hosts[${i}] have the same ${what} "${k}"; ${fix}` });
    });
  };
  seen((h) => h.name, "name", "give each host its own name");
  seen((h) => h.endpoint, "endpoint", "one Docker daemon is one host: merge their roles into one entry");
  seen((h) => h.address, "address", "give each host the address it owns");
  const local = f.hosts.filter((h) => h.endpoint.startsWith("unix://"));
  if (local.length > 1) {
    out.push({
      path: ["hosts"],
      message: `${local.map((h) => h.name).join(" and ")} both use a unix:// socket, which reaches only the machine running Pulumi; reach the others over ssh:// or tcp://`,
    });
  }
  for (const role of ONE_HOST_ROLES) {
    const holders = f.hosts.filter((h) => h.roles.includes(role));
    if (holders.length === 0) {
      out.push({ path: ["hosts"], message: `no host has the ${role} role; add "${role}" to the roles of one host` });
    } else if (holders.length > 1) {
      out.push({
        path: ["hosts"],
        message: `${holders.map((h) => h.name).join(", ")} all have the ${role} role; exactly one host has it: keep it on one`,
      });
    }
  }
  const monitors = f.hosts.filter((h) => h.roles.includes("monitoring"));
  if (monitors.length > 1) {
    out.push({
      path: ["hosts"],
      message: `${monitors.map((h) => h.name).join(", ")} all have the monitoring role; at most one host has it: keep it on one`,
    });
  }
  const gatewayHost = f.hosts.filter((h) => h.roles.includes("gateway"));
  const stateHost = f.hosts.filter((h) => h.roles.includes("state"));
  if (gatewayHost.length === 1 && stateHost.length === 1 && gatewayHost[0] !== stateHost[0]) {
    // LiteLLM and the retrieval proxy reach Postgres, Redis, Qdrant and the object store by name on the
    // stack's Docker network, which is one host's; the stores publish no port for another host to dial.
    out.push({
      path: ["hosts"],
      message:
        `${stateHost[0]!.name} has the state role, but the gateway runs on ${gatewayHost[0]!.name}, and LiteLLM reaches the data ` +
        `stores on the gateway host's Docker network; move the state role to ${gatewayHost[0]!.name}`,
    });
  }
  if (f.monitoringEnabled) out.push(...monitoringHostIssues(f.hosts));
  if (!f.hosts.some((h) => h.roles.includes("gpu"))) {
    out.push({ path: ["hosts"], message: 'no host has the gpu role; add "gpu" and a gpu section to the host that runs vLLM' });
  }
  f.hosts.forEach((h, i) => out.push(...oneHostIssues(h, i, f.environment)));
  return out;
}

/**
 * Monitoring on a stack with hosts: Prometheus, Alertmanager and Grafana run on the monitoring host, which
 * must be the gateway host: Prometheus scrapes LiteLLM over that host's Docker network (LiteLLM publishes
 * no port), and the gateway's TLS proxy may serve Grafana. The replicas and the GPU hosts' DCGM exporters
 * it scrapes at their addresses.
 */
function monitoringHostIssues(hosts: readonly HostConfig[]): HostIssue[] {
  const gateway = hosts.find((h) => h.roles.includes("gateway"));
  const monitor = hosts.find((h) => h.roles.includes("monitoring"));
  if (gateway === undefined) return [];
  if (monitor === undefined) {
    return [
      {
        path: ["hosts"],
        message: `monitoring.enabled is true, but no host has the monitoring role; add "monitoring" to the roles of the gateway host ${gateway.name}`,
      },
    ];
  }
  if (monitor.name !== gateway.name) {
    return [
      {
        path: ["hosts"],
        message:
          `${monitor.name} has the monitoring role, but the gateway runs on ${gateway.name}, and Prometheus scrapes LiteLLM ` +
          `over the gateway host's network; move the monitoring role to ${gateway.name}`,
      },
    ];
  }
  return [];
}

function oneHostIssues(h: HostConfig, i: number, env: Environment): HostIssue[] {
  const out: HostIssue[] = [];
  const at = (...rest: (string | number)[]) => ["hosts", i, ...rest];
  const dup = h.roles.find((r, k) => h.roles.indexOf(r) !== k);
  if (dup !== undefined) out.push({ path: at("roles"), message: `lists the role ${dup} twice; list it once` });
  if (h.endpoint.startsWith("ssh://") && h.hostKey === undefined) {
    const host = h.endpoint.replace(/^ssh:\/\/[^@]*@/, "").replace(/:\d+$/, "");
    out.push({
      path: at("hostKey"),
      message:
        `${h.name} is reached over ssh, and ssh must know its host key up front (nothing is trusted on first use); ` +
        `add hostKey: the key "ssh-keyscan -t ed25519 ${host}" prints after the host name, checked against the host's own ` +
        "/etc/ssh/ssh_host_ed25519_key.pub",
    });
  }
  if (!h.endpoint.startsWith("ssh://") && h.hostKey !== undefined) {
    out.push({ path: at("hostKey"), message: `${h.name} is not reached over ssh (${h.endpoint}); remove hostKey` });
  }
  const gpuRole = h.roles.includes("gpu");
  if (gpuRole && h.gpu === undefined) {
    out.push({
      path: at("gpu"),
      message: `${h.name} has the gpu role but no gpu section; add one (the shape llmstack configure-gpu writes for llmstack:gpu)`,
    });
  }
  if (!gpuRole && h.gpu !== undefined) {
    out.push({ path: at("gpu"), message: `${h.name} has a gpu section but not the gpu role; add "gpu" to its roles or remove the section` });
  }
  if (!gpuRole || h.gpu === undefined) return out;
  const g = h.gpu;
  if (g.mode === "cpu") {
    out.push({ path: at("gpu", "mode"), message: `${h.name} has the gpu role, so its mode is single or multi, not cpu` });
    return out;
  }
  const devices = g.vllmDevices;
  const twice = devices.find((d, k) => devices.indexOf(d) !== k);
  if (twice !== undefined) {
    out.push({ path: at("gpu", "vllmDevices"), message: `lists GPU ${twice} twice; every GPU is used at most once` });
  }
  const size = replicaSize(g);
  if (devices.length % size !== 0) {
    out.push({
      path: at("gpu", "tensorParallelSize"),
      message:
        `each replica on ${h.name} takes tensorParallelSize ${g.tensorParallelSize} × pipelineParallelSize ${g.pipelineParallelSize} = ${size} GPU(s), ` +
        `which does not divide the ${devices.length} GPU(s) of vllmDevices; list a multiple of ${size} GPUs or change tensorParallelSize`,
    });
  }
  if (g.nvlink && devices.length < 2) {
    out.push({ path: at("gpu", "nvlink"), message: `${h.name} gives vLLM one GPU, so there is no NVLink between its GPUs; set nvlink: false` });
  }
  if (!utilisationAllowed(env, g.memoryUtilization)) {
    out.push({
      path: at("gpu", "memoryUtilization"),
      message: `${env} allows memoryUtilization ${utilisationRange(env)}; set it within those bounds`,
    });
  }
  return out;
}

/**
 * The GPU section a stack with hosts hands to the settings that read one (StackConfig's `gpu`): the first
 * GPU host's section cut to one replica's GPUs, its first tensorParallelSize × pipelineParallelSize.
 */
export function hostsTemplateGpu(hosts: readonly HostConfig[]): GpuHostSection {
  const first = gpuHosts(hosts)[0];
  if (first === undefined) throw new Error("a stack with hosts has a GPU host (checked by the schema)");
  return replicaSection(first.gpu, first.gpu.vllmDevices.slice(0, replicaSize(first.gpu)));
}

/**
 * One replica's GPU section: its host's section with vllmDevices cut to the replica's GPUs, in the shape a
 * single-host stack has (mode single for one GPU; NVLink only between two or more GPUs).
 */
export function replicaSection(host: GpuHostSection, devices: readonly string[]): GpuHostSection {
  return {
    ...host,
    mode: devices.length > 1 ? "multi" : "single",
    vllmDevices: [...devices],
    workerDevices: [devices[0]!],
    nvlink: host.nvlink && devices.length > 1,
  };
}

/** The rules of `model.replicas` and `model.placement`, with or without hosts. */
export function replicaIssues(
  hosts: readonly HostConfig[] | undefined,
  replicas: number | undefined,
  placement: readonly ReplicaPlacement[] | undefined,
): HostIssue[] {
  const out: HostIssue[] = [];
  if (hosts === undefined) {
    if (replicas !== undefined && replicas !== 1) {
      out.push({
        path: ["model", "replicas"],
        message: "a single-host stack runs one vLLM; list llmstack:hosts to run replicas, or remove model.replicas",
      });
    }
    if (placement !== undefined) {
      out.push({ path: ["model", "placement"], message: "placement pins replicas to hosts; list llmstack:hosts or remove it" });
    }
    return out;
  }
  if (placement !== undefined && replicas !== undefined && placement.length !== replicas) {
    out.push({
      path: ["model", "placement"],
      message: `pins ${placement.length} replica(s), but model.replicas is ${replicas}; pin one entry per replica or remove model.replicas`,
    });
  }
  return out;
}
