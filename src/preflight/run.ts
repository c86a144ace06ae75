/**
 * `llmstack validate`'s gathering: the docker CLI (`docker --host <host> version|info|ps|image inspect`)
 * through the CLI's exec, and the host probe run with `sh -s` locally or over ssh. Then the pure checks.
 */
import type { ExecFn } from "../cli/io";
import {
  checkApiVersion,
  checkDaemon,
  parseDockerInfo,
  parseDockerPs,
  parseDockerVersion,
  type ContainerFacts,
  type InfoFacts,
} from "./docker";
import { gpuCheckResults, type Sections } from "./gpuFacts";
import { parseStackPids } from "./gpuChecks";
import { checkDisk, checkPorts, checkPulumiCli, parseDf, parseListeners } from "./hostChecks";
import type { StackNeeds } from "./needs";
import { parseProbe, probeScript, transportFor, type SectionName } from "./probe";
import { fail, warn, type CheckResult } from "./types";

const TIMEOUT_MS = 60_000;

export async function runPreflight(needs: StackNeeds, exec: ExecFn): Promise<CheckResult[]> {
  const host = needs.dockerHost;
  const transport = transportFor(host);
  const docker = (args: string[]) => exec("docker", ["--host", host, ...args], { timeoutMs: TIMEOUT_MS });
  const results: CheckResult[] = [];

  const daemon = parseDockerVersion(host, await docker(["version", "--format", "json"]));
  results.push(checkDaemon(daemon));
  const api = checkApiVersion(daemon);
  if (api !== null) results.push(api);
  let info: InfoFacts | null = null;
  let containers: ContainerFacts[] = [];
  let imagePresent = false;
  if (daemon.error === null) {
    info = parseDockerInfo(await docker(["info", "--format", "json"]));
    const ps = await docker(["ps", "-a", "--format", "json"]);
    containers = ps.code === 0 ? parseDockerPs(ps.stdout) : [];
    imagePresent = (await docker(["image", "inspect", "--format", "{{.Id}}", needs.vllmImage])).code === 0;
  }

  const gpu = needs.mode !== "cpu";
  const sections: SectionName[] = [
    ...(gpu ? (["hook", "cdi", "query", "topo", "nvlink", "apps"] as const) : []),
    "stackpids",
    "listeners",
    ...(info?.dockerRootDir ? (["disk"] as const) : []),
  ];
  const script = probeScript({
    sections,
    dockerArgs: transport.dockerArgs,
    containerNames: needs.containerNames,
    diskPath: info?.dockerRootDir ?? undefined,
  });
  let probed: Sections = {};
  if (transport.kind === "none") {
    results.push(
      warn("host.reach", `${host} is a tcp:// Docker host, so nvidia-smi, ports and disk cannot be checked on it`, "use an ssh://user@host Docker host to let preflight run host commands"),
    );
  } else {
    const res =
      transport.kind === "ssh"
        ? await exec("ssh", [...transport.sshArgs, "sh", "-s"], { input: script, timeoutMs: TIMEOUT_MS })
        : await exec("sh", ["-s"], { input: script, timeoutMs: TIMEOUT_MS });
    probed = parseProbe(res.stdout);
    if (Object.keys(probed).length === 0) {
      results.push(
        fail(
          "host.reach",
          `could not run commands on ${transport.where} (exit code ${res.code}): ${res.stderr.trim().split("\n").pop() ?? ""}`,
          transport.kind === "ssh" ? `check that \`ssh ${transport.sshArgs.slice(-1)[0]}\` logs in without a password prompt` : "check that sh runs",
        ),
      );
    }
  }
  if (Object.keys(probed).length > 0) {
    results.push(...gpuCheckResults(needs, probed, info, transport.where));
    results.push(checkPorts(needs, parseListeners(probed.listeners), containers, parseStackPids(probed.stackpids), transport.where));
    if (info?.dockerRootDir) {
      results.push(checkDisk(needs, parseDf(probed.disk, info.dockerRootDir), imagePresent));
    }
  }
  const pulumi = await exec("pulumi", ["version"], { timeoutMs: TIMEOUT_MS });
  results.push(checkPulumiCli(pulumi.code, pulumi.stdout));
  return results;
}

export function formatResults(results: readonly CheckResult[]): string {
  return results
    .map((r) => `${r.status.toUpperCase().padEnd(4)}  ${r.check.padEnd(18)} ${r.found}${r.fix ? `\n      fix: ${r.fix}` : ""}`)
    .join("\n");
}

export function failed(results: readonly CheckResult[]): CheckResult[] {
  return results.filter((r) => r.status === "fail");
}
