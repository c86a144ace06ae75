/**
 * The policies as pure functions over `@pulumi/docker` inputs (what the program registers, secrets
 * unwrapped as CrossGuard hands them over). Each returns the violation messages: empty means it passes.
 * `index.ts` wires them into the CrossGuard pack; tests call them directly.
 */

import { gpuBookings, problemText, type GpuTenant } from "../src/config/gpuBookings";
import { imageTagProblem, parseImage } from "../src/config/images";
import { isLoopback, utilisationAllowed, utilisationRange, type Environment } from "../src/config/schema";
import { VLLM_FLAGS } from "../src/plan/flags";
import { GATEWAY_SERVICES as TABLE_GATEWAY_SERVICES, SERVICES } from "../src/config/services";

export type { Environment };

export interface PortInput {
  readonly internal?: number;
  readonly external?: number;
  readonly ip?: string;
}

export interface DeviceRequestInput {
  readonly deviceIds?: readonly string[];
  readonly count?: number;
  readonly capabilities?: readonly string[];
}

/** The `docker:index/container:Container` inputs the policies read. */
export interface ContainerInputs {
  readonly name?: string;
  readonly image?: string;
  readonly entrypoints?: readonly string[];
  readonly command?: readonly string[];
  readonly envs?: readonly string[];
  readonly ports?: readonly PortInput[];
  readonly ipcMode?: string;
  readonly networkMode?: string;
  readonly shmSize?: number;
  readonly deviceRequests?: readonly DeviceRequestInput[];
  readonly networksAdvanced?: readonly { readonly aliases?: readonly string[] }[];
  readonly healthcheck?: { readonly tests?: readonly string[] };
}

/**
 * Services allowed on a non-loopback address: the gateway, and the TLS proxy in front of it (the
 * `gateway` role of the service table, src/config/services.ts).
 */
export const GATEWAY_SERVICES: readonly string[] = TABLE_GATEWAY_SERVICES;

/**
 * Shared memory for tensor parallelism without host IPC. NCCL and vLLM's workers exchange data through
 * /dev/shm; Docker's default 64 MB makes NCCL fail. NVIDIA's NCCL guide runs containers with
 * `--shm-size=1g` (https://docs.nvidia.com/deeplearning/nccl/user-guide/docs/troubleshooting.html#docker),
 * vLLM's Docker guide says "use --ipc=host or --shm-size" (https://docs.vllm.ai/en/stable/deployment/docker/).
 */
export const MIN_TP_SHM_MIB = 1024;

/** Containers that watch GPUs through NVML and hold no CUDA context: no memory share (DCGM exporter). */
export const GPU_MEMORY_FREE_IMAGES = /(^|\/)dcgm-exporter(:|@|$)/;

/** The service a container serves: its network alias, else the last part of its physical name. */
export function serviceOf(c: ContainerInputs): string {
  const alias = c.networksAdvanced?.flatMap((n) => n.aliases ?? [])[0];
  return alias ?? c.name ?? "(unnamed)";
}

const who = (c: ContainerInputs): string => `container ${c.name ?? serviceOf(c)}`;

export function envRecord(envs: readonly string[] | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const e of envs ?? []) {
    const i = e.indexOf("=");
    if (i > 0) out[e.slice(0, i)] = e.slice(i + 1);
  }
  return out;
}

/** The value of `--flag N` or `--flag=N` in an argv. */
export function flagValue(argv: readonly string[], flag: string): string | undefined {
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === flag) return argv[i + 1];
    if (a.startsWith(`${flag}=`)) return a.slice(flag.length + 1);
  }
  return undefined;
}

const argvOf = (c: ContainerInputs): string[] => [...(c.entrypoints ?? []), ...(c.command ?? [])];

export interface ImageFinding {
  readonly level: "mandatory" | "advisory";
  readonly message: string;
}

/**
 * Floating tags move under a running stack: the same stack file deploys different code tomorrow.
 * Staging and production pin a release tag or a digest; development may float. `owner` names the
 * container or image resource in the message.
 */
export function imageTagFindings(image: string | undefined, owner: string, env: Environment): ImageFinding[] {
  if (env === "development" || image === undefined || image.startsWith("sha256:")) return [];
  // The stack schema's own rule (src/config/images.ts) decides what floats; the policy says it per resource.
  const problem = imageTagProblem(image);
  if (problem === null) return [];
  const { repository, tag } = parseImage(image);
  const fix =
    `pin a release tag (e.g. ${repository}:<version>) or a digest (${repository}@sha256:...) ` +
    `in llmstack:images (Pulumi.yaml or the stack file)`;
  if (tag === null) {
    return [{ level: "mandatory", message: `${owner}: image "${image}" has no tag, so it floats on "latest" in ${env}; ${fix}` }];
  }
  if (problem === "floating") {
    return [{ level: "mandatory", message: `${owner}: image "${image}" uses the floating tag "${tag}" in ${env}; ${fix}` }];
  }
  return [
    {
      level: "advisory",
      message: `${owner}: image "${image}" has the major-only tag "${tag}", which moves with every minor release; ${fix}`,
    },
  ];
}

/**
 * On a stack with hosts, the services a host publishes on its own address for another host to dial: each
 * vLLM replica for the gateway (src/plan/fleet.ts, replicaContainers) and each GPU host's DCGM exporter for
 * Prometheus (src/monitoring/fleet.ts). test/policy/pack.test.ts holds the example fleet to this list.
 */
export const PEER_PUBLISHED_SERVICES: readonly string[] = ["vllm", "dcgm-exporter"];

/**
 * A member of a vLLM replica across hosts: `vllm serve` with `--nnodes` (src/facts/vllmMultiNode.ts). It runs
 * on its host's network, since NCCL and Gloo dial the host's own address (src/plan/span.ts).
 */
function isMultiNodeVllm(c: ContainerInputs): boolean {
  const argv = argvOf(c);
  return argv[0] === "vllm" && argv[1] === "serve" && flagValue(argv, VLLM_FLAGS.nnodes) !== undefined;
}

const WILDCARD = new Set(["", "0.0.0.0", "::", "[::]"]);

/**
 * Only the gateway faces the network; everything else is reached on the stack network or loopback. On a
 * stack with hosts (`onHosts`), a replica or exporter may also listen on one named address of its host,
 * never on every address.
 */
export function publishedPortFindings(c: ContainerInputs, gateways: readonly string[] = GATEWAY_SERVICES, onHosts = false): string[] {
  if (c.networkMode === "host" && !(onHosts && isMultiNodeVllm(c))) {
    return [
      `${who(c)} runs on the host's network (networkMode "host"), where every port it opens is on every address of the ` +
        "host; only a member of a vLLM replica across hosts (vllm serve --nnodes) may: put it on the stack network",
    ];
  }
  if (gateways.includes(serviceOf(c))) return [];
  const peer = onHosts && PEER_PUBLISHED_SERVICES.includes(serviceOf(c));
  return (c.ports ?? [])
    .filter((p) => !isLoopback(p.ip === undefined || p.ip === "" ? "0.0.0.0" : p.ip))
    .filter((p) => !(peer && !WILDCARD.has(p.ip ?? "")))
    .map((p) =>
      peer
        ? `${who(c)} publishes port ${p.internal} on every address (${p.ip || "0.0.0.0"}:${p.external ?? p.internal}); on a stack ` +
          "with hosts it may listen on its host's own address only: publish it on hosts[].address"
        : `${who(c)} publishes port ${p.internal} on ${p.ip || "0.0.0.0"}:${p.external ?? p.internal}; only the gateway ` +
          `(${gateways.join(", ")}) may listen on a non-loopback address: bind it to 127.0.0.1 or remove the port ` +
          `and reach it on the stack network`,
    );
}

/**
 * vLLM's tensor parallelism, from its argv: vLLM reads the flag (or its short form `-tp`), never an
 * environment variable.
 */
export function tensorParallelSize(c: ContainerInputs): number {
  const argv = argvOf(c);
  const flag = flagValue(argv, VLLM_FLAGS.tensorParallelSize) ?? flagValue(argv, "-tp");
  return Number(flag ?? 1) || 1;
}

export function tensorParallelShmFindings(c: ContainerInputs, minShmMiB = MIN_TP_SHM_MIB): string[] {
  const tp = tensorParallelSize(c);
  if (tp <= 1 || c.ipcMode === "host" || (c.shmSize ?? 0) >= minShmMiB) return [];
  return [
    `${who(c)} runs tensor parallelism ${tp} with ${c.shmSize === undefined ? "Docker's default 64 MB" : `${c.shmSize} MiB`} ` +
      `of shared memory; NCCL needs more: set llmstack:vllm.ipcHost: true (ipcMode "host") or shmSizeMiB >= ${minShmMiB}`,
  ];
}

/** vLLM's share of each of its GPUs, from its argv; undefined when the container passes no such flag. */
export function vllmUtilisation(c: ContainerInputs): number | undefined {
  const flag = flagValue(argvOf(c), VLLM_FLAGS.gpuMemoryUtilization);
  return flag === undefined ? undefined : Number(flag);
}

/** Production's bounds for vLLM's utilisation are the stack schema's (MEMORY_UTILISATION_LIMITS). */
export function productionUtilisationFindings(c: ContainerInputs, env: Environment): string[] {
  const u = vllmUtilisation(c);
  if (env !== "production" || u === undefined || utilisationAllowed(env, u)) return [];
  return [
    `${who(c)} sets --gpu-memory-utilization ${u} in production; allowed ${utilisationRange(env)}: set ` +
      `llmstack:gpu.memoryUtilization within those bounds in the stack file`,
  ];
}

/** A container's declared share of each GPU it gets; undefined when it declares none. */
export function gpuShare(c: ContainerInputs): number | undefined {
  if (c.image !== undefined && GPU_MEMORY_FREE_IMAGES.test(c.image)) return 0;
  const u = vllmUtilisation(c);
  if (u !== undefined) return u;
  const e = envRecord(c.envs);
  const f = e.WORKER_GPU_MEMORY_FRACTION ?? e.GPU_MEMORY_FRACTION;
  return f === undefined ? undefined : Number(f);
}

/** A container in the GPU budget: vLLM by its flag, the worker and others by their declared share. */
function tenantOf(c: ContainerInputs, devices: readonly string[], fraction: number): GpuTenant {
  // vLLM and the worker as their entries in the service table name them (src/config/services.ts).
  const known =
    vllmUtilisation(c) !== undefined
      ? SERVICES.vllm.gpu
      : envRecord(c.envs).WORKER_GPU_MEMORY_FRACTION !== undefined
        ? SERVICES["multimodal-worker"].gpu
        : undefined;
  if (known !== undefined) {
    const { tenant: name, shareKey: key, devicesKey, checksFreeAtStart } = known;
    return { name, key, devicesKey, devices, fraction, checksFreeAtStart };
  }
  const name = `container ${serviceOf(c)}`;
  const o = { name, key: `GPU_MEMORY_FRACTION of ${name}`, devicesKey: `the device requests of ${name}` };
  return { ...o, devices, fraction, checksFreeAtStart: false };
}

/**
 * The GPU budget over what is registered, by the stack schema's own rule (src/config/gpuBookings.ts).
 * Container inputs carry no GPU memory size, so each CUDA context cannot be sized here: a GPU whose shares
 * add up to 1 or more fails, and the stack schema and preflight check the rest with the memory known.
 */
export function gpuOversubscriptionFindings(containers: readonly ContainerInputs[]): string[] {
  const out: string[] = [];
  const placed = containers
    .map((c) => ({ c, ids: (c.deviceRequests ?? []).flatMap((d) => (d.deviceIds?.length ? d.deviceIds : ["all"])) }))
    .filter((p) => p.ids.length > 0);
  // A request for every GPU ("all") lands on each GPU another container names.
  const named = [...new Set(placed.flatMap((p) => p.ids).filter((id) => id !== "all"))];
  const tenants: GpuTenant[] = [];
  for (const { c, ids } of placed) {
    const share = gpuShare(c);
    if (share === undefined || !Number.isFinite(share)) {
      out.push(
        `${who(c)} gets GPU ${ids.join(",")} but declares no memory share; set WORKER_GPU_MEMORY_FRACTION ` +
          `(or GPU_MEMORY_FRACTION) in its env so the GPU budget can be checked`,
      );
      continue;
    }
    if (share === 0) continue;
    tenants.push(tenantOf(c, ids.includes("all") ? (named.length ? named : ["all"]) : ids, share));
  }
  return [...out, ...gpuBookings(tenants).problems.map(problemText)];
}

const SECRET_KEY = /(KEY|TOKEN|PASSWORD|SECRET|SALT|CREDENTIAL)/i;
/**
 * An S3 access key ID (S3_ACCESS_KEY, AWS_ACCESS_KEY_ID) names the identity and is sent in clear in every
 * signed request's Authorization header; its secret is the secret key (S3_SECRET_KEY, AWS_SECRET_ACCESS_KEY).
 */
const ACCESS_KEY_ID = /ACCESS_KEY(_ID)?$/i;
const isSecretName = (key: string): boolean =>
  SECRET_KEY.test(key) && !(ACCESS_KEY_ID.test(key) && !/SECRET/i.test(key));
const SECRET_LOOKING = [
  /\bsk-[A-Za-z0-9_-]{8,}/, // OpenAI/LiteLLM style keys
  /\bhf_[A-Za-z0-9]{10,}/, // Hugging Face tokens
  /\bgh[pousr]_[A-Za-z0-9]{20,}/, // GitHub tokens
  /\bAKIA[0-9A-Z]{16}\b/, // AWS access key IDs
  /:\/\/[^/\s:@]+:[^/\s@]+@/, // credentials in a URL
];
const SECRET_FLAGS = /^--?(api[-_]?key|token|password|secret|master[-_]?key|hf[-_]?token)(=.+)?$/i;

/** Values of the env entries that hold secrets: secret-named keys and passwords inside URLs. */
export function secretValues(envs: readonly string[] | undefined): { key: string; value: string }[] {
  const out: { key: string; value: string }[] = [];
  for (const [key, value] of Object.entries(envRecord(envs))) {
    if (isSecretName(key) && value.length >= 6) out.push({ key, value });
    const m = /:\/\/[^/\s:@]+:([^/\s@]+)@/.exec(value);
    if (m && m[1]!.length >= 6) out.push({ key, value: m[1]! });
  }
  return out;
}

/** Argv is world-readable (`docker inspect`, `ps`); secrets belong in the env. Messages never print the value. */
export function secretInCommandFindings(c: ContainerInputs): string[] {
  const fix = "pass it in the container's env (a secret in the stack file) and read it there, never in argv";
  const lists: [string, readonly string[]][] = [
    ["entrypoints", c.entrypoints ?? []],
    ["command", c.command ?? []],
    ["healthcheck", c.healthcheck?.tests ?? []],
  ];
  const secrets = secretValues(c.envs);
  const out: string[] = [];
  for (const [field, argv] of lists) {
    argv.forEach((arg, i) => {
      const hit = secrets.find((s) => arg.includes(s.value));
      if (hit) out.push(`${who(c)}: ${field}[${i}] contains the value of the secret env ${hit.key}; ${fix}`);
      else if (SECRET_LOOKING.some((r) => r.test(arg))) out.push(`${who(c)}: ${field}[${i}] looks like a key or password; ${fix}`);
      else if (SECRET_FLAGS.test(arg) && (arg.includes("=") || argv[i + 1] !== undefined)) {
        out.push(`${who(c)}: ${field}[${i}] passes "${arg.split("=")[0]}" on the command line; ${fix}`);
      }
    });
  }
  return out;
}

/** Environment for the environment-dependent policies: explicit config, else the strictest. */
export function resolveEnvironment(configured: string | undefined, envVar: string | undefined): Environment {
  const v = configured ?? envVar;
  if (v === "development" || v === "staging" || v === "production") return v;
  if (v !== undefined && v !== "") {
    throw new Error(`policy config "environment" is "${v}"; use development, staging or production`);
  }
  return "production";
}
