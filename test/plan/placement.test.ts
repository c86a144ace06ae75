/**
 * Placement of the model's replicas (src/plan/placement.ts): exact cases, and properties over generated
 * fleets. fast-check is not a dependency, so the fleets come from a small seeded generator: every run
 * sees the same fleets, and a failure names its seed.
 */
import { describe, expect, it } from "vitest";
import { StackConfigError } from "../../src/config/errors";
import { replicaSize, type GpuHostSection, type HostConfig, type ReplicaPin, type ReplicaPlacement } from "../../src/config/hosts";
import { placeReplicas, type PlacementInput, type Replica } from "../../src/plan/placement";

/** mulberry32: a 32-bit seeded generator, enough to draw fleets (not for anything secret). */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function section(devices: string[], tp: number, pp = 1, memoryMiB = 24576): GpuHostSection {
  return {
    mode: devices.length > 1 ? "multi" : "single",
    vllmDevices: devices,
    workerDevices: [devices[0]!],
    nvlink: devices.length > 1,
    cardClass: "consumer",
    tensorParallelSize: tp,
    pipelineParallelSize: pp,
    memoryUtilization: 0.9,
    memoryMiB,
    workerMemoryFraction: 0.1,
  };
}

function host(name: string, roles: HostConfig["roles"], gpu?: GpuHostSection): HostConfig {
  return { name, endpoint: `tcp://${name}:2376`, address: "10.0.0.1", roles, ...(gpu ? { gpu } : {}) };
}

const FITS = (): null => null;

function input(hosts: HostConfig[], replicas: number, more: Partial<PlacementInput> = {}): PlacementInput {
  return { stackFile: "Pulumi.fleet.yaml", hosts, replicas, unfit: FITS, ...more };
}

function errorOf(i: PlacementInput): string {
  try {
    placeReplicas(i);
  } catch (err) {
    expect(err).toBeInstanceOf(StackConfigError);
    return (err as Error).message;
  }
  throw new Error("expected the placement to fail");
}

const CONTROL = host("control", ["gateway", "state"]);
const A = host("gpu-a", ["gpu"], section(["0", "1"], 2));
const B = host("gpu-b", ["gpu"], section(["0", "1", "2", "3"], 1, 1, 81559));

const short = (rs: Replica[]) => rs.map((r) => `${r.id}:${r.devices.join(",")}`);

describe("placeReplicas", () => {
  it("spreads replicas across hosts round robin, in the stack's order", () => {
    expect(short(placeReplicas(input([CONTROL, A, B], 3)))).toEqual(["gpu-a-0:0,1", "gpu-b-0:0", "gpu-b-1:1"]);
  });

  it("gives each replica its host's section cut to its GPUs", () => {
    const [a, b] = placeReplicas(input([A, B], 2));
    expect(a!.gpu).toMatchObject({ mode: "multi", vllmDevices: ["0", "1"], nvlink: true, tensorParallelSize: 2 });
    expect(b!.gpu).toMatchObject({ mode: "single", vllmDevices: ["0"], nvlink: false, memoryMiB: 81559 });
  });

  it("says how many replicas the hosts hold when asked for more", () => {
    expect(errorOf(input([CONTROL, A, B], 6))).toBe(
      "Pulumi.fleet.yaml: the model's replicas cannot be placed:\n" +
        "  - model.replicas is 6, but the GPU hosts hold 5 replica(s): gpu-a 1 (2 GPU(s), 2 per replica), " +
        "gpu-b 4 (4 GPU(s), 1 per replica); set model.replicas to 5 or fewer, or add GPUs or a GPU host",
    );
  });

  it("names the replica, host and GPUs that cannot hold the model, and the fix", () => {
    const unfit = (g: GpuHostSection) => (g.memoryMiB === 24576 ? "weights 30 GiB per GPU exceed 21.6 GiB" : null);
    expect(errorOf(input([A, B], 2, { unfit }))).toBe(
      "Pulumi.fleet.yaml: the model's replicas cannot be placed:\n" +
        "  - replica gpu-a-0 on gpu-a GPU 0,1: weights 30 GiB per GPU exceed 21.6 GiB; give the host's replicas more " +
        "GPUs (a larger tensorParallelSize), lower model.maxModelLen, or place the replica on a larger GPU host",
    );
  });

  it("keeps pinned replicas, and names them by their GPUs' place on the host whatever the pins' order", () => {
    const pins: ReplicaPin[] = [
      { host: "gpu-b", devices: ["3"] },
      { host: "gpu-a", devices: ["1", "0"] },
      { host: "gpu-b", devices: ["1"] },
    ];
    expect(short(placeReplicas(input([A, B], 3, { pinned: pins })))).toEqual(["gpu-b-1:3", "gpu-a-0:1,0", "gpu-b-0:1"]);
  });

  it.each<[string, ReplicaPin[], string]>([
    [
      "a GPU used twice",
      [
        { host: "gpu-b", devices: ["2"] },
        { host: "gpu-b", devices: ["2"] },
      ],
      "model.placement[1]: GPU 2 of gpu-b is already taken by model.placement[0]; every GPU is used at most once: pin another GPU",
    ],
    [
      "a host that is not listed",
      [{ host: "gpu-c", devices: ["0"] }],
      'model.placement[0]: host "gpu-c" is not in llmstack:hosts; use one of the GPU hosts: gpu-a, gpu-b',
    ],
    [
      "a host without the gpu role",
      [{ host: "control", devices: ["0"] }],
      "model.placement[0]: control has no gpu role; pin replicas to a GPU host: gpu-a, gpu-b",
    ],
    [
      "a GPU the host does not give vLLM",
      [{ host: "gpu-a", devices: ["0", "2"] }],
      "model.placement[0]: GPU 2 is not among gpu-a's vllmDevices (0, 1); pin GPUs from that list or add it there",
    ],
    [
      "fewer GPUs than the host's replica size",
      [{ host: "gpu-a", devices: ["0"] }],
      "model.placement[0]: pins 1 GPU(s), but a replica on gpu-a takes tensorParallelSize 2 × pipelineParallelSize 1 = 2; list 2 GPU(s)",
    ],
  ])("refuses a pin with %s", (_, pins, line) => {
    expect(errorOf(input([CONTROL, A, B], pins.length, { pinned: pins }))).toBe(
      `Pulumi.fleet.yaml: the model's replicas cannot be placed:\n  - ${line}`,
    );
  });
});

/** A generated fleet: 1 to 4 GPU hosts of 1 to 8 GPUs with a replica size dividing them, some too small. */
function generate(seed: number): { hosts: HostConfig[]; replicas: number; small: Set<string> } {
  const r = rng(seed);
  const int = (lo: number, hi: number) => lo + Math.floor(r() * (hi - lo + 1));
  const hosts: HostConfig[] = [host("control", ["gateway", "state"])];
  const small = new Set<string>();
  for (let h = 0, n = int(1, 4); h < n; h++) {
    const count = int(1, 8);
    const sizes = [1, 2, 4, 8].filter((s) => count % s === 0);
    const size = sizes[int(0, sizes.length - 1)]!;
    const tp = size >= 2 && r() < 0.3 ? size / 2 : size;
    const uuids = r() < 0.3;
    const devices = Array.from({ length: count }, (_, i) => (uuids ? `GPU-${String(seed).padStart(8, "0")}-${h}${i}` : String(i)));
    const memoryMiB = r() < 0.2 ? 8192 : 24576;
    const name = `gpu-${String.fromCharCode(97 + h)}`;
    if (memoryMiB === 8192) small.add(name);
    hosts.push(host(name, ["gpu"], section(devices, tp, size / tp, memoryMiB)));
  }
  return { hosts, replicas: int(1, 12), small };
}

const SEEDS = Array.from({ length: 300 }, (_, i) => i + 1);

describe("placement over generated fleets", () => {
  it.each(SEEDS)("seed %i: every placed replica holds the invariants, or the error says why not", (seed) => {
    const { hosts, replicas, small } = generate(seed);
    const unfit = (g: GpuHostSection) => (g.memoryMiB === 8192 ? "too small" : null);
    const capacity = hosts.reduce((n, h) => n + (h.gpu && h.gpu.mode !== "cpu" ? h.gpu.vllmDevices.length / replicaSize(h.gpu) : 0), 0);
    let placed: Replica[];
    try {
      placed = placeReplicas(input(hosts, replicas, { unfit }));
    } catch (err) {
      const text = (err as Error).message;
      if (replicas > capacity) expect(text).toContain(`the GPU hosts hold ${capacity} replica(s)`);
      else expect(text).toMatch(/: too small; /);
      return;
    }
    expect(replicas).toBeLessThanOrEqual(capacity);
    expect(placed).toHaveLength(replicas);
    expect(new Set(placed.map((p) => p.id)).size).toBe(replicas);
    const used = placed.flatMap((p) => p.devices.map((d) => `${p.host}/${d}`));
    expect(new Set(used).size).toBe(used.length);
    for (const p of placed) {
      const h = hosts.find((x) => x.name === p.host)!;
      const g = h.gpu as GpuHostSection;
      expect(h.roles).toContain("gpu");
      expect(p.devices).toHaveLength(replicaSize(g));
      expect(p.devices.every((d) => g.vllmDevices.includes(d))).toBe(true);
      expect(small.has(p.host)).toBe(false);
      expect(p.gpu.vllmDevices).toEqual(p.devices);
    }
    // Pinning the planner's own placement, in any order, gives the same replicas back.
    const shuffled = [...placed].reverse().map((p) => ({ host: p.host, devices: [...p.devices] }));
    const again = placeReplicas(input(hosts, replicas, { unfit, pinned: shuffled }));
    expect(short(again).sort()).toEqual(short(placed).sort());
    // And any pin that reuses a GPU is refused.
    const twice = [...shuffled, shuffled[0]!];
    expect(errorOf(input(hosts, replicas + 1, { unfit, pinned: twice }))).toContain("is already taken by model.placement[0]");
  });
});

describe("the generated fleets", () => {
  it("cover placed replicas, too many replicas and hosts too small for the model", () => {
    const seen = { placed: 0, tooMany: 0, tooSmall: 0 };
    for (const seed of SEEDS) {
      const { hosts, replicas } = generate(seed);
      try {
        placeReplicas(input(hosts, replicas, { unfit: (g) => (g.memoryMiB === 8192 ? "too small" : null) }));
        seen.placed++;
      } catch (err) {
        if ((err as Error).message.includes("the GPU hosts hold")) seen.tooMany++;
        else seen.tooSmall++;
      }
    }
    expect(Object.values(seen).every((n) => n >= 20)).toBe(true);
  });
});

/**
 * The planner's placement of a generated fleet, with replicas of equal shape on different hosts joined into
 * replicas across hosts (`{span: [...]}` entries) and the rest kept as pins.
 */
function withSpans(placed: readonly Replica[], hosts: readonly HostConfig[]): ReplicaPlacement[] {
  const shape = (r: Replica) => {
    const g = hosts.find((h) => h.name === r.host)!.gpu as GpuHostSection;
    return `${g.tensorParallelSize}x${g.pipelineParallelSize}`;
  };
  const left = [...placed];
  const out: ReplicaPlacement[] = [];
  while (left.length > 0) {
    const r = left.shift()!;
    const partner = left.findIndex((o) => o.host !== r.host && shape(o) === shape(r));
    if (partner === -1) {
      out.push({ host: r.host, devices: [...r.devices] });
      continue;
    }
    const o = left.splice(partner, 1)[0]!;
    out.push({ span: [r, o].map((x) => ({ host: x.host, devices: [...x.devices] })) });
  }
  return out;
}

describe("replicas across hosts over generated fleets", () => {
  let spans = 0;
  it.each(SEEDS)("seed %i: spans keep every invariant of pins", (seed) => {
    const generated = generate(seed);
    const hosts = generated.hosts.map((h) => ({ ...h, interface: "eth0" }));
    let placed: Replica[];
    try {
      placed = placeReplicas(input(hosts, generated.replicas));
    } catch {
      return;
    }
    const entries = withSpans(placed, hosts);
    spans += entries.filter((e) => "span" in e).length;
    const again = placeReplicas(input(hosts, entries.length, { pinned: entries }));
    expect(again).toHaveLength(entries.length);
    expect(new Set(again.map((r) => r.id)).size).toBe(again.length);
    const units = again.flatMap((r) => r.members ?? [{ ...r, rank: 0 }]);
    // Every GPU at most once, and every host slot once, across replicas and members alike.
    const used = units.flatMap((u) => u.devices.map((d) => `${u.host}/${d}`));
    expect(new Set(used).size).toBe(used.length);
    expect(used).toHaveLength(placed.flatMap((p) => p.devices).length);
    const slots = units.map((u) => `${u.host}#${u.slot}`);
    expect(new Set(slots).size).toBe(slots.length);
    for (const r of again) {
      const members = r.members ?? [];
      const g = hosts.find((h) => h.name === r.host)!.gpu as GpuHostSection;
      expect(r.id).toBe(`${r.host}-${r.slot}`);
      if (members.length === 0) {
        expect(r.gpu.tensorParallelSize * r.gpu.pipelineParallelSize).toBe(replicaSize(g));
        continue;
      }
      // The head is the first member, and the replica runs on every member's GPUs: TP × PP in all.
      expect([members[0]!.host, members[0]!.slot, members[0]!.devices]).toEqual([r.host, r.slot, r.devices]);
      expect(members.map((m) => m.rank)).toEqual(members.map((_, i) => i));
      expect(new Set(members.map((m) => m.host)).size).toBe(members.length);
      for (const m of members) {
        const mg = hosts.find((h) => h.name === m.host)!.gpu as GpuHostSection;
        expect(m.devices).toHaveLength(replicaSize(mg));
        expect(m.devices.every((d) => mg.vllmDevices.includes(d))).toBe(true);
        expect(m.gpu.vllmDevices).toEqual(m.devices);
        expect(m.gpu.tensorParallelSize * m.gpu.pipelineParallelSize).toBe(members.length * replicaSize(mg));
        expect(m.gpu.tensorParallelSize).toBe(mg.tensorParallelSize);
      }
    }
    // The same entries in reverse order give the same replicas.
    const reversed = placeReplicas(input(hosts, entries.length, { pinned: [...entries].reverse() }));
    expect(reversed.map((r) => r.id).sort()).toEqual(again.map((r) => r.id).sort());
  });

  it("the generated fleets join some replicas across hosts", () => {
    expect(spans).toBeGreaterThanOrEqual(20);
  });
});
