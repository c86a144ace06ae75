/**
 * The preflight gate across hosts inside the Pulumi program: before any host's Docker provider is configured
 * (so before anything is registered on any host), each host's daemon is asked for its version, each GPU
 * host's GPUs are probed (locally or over ssh, as the single-host gate does), the state host's data volumes
 * are read, and for each replica a short-lived listener on its host and a one-shot dialer on the gateway
 * host show that the gateway reaches its port; for a replica across hosts, the span script (interfaces and the
 * members' reach to the head's store, src/preflight/spanScript.ts). All run through the @pulumi/command provider's `local.run`
 * invoke on the machine running Pulumi; the verdict is src/preflight/fleetGate.ts. The docker CLI reaches a
 * tcp:// host with the host's TLS material from `llmstack:dockerTls`, written for the gate's commands to a
 * directory only this user can read and removed once they ran.
 * https://www.pulumi.com/registry/packages/command/api-docs/local/run/
 */
import * as command from "@pulumi/command";
import * as pulumi from "@pulumi/pulumi";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { printable } from "../config/printable";
import type { StackConfig } from "../config/schema";
import type { StackPlan } from "../plan/types";
import { dataVolumeChecks } from "../preflight/dataChecks";
import { hostPythonImages } from "../preflight/fleetChecks";
import { daemonAnswered, daemonCommandLine, fleetGateVerdict, GATE_SPAN_PARTS, type HostOutputs } from "../preflight/fleetGate";
import { fleetNeeds, type FleetNeeds, type HostNeeds } from "../preflight/fleetNeeds";
import { probeCommandLine, probeScript, transportFor } from "../preflight/probe";
import { pythonImages, reachScript } from "../preflight/replicaReach";
import { spanScript } from "../preflight/spanScript";
import { volumeCheckCommandLine } from "../preflight/volumeRead";
import type { DockerTls } from "./hosts";

const stdoutOf = (r: { stdout?: unknown }): string => (typeof r.stdout === "string" ? r.stdout : "");

/**
 * Resolves once the checks across hosts passed (rejects with the failures otherwise); every host's provider
 * waits for it. `dockerTls` is the secret with the tcp:// hosts' material (checked before this runs).
 */
export function fleetPreflightGate(
  plan: StackPlan,
  config: StackConfig,
  dockerTls: pulumi.Output<string> | undefined,
  parent: pulumi.Resource,
): pulumi.Output<null> {
  if (!config.preflight.enabled) {
    pulumi.log.warn(
      `preflight: llmstack:preflight.enabled is false in ${plan.stackFile}, so the hosts are not checked before ` +
        `containers are created; run \`llmstack validate --stack ${plan.stack}\` to check them`,
      parent,
    );
    return pulumi.output(null);
  }
  const needs = fleetNeeds(config, plan);
  const tcp = needs.hosts.some((h) => h.endpoint.startsWith("tcp://"));
  const tls = tcp && dockerTls !== undefined ? dockerTls : pulumi.output("{}");
  // The gate's result carries no secret: only whether the checks passed.
  return pulumi.unsecret(
    tls.apply((material) => {
      const dir = tcp ? writeTls(JSON.parse(material) as DockerTls, needs) : null;
      const args = (h: HostNeeds): string[] => dockerArgs(h, dir);
      const cleanup = (): void => {
        process.removeListener("exit", cleanup);
        if (dir !== null) rmSync(dir, { recursive: true, force: true });
      };
      // Removed once the commands ran, before the verdict (which may throw); on exit should an invoke fail.
      process.once("exit", cleanup);
      return gate(needs, args, parent, cleanup);
    }),
  );
}

/** The docker CLI's arguments for a host: its endpoint, and for tcp:// the TLS files of that host. */
function dockerArgs(h: HostNeeds, dir: string | null): string[] {
  if (!h.endpoint.startsWith("tcp://") || dir === null) return ["--host", h.endpoint];
  const f = (name: string) => join(dir, h.name, name);
  return ["--host", h.endpoint, "--tlsverify", "--tlscacert", f("ca.pem"), "--tlscert", f("cert.pem"), "--tlskey", f("key.pem")];
}

/** Writes each tcp:// host's CA, certificate and key to a new directory only this user can read. */
function writeTls(material: DockerTls, needs: FleetNeeds): string {
  const dir = mkdtempSync(join(tmpdir(), "llmstack-docker-tls-"));
  for (const h of needs.hosts.filter((x) => x.endpoint.startsWith("tcp://"))) {
    const m = material[h.name];
    if (m === undefined) continue;
    mkdirSync(join(dir, h.name), { mode: 0o700 });
    writeFileSync(join(dir, h.name, "ca.pem"), m.ca, { mode: 0o600 });
    writeFileSync(join(dir, h.name, "cert.pem"), m.cert, { mode: 0o600 });
    writeFileSync(join(dir, h.name, "key.pem"), m.key, { mode: 0o600 });
  }
  return dir;
}

const run = (line: string, parent: pulumi.Resource): pulumi.Output<string> =>
  command.local.runOutput({ command: line }, { parent }).apply(stdoutOf);

function gate(
  needs: FleetNeeds,
  args: (h: HostNeeds) => string[],
  parent: pulumi.Resource,
  ran: () => void,
): pulumi.Output<null> {
  const preview = pulumi.runtime.isDryRun();
  const daemons = pulumi.all(needs.hosts.map((h) => run(daemonCommandLine(args(h)), parent)));
  return daemons.apply((answers) => {
    const answered = new Map(needs.hosts.map((h, i) => [h.name, daemonAnswered(h, answers[i] ?? "")]));
    const perHost = needs.hosts.map((h, i) => hostOutputs(h, answers[i] ?? "", answered.get(h.name) === true, args, parent));
    const gateway = needs.hosts.find((h) => h.name === needs.gateway)!;
    const reachable = needs.replicas.filter((r) => answered.get(r.host) === true && answered.get(gateway.name) === true);
    const reach = reachable.map((r) => {
      const host = needs.hosts.find((h) => h.name === r.host)!;
      const script = reachScript({
        replica: r,
        replicaDocker: args(host),
        gatewayDocker: args(gateway),
        listenImages: pythonImages(host.needs.images.map((i) => i.ref)),
        dialImages: pythonImages(gateway.needs.images.map((i) => i.ref)),
      });
      return run(volumeCheckCommandLine(script), parent);
    });
    const spanning = needs.replicas.filter((r) => r.span !== undefined && r.span.members.every((m) => answered.get(m.host) === true));
    const span = spanning.map((r) => {
      const script = spanScript({
        replica: { ...r, span: r.span! },
        docker: (host) => args(needs.hosts.find((h) => h.name === host)!),
        pythonImages: hostPythonImages(needs),
        parts: GATE_SPAN_PARTS,
      });
      return run(volumeCheckCommandLine(script), parent);
    });
    return pulumi.all([pulumi.all(perHost), pulumi.all(reach), pulumi.all(span)]).apply(([hosts, dialed, spanned]) => {
      ran();
      const outputs = new Map(needs.hosts.map((h, i) => [h.name, hosts[i]!]));
      const verdict = fleetGateVerdict(
        needs,
        outputs,
        new Map(reachable.map((r, i) => [r.id, dialed[i] ?? ""])),
        preview,
        new Map(spanning.map((r, i) => [r.id, spanned[i] ?? ""])),
      );
      for (const s of verdict.skipped) pulumi.log.warn(`preflight: skipped during preview: ${printable(s)}`, parent);
      if (verdict.error !== null) throw new Error(printable(verdict.error));
      for (const g of verdict.groups) {
        const results = g.results.filter((r) => !(preview && r.check === "docker.daemon" && r.status === "fail"));
        if (results.length === 0) continue;
        pulumi.log.info(`preflight: ${g.host}: ${results.map((c) => `${c.check} ${c.status}`).join(", ")}`, parent);
        for (const w of results.filter((c) => c.status === "warn")) {
          pulumi.log.warn(`preflight: ${g.host}: ${w.check}: ${printable(w.found)}${w.fix ? `; fix: ${printable(w.fix)}` : ""}`, parent);
        }
      }
      return null;
    });
  });
}

/** The probe (GPU hosts reached locally or over ssh) and the data volume checks (state host) of one host. */
function hostOutputs(
  h: HostNeeds,
  daemon: string,
  answered: boolean,
  args: (h: HostNeeds) => string[],
  parent: pulumi.Resource,
): pulumi.Output<HostOutputs> {
  if (!answered) return pulumi.output({ daemon });
  const transport = transportFor(h.endpoint);
  const probe =
    h.gpu && transport.kind !== "none"
      ? run(
          probeCommandLine(
            probeScript({
              sections: ["hook", "cdi", "query", "topo", "nvlink", "apps", "stackpids"],
              dockerArgs: transport.dockerArgs,
              containerNames: h.needs.containerNames,
            }),
            transport,
          ),
          parent,
        ).apply((output) => ({ output, transport }))
      : pulumi.output(undefined);
  if (h.gpu && transport.kind === "none") {
    pulumi.log.warn(
      `preflight: ${h.name} (${h.endpoint}) is a tcp:// Docker host, so nvidia-smi cannot run on it and its GPU checks are ` +
        "skipped; use an ssh://user@host endpoint to check them",
      parent,
    );
  }
  const checks = dataVolumeChecks(h.needs, h.endpoint, args(h));
  const volumes = pulumi.all(checks.map((vc) => run(volumeCheckCommandLine(vc.script), parent).apply((out) => vc.check(out))));
  return pulumi.all([probe, volumes]).apply(([p, v]) => ({ daemon, ...(p !== undefined ? { probe: p } : {}), volumes: v }));
}
