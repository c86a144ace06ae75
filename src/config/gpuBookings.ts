/**
 * The GPU memory budget, in one place: who books what on each physical GPU, and whether vLLM can start
 * while everything else on that GPU holds its booking. The stack schema, capacity, preflight, the alert
 * rules and the policy pack all call gpuBookings(), so the rule, its wording and its rounding are one.
 *
 * The rule. vLLM creates its CUDA context and NCCL buffers, then measures free memory and refuses to
 * start when less than `gpu_memory_utilization × total` is free: `request_memory()` in
 * vllm/v1/worker/utils.py ("Free memory on device … on startup is less than desired GPU memory
 * utilization"), called from `Worker.init_device()` in vllm/v1/worker/gpu_worker.py after
 * `init_worker_distributed_environment` ("Initialize the distributed environment BEFORE taking memory
 * snapshot"), https://github.com/vllm-project/vllm/blob/v0.21.0/vllm/v1/worker/utils.py (factored out by
 * https://github.com/vllm-project/vllm/pull/30868). Docker cannot cap a container's GPU memory (a device
 * request has driver, count, device IDs, capabilities and options, nothing else:
 * https://docs.docker.com/compose/gpu-support/), so the multimodal worker's share is only what its process
 * promises. When vLLM restarts alone, the worker's share and its context are already taken, so on every
 * GPU vLLM uses: vLLM's share + its context + every other process's share + its context ≤ what CUDA
 * can allocate. A GPU without vLLM has no start-up check, and nothing here refuses it.
 *
 * Pure; imports only the service table (./services.ts, whose GPU tenants it books), so the config layer
 * (the bottom of the import graph) may call it.
 */
import { gpuTenantSlots, serviceEntry, type GpuTenantSlot, type ServiceName } from "./services";

/**
 * MiB that nvidia-smi's memory.total counts but CUDA cannot allocate: torch reports total_gpu_memory
 * 23.58 GiB for a 24576 MiB RTX 3090 (https://github.com/vllm-project/vllm/issues/10517) and 23.55 GiB
 * for a 24564 MiB RTX 4090 (https://github.com/vllm-project/vllm/issues/13061): 430 and 449 MiB.
 * vLLM's `total × utilisation` is of what CUDA reports, so shares are of memory.total less this.
 */
export const CUDA_RESERVED_MIB = 440;

/**
 * MiB each process holds on a GPU outside any fraction: its CUDA context (and, for vLLM, the NCCL buffers
 * it allocates before measuring free memory). Measurements: a PyTorch context takes 287,047,680 bytes
 * (274 MiB) with CUDA lazy loading and 666,632,192 bytes (636 MiB) without it
 * (https://github.com/pytorch/pytorch/pull/86509, which made PyTorch ≥ 1.13 load lazily by default; CUDA
 * loads lazily by default on Linux since 12.2:
 * https://docs.nvidia.com/cuda/cuda-programming-guide/04-special-topics/lazy-loading.html); 128–256 MiB
 * per GPU for a bare context (https://github.com/invoke-ai/InvokeAI/pull/9447); vLLM holds about 400 MB
 * on each RTX 3090 before loading weights, NCCL included
 * (https://github.com/Sandermage/genesis-vllm-patches/issues/24). 512 MiB covers all of these except an
 * eagerly loading context (CUDA < 11.7 or PyTorch < 1.13), which docs/gpu-budget.md rules out for the
 * worker image.
 */
export const CUDA_CONTEXT_MIB = 512;

/** One process that books a share of every GPU it is given. */
export interface GpuTenant {
  /** As messages name it: "vLLM", "the multimodal worker", "container x". */
  readonly name: string;
  /** The setting that sets its share ("memoryUtilization", "workerMemoryFraction"). */
  readonly key: string;
  /** The setting that lists its GPUs ("vllmDevices", "workerDevices"). */
  readonly devicesKey: string;
  /** Host GPU IDs as written: indices ("0") or UUIDs ("GPU-…"). */
  readonly devices: readonly string[];
  /** Fraction of each GPU's CUDA memory it books. */
  readonly fraction: number;
  /** vLLM: refuses to start unless `fraction × total` is free after its own context. */
  readonly checksFreeAtStart: boolean;
}

/** A host GPU as nvidia-smi reports it (src/gpu's DetectedGpu fits). */
export interface HostGpu {
  readonly index: number;
  readonly uuid: string | null;
  readonly memoryMiB: number | null;
}

export interface BookingFacts {
  /** Each GPU's memory.total in MiB as the stack file states it (`gpu.memoryMiB`). */
  readonly memoryMiB?: number | null | undefined;
  /** The host's GPUs: UUIDs and indices resolve to one physical GPU, and their memory.total wins. */
  readonly host?: readonly HostGpu[] | undefined;
}

export interface Booking {
  readonly name: string;
  readonly key: string;
  readonly fraction: number;
  readonly contextMiB: number;
  /** fraction × what CUDA can allocate, or null when the GPU's memory is unknown. */
  readonly shareMiB: number | null;
  readonly checksFreeAtStart: boolean;
}

export interface GpuBooking {
  /** The GPU as messages name it: its host index, else the ID as written. */
  readonly gpu: string;
  readonly index: number | null;
  /** Every ID the tenants wrote for this GPU. */
  readonly names: readonly string[];
  readonly bookings: readonly Booking[];
  /** memory.total (MiB), or null when neither the stack file nor the host says. */
  readonly totalMiB: number | null;
  /** What CUDA can allocate: memory.total less CUDA_RESERVED_MIB. */
  readonly usableMiB: number | null;
  /** Shares plus contexts, in MiB; null when the memory is unknown. */
  readonly bookedMiB: number | null;
  /** bookedMiB ÷ usableMiB, or the shares' sum when the memory is unknown; rounded to 3 places. */
  readonly bookedFraction: number;
}

export interface BudgetProblem {
  /** The setting to change (a tenant's key or devicesKey). */
  readonly key: string;
  /** What is wrong, with the numbers. */
  readonly message: string;
  /** What to change. */
  readonly fix: string;
}

export interface GpuBookings {
  readonly gpus: readonly GpuBooking[];
  readonly problems: readonly BudgetProblem[];
}

/**
 * The GPU section's settings the budget reads: each tenant's GPUs and share, under the keys its table entry
 * names (config/schema's GpuModeConfig fits).
 */
export type GpuSectionShares = { readonly [K in GpuTenantSlot["devicesKey"]]: readonly string[] } & {
  readonly [K in GpuTenantSlot["shareKey"]]: number;
};

/** A service on your own image (it runs only when the image is set). */
const ownImageService = (s: ServiceName): boolean => serviceEntry(s).images.some((i) => i.own);

/**
 * The GPU tenants of the service table (src/config/services.ts) that run, as the stack file places them:
 * vLLM and, when it runs, the multimodal worker. `runs` says which services run (serviceRuns over the
 * stack's images), or, as a boolean, whether the services on your own images do.
 */
export function sectionTenants(
  gpu: GpuSectionShares,
  runs: boolean | ((service: ServiceName) => boolean),
): GpuTenant[] {
  const running = typeof runs === "function" ? runs : (s: ServiceName) => runs || !ownImageService(s);
  return gpuTenantSlots()
    .filter(({ service }) => running(service))
    .map(({ gpu: t }) => ({
      name: t.tenant,
      key: t.shareKey,
      devicesKey: t.devicesKey,
      devices: gpu[t.devicesKey],
      fraction: gpu[t.shareKey],
      checksFreeAtStart: t.checksFreeAtStart,
    }));
}

/** The service a tenant of the budget is, by the name its table entry gives it. */
export function tenantService(tenant: string): ServiceName | undefined {
  return gpuTenantSlots().find((t) => t.gpu.tenant === tenant)?.service;
}

export type GpuIdKind = "index" | "uuid" | "other";

export function gpuIdKind(id: string): GpuIdKind {
  if (/^\d+$/.test(id)) return "index";
  return /^(GPU|MIG)-/i.test(id) ? "uuid" : "other";
}

/** The host GPU an ID names: an index by nvidia-smi's index, a UUID by its UUID (any letter case). */
export function resolveHostGpu<G extends HostGpu>(id: string, host: readonly G[]): G | undefined {
  const kind = gpuIdKind(id);
  if (kind === "index") return host.find((g) => g.index === Number(id));
  if (kind === "uuid") return host.find((g) => g.uuid !== null && g.uuid.toLowerCase() === id.toLowerCase());
  return undefined;
}

interface Physical {
  readonly key: string;
  readonly label: string;
  readonly index: number | null;
  readonly totalMiB: number | null;
}

/** "01" and "1" are one index; UUIDs compare without letter case. */
function offlineKey(id: string): string {
  const kind = gpuIdKind(id);
  if (kind === "index") return id.replace(/^0+(?=\d)/, "");
  return kind === "uuid" ? id.toLowerCase() : id;
}

function physical(id: string, facts: BookingFacts): Physical {
  const stated = facts.memoryMiB ?? null;
  const g = facts.host === undefined ? undefined : resolveHostGpu(id, facts.host);
  if (g !== undefined) {
    return { key: `#${g.index}`, label: String(g.index), index: g.index, totalMiB: g.memoryMiB ?? stated };
  }
  const key = offlineKey(id);
  const index = gpuIdKind(id) === "index";
  return { key, label: index ? key : id, index: index ? Number(key) : null, totalMiB: stated };
}

/** Fractions are shown to 3 places; suggested limits are rounded down to 2, so they always fit. */
export const round3 = (x: number): number => Math.round(x * 1000) / 1000;
const floor2 = (x: number): number => Math.floor(x * 100 + 1e-9) / 100;
const mib = (x: number): string => `${Math.round(x)} MiB`;

function namingProblems(tenants: readonly GpuTenant[]): BudgetProblem[] {
  const ids = tenants.flatMap((t) => t.devices.map((id) => ({ t, id, kind: gpuIdKind(id) })));
  const first = ids.find((x) => x.kind !== "other");
  const other = ids.find((x) => x.kind !== "other" && first !== undefined && x.kind !== first.kind);
  if (first === undefined || other === undefined) return [];
  const how = (k: GpuIdKind) => (k === "index" ? "index" : "UUID");
  return [
    {
      key: other.t.devicesKey,
      message:
        `names GPU "${other.id}" by ${how(other.kind)} while ${first.t.devicesKey} names GPU "${first.id}" by ` +
        `${how(first.kind)}; the stack file cannot tell whether they are one GPU, so neither the memory budget ` +
        `nor the check for a GPU listed twice could hold`,
      fix:
        "name every GPU the same way, all by index or all by UUID (llmstack configure-gpu auto writes UUIDs " +
        "when nvidia-smi gives them)",
    },
  ];
}

function who(b: readonly Booking[]): string {
  const named = b.map((x) => `${x.name} (${x.key} ${x.fraction})`);
  if (named.length === 1) return `is used by ${named[0]} alone`;
  return `is shared by ${named.slice(0, -1).join(", ")} and ${named[named.length - 1]}`;
}

/** The verdict for one GPU: null when vLLM can start while every other process holds its booking. */
function gpuProblem(g: GpuBooking): BudgetProblem | null {
  const starter = g.bookings.find((b) => b.checksFreeAtStart);
  if (starter === undefined) return null;
  const others = g.bookings.filter((b) => b !== starter);
  const sum = g.bookings.reduce((s, b) => s + b.fraction, 0);
  const ctx = g.bookings.reduce((s, b) => s + b.contextMiB, 0);
  const contexts =
    g.bookings.length === 1 ? `its ${mib(ctx)} CUDA context` : `a ${mib(CUDA_CONTEXT_MIB)} CUDA context per process`;
  const shares = g.bookings.map((b) => b.fraction).join(" + ");
  const usable = g.usableMiB;
  const fits = usable === null ? sum < 1 - 1e-9 : (g.bookedMiB ?? 0) <= usable + 1e-6;
  if (fits) return null;
  const holding = others.length === 1 ? "holds its share" : "hold their shares";
  const after =
    others.length === 0
      ? "so it could not start"
      : `so it could not start again while ${others.map((o) => o.name).join(" and ")} ${holding}`;
  const why = `; vLLM starts only when its whole share is free, ${after}`;
  const head = `GPU ${g.gpu} ${who(g.bookings)}`;
  const moveAway = others.map((o) => `give ${o.name} a GPU vLLM does not use`);
  if (usable === null) {
    return {
      key: (others[0] ?? starter).key,
      message: `${head}: ${shares} = ${round3(sum)} of its memory leaves nothing for ${contexts}${why}`,
      fix: [`lower ${[starter, ...others].map((b) => b.key).join(" or ")}`, ...moveAway].join(", or "),
    };
  }
  const booked = g.bookedMiB ?? 0;
  const most = (b: Booking) => floor2((usable - (booked - (b.shareMiB ?? 0))) / usable);
  const lowers = [...others, starter]
    .map((b) => ({ b, max: most(b) }))
    .filter((x) => x.max > 0)
    .map((x) => `${x.b.key} to ${x.max} or less`);
  const fixes = [...(lowers.length ? [`lower ${lowers.join(", or ")}`] : []), ...moveAway];
  return {
    key: (others[0] ?? starter).key,
    message:
      `${head}: ${shares} of the ${mib(usable)} CUDA can allocate (memory.total ${mib(g.totalMiB ?? 0)} less ` +
      `${mib(CUDA_RESERVED_MIB)} the driver keeps) plus ${contexts} come to ${mib(booked)}, ` +
      `${mib(booked - usable)} more than there is${why}`,
    fix: fixes.length ? fixes.join(", or ") : "use a GPU with more memory",
  };
}

/**
 * Every physical GPU the tenants use, with what each books, and the problems: IDs that mix indices and
 * UUIDs (without host facts nobody can tell them apart), a tenant listing one GPU twice, and every GPU on
 * which vLLM could not start while the others hold their bookings. With host facts, indices and UUIDs
 * resolve to the host's GPUs first.
 */
export function gpuBookings(tenants: readonly GpuTenant[], facts: BookingFacts = {}): GpuBookings {
  const problems: BudgetProblem[] = facts.host === undefined ? namingProblems(tenants) : [];
  const byGpu = new Map<string, { p: Physical; names: string[]; bookings: Booking[] }>();
  for (const t of tenants) {
    const seen = new Map<string, string>();
    for (const id of t.devices) {
      const p = physical(id, facts);
      const before = seen.get(p.key);
      if (before !== undefined) {
        problems.push({
          key: t.devicesKey,
          message:
            `lists GPU ${physical(before, facts).label} twice` + (before === id ? "" : `, as "${before}" and "${id}"`),
          fix: "list each GPU once",
        });
        continue;
      }
      seen.set(p.key, id);
      const entry = byGpu.get(p.key) ?? { p, names: [], bookings: [] };
      if (!entry.names.includes(id)) entry.names.push(id);
      const usable = usableOf(entry.p.totalMiB);
      entry.bookings.push({
        name: t.name,
        key: t.key,
        fraction: t.fraction,
        contextMiB: CUDA_CONTEXT_MIB,
        shareMiB: usable === null ? null : t.fraction * usable,
        checksFreeAtStart: t.checksFreeAtStart,
      });
      byGpu.set(p.key, entry);
    }
  }
  const gpus = [...byGpu.values()].map(({ p, names, bookings }): GpuBooking => {
    const usable = usableOf(p.totalMiB);
    const booked =
      usable === null ? null : bookings.reduce((s, b) => s + (b.shareMiB ?? 0) + b.contextMiB, 0);
    const sum = bookings.reduce((s, b) => s + b.fraction, 0);
    return {
      gpu: p.label,
      index: p.index,
      names,
      bookings,
      totalMiB: p.totalMiB,
      usableMiB: usable,
      bookedMiB: booked,
      bookedFraction: round3(booked === null || usable === null ? sum : booked / usable),
    };
  });
  for (const g of gpus) {
    const p = gpuProblem(g);
    if (p !== null) problems.push(p);
  }
  return { gpus, problems };
}

function usableOf(totalMiB: number | null): number | null {
  return totalMiB !== null && totalMiB > CUDA_RESERVED_MIB ? totalMiB - CUDA_RESERVED_MIB : null;
}

/** One GPU's bookings as a line for reports: "GPU 1: vLLM 0.9 + the multimodal worker 0.04 of …". */
export function bookingLine(g: GpuBooking): string {
  const parts = g.bookings.map((b) => `${b.name} ${b.fraction}`).join(" + ");
  if (g.usableMiB === null || g.bookedMiB === null) return `GPU ${g.gpu}: ${parts} of its memory`;
  const n = g.bookings.length;
  return (
    `GPU ${g.gpu}: ${parts} of ${mib(g.usableMiB)} and ${n} CUDA context${n === 1 ? "" : "s"} of ` +
    `${mib(CUDA_CONTEXT_MIB)} = ${mib(g.bookedMiB)} of ${mib(g.usableMiB)}`
  );
}

/** A problem as one sentence: "<message>; <fix>". */
export function problemText(p: BudgetProblem): string {
  return `${p.message}; ${p.fix}`;
}
