/**
 * `llmstack validate`'s gathering: the docker CLI (`docker --host <host> version|info|ps|image inspect`, and
 * `docker manifest inspect` for images the host lacks) through the CLI's exec, and the host probe run with
 * `sh -s` locally or over ssh. Then the pure checks.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { ExecFn, ExecResult } from "../exec";
import { tableLines } from "../table";
import {
  checkApiVersion,
  checkDaemon,
  parseDockerInfo,
  parseDockerPs,
  parseDockerVersion,
  type ContainerFacts,
  type DaemonFacts,
  type InfoFacts,
} from "./docker";
import { sshLoginFix } from "../gpu/run";
import { gpuCheckResults, type Sections } from "./gpuFacts";
import { parseStackPids } from "./gpuChecks";
import { checkDisk, checkPorts, checkPulumiCli, parseDf, parseListeners } from "./hostChecks";
import { checkImages, imageState, type ImageState } from "./images";
import { dataVolumeChecks } from "./dataChecks";
import type { StackNeeds } from "./needs";
import { parseProbe, probeScript, transportFor, type SectionName } from "./probe";
import { fail, warn, type CheckResult } from "./types";

const TIMEOUT_MS = 60_000;
/** A registry that has not answered a manifest request in this long is taken as unreachable. */
const MANIFEST_TIMEOUT_MS = 30_000;

/** Runs the docker CLI against the stack's daemon. */
export type Docker = (args: string[]) => Promise<ExecResult>;

/**
 * Each image's state: on the host, else what its registry says to a request without credentials (a Docker
 * config directory of its own, empty), as the Docker provider's pull will ask. The requests run together.
 */
export async function imageStates(refs: readonly string[], docker: Docker, exec: ExecFn, env: NodeJS.ProcessEnv): Promise<ImageState[]> {
  const anonymous = mkdtempSync(join(tmpdir(), "llmstack-no-credentials-"));
  try {
    return await Promise.all(
      refs.map(async (ref) => {
        const inspect = await docker(["image", "inspect", "--format", "{{.Id}}", ref]);
        if (inspect.code === 0) return imageState(inspect, null);
        const manifest = await exec("docker", ["manifest", "inspect", ref], {
          timeoutMs: MANIFEST_TIMEOUT_MS,
          env: { ...env, DOCKER_CONFIG: anonymous },
        });
        return imageState(inspect, manifest);
      }),
    );
  } finally {
    rmSync(anonymous, { recursive: true, force: true });
  }
}

/** `env` is the environment the docker CLI runs with (PATH, proxies); the manifest requests add DOCKER_CONFIG. */
export async function runPreflight(needs: StackNeeds, exec: ExecFn, env: NodeJS.ProcessEnv): Promise<CheckResult[]> {
  const { results } = await checkDockerHost(needs, exec, env);
  const pulumi = await exec("pulumi", ["version"], { timeoutMs: TIMEOUT_MS });
  results.push(checkPulumiCli(pulumi.code, pulumi.stdout));
  return results;
}

/** What the checks of one Docker host found, beyond their results: what the checks across hosts read again. */
export interface HostCheck {
  readonly results: CheckResult[];
  /** Whether the daemon answered (when it did not, its check is the only result). */
  readonly answered: boolean;
  /** The probe's sections (nvidia-smi and the rest); empty when the probe could not run. */
  readonly probed: Sections;
}

export interface HostCheckOptions {
  /** The check of the daemon's answer (a fleet's names the host and its key); checkDaemon by default. */
  readonly daemonCheck?: (d: DaemonFacts) => CheckResult;
  /** Whether to measure Docker's disk for the vLLM image and the model (default true). */
  readonly disk?: boolean;
}

/**
 * Every check of one Docker host: the daemon, its images and data volumes, then the probe on the host
 * (GPUs, ports, disk). Shared by the single-host validate and each host of a stack with hosts.
 */
export async function checkDockerHost(
  needs: StackNeeds,
  exec: ExecFn,
  env: NodeJS.ProcessEnv,
  options: HostCheckOptions = {},
): Promise<HostCheck> {
  const host = needs.dockerHost;
  const transport = transportFor(host);
  const docker: Docker = (args) => exec("docker", ["--host", host, ...args], { timeoutMs: TIMEOUT_MS });
  const results: CheckResult[] = [];

  const daemon = parseDockerVersion(host, await docker(["version", "--format", "json"]));
  const daemonResult = (options.daemonCheck ?? checkDaemon)(daemon);
  results.push(daemonResult);
  if (options.daemonCheck !== undefined && daemon.error !== null) return { results, answered: false, probed: {} };
  const api = checkApiVersion(daemon);
  if (api !== null) results.push(api);
  let info: InfoFacts | null = null;
  let containers: ContainerFacts[] = [];
  let imagePresent = false;
  if (daemon.error === null) {
    info = parseDockerInfo(await docker(["info", "--format", "json"]));
    const ps = await docker(["ps", "-a", "--format", "json"]);
    containers = ps.code === 0 ? parseDockerPs(ps.stdout) : [];
    const states = await imageStates(needs.images.map((i) => i.ref), docker, exec, env);
    results.push(checkImages(needs.images, states, host));
    imagePresent = states[needs.images.findIndex((i) => i.ref === needs.vllmImage)]?.kind === "on-host";
    // Run here with --host: the docker CLI reaches unix://, tcp:// and ssh:// daemons alike.
    for (const vc of dataVolumeChecks(needs, host)) {
      const read = await exec("sh", ["-s"], { input: vc.script, timeoutMs: TIMEOUT_MS });
      results.push(vc.check(read.stdout));
    }
  }

  const gpu = needs.mode !== "cpu";
  const disk = (options.disk ?? true) && Boolean(info?.dockerRootDir);
  const sections: SectionName[] = [
    ...(gpu ? (["hook", "cdi", "query", "topo", "nvlink", "apps"] as const) : []),
    "stackpids",
    "listeners",
    ...(disk ? (["disk"] as const) : []),
  ];
  const script = probeScript({
    sections,
    dockerArgs: transport.dockerArgs,
    containerNames: needs.containerNames,
    diskPath: disk ? (info?.dockerRootDir ?? undefined) : undefined,
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
          transport.kind === "ssh" ? sshReachFix(transport.sshArgs, res.stderr) : "check that sh runs",
        ),
      );
    }
  }
  if (Object.keys(probed).length > 0) {
    results.push(...gpuCheckResults(needs, probed, info, transport.where));
    results.push(checkPorts(needs, parseListeners(probed.listeners), containers, parseStackPids(probed.stackpids), transport.where));
    if (disk && info?.dockerRootDir) {
      results.push(checkDisk(needs, parseDf(probed.disk, info.dockerRootDir), imagePresent));
    }
  }
  return { results, answered: daemon.error === null, probed };
}

/** The fix when the probe's ssh did not log in: the prose, then the command (src/gpu/run.ts). */
function sshReachFix(sshArgs: readonly string[], stderr: string): string {
  const dest = sshArgs[sshArgs.length - 1] ?? "";
  const p = sshArgs.indexOf("-p");
  const fix = sshLoginFix(dest, stderr, p < 0 ? undefined : sshArgs[p + 1]);
  return `check that \`ssh ${dest}\` logs in without a password prompt: ${fix}`;
}

export function formatResults(results: readonly CheckResult[]): string {
  const lines = tableLines(results.map((r) => [r.status.toUpperCase(), r.check, r.found]));
  return results.map((r, i) => `${lines[i]}${r.fix ? `\n      fix: ${r.fix}` : ""}`).join("\n");
}

export function failed(results: readonly CheckResult[]): CheckResult[] {
  return results.filter((r) => r.status === "fail");
}
