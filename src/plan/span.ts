/**
 * One replica across hosts (opt-in: a `{span: [{host, devices}, ...]}` entry of model.placement), for a model
 * that no single host holds. vLLM's own multi-node launch (src/facts/vllmMultiNode.ts): one `vllm serve` per
 * member host, the same model and parallel sizes on each; node rank 0 (the first member, the head) serves the
 * API, every other member runs `--headless` and joins the head's torch.distributed store.
 *
 * As vLLM advises (https://docs.vllm.ai/en/v0.21.0/serving/parallelism_scaling/): pipeline parallel across
 * the hosts, tensor parallel within each (`across: pipeline`, the default). `across: tensor` splits every
 * layer across the hosts and is refused unless every member host declares InfiniBand or RoCE; pipeline
 * stages over plain Ethernet run, with a warning.
 *
 * Every member uses host networking: NCCL, Gloo and the torch store connect between the hosts' own addresses,
 * which a Docker bridge network would hide. So nothing is published: the head's API listens on its host's
 * address at the replica's port, the port a replica on that host would publish.
 */
import {
  hostFabric,
  isSpan,
  replicaSection,
  type GpuHostSection,
  type HostConfig,
  type ReplicaPlacement,
  type ReplicaSpan,
} from "../config/hosts";
import { VLLM_MULTI_NODE } from "../facts/vllmMultiNode";
import { healthcheck, INTERNAL_PORTS, physicalName, pythonHttpProbe, type PlanContext } from "./common";
import type { ContainerSpec } from "./types";
import { planVllmWith } from "./vllm";

/** One member of a replica across hosts: a whole host's share of it (a vLLM node). */
export interface SpanMember {
  /** vLLM's node rank: the member's place in the span; 0 is the head, which serves the API. */
  readonly rank: number;
  readonly host: string;
  /** The member's place among its host's replicas and members, by its GPUs (as a pinned replica's). */
  readonly slot: number;
  readonly devices: readonly string[];
  /** Its host's section cut to its GPUs, with the whole replica's tensor and pipeline parallel sizes. */
  readonly gpu: GpuHostSection;
}

/** A span's member GPU section: what crosses the hosts multiplies that parallel size by the members. */
export function spanSection(span: ReplicaSpan, host: GpuHostSection, devices: readonly string[]): GpuHostSection {
  const n = span.span.length;
  const across = span.across ?? "pipeline";
  return {
    ...replicaSection(host, devices),
    tensorParallelSize: host.tensorParallelSize * (across === "tensor" ? n : 1),
    pipelineParallelSize: host.pipelineParallelSize * (across === "pipeline" ? n : 1),
  };
}

const fabricList = (hosts: readonly HostConfig[]): string => hosts.map((h) => `${h.name} ${hostFabric(h)}`).join(", ");

/** The rules of one span entry beyond its members' pins (checked as pins by ./placement.ts). */
export function spanIssues(span: ReplicaSpan, at: string, hosts: readonly HostConfig[]): string[] {
  const out: string[] = [];
  const names = span.span.map((m) => m.host);
  const twice = names.find((n, i) => names.indexOf(n) !== i);
  if (twice !== undefined) {
    out.push(`${at}.span lists ${twice} twice; a replica across hosts has one member per host: pin all its GPUs on ${twice} in one member`);
  }
  const members = [...new Set(names)].flatMap((n) => hosts.filter((h) => h.name === n && h.gpu !== undefined && h.gpu.mode !== "cpu"));
  const shape = (h: HostConfig): string =>
    h.gpu && h.gpu.mode !== "cpu" ? `${h.gpu.tensorParallelSize} × ${h.gpu.pipelineParallelSize}` : "";
  if (new Set(members.map(shape)).size > 1) {
    out.push(
      `${at}.span: its hosts run tensorParallelSize × pipelineParallelSize ${members.map((h) => `${shape(h)} (${h.name})`).join(", ")}; ` +
        "vLLM runs the same number of GPUs on every node: give the member hosts the same tensorParallelSize and pipelineParallelSize",
    );
  }
  for (const h of members) {
    if (h.interface !== undefined) continue;
    out.push(
      `${at}.span: ${h.name} has no interface; a replica across hosts sets NCCL_SOCKET_IFNAME and GLOO_SOCKET_IFNAME to ` +
        `the interface that owns the host's address ${h.address}: set llmstack:hosts[${hosts.indexOf(h)}].interface ` +
        `to the name "ip -o addr show to ${h.address}" prints on ${h.name}`,
    );
  }
  const slow = members.filter((h) => !(VLLM_MULTI_NODE.tensorAcrossNodesNeeds as readonly string[]).includes(hostFabric(h)));
  if (span.across === "tensor" && slow.length > 0) {
    out.push(
      `${at}: across: tensor splits every layer across ${members.map((h) => h.name).join(", ")}, which needs InfiniBand ` +
        `or RoCE between them, but the fabric is ${fabricList(slow)} (hosts[].fabric, ethernet when left out); ` +
        "use across: pipeline (the default: pipeline stages across hosts, tensor parallel within each), or set " +
        "fabric: infiniband or roce on hosts that have it",
    );
  }
  return out;
}

/** A pipeline across hosts over plain Ethernet runs, but slowly: one sentence per such replica. */
export function spanWarnings(
  stackFile: string,
  placement: readonly ReplicaPlacement[] | undefined,
  hosts: readonly HostConfig[],
): string[] {
  return (placement ?? []).flatMap((p, i) => {
    if (!isSpan(p) || (p.across ?? "pipeline") !== "pipeline") return [];
    const members = p.span.flatMap((m) => hosts.filter((h) => h.name === m.host));
    const plain = members.filter((h) => hostFabric(h) === "ethernet");
    if (plain.length === 0) return [];
    return [
      `${stackFile}: model.placement[${i}] runs pipeline stages across ${members.map((h) => h.name).join(", ")} over ` +
        `plain Ethernet (${plain.map((h) => h.name).join(", ")}: fabric ethernet): every token's activations cross ` +
        "the network between stages, so expect less throughput than on one host; set hosts[].fabric: infiniband or " +
        "roce where the hosts have it",
    ];
  });
}

/** Host port of a replica's API on its host: vLLM's own port plus its slot (src/plan/fleet.ts's replicaPort). */
function apiPort(slot: number): number {
  return INTERNAL_PORTS.vllm + slot;
}

/** The port of a span's torch.distributed store on its head: vLLM's default plus the head's slot. */
export function masterPort(headSlot: number): number {
  return VLLM_MULTI_NODE.defaultMasterPort + headSlot;
}

export interface SpanReplica {
  readonly id: string;
  readonly members: readonly SpanMember[];
}

/**
 * The containers of one replica across hosts, the headless members first and the head last (it waits for
 * them: its health check answers only once every member has loaded its share of the model).
 */
export function spanContainers(ctx: PlanContext, r: SpanReplica, hosts: readonly HostConfig[]): ContainerSpec[] {
  const hostOf = (name: string): HostConfig => {
    const h = hosts.find((x) => x.name === name);
    if (h === undefined) throw new Error(`no host named ${name} (checked by the schema)`);
    return h;
  };
  const head = r.members[0]!;
  const headHost = hostOf(head.host);
  const members = r.members.map((m): ContainerSpec => {
    const h = hostOf(m.host);
    const isHead = m.rank === VLLM_MULTI_NODE.headRank;
    const port = apiPort(head.slot);
    const base = planVllmWith(
      { ...ctx, config: { ...ctx.config, gpu: m.gpu } },
      {
        // A headless member serves no API: no address or port of its own to listen on.
        host: isHead ? h.address : undefined,
        port: isHead ? port : undefined,
        distributedExecutorBackend: VLLM_MULTI_NODE.executorBackend,
        nnodes: r.members.length,
        nodeRank: m.rank,
        masterAddr: headHost.address,
        masterPort: masterPort(head.slot),
        headless: !isHead,
      },
    );
    const iface = h.interface!;
    // A headless member serves no HTTP, so it has no health check; the head's covers the whole replica.
    const { healthcheck: _probe, waitTimeout: _wait, ...rest } = base;
    // Nor does it need the API key: only the head answers requests.
    const { VLLM_API_KEY: _key, ...headlessEnv } = base.env;
    return {
      ...rest,
      name: physicalName(ctx, isHead ? `vllm-${r.id}` : `vllm-${r.id}-${m.host}`),
      host: h.endpoint,
      placement: { host: m.host, replica: r.id, nodeRank: m.rank },
      env: {
        ...(isHead ? base.env : headlessEnv),
        [VLLM_MULTI_NODE.hostIpEnv]: h.address,
        ...Object.fromEntries(VLLM_MULTI_NODE.interfaceEnv.map((k) => [k, iface])),
      },
      networkMode: "host",
      ports: [],
      ...(isHead
        ? {
            waitTimeout: ctx.config.vllm.startupTimeoutSeconds,
            listens: [{ internal: port, external: port, ip: h.address, protocol: "tcp" as const }],
            healthcheck: healthcheck(
              pythonHttpProbe(`http://${h.address.includes(":") ? `[${h.address}]` : h.address}:${port}/health`),
              ctx.config.vllm.startupTimeoutSeconds,
            ),
          }
        : { wait: false }),
    };
  });
  return [...members.slice(1), members[0]!];
}
