/**
 * Where the model's replicas run: each replica is a complete vLLM on tensorParallelSize ×
 * pipelineParallelSize GPUs of one host, inside the host's GPU group (its NVLink island when the host's
 * section says `nvlink: true`, else its PCIe GPUs, as a single-host stack's multi-pcie mode). The planner
 * places them from each GPU host's section, or checks the stack's pins. Pure: no Pulumi, no I/O.
 *
 * A replica may also span hosts, but only where the stack pins it so (`{span: [...]}` in model.placement,
 * ./span.ts): the planner itself never splits a replica across hosts.
 *
 * Invariants (test/plan/placement.test.ts holds them over generated fleets): exactly `replicas` replicas;
 * every GPU used at most once; every replica (every member of a spanning one) on GPUs its host lists, as
 * many as its host's replica size; every replica's hosts hold the model (weights and KV cache, src/capacity).
 */
import { StackConfigError } from "../config/errors";
import {
  gpuHosts,
  isSpan,
  replicaSection,
  replicaSize,
  type GpuHostSection,
  type HostConfig,
  type ReplicaPin,
  type ReplicaPlacement,
} from "../config/hosts";
import { spanIssues, spanSection, type SpanMember } from "./span";

export interface Replica {
  /** `<host>-<slot>`: stable while the host's GPUs stay; never a position in a list of hosts or pins. */
  readonly id: string;
  readonly host: string;
  /** The replica's place among its host's replicas, by its GPUs' order in the host's vllmDevices. */
  readonly slot: number;
  readonly devices: readonly string[];
  /**
   * The replica's GPU section: its host's, cut to its GPUs (the shape a single-host stack has). For a
   * replica across hosts, its head's, with the whole replica's tensor and pipeline parallel sizes.
   */
  readonly gpu: GpuHostSection;
  /**
   * A replica across hosts (opt-in, ./span.ts): its members by node rank, the first the head (the replica's
   * own host, slot and devices). Absent for a replica inside one host.
   */
  readonly members?: readonly SpanMember[];
}

export interface PlacementInput {
  readonly stackFile: string;
  readonly hosts: readonly HostConfig[];
  readonly replicas: number;
  /** The stack's pins (`model.placement`); the planner places the replicas when absent. */
  readonly pinned?: readonly ReplicaPlacement[];
  /**
   * Why a replica with this GPU section cannot hold the model (weights and KV cache at max length), or
   * null when it fits or the facts to check are missing (the plan's capacity says which).
   */
  readonly unfit: (gpu: GpuHostSection) => string | null;
}

const FIT_FIX =
  "give the host's replicas more GPUs (a larger tensorParallelSize), lower model.maxModelLen, or place the replica on a larger GPU host";

const SPAN_FIT_FIX =
  "add a host to the span (pipeline stages split the weights across hosts), give each member more GPUs, or lower model.maxModelLen";

/** The replicas, placed; throws one StackConfigError listing every problem with its fix. */
export function placeReplicas(input: PlacementInput): Replica[] {
  const { placed, problems } = input.pinned ? checkPins(input, input.pinned) : placeAuto(input);
  if (problems.length === 0) {
    for (const r of placed) {
      for (const m of r.members ?? [r]) {
        const why = input.unfit(m.gpu);
        if (why === null) continue;
        problems.push(
          r.members
            ? `replica ${r.id}, its member on ${m.host} GPU ${m.devices.join(",")}: ${why}; ${SPAN_FIT_FIX}`
            : `replica ${r.id} on ${r.host} GPU ${r.devices.join(",")}: ${why}; ${FIT_FIX}`,
        );
      }
    }
  }
  if (problems.length > 0) {
    throw new StackConfigError(
      `${input.stackFile}: the model's replicas cannot be placed:\n` + problems.map((p) => `  - ${p}`).join("\n"),
    );
  }
  return placed;
}

function replica(host: string, slot: number, gpu: GpuHostSection, devices: readonly string[]): Replica {
  return { id: `${host}-${slot}`, host, slot, devices, gpu: replicaSection(gpu, devices) };
}

/** The slots of a GPU host: consecutive runs of its vllmDevices, one replica's GPUs each. */
function slotsOf(gpu: GpuHostSection): string[][] {
  const size = replicaSize(gpu);
  const out: string[][] = [];
  for (let i = 0; i + size <= gpu.vllmDevices.length; i += size) out.push(gpu.vllmDevices.slice(i, i + size));
  return out;
}

/**
 * Round robin over the GPU hosts in the stack's order: the first replica on each host, then the second,
 * so replicas spread across hosts (one host down leaves the others serving).
 */
function placeAuto(input: PlacementInput): { placed: Replica[]; problems: string[] } {
  const hosts = gpuHosts(input.hosts).map(({ host, gpu }) => ({ name: host.name, gpu, slots: slotsOf(gpu) }));
  const placed: Replica[] = [];
  for (let round = 0; placed.length < input.replicas; round++) {
    const open = hosts.filter((h) => h.slots.length > round);
    if (open.length === 0) break;
    for (const h of open) {
      if (placed.length === input.replicas) break;
      placed.push(replica(h.name, round, h.gpu, h.slots[round]!));
    }
  }
  if (placed.length === input.replicas) return { placed, problems: [] };
  const total = hosts.reduce((n, h) => n + h.slots.length, 0);
  const each = hosts.map(
    (h) => `${h.name} ${h.slots.length} (${h.gpu.vllmDevices.length} GPU(s), ${replicaSize(h.gpu)} per replica)`,
  );
  return {
    placed: [],
    problems: [
      `model.replicas is ${input.replicas}, but the GPU hosts hold ${total} replica(s): ${each.join(", ")}; ` +
        `set model.replicas to ${total} or fewer, or add GPUs or a GPU host`,
    ],
  };
}

/** A pin or a span member: one host's GPUs, checked alike. */
interface Unit {
  readonly entry: number;
  readonly pin: ReplicaPin;
  readonly gpu: GpuHostSection;
  readonly first: number;
}

function checkPins(
  input: PlacementInput,
  pins: readonly ReplicaPlacement[],
): { placed: Replica[]; problems: string[] } {
  const gpuByHost = new Map(gpuHosts(input.hosts).map(({ host, gpu }) => [host.name, gpu]));
  const names = [...gpuByHost.keys()].join(", ");
  const problems: string[] = [];
  const taken = new Map<string, string>();
  const units: Unit[] = [];
  const checkPin = (pin: ReplicaPin, entry: number, at: string): void => {
    const gpu = gpuByHost.get(pin.host);
    if (gpu === undefined) {
      const known = input.hosts.some((h) => h.name === pin.host);
      problems.push(
        known
          ? `${at}: ${pin.host} has no gpu role; pin replicas to a GPU host: ${names}`
          : `${at}: host "${pin.host}" is not in llmstack:hosts; use one of the GPU hosts: ${names}`,
      );
      return;
    }
    const size = replicaSize(gpu);
    let ok = true;
    if (pin.devices.length !== size) {
      problems.push(
        `${at}: pins ${pin.devices.length} GPU(s), but a replica on ${pin.host} takes tensorParallelSize ` +
          `${gpu.tensorParallelSize} × pipelineParallelSize ${gpu.pipelineParallelSize} = ${size}; list ${size} GPU(s)`,
      );
      ok = false;
    }
    for (const d of pin.devices) {
      if (!gpu.vllmDevices.includes(d)) {
        problems.push(
          `${at}: GPU ${d} is not among ${pin.host}'s vllmDevices (${gpu.vllmDevices.join(", ")}); pin GPUs from that list or add it there`,
        );
        ok = false;
        continue;
      }
      const key = `${pin.host}/${d}`;
      const other = taken.get(key);
      if (other !== undefined) {
        problems.push(
          `${at}: GPU ${d} of ${pin.host} is already taken by ${other === at ? "this pin" : other}; ` +
            "every GPU is used at most once: pin another GPU",
        );
        ok = false;
      }
      taken.set(key, at);
    }
    if (ok) units.push({ entry, pin, gpu, first: Math.min(...pin.devices.map((d) => gpu.vllmDevices.indexOf(d))) });
  };
  pins.forEach((p, i) => {
    const at = `model.placement[${i}]`;
    if (!isSpan(p)) return checkPin(p, i, at);
    p.span.forEach((m, k) => checkPin(m, i, `${at}.span[${k}]`));
    problems.push(...spanIssues(p, at, input.hosts));
  });
  if (problems.length > 0) return { placed: [], problems };
  // A unit's slot is its rank on its host by its first GPU's place in vllmDevices: the same pins in any
  // order give the same replicas, and a span's members hold slots on their hosts like pins do.
  const slotOf = (u: Unit): number => units.filter((o) => o.pin.host === u.pin.host && o.first < u.first).length;
  const placed = pins.map((p, i): Replica => {
    const mine = units.filter((u) => u.entry === i);
    if (!isSpan(p)) {
      const u = mine[0]!;
      return replica(u.pin.host, slotOf(u), u.gpu, u.pin.devices);
    }
    const members = mine.map((u, rank): SpanMember => ({
      rank,
      host: u.pin.host,
      slot: slotOf(u),
      devices: u.pin.devices,
      gpu: spanSection(p, u.gpu, u.pin.devices),
    }));
    const head = members[0]!;
    return { id: `${head.host}-${head.slot}`, host: head.host, slot: head.slot, devices: head.devices, gpu: head.gpu, members };
  });
  return { placed, problems };
}
