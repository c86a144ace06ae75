/**
 * `llmstack validate` on a stack with hosts: every host's checks as a single host gets them (its daemon,
 * images, data volumes, and through the probe its GPUs, ports and disk), cut to what the host runs; then
 * each replica's checks (./fleetChecks.ts; for a replica across hosts also the span script's, ./spanScript.ts),
 * and the Pulumi CLI once. Results come grouped per host.
 */
import type { ExecFn } from "../exec";
import { tableLines } from "../table";
import { detectionFrom } from "./gpuFacts";
import { hostDaemonCheck, hostPythonImages, hostResults, type FleetFacts, type HostFacts, type HostResults } from "./fleetChecks";
import type { FleetNeeds } from "./fleetNeeds";
import { checkPulumiCli } from "./hostChecks";
import { transportFor } from "./probe";
import { pythonImages, reachScript, REACH_TIMEOUT_S } from "./replicaReach";
import { checkDockerHost } from "./run";
import { SPAN_REACH_TIMEOUT_S, spanScript } from "./spanScript";
import type { CheckResult } from "./types";

const TIMEOUT_MS = 60_000;

export async function runFleetPreflight(needs: FleetNeeds, exec: ExecFn, env: NodeJS.ProcessEnv): Promise<HostResults[]> {
  const hostFacts = new Map<string, HostFacts>();
  const own = new Map<string, CheckResult[]>();
  for (const h of needs.hosts) {
    const checked = await checkDockerHost(h.needs, exec, env, {
      daemonCheck: hostDaemonCheck(needs.stackFile, h),
      disk: h.gpu,
    });
    own.set(h.name, checked.results);
    const probed = Object.keys(checked.probed).length > 0;
    hostFacts.set(h.name, {
      answered: checked.answered,
      detection: h.gpu && probed ? detectionFrom(checked.probed, transportFor(h.endpoint).where) : null,
    });
  }
  const gateway = needs.hosts.find((h) => h.name === needs.gateway)!;
  const reach = new Map<string, string>();
  for (const r of needs.replicas) {
    const host = needs.hosts.find((h) => h.name === r.host)!;
    if (hostFacts.get(host.name)?.answered !== true || hostFacts.get(gateway.name)?.answered !== true) continue;
    const script = reachScript({
      replica: r,
      replicaDocker: ["--host", host.endpoint],
      gatewayDocker: ["--host", gateway.endpoint],
      listenImages: pythonImages(host.needs.images.map((i) => i.ref)),
      dialImages: pythonImages(gateway.needs.images.map((i) => i.ref)),
    });
    const res = await exec("sh", ["-s"], { input: script, timeoutMs: TIMEOUT_MS + REACH_TIMEOUT_S * 1000 });
    reach.set(r.id, res.stdout);
  }
  const span = new Map<string, string>();
  for (const r of needs.replicas) {
    if (r.span === undefined || !r.span.members.every((m) => hostFacts.get(m.host)?.answered === true)) continue;
    const script = spanScript({
      replica: { ...r, span: r.span },
      docker: (host) => ["--host", needs.hosts.find((h) => h.name === host)!.endpoint],
      pythonImages: hostPythonImages(needs),
    });
    const res = await exec("sh", ["-s"], { input: script, timeoutMs: TIMEOUT_MS * 2 + SPAN_REACH_TIMEOUT_S * 1000 });
    span.set(r.id, res.stdout);
  }
  const facts: FleetFacts = { hosts: hostFacts, reach, span };
  const groups = hostResults(needs, own, facts);
  const pulumi = await exec("pulumi", ["version"], { timeoutMs: TIMEOUT_MS });
  groups.push({ host: null, endpoint: null, roles: [], results: [checkPulumiCli(pulumi.code, pulumi.stdout)] });
  return groups;
}

/**
 * The results grouped per host: a line naming the host, its endpoint and roles, then its checks as the
 * single-host validate prints them (one table across all groups, so the columns line up).
 */
export function formatFleetResults(groups: readonly HostResults[]): string {
  const rows = groups.flatMap((g) => g.results.map((r) => [r.status.toUpperCase(), r.check, r.found]));
  const lines = tableLines(rows);
  let i = 0;
  return groups
    .map((g) => {
      const head = g.host === null ? "this machine" : `host ${g.host} (${g.endpoint}; ${g.roles.join(", ")})`;
      const body = g.results.map((r) => `  ${lines[i++]}${r.fix ? `\n        fix: ${r.fix}` : ""}`);
      return [head, ...body].join("\n");
    })
    .join("\n\n");
}
