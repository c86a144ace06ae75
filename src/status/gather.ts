/**
 * Gathers a stack's status: each planned container through the docker CLI of its host, the GPU processes
 * through the host probe `validate` runs (nvidia-smi's compute apps and `docker top` of the stack's
 * containers, locally or over ssh), and the gateway's model list and one 1-token request. Everything
 * outside comes through the injected exec, fetch and clock, so tests answer for the host.
 */
import { isLoopback } from "../config/schema";
import type { ExecFn } from "../exec";
import type { ContainerSpec, StackPlan } from "../plan/types";
import { parseComputeApps, parseStackPids } from "../preflight/gpuChecks";
import { parseProbe, probeScript, transportFor } from "../preflight/probe";
import type { Docker } from "../preflight/run";
import { CONTAINER_FORMAT, imageMatch, parseContainer, type ImageMatch, type Inspected } from "./inspect";

const TIMEOUT_MS = 60_000;
/** A gateway that has not answered a 1-token request in this long is taken as down. */
export const GATEWAY_TIMEOUT_MS = 30_000;

export type StatusFetch = (url: string, init: RequestInit) => Promise<Response>;

export interface StatusDeps {
  readonly exec: ExecFn;
  /** Without it, the gateway is not asked. */
  readonly fetch?: StatusFetch;
  /** Milliseconds since the epoch. */
  readonly now: () => number;
  /** The gateway's key (LITELLM_MASTER_KEY); without it, the gateway is not asked. */
  readonly apiKey?: string;
  /** The gateway's base URL as this machine reaches it (a tunnel's), instead of the plan's. */
  readonly gatewayUrl?: string;
}

export interface ContainerStatus {
  readonly spec: ContainerSpec;
  readonly inspected: Inspected;
  readonly image: ImageMatch | null;
}

export interface GpuProcess {
  readonly host: string;
  readonly pid: number;
  readonly usedMiB: number | null;
  readonly gpuUuid: string;
  /** The stack's container the process runs in, or null for a process of something else. */
  readonly container: string | null;
}

export type GpuStatus =
  | { readonly kind: "skipped"; readonly why: string }
  | { readonly kind: "read"; readonly processes: readonly GpuProcess[]; readonly notes: readonly string[] };

export type GatewayStatus =
  | { readonly kind: "skipped"; readonly why: string; readonly fix: string }
  | { readonly kind: "failed"; readonly what: string }
  | { readonly kind: "ok"; readonly models: readonly string[]; readonly latencyMs: number };

export interface StackStatus {
  readonly stack: string;
  readonly containers: readonly ContainerStatus[];
  readonly gpu: GpuStatus;
  readonly gateway: GatewayStatus;
  /** When the status was read, milliseconds since the epoch (uptimes are counted to it). */
  readonly at: number;
}

const dockerOn =
  (exec: ExecFn, host: string): Docker =>
  (args) =>
    exec("docker", ["--host", host, ...args], { timeoutMs: TIMEOUT_MS });

async function containerStatus(spec: ContainerSpec, exec: ExecFn): Promise<ContainerStatus> {
  const docker = dockerOn(exec, spec.host);
  const inspected = parseContainer(await docker(["inspect", "--type", "container", "--format", CONTAINER_FORMAT, spec.name]));
  const image = inspected.kind === "found" ? await imageMatch(spec.image, inspected.facts.imageId, docker) : null;
  return { spec, inspected, image };
}

/** GPU processes on each host that runs a GPU container, read by the host probe's apps and stackpids sections. */
export async function gpuStatus(plan: StackPlan, exec: ExecFn): Promise<GpuStatus> {
  const gpuHosts = [...new Set(plan.containers.filter((c) => c.gpu).map((c) => c.host))];
  if (gpuHosts.length === 0) return { kind: "skipped", why: "no container of this stack uses a GPU (cpu mode)" };
  const processes: GpuProcess[] = [];
  const notes: string[] = [];
  for (const host of gpuHosts) {
    const transport = transportFor(host);
    if (transport.kind === "none") {
      notes.push(`${host} is a tcp:// Docker host, so nvidia-smi cannot run on it; use an ssh://user@host Docker host`);
      continue;
    }
    const script = probeScript({
      sections: ["apps", "stackpids"],
      dockerArgs: transport.dockerArgs,
      containerNames: plan.containers.filter((c) => c.host === host).map((c) => c.name),
    });
    const res =
      transport.kind === "ssh"
        ? await exec("ssh", [...transport.sshArgs, "sh", "-s"], { input: script, timeoutMs: TIMEOUT_MS })
        : await exec("sh", ["-s"], { input: script, timeoutMs: TIMEOUT_MS });
    const sections = parseProbe(res.stdout);
    const apps = parseComputeApps(sections.apps);
    if (apps === null) {
      const said = (sections.apps?.text ?? res.stderr).trim().split("\n").pop() ?? "";
      notes.push(`nvidia-smi did not answer on ${transport.where}${said ? `: ${said}` : ""}`);
      continue;
    }
    const pids = parseStackPids(sections.stackpids);
    processes.push(...apps.map((a) => ({ host, pid: a.pid, usedMiB: a.usedMiB, gpuUuid: a.gpuUuid, container: pids.get(a.pid) ?? null })));
  }
  return { kind: "read", processes, notes };
}

const base = (url: string): string => url.replace(/\/+$/, "");

/** The machine a Docker host names, when it is another machine: ssh://, or tcp:// beyond loopback. */
function otherMachine(dockerHost: string): string | null {
  if (!/^(ssh|tcp):\/\//.test(dockerHost)) return null;
  const host = new URL(dockerHost.replace(/^tcp:/, "http:")).hostname.replace(/^\[|\]$/g, "");
  return dockerHost.startsWith("ssh:") || !isLoopbackHost(host) ? host : null;
}

const isLoopbackHost = (host: string): boolean => host === "localhost" || isLoopback(host);

/**
 * A gateway published on loopback (the default, `gateway.bindAddress: 127.0.0.1`) of another machine: its
 * URL here would reach this machine's own loopback, where another service, or none, answers. Skipped, with
 * the tunnel that reaches it and the flag that asks through the tunnel.
 */
function loopbackElsewhere(plan: StackPlan): GatewayStatus | null {
  const gateway = new URL(plan.gatewayUrl);
  const address = gateway.hostname.replace(/^\[|\]$/g, "");
  const dockerHost = plan.containers.find((c) => c.service === "litellm")?.host ?? plan.dockerHost;
  const machine = otherMachine(dockerHost);
  if (machine === null || !isLoopbackHost(address)) return null;
  const port = gateway.port === "" ? (gateway.protocol === "https:" ? "443" : "80") : gateway.port;
  // ssh's port and destination as the Docker host names them (src/preflight/probe.ts); for tcp://, the machine.
  const args = transportFor(dockerHost).sshArgs;
  const p = args.indexOf("-p");
  const ssh = args.length === 0 ? [machine] : [...(p >= 0 ? ["-p", args[p + 1]!] : []), args[args.length - 1]!];
  return {
    kind: "skipped",
    why:
      `the gateway listens on ${gateway.host} of ${machine} (${dockerHost}), which this machine cannot reach; ` +
      `open a tunnel to it first: ssh -N -f -L ${port}:${gateway.hostname}:${port} ${ssh.join(" ")}`,
    // The tunnel's end here has the same address and port, so the plan's URL (and its TLS name) reaches it.
    fix: `llmstack status --stack ${plan.stack} --gateway-url ${base(plan.gatewayUrl)}`,
  };
}

/** GET /v1/models, then one chat completion of one token, timed. */
export async function gatewayStatus(plan: StackPlan, deps: StatusDeps): Promise<GatewayStatus> {
  if (deps.apiKey === undefined || deps.apiKey === "") {
    return {
      kind: "skipped",
      why: "LITELLM_MASTER_KEY is not set, so the gateway was not asked",
      fix: `export LITELLM_MASTER_KEY=$(pulumi config get --stack ${plan.stack} llmstack:litellmMasterKey)`,
    };
  }
  if (deps.fetch === undefined) return { kind: "skipped", why: "this command has no network access", fix: "" };
  const unreachable = deps.gatewayUrl === undefined ? loopbackElsewhere(plan) : null;
  if (unreachable !== null) return unreachable;
  const headers = { "content-type": "application/json", authorization: `Bearer ${deps.apiKey}` };
  const url = base(deps.gatewayUrl ?? plan.gatewayUrl);
  try {
    const list = await deps.fetch(`${url}/v1/models`, { headers, signal: AbortSignal.timeout(GATEWAY_TIMEOUT_MS) });
    if (!list.ok) return { kind: "failed", what: `GET ${url}/v1/models answered HTTP ${list.status}` };
    const models = ((await list.json()) as { data?: { id?: string }[] }).data?.map((m) => m.id ?? "") ?? [];
    const start = deps.now();
    const chat = await deps.fetch(`${url}/v1/chat/completions`, {
      method: "POST",
      headers,
      body: JSON.stringify({ model: plan.servedModelName, messages: [{ role: "user", content: "hello" }], max_tokens: 1 }),
      signal: AbortSignal.timeout(GATEWAY_TIMEOUT_MS),
    });
    await chat.text();
    const latencyMs = deps.now() - start;
    if (!chat.ok) return { kind: "failed", what: `a 1-token request for ${plan.servedModelName} answered HTTP ${chat.status}` };
    return { kind: "ok", models, latencyMs };
  } catch (err) {
    return { kind: "failed", what: `${url} did not answer: ${err instanceof Error ? err.message : String(err)}` };
  }
}

export async function gatherStatus(plan: StackPlan, deps: StatusDeps): Promise<StackStatus> {
  const at = deps.now();
  const containers = await Promise.all(plan.containers.map((c) => containerStatus(c, deps.exec)));
  const [gpu, gateway] = await Promise.all([gpuStatus(plan, deps.exec), gatewayStatus(plan, deps)]);
  return { stack: plan.stack, containers, gpu, gateway, at };
}
