/**
 * Docker facts from the docker CLI's JSON (`docker version --format json`, `docker info --format json`,
 * `docker ps --format json`) and the checks on them: the daemon answers, its API takes device requests,
 * and it can satisfy an NVIDIA device request.
 */
import type { ExecResult } from "../exec";
import { CDI_DIRS, NVIDIA_HOOK } from "./probe";
import { fail, pass, type CheckResult, type Section } from "./types";

/** Device requests (`HostConfig.DeviceRequests`) arrived in Engine API 1.40 (Docker 19.03). */
export const MIN_DEVICE_REQUEST_API = "1.40";
const DOCKER_INSTALL = "https://docs.docker.com/engine/install/";
/**
 * Docker's convenience script, which installs and starts Docker Engine on a Linux machine; Docker
 * recommends it for development machines, not production (docker/docs content/includes/install-script.md:
 * `curl -fsSL https://get.docker.com -o get-docker.sh`, `sudo sh get-docker.sh`).
 */
export const DOCKER_INSTALL_SCRIPT = "curl -fsSL https://get.docker.com -o get-docker.sh && sudo sh get-docker.sh";
/**
 * Using Docker without sudo: join the docker group, then log in again or run `newgrp docker` (docker/docs
 * content/manuals/engine/install/linux-postinstall.md, "Manage Docker as a non-root user").
 */
export const DOCKER_GROUP_JOIN = "sudo usermod -aG docker $USER";

/**
 * Whether the docker CLI's error says the daemon's socket refused this user: "permission denied while
 * trying to connect to the Docker daemon socket at unix:///var/run/docker.sock" ("... to the docker API at
 * ..." in newer releases of the CLI).
 */
export function socketRefused(error: string): boolean {
  return /permission denied while trying to connect to the docker (daemon|API)/i.test(error);
}

export interface DaemonFacts {
  readonly host: string;
  /** Null when the daemon did not answer. */
  readonly serverVersion: string | null;
  readonly apiVersion: string | null;
  /** The CLI's error when the daemon did not answer. */
  readonly error: string | null;
}

export function parseDockerVersion(host: string, res: ExecResult): DaemonFacts {
  if (res.code === 127) {
    return { host, serverVersion: null, apiVersion: null, error: "the docker CLI is not installed" };
  }
  type Server = { Version?: string; ApiVersion?: string };
  let server: Server | null;
  try {
    server = (JSON.parse(res.stdout) as { Server?: Server | null }).Server ?? null;
  } catch {
    server = null;
  }
  if (res.code !== 0 || server === null || !server.ApiVersion) {
    const msg = (res.stderr.trim().split("\n").pop() ?? "").trim() || `docker version exited with code ${res.code}`;
    return { host, serverVersion: null, apiVersion: null, error: msg };
  }
  return { host, serverVersion: server.Version ?? null, apiVersion: server.ApiVersion, error: null };
}

export function checkDaemon(d: DaemonFacts): CheckResult {
  if (d.error !== null) {
    const fix =
      d.error === "the docker CLI is not installed"
        ? `install Docker (${DOCKER_INSTALL})`
        : socketRefused(d.error)
          ? `let your user use Docker on that host (${DOCKER_GROUP_JOIN}, then log in again)`
          : `start the Docker daemon on that host (sudo systemctl start docker) or fix llmstack:dockerHost ("${d.host}")`;
    return fail("docker.daemon", `the Docker daemon at ${d.host} does not answer: ${d.error}`, fix);
  }
  return pass("docker.daemon", `Docker ${d.serverVersion} answers at ${d.host} (API ${d.apiVersion})`);
}

export function compareApi(a: string, b: string): number {
  const [am, an] = a.split(".").map(Number);
  const [bm, bn] = b.split(".").map(Number);
  return (am ?? 0) !== (bm ?? 0) ? (am ?? 0) - (bm ?? 0) : (an ?? 0) - (bn ?? 0);
}

export function checkApiVersion(d: DaemonFacts): CheckResult | null {
  if (d.apiVersion === null) return null;
  if (compareApi(d.apiVersion, MIN_DEVICE_REQUEST_API) < 0) {
    return fail(
      "docker.api",
      `the daemon speaks Engine API ${d.apiVersion}, older than ${MIN_DEVICE_REQUEST_API}, the first with device requests (GPUs)`,
      `upgrade Docker to 19.03 or newer (${DOCKER_INSTALL})`,
    );
  }
  return pass("docker.api", `Engine API ${d.apiVersion} takes device requests (needs ${MIN_DEVICE_REQUEST_API} or newer)`);
}

export interface InfoFacts {
  readonly dockerRootDir: string | null;
  readonly cdiSpecDirs: readonly string[];
  readonly runtimes: readonly string[];
}

export function parseDockerInfo(res: ExecResult): InfoFacts | null {
  if (res.code !== 0) return null;
  try {
    const j = JSON.parse(res.stdout) as { DockerRootDir?: string; CDISpecDirs?: string[] | null; Runtimes?: object };
    if (!j.DockerRootDir) return null;
    return {
      dockerRootDir: j.DockerRootDir,
      cdiSpecDirs: j.CDISpecDirs ?? [],
      runtimes: Object.keys(j.Runtimes ?? {}),
    };
  } catch {
    return null;
  }
}

export interface ContainerFacts {
  readonly name: string;
  readonly state: string;
  /** Host ports it publishes, as `docker ps` prints them ("0.0.0.0:4000->4000/tcp"). */
  readonly ports: readonly { readonly ip: string; readonly port: number }[];
}

/** `docker ps -a --format json` prints one JSON object per line. */
export function parseDockerPs(text: string): ContainerFacts[] {
  return text
    .split("\n")
    .filter((l) => l.trim().startsWith("{"))
    .map((l) => {
      const j = JSON.parse(l) as { Names?: string; State?: string; Ports?: string };
      const ports = (j.Ports ?? "")
        .split(",")
        .flatMap((p) => {
          const m = /^\s*(.+):(\d+)->\d+\/tcp$/.exec(p);
          return m === null ? [] : [{ ip: (m[1] ?? "").replace(/^\[|\]$/g, ""), port: Number(m[2]) }];
        });
      return { name: j.Names ?? "", state: j.State ?? "", ports };
    });
}

export interface RuntimeFacts {
  /** PATH dockerd looks the hook up in, and whether it was read from dockerd's own environment. */
  readonly path: string;
  readonly pathSource: "dockerd" | "default";
  readonly hooks: readonly string[];
  /** CDI spec files, and whether each declares NVIDIA GPUs (kind nvidia.com/gpu). */
  readonly cdiSpecs: readonly { readonly file: string; readonly nvidia: boolean }[];
}

export function parseRuntime(hook: Section, cdi: Section): RuntimeFacts {
  const lines = hook.text.split("\n");
  const path = lines.find((l) => l.startsWith("path "))?.split(" ") ?? [];
  return {
    path: path[2] ?? "",
    pathSource: path[1] === "dockerd" ? "dockerd" : "default",
    hooks: lines.filter((l) => l.startsWith("found ")).map((l) => l.slice(6)),
    cdiSpecs: cdi.text
      .split("\n")
      .filter((l) => l.startsWith("spec "))
      .map((l) => {
        const [, file, kind] = l.split(" ");
        return { file: file ?? "", nvidia: kind === "nvidia.com/gpu" };
      }),
  };
}

const toolkitInstall = (stack: string): string =>
  "install the NVIDIA Container Toolkit on the Docker host and restart Docker: " +
  "https://docs.nvidia.com/datacenter/cloud-native/container-toolkit/latest/install-guide.html " +
  `(or run without a GPU: llmstack configure-gpu cpu --stack ${stack})`;

/**
 * Docker registers its "nvidia" device driver only when `nvidia-container-runtime-hook` is on dockerd's PATH
 * (moby daemon/nvidia_linux.go); a runtime named "nvidia" in `docker info` does not make a device request work.
 * CDI specs for nvidia.com/gpu in a CDI spec directory are the toolkit's other route.
 */
export function checkNvidiaRuntime(r: RuntimeFacts, info: InfoFacts | null, where: string, stack: string): CheckResult {
  const name = "docker.nvidia";
  if (r.hooks.length > 0) {
    return pass(name, `${r.hooks[0]} is on dockerd's PATH on ${where}, so Docker accepts NVIDIA device requests`);
  }
  const nvidiaSpecs = r.cdiSpecs.filter((s) => s.nvidia);
  if (nvidiaSpecs.length > 0) {
    const dirs = info?.cdiSpecDirs ?? [];
    return pass(
      name,
      `no ${NVIDIA_HOOK}, but CDI specs for nvidia.com/gpu are present (${nvidiaSpecs.map((s) => s.file).join(", ")}` +
        `${dirs.length ? `; daemon CDI dirs ${dirs.join(", ")}` : ""})`,
    );
  }
  const runtimes = info?.runtimes.includes("nvidia") ? ` (docker info lists an "nvidia" runtime, which alone does not serve device requests)` : "";
  return fail(
    name,
    `Docker on ${where} cannot satisfy NVIDIA device requests: no ${NVIDIA_HOOK} on dockerd's PATH ` +
      `(${r.pathSource === "dockerd" ? "read from dockerd" : "systemd's default"}: ${r.path}) and no nvidia.com/gpu CDI spec in ` +
      `${CDI_DIRS.join(" or ")}${runtimes}`,
    toolkitInstall(stack),
  );
}

