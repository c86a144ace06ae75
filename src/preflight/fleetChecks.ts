/**
 * The checks of a stack with hosts that are not one host's alone, and how their results are grouped: each
 * host's daemon answers (one failure naming the host, its endpoint and the fix when it does not), every
 * replica's GPUs are on its host as the host reports them, and the gateway host reaches every replica's
 * port (./replicaReach.ts); a replica across hosts also gets the span checks (./spanChecks.ts). Pure:
 * facts in, results out.
 *
 * Per-replica checks are the entries of REPLICA_CHECKS: each takes the stack's needs, one replica and the
 * facts of every host, so a replica placed across hosts gets its checks as more entries there.
 */
import { resolveHostGpu } from "../config/gpuBookings";
import type { Detection } from "../gpu/types";
import { checkDaemon, socketRefused, DOCKER_GROUP_JOIN, type DaemonFacts } from "./docker";
import type { FleetNeeds, HostNeeds, ReplicaNeed } from "./fleetNeeds";
import { parseReach, reachResults, pythonImages } from "./replicaReach";
import { transportFor } from "./probe";
import {
  spanFactsOf,
  spanImageResults,
  spanInterfaceResults,
  spanModelResults,
  spanReachResults,
  type PythonImagesOf,
} from "./spanChecks";
import type { SpanFacts } from "./spanScript";
import { fail, pass, warn, type CheckResult } from "./types";

/** What the checks found on one host, as the per-replica checks read it. */
export interface HostFacts {
  /** Whether its Docker daemon answered. */
  readonly answered: boolean;
  /** Its GPUs as nvidia-smi reported them; null when they could not be read (no probe on a tcp:// host). */
  readonly detection: Detection | null;
}

export interface FleetFacts {
  /** By host name. */
  readonly hosts: ReadonlyMap<string, HostFacts>;
  /** By replica id: what the reach script printed; absent when it did not run (a host did not answer). */
  readonly reach: ReadonlyMap<string, string>;
  /**
   * By replica id, for a replica across hosts: what the span script (./spanScript.ts) printed; absent when
   * it did not run (a member host did not answer).
   */
  readonly span?: ReadonlyMap<string, string>;
}

/** One host's results, or the stack's own (`host` null) for what belongs to no host. */
export interface HostResults {
  readonly host: string | null;
  readonly endpoint: string | null;
  readonly roles: readonly string[];
  readonly results: readonly CheckResult[];
}

/**
 * The daemon check of a host of a fleet: the single-host check's words when it answers; when it does not,
 * one failure that names the host and its endpoint, with the fix for how it is reached.
 */
export function hostDaemonCheck(stackFile: string, host: Pick<HostNeeds, "name" | "endpoint" | "index">) {
  return (d: DaemonFacts): CheckResult => {
    if (d.error === null) return checkDaemon(d);
    const key = `llmstack:hosts[${host.index}].endpoint`;
    const found = `${host.name}: the Docker daemon at ${host.endpoint} does not answer: ${d.error}; nothing else on ${host.name} was checked`;
    return fail("docker.daemon", found, daemonFix(stackFile, host, key, d.error));
  };
}

function daemonFix(stackFile: string, host: Pick<HostNeeds, "name" | "endpoint">, key: string, error: string): string {
  const wrong = `or fix ${key} ("${host.endpoint}") in ${stackFile}`;
  if (error === "the docker CLI is not installed") return "install the docker CLI on this machine (https://docs.docker.com/engine/install/)";
  if (socketRefused(error)) return `let your user use Docker on ${host.name} (${DOCKER_GROUP_JOIN}, then log in again)`;
  const transport = transportFor(host.endpoint);
  if (transport.kind === "ssh") {
    const dest = transport.sshArgs[transport.sshArgs.length - 1] ?? "";
    const p = transport.sshArgs.indexOf("-p");
    const port = p < 0 ? "" : `-p ${transport.sshArgs[p + 1]} `;
    return (
      `start Docker on ${host.name} (sudo systemctl start docker) and check that \`ssh ${port}${dest} docker version\` ` +
      `answers without a prompt, ${wrong}`
    );
  }
  if (host.endpoint.startsWith("tcp://")) {
    return (
      `start Docker on ${host.name} listening on ${host.endpoint.slice("tcp://".length)} with TLS (dockerd --tlsverify), let this ` +
      "machine reach that port, and give the docker CLI the host's client certificate (DOCKER_TLS_VERIFY=1 and " +
      `DOCKER_CERT_PATH=<a directory with ca.pem, cert.pem, key.pem>), ${wrong}`
    );
  }
  return `start the Docker daemon (sudo systemctl start docker), ${wrong}`;
}

/** A per-replica check: the stack's needs, one replica and every host's facts in, results out. */
export type ReplicaCheck = (needs: FleetNeeds, replica: ReplicaNeed, facts: FleetFacts) => CheckResult[];

/** Where a replica's GPUs are: on each member host for a replica across hosts, else on its one host. */
interface GpuPlace {
  readonly host: string;
  readonly devices: readonly string[];
  /** The member's node rank, for a replica across hosts. */
  readonly rank?: number;
}

function gpuPlaces(replica: ReplicaNeed): GpuPlace[] {
  return replica.span === undefined
    ? [{ host: replica.host, devices: replica.devices }]
    : replica.span.members.map((m) => ({ host: m.host, devices: m.devices, rank: m.rank }));
}

/**
 * `replica.gpus`: the replica's GPUs are on its host as nvidia-smi reports them, and no GPU is any other
 * replica's under another name (an index and a UUID of one GPU; the plan compares only the names). A
 * replica across hosts gets one result per member host, each against that host's GPUs.
 */
export function checkReplicaGpus(needs: FleetNeeds, replica: ReplicaNeed, facts: FleetFacts): CheckResult[] {
  // Each pair once: on the later replica, naming the earlier.
  const earlier = needs.replicas.slice(0, needs.replicas.findIndex((r) => r.id === replica.id));
  return gpuPlaces(replica).flatMap((place) => checkPlaceGpus(needs, replica, place, earlier, facts));
}

function checkPlaceGpus(
  needs: FleetNeeds,
  replica: ReplicaNeed,
  place: GpuPlace,
  earlier: readonly ReplicaNeed[],
  facts: FleetFacts,
): CheckResult[] {
  const name = "replica.gpus";
  const host = needs.hosts.find((h) => h.name === place.host)!;
  const who = place.rank === undefined ? `replica ${replica.id}` : `replica ${replica.id} (node ${place.rank})`;
  const det = facts.hosts.get(place.host)?.detection ?? null;
  const gpus = `GPU ${place.devices.join(", ")}`;
  if (det === null) {
    return [warn(name, `${who}'s ${gpus} not compared with ${host.name}'s GPUs: nvidia-smi could not run there`, null)];
  }
  // nvidia-smi did not answer: gpu.devices already failed with the driver's fix.
  if (det.problem !== null) return [];
  const key = `llmstack:hosts[${host.index}].gpu.vllmDevices`;
  const missing = place.devices.filter((d) => resolveHostGpu(d, det.gpus) === undefined);
  if (missing.length > 0) {
    return [
      fail(
        name,
        `${who} is placed on ${host.name} GPU ${missing.join(", ")}, which ${host.name} does not have; it has ` +
          `${det.gpus.length} GPU(s): ${det.gpus.map((g) => `${g.index}${g.uuid ? ` = ${g.uuid}` : ""}`).join("; ") || "none"}`,
        `list GPUs ${host.name} has in ${key} (and in llmstack:model.placement where it pins them) in ${needs.stackFile}`,
      ),
    ];
  }
  const mine = place.devices.map((d) => resolveHostGpu(d, det.gpus)!);
  for (const other of earlier) {
    for (const theirPlace of gpuPlaces(other).filter((p) => p.host === place.host)) {
      const theirs = theirPlace.devices.find((d) => mine.some((g) => g.index === resolveHostGpu(d, det.gpus)?.index));
      if (theirs === undefined) continue;
      const g = resolveHostGpu(theirs, det.gpus)!;
      const ours = place.devices.find((d) => resolveHostGpu(d, det.gpus)?.index === g.index)!;
      return [
        fail(
          name,
          `${who} uses GPU ${g.index} of ${host.name} as "${ours}", which replica ${other.id} already uses as "${theirs}"`,
          `every GPU is used at most once: name each GPU once in ${key} and llmstack:model.placement in ${needs.stackFile}`,
        ),
      ];
    }
  }
  return [pass(name, `${who} on ${host.name} ${mine.map((g) => `GPU ${g.index}${g.name ? ` (${g.name})` : ""}`).join(", ")}`)];
}

/** `replica.port` and `replica.reach`, from what the reach script printed. */
export function checkReplicaReach(needs: FleetNeeds, replica: ReplicaNeed, facts: FleetFacts): CheckResult[] {
  const out = facts.reach.get(replica.id);
  if (out === undefined) return [];
  const host = needs.hosts.find((h) => h.name === replica.host)!;
  const gateway = needs.hosts.find((h) => h.name === needs.gateway)!;
  return reachResults(
    {
      stackFile: needs.stackFile,
      replica,
      host,
      gateway,
      listenImages: pythonImages(host.needs.images.map((i) => i.ref)),
      dialImages: pythonImages(gateway.needs.images.map((i) => i.ref)),
    },
    parseReach(out),
  );
}

/** The images with python3 of a host, which the span script tries on it (the vLLM image on a GPU host). */
export function hostPythonImages(needs: FleetNeeds): (host: string) => string[] {
  return (host) => pythonImages(needs.hosts.find((h) => h.name === host)?.needs.images.map((i) => i.ref) ?? []);
}

/** A check of a replica across hosts, from the span script's output; no results for a replica on one host. */
function spanCheck(
  results: (needs: FleetNeeds, r: Parameters<typeof spanInterfaceResults>[1], facts: SpanFacts, images: PythonImagesOf) => CheckResult[],
): ReplicaCheck {
  return (needs, replica, facts) => {
    const found = spanFactsOf(replica, facts.span ?? new Map());
    return found === undefined ? [] : results(needs, found[0], found[1], hostPythonImages(needs));
  };
}

/** `span.interface`, `span.reach`, `span.image` and `span.model` (./spanChecks.ts). */
export const checkSpanInterface = spanCheck(spanInterfaceResults);
export const checkSpanReach = spanCheck(spanReachResults);
export const checkSpanImage = spanCheck(spanImageResults);
export const checkSpanModel = spanCheck(spanModelResults);

/** The checks each replica gets, in order. */
export const REPLICA_CHECKS: readonly ReplicaCheck[] = [
  checkReplicaGpus,
  checkReplicaReach,
  checkSpanInterface,
  checkSpanReach,
  checkSpanImage,
  checkSpanModel,
];

/** Every replica's results, by the host they are shown under (the replica's host). */
export function replicaResults(needs: FleetNeeds, facts: FleetFacts): Map<string, CheckResult[]> {
  const out = new Map<string, CheckResult[]>();
  for (const r of needs.replicas) {
    if (facts.hosts.get(r.host)?.answered !== true) continue;
    out.set(r.host, [...(out.get(r.host) ?? []), ...REPLICA_CHECKS.flatMap((check) => check(needs, r, facts))]);
  }
  return out;
}

/** Each host's results: its own checks (`own`, by host name), then the checks of the replicas shown under it. */
export function hostResults(needs: FleetNeeds, own: ReadonlyMap<string, readonly CheckResult[]>, facts: FleetFacts): HostResults[] {
  const replicas = replicaResults(needs, facts);
  return needs.hosts.map((h) => ({
    host: h.name,
    endpoint: h.endpoint,
    roles: h.roles,
    results: [...(own.get(h.name) ?? []), ...(replicas.get(h.name) ?? [])],
  }));
}
