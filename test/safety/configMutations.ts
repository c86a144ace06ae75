/**
 * fast-check arbitraries for invalid stack configs: a checked-in stack's raw values with one (or a few)
 * mutations, each of which alone makes the config invalid. Every case carries the stack it came from and
 * the top-level keys it touched, so a test can check that the error names one of them.
 */
import fc from "fast-check";
import { CUDA_CONTEXT_MIB, CUDA_RESERVED_MIB } from "../../src/config/gpuBookings";
import { APP_IMAGES, rawValues, STACKS } from "../helpers/stacks";
import { hostileInput } from "./hostileMutations";
import { del, get, set, type Mutation, type Path, type Raw } from "./mutate";

export type { Raw } from "./mutate";

export interface InvalidCase {
  readonly stack: string;
  readonly kind: string;
  /** The `llmstack:` keys the mutations touched (top level: `gpu`, `images`, ...). */
  readonly tops: readonly string[];
  readonly values: Raw;
}

const BASES: Readonly<Record<string, Raw>> = Object.fromEntries(STACKS.map((s) => [s, rawValues(s)]));

type Kind = "string" | "number" | "boolean" | "null" | "array" | "object";
const kindOf = (v: unknown): Kind =>
  v === null ? "null" : Array.isArray(v) ? "array" : (typeof v as "string" | "number" | "boolean" | "object");

/** Every path in a value (objects and arrays walked), with the root excluded. */
function pathsOf(value: unknown, prefix: Path = []): Path[] {
  if (value === null || typeof value !== "object") return [];
  const entries = Array.isArray(value) ? value.map((v, i) => [i, v] as const) : Object.entries(value);
  return entries.flatMap(([k, v]) => [[...prefix, k], ...pathsOf(v, [...prefix, k])]);
}

/** Objects (not arrays) in a value, root included: where an unknown key can go. */
function objectPaths(value: unknown, prefix: Path = []): Path[] {
  if (value === null || typeof value !== "object") return [];
  const here = Array.isArray(value) ? [] : [prefix];
  const entries = Array.isArray(value) ? value.map((v, i) => [i, v] as const) : Object.entries(value);
  return [...here, ...entries.flatMap(([k, v]) => objectPaths(v, [...prefix, k]))];
}

/** A JSON/YAML value of any kind but `not`; NaN and ±Infinity stand in for YAML's .nan and .inf. */
function valueNotOf(not: Kind): fc.Arbitrary<unknown> {
  const all: Record<Kind, fc.Arbitrary<unknown>> = {
    string: fc.oneof(fc.string({ maxLength: 12 }), fc.constantFrom("", "0.9", "true", "null", "4000", "[]")),
    number: fc.oneof(fc.integer(), fc.double(), fc.constantFrom(Number.NaN, Infinity, -Infinity, 0, -1)),
    boolean: fc.boolean(),
    null: fc.constant(null),
    array: fc.array(fc.jsonValue({ maxDepth: 1 }), { maxLength: 3 }),
    object: fc.dictionary(fc.string({ maxLength: 6 }), fc.jsonValue({ maxDepth: 1 }), { maxKeys: 3 }),
  };
  return fc.oneof(...(Object.keys(all) as Kind[]).filter((k) => k !== not).map((k) => all[k]));
}

const UNKNOWN_KEY = fc.oneof(
  fc.constantFrom("constructor", "toString", "valueOf", "hasOwnProperty", "gpus", "Model", "image", "tls_mode", "enabled "),
  fc.string({ minLength: 1, maxLength: 10 }).map((s) => `x${s}`),
);

function unknownKey(base: Raw): fc.Arbitrary<Mutation> {
  return fc.tuple(fc.constantFrom(...objectPaths(base)), UNKNOWN_KEY, fc.jsonValue({ maxDepth: 1 })).map(([p, key, v]) => ({
    kind: "unknown key",
    path: [...p, key],
    apply: (cfg: Raw) => set(cfg, [...p, key], v),
  }));
}

function wrongType(base: Raw): fc.Arbitrary<Mutation> {
  return fc
    .constantFrom(...pathsOf(base))
    .chain((p) => valueNotOf(kindOf(get(base, p))).map((v) => ({ kind: "wrong type", path: p, apply: (cfg: Raw) => set(cfg, p, v) })));
}

const REQUIRED: Path[] = [
  ["environment"], ["gpu"], ["model"], ["images"], ["gateway"], ["services"],
  ["gpu", "mode"], ["gpu", "vllmDevices"], ["gpu", "workerDevices"], ["gpu", "nvlink"], ["gpu", "tensorParallelSize"],
  ["gpu", "memoryUtilization"], ["model", "name"], ["model", "servedModelName"], ["model", "maxModelLen"],
  ["images", "vllm"], ["images", "vllmCpu"], ["images", "litellm"], ["images", "postgres"], ["images", "redis"], ["images", "qdrant"],
  ["images", "objectStore"], ["images", "tlsProxy"], ["services", "workerCommand"], ["services", "retrievalCommand"],
  ["monitoring", "enabled"], ["gateway", "tls"], ["gateway", "tls", "mode"],
];

function missingRequired(base: Raw): fc.Arbitrary<Mutation> {
  const present = REQUIRED.filter((p) => get(base, p) !== undefined);
  return fc.constantFrom(...present).map((p) => ({ kind: "missing key", path: p, apply: (cfg: Raw) => del(cfg, p) }));
}

const int = (min: number, max: number): fc.Arbitrary<number> => fc.integer({ min, max });
const nonInteger = fc.double({ min: 1.01, max: 1e6, noNaN: true }).filter((x) => !Number.isInteger(x));
const NON_FINITE = fc.constantFrom(Number.NaN, Infinity, -Infinity);

/** Numeric keys and values outside what they allow. */
const OUT_OF_RANGE: readonly [Path, fc.Arbitrary<number>][] = [
  [["gpu", "memoryUtilization"], fc.oneof(fc.double({ max: 0, noNaN: true }), fc.double({ min: 0.9500001, max: 1e9, noNaN: true }), NON_FINITE)],
  [["gpu", "workerMemoryFraction"], fc.oneof(fc.double({ max: 0, noNaN: true }), fc.double({ min: 1.0000001, max: 1e9, noNaN: true }), NON_FINITE)],
  [["gpu", "tensorParallelSize"], fc.oneof(int(-1e6, 0), int(65, 1e6), nonInteger, NON_FINITE)],
  [["gpu", "pipelineParallelSize"], fc.oneof(int(-1e6, 0), int(65, 1e6), nonInteger, NON_FINITE)],
  [["gpu", "memoryMiB"], fc.oneof(int(-1e6, 1023), nonInteger, NON_FINITE)],
  [["model", "maxModelLen"], fc.oneof(int(-1e6, 127), int(1_048_577, 1e9), nonInteger, NON_FINITE)],
  [["gateway", "port"], fc.oneof(int(-1e6, 0), int(65536, 1e7), nonInteger, NON_FINITE)],
  [["services", "retrievalPort"], fc.oneof(int(-1e6, 0), int(65536, 1e7), nonInteger)],
  [["services", "workerPort"], fc.oneof(int(-1e6, 0), int(65536, 1e7), nonInteger)],
  [["vllm", "startupTimeoutSeconds"], fc.oneof(int(-1e6, 59), int(7201, 1e7), nonInteger)],
  [["vllm", "downloadTimeoutMinutes"], fc.oneof(int(-1e6, 0), int(1441, 1e7), nonInteger)],
  [["vllm", "pullTimeoutMinutes"], fc.oneof(int(-1e6, 0), int(1441, 1e7), nonInteger)],
  [["vllm", "shmSizeMiB"], fc.oneof(int(-1e6, 63), nonInteger)],
  [["monitoring", "prometheus", "retentionDays"], fc.oneof(int(-1e6, 0), int(3651, 1e7), nonInteger)],
  [["monitoring", "prometheus", "scrapeIntervalSeconds"], fc.oneof(int(-1e6, 0), int(301, 1e7))],
  [["monitoring", "alerts", "gpuTemperatureCelsius"], fc.oneof(int(-1e6, 39), int(111, 1e7))],
  [["monitoring", "alerts", "kvCacheUsageFraction"], fc.oneof(fc.double({ max: 0, noNaN: true }), fc.double({ min: 1, max: 1e6, noNaN: true }))],
  [["monitoring", "grafana", "port"], fc.oneof(int(-1e6, 0), int(65536, 1e7))],
];

function outOfRange(): fc.Arbitrary<Mutation> {
  return fc
    .constantFrom(...OUT_OF_RANGE)
    .chain(([p, arb]) => arb.map((v) => ({ kind: "out of range", path: p, apply: (cfg: Raw) => set(cfg, p, v) })));
}

const notIn = (allowed: readonly string[], nearMisses: readonly string[]): fc.Arbitrary<string> =>
  fc.oneof(fc.constantFrom(...nearMisses), fc.string({ maxLength: 12 }).filter((s) => !allowed.includes(s)));

const ENUMS: readonly [Path, fc.Arbitrary<string>][] = [
  [["environment"], notIn(["development", "staging", "production"], ["Production", "prod", "dev", "production ", "test"])],
  [["gpu", "mode"], notIn(["multi", "single", "cpu"], ["MULTI", "multi-nvlink", "gpu", "auto", "none"])],
  [["gpu", "cardClass"], notIn(["consumer", "datacenter"], ["geforce", "Datacenter", "server"])],
  [["model", "dtype"], notIn(["auto", "float16", "bfloat16", "float32"], ["fp16", "bf16", "half", "int8"])],
  [["gateway", "tls", "mode"], notIn(["internal", "acme", "certificate"], ["letsencrypt", "off", "self-signed"])],
  [["monitoring", "receiver", "type"], notIn(["none", "webhook", "email"], ["slack", "pagerduty", "Webhook"])],
];

function badEnum(): fc.Arbitrary<Mutation> {
  return fc
    .constantFrom(...ENUMS)
    .chain(([p, arb]) => arb.map((v) => ({ kind: "bad enum", path: p, apply: (cfg: Raw) => set(cfg, p, v) })));
}

const GPU_ID = /^(0|[1-9]\d*|GPU-[0-9a-fA-F-]{8,}|MIG-[0-9a-fA-F-]{8,})$/;
const BAD_GPU_ID = fc.oneof(
  fc.constantFrom("gpu0", "-1", "GPU-xyz", "", " 0", "0 ", "1.5", "GPU-1234567", "cuda:0", "all", "0,1", "01", "00"),
  fc.string({ maxLength: 14 }).filter((s) => !GPU_ID.test(s)),
);

function badGpuId(base: Raw): fc.Arbitrary<Mutation> {
  const lists = (["vllmDevices", "workerDevices"] as const).flatMap((k) => {
    const list = get(base, ["gpu", k]);
    return Array.isArray(list) ? list.map((_, i): Path => ["gpu", k, i]) : [];
  });
  return fc
    .tuple(fc.constantFrom(...lists), BAD_GPU_ID)
    .map(([p, id]) => ({ kind: "bad GPU ID", path: p, apply: (cfg: Raw) => set(cfg, p, id) }));
}

/** The reference rig's GPU UUIDs (test/fixtures/nvidia-smi, the club-3090 captures). */
const RIG_UUIDS = ["GPU-1aff65f8-8897-eaee-29e4-6871ef7491a0", "GPU-fef3f583-99bd-ac7f-c761-eddb679067e0"] as const;

/** Thousandths of a shared GPU at and above which vLLM's and the worker's shares overflow it with two CUDA contexts. */
function overBudgetFrom(base: Raw): number {
  const usable = (get(base, ["gpu", "memoryMiB"]) as number) - CUDA_RESERVED_MIB;
  return Math.floor((1 - (2 * CUDA_CONTEXT_MIB) / usable) * 1000) + 1;
}

/** Compound edits of the GPU section that break one cross-key rule each (only from a valid base). */
function gpuRule(base: Raw): fc.Arbitrary<Mutation> {
  const devices = (get(base, ["gpu", "vllmDevices"]) as unknown[]).length;
  const gpu = (edit: Raw, kind: string, path: Path): Mutation => ({
    kind,
    path,
    apply: (cfg) => Object.assign(cfg.gpu as Raw, edit),
  });
  // The worker's GPU share counts only when the worker runs, that is when its image is set: rules about
  // that share are broken with the worker running.
  const withWorker = (m: Mutation): Mutation => ({
    ...m,
    apply: (cfg) => {
      m.apply(cfg);
      set(cfg, ["images", "multimodalWorker"], APP_IMAGES.multimodalWorker);
    },
  });
  return fc.oneof(
    fc
      .tuple(int(1, 8), int(1, 8))
      .filter(([tp, pp]) => tp * pp !== devices)
      .map(([tp, pp]) => gpu({ tensorParallelSize: tp, pipelineParallelSize: pp }, "TP × PP mismatch", ["gpu", "tensorParallelSize"])),
    // Over the budget of the shared GPU: vLLM's share and the worker's of what CUDA can allocate, plus a
    // CUDA context each, exceed it. Utilisation stays within every environment's bounds, and many cases
    // keep the two shares at or under 1, which passed before the contexts were counted.
    int(600, 920).chain((u) =>
      int(Math.max(1, overBudgetFrom(base) - u), 1000).map((w) =>
        withWorker(
          gpu({ memoryUtilization: u / 1000, workerMemoryFraction: w / 1000 }, "over-budget shared GPU", ["gpu", "workerMemoryFraction"]),
        ),
      ),
    ),
    fc.constant(withWorker(gpu({ workerDevices: [RIG_UUIDS[1]] }, "one GPU under two names (index and UUID)", ["gpu", "workerDevices"]))),
    fc.constant(
      gpu(
        { vllmDevices: [RIG_UUIDS[0], RIG_UUIDS[0].toUpperCase()], workerDevices: [RIG_UUIDS[1]] },
        "one GPU under two spellings of its UUID",
        ["gpu", "vllmDevices"],
      ),
    ),
    fc.constant(
      withWorker({ kind: "shared GPU without memoryMiB", path: ["gpu", "memoryMiB"], apply: (cfg: Raw) => del(cfg, ["gpu", "memoryMiB"]) }),
    ),
    ...(base.environment === "production"
      ? [
          fc.oneof(int(921, 950), int(1, 599)).map((u) => {
            const own = { workerDevices: ["0"], vllmDevices: ["1"], mode: "single", nvlink: false, tensorParallelSize: 1 };
            return gpu({ ...own, memoryUtilization: u / 1000 }, "production utilisation out of bounds", ["gpu", "memoryUtilization"]);
          }),
        ]
      : []),
    fc.constant(gpu({ mode: "single" }, "single mode with two GPUs", ["gpu", "vllmDevices"])),
    fc.constant(gpu({ vllmDevices: ["0"], tensorParallelSize: 1, workerDevices: ["0"] }, "multi mode with one GPU", ["gpu", "vllmDevices"])),
    fc.constant(gpu({ vllmDevices: ["0", "0"] }, "a GPU listed twice", ["gpu", "vllmDevices"])),
    fc.constant(gpu({ workerDevices: ["0", "1"] }, "two worker GPUs", ["gpu", "workerDevices"])),
    fc.constant(
      gpu({ mode: "single", vllmDevices: ["0"], tensorParallelSize: 1, nvlink: true }, "single mode with NVLink", ["gpu", "nvlink"]),
    ),
    fc.constant(gpu({ mode: "cpu" }, "cpu mode keeping GPU keys", ["gpu"])),
  );
}

const FLOATING = fc.constantFrom("", ":latest", ":stable", ":nightly", ":main", ":main-2024", ":edge", ":dev", ":master", ":release");

const repoOf = (ref: string): string => {
  const name = ref.split("@")[0]!;
  const colon = name.lastIndexOf(":");
  return colon > name.lastIndexOf("/") ? name.slice(0, colon) : name;
};

/** A floating tag on any image, core, your own (worker, retrieval proxy) or monitoring (staging and production only). */
function floatingImage(base: Raw): fc.Arbitrary<Mutation> {
  const core = [...new Set([...Object.keys(base.images as Raw), ...Object.keys(APP_IMAGES)])].map((k): Path => ["images", k]);
  const monitoring = base.monitoring
    ? ["dcgmExporter", "prometheus", "alertmanager", "grafana"].map((k): Path => ["monitoring", "images", k])
    : [];
  const refs: Record<string, string> = {
    dcgmExporter: "nvcr.io/nvidia/k8s/dcgm-exporter",
    prometheus: "prom/prometheus",
    alertmanager: "prom/alertmanager",
    grafana: "grafana/grafana",
  };
  return fc.tuple(fc.constantFrom(...core, ...monitoring), FLOATING).map(([p, tag]) => {
    const ref = p[0] === "images" ? String(get(base, p) ?? APP_IMAGES[p[1] as keyof typeof APP_IMAGES]) : undefined;
    const repo = ref !== undefined ? repoOf(ref) : refs[String(p[2])]!;
    return { kind: "floating image tag", path: p, apply: (cfg: Raw) => set(cfg, p, `${repo}${tag}`) };
  });
}

const NON_LOOPBACK = fc.oneof(
  fc.ipV4().filter((a) => !a.startsWith("127.")),
  fc.constantFrom("0.0.0.0", "::", "192.168.1.20", "10.0.0.5", "2001:db8::1"),
);

function exposedWithoutTls(): fc.Arbitrary<Mutation> {
  return NON_LOOPBACK.map((addr) => ({
    kind: "published beyond loopback without TLS",
    path: ["gateway", "tls"],
    apply: (cfg: Raw) => {
      set(cfg, ["gateway", "bindAddress"], addr);
      del(cfg, ["gateway", "tls"]);
    },
  }));
}

/** Grafana is never published (only the gateway is): a stack file that tries names the key. */
function grafanaExposed(): fc.Arbitrary<Mutation> {
  return NON_LOOPBACK.map((addr) => ({
    kind: "Grafana published on its own",
    path: ["monitoring", "grafana"],
    apply: (cfg: Raw) => {
      set(cfg, ["monitoring"], { enabled: true, grafana: { bindAddress: addr, port: 3000 } });
    },
  }));
}

/** Strings that break a format: no slash in a model ID, a space in a served name, an unknown scheme. */
function badString(): fc.Arbitrary<Mutation> {
  const s = fc.string({ maxLength: 10 });
  const cases: [Path, fc.Arbitrary<unknown>][] = [
    [["model", "name"], fc.oneof(s.filter((x) => !x.includes("/")), fc.constantFrom("/Qwen", "Qwen/", "-a/b", "a/b/c"))],
    [["model", "servedModelName"], s.map((x) => `${x} ${x}/`)],
    [["dockerHost"], fc.oneof(s.map((x) => `http://${x}`), fc.constantFrom("", "/var/run/docker.sock", "ssh://host", "tcp://host"))],
    [["gateway", "bindAddress"], fc.oneof(s.filter((x) => !/^[\d.:a-f]+$/i.test(x)), fc.constantFrom("localhost", "256.1.1.1", "1.2.3"))],
    [["gateway", "tls"], s.map((x) => ({ mode: "acme", domain: `${x}`.replace(/\./g, "") || "x", email: "ops@example.org" }))],
    [["gateway", "tls"], s.map((x) => ({ mode: "acme", domain: "llm.example.org", email: x.replace(/@/g, "") }))],
    [["monitoring", "receiver"], s.map((x) => ({ type: "webhook", url: `ftp://${x}` }))],
    [["monitoring", "receiver"], s.map((x) => ({ type: "email", to: "a@example.org", from: "b@example.org", smarthost: `${x.replace(/:/g, "")}` }))],
    [["services", "workerCommand"], fc.constantFrom([], [""], ["python3", ""])],
    // Your own images are optional, but one that is set must be a reference. A registry host may have
    // capitals (distribution/reference's domain grammar), a repository path may not.
    ...(["multimodalWorker", "retrievalProxy"] as const).map((k): [Path, fc.Arbitrary<unknown>] => [
      ["images", k],
      fc.oneof(s.map((x) => `${x} ${x}`), fc.constantFrom("", "registry.example.com/Acme/worker:1", "ghcr.io/acme/worker:", "-worker:1")),
    ]),
  ];
  return fc
    .constantFrom(...cases)
    .chain(([p, arb]) => arb.map((v) => ({ kind: "bad format", path: p, apply: (cfg: Raw) => set(cfg, p, v) })));
}

/** Mutations that only write an invalid value (or remove a required one), so any sequence of them stays invalid. */
function stateFree(base: Raw): fc.Arbitrary<Mutation> {
  return fc.oneof(unknownKey(base), wrongType(base), missingRequired(base), outOfRange(), badEnum(), badGpuId(base));
}

function forStack(stack: string): fc.Arbitrary<InvalidCase> {
  const base = BASES[stack]!;
  const single = fc.oneof(
    { arbitrary: stateFree(base), weight: 6 },
    { arbitrary: gpuRule(base), weight: 2 },
    { arbitrary: exposedWithoutTls(), weight: 1 },
    { arbitrary: grafanaExposed(), weight: 1 },
    { arbitrary: badString(), weight: 2 },
    ...(stack === "development" ? [] : [{ arbitrary: floatingImage(base), weight: 2 }]),
    { arbitrary: hostileInput(base, stack), weight: 4 },
  );
  const one = single.map((m) => [m]);
  const several = fc.array(stateFree(base), { minLength: 2, maxLength: 4 });
  return fc.oneof({ arbitrary: one, weight: 3 }, { arbitrary: several, weight: 1 }).map((ms) => {
    const values = structuredClone(base);
    for (const m of ms) m.apply(values);
    return {
      stack,
      kind: ms.length === 1 ? ms[0]!.kind : `${ms.length} mutations`,
      tops: [...new Set(ms.map((m) => String(m.path[0])))],
      values,
    };
  });
}

// Built once per stack: building the arbitraries walks the stack's values, far slower than sampling them.
const PER_STACK: Readonly<Record<string, fc.Arbitrary<InvalidCase>>> = Object.fromEntries(STACKS.map((s) => [s, forStack(s)]));

export const invalidStackConfig: fc.Arbitrary<InvalidCase> = fc.constantFrom(...STACKS).chain((s) => PER_STACK[s]!);

/** The case as Pulumi config entries for runProgram: every key of the base or the mutation, deleted ones undefined. */
export function asOverrides(c: InvalidCase): Record<string, unknown> {
  const keys = new Set([...Object.keys(BASES[c.stack]!), ...Object.keys(c.values)]);
  return Object.fromEntries([...keys].map((k) => [`llmstack:${k}`, c.values[k]]));
}
