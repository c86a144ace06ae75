/**
 * Turns a registered `docker.Container`'s inputs into the Docker Engine API's create request, the way
 * the provider inside @pulumi/docker does (terraform-provider-docker, `resourceDockerContainerCreate`
 * in `internal/provider/resource_docker_container_funcs.go` and the helpers in
 * `resource_docker_container_structures.go`, read at kreuzwerker/terraform-provider-docker v4.5.0, the
 * upstream of @pulumi/docker 5.x). An input the applier does not know fails loudly, so a new setting in
 * the program cannot pass here unapplied.
 */
import type Dockerode from "dockerode";

/** Inputs applied after create (networks, uploads) or by the applier's own flow (wait, attach). */
const FLOW = [
  "name",
  "image",
  "networksAdvanced",
  "uploads",
  "wait",
  "waitTimeout",
  "attach",
  "logs",
  "mustRun",
  "start",
];
const MAPPED = [
  "command",
  "entrypoints",
  "envs",
  "ports",
  "volumes",
  "healthcheck",
  "restart",
  "maxRetryCount",
  "memory",
  "shmSize",
  "logDriver",
  "logOpts",
  "securityOpts",
  "capabilities",
  "stopTimeout",
  "deviceRequests",
  "ipcMode",
  "user",
  "workingDir",
  "init",
  "labels",
];
const KNOWN = new Set([...FLOW, ...MAPPED]);

function nonEmpty(v: unknown): v is string[] {
  return Array.isArray(v) && v.length > 0;
}

/** Go's time.ParseDuration for the units the program writes ("15s", "1200s", "1m30s", "500ms"), in ns. */
export function goDuration(text: string): number {
  const units: Record<string, number> = { ns: 1, us: 1e3, ms: 1e6, s: 1e9, m: 60e9, h: 3600e9 };
  const parts = [...text.matchAll(/(\d+(?:\.\d+)?)(ns|us|ms|s|m|h)/g)];
  if (parts.length === 0 || parts.map((p) => p[0]).join("") !== text) {
    throw new Error(`"${text}" is not a Go duration`);
  }
  return Math.round(parts.reduce((sum, p) => sum + Number(p[1]) * units[p[2]!]!, 0));
}

interface PortInput {
  internal: number;
  external?: number;
  ip?: string;
  protocol?: string;
}

interface VolumeInput {
  volumeName?: string;
  containerPath?: string;
  readOnly?: boolean;
  hostPath?: string;
}

interface HealthInput {
  tests: string[];
  interval?: string;
  timeout?: string;
  startPeriod?: string;
  retries?: number;
}

/**
 * The provider's create request. Like the provider, it leaves the network mode at the daemon's
 * default: the container is connected to its networks (with aliases) after create.
 */
export function containerBody(inputs: Record<string, unknown>): Dockerode.ContainerCreateOptions {
  const unknown = Object.keys(inputs).filter((k) => !KNOWN.has(k));
  if (unknown.length > 0) {
    throw new Error(
      `the applier does not apply these container inputs yet: ${unknown.join(", ")} (${String(inputs.name)})`,
    );
  }
  const command = inputs.command as string[] | undefined;
  // The provider refuses an empty string in command before it creates anything.
  if (command?.some((c) => c === "")) throw new Error("values for command may not be empty");

  const exposed: Record<string, object> = {};
  const bindings: Record<string, { HostIp?: string; HostPort?: string }[]> = {};
  for (const p of (inputs.ports as PortInput[] | undefined) ?? []) {
    const key = `${p.internal}/${p.protocol ?? "tcp"}`;
    exposed[key] = {};
    if (p.external !== undefined || p.ip !== undefined) {
      (bindings[key] ??= []).push({
        ...(p.ip !== undefined ? { HostIp: p.ip } : {}),
        ...(p.external !== undefined ? { HostPort: String(p.external) } : {}),
      });
    }
  }

  const binds: string[] = [];
  const volumes: Record<string, object> = {};
  for (const v of (inputs.volumes as VolumeInput[] | undefined) ?? []) {
    if (!v.containerPath)
      throw new Error("volume entry without container path or source container");
    volumes[v.containerPath] = {};
    const source = v.hostPath ?? v.volumeName;
    if (source) binds.push(`${source}:${v.containerPath}:${v.readOnly ? "ro" : "rw"}`);
  }

  const hc = inputs.healthcheck as HealthInput | undefined;
  const healthcheck = hc && {
    Test: hc.tests,
    ...(hc.interval ? { Interval: goDuration(hc.interval) } : {}),
    ...(hc.timeout ? { Timeout: goDuration(hc.timeout) } : {}),
    ...(hc.startPeriod ? { StartPeriod: goDuration(hc.startPeriod) } : {}),
    ...(hc.retries !== undefined ? { Retries: hc.retries } : {}),
  };

  const deviceRequests = (inputs.deviceRequests as unknown[] | undefined) ?? [];
  if (deviceRequests.length > 0) {
    throw new Error(
      `${String(inputs.name)} requests GPUs; the integration test runs a cpu-mode stack on a daemon without GPUs`,
    );
  }
  // The provider turns its label set into the create request's Labels map.
  const labels = Object.fromEntries(
    ((inputs.labels as { label: string; value: string }[] | undefined) ?? []).map((l) => [l.label, l.value]),
  );
  const caps = inputs.capabilities as { adds?: string[]; drops?: string[] } | undefined;
  const mb = (v: unknown): number | undefined =>
    typeof v === "number" ? v * 1024 * 1024 : undefined;

  return {
    name: inputs.name as string,
    Image: inputs.image as string,
    ...(command && command.length > 0 ? { Cmd: command } : {}),
    // The provider's d.GetOk skips an empty list, leaving the image's own entrypoint and env.
    ...(nonEmpty(inputs.entrypoints) ? { Entrypoint: inputs.entrypoints } : {}),
    ...(nonEmpty(inputs.envs) ? { Env: inputs.envs } : {}),
    ...(Object.keys(labels).length > 0 ? { Labels: labels } : {}),
    ...(inputs.user ? { User: inputs.user as string } : {}),
    ...(inputs.workingDir ? { WorkingDir: inputs.workingDir as string } : {}),
    ...(Object.keys(exposed).length > 0 ? { ExposedPorts: exposed } : {}),
    ...(Object.keys(volumes).length > 0 ? { Volumes: volumes } : {}),
    ...(healthcheck ? { Healthcheck: healthcheck } : {}),
    ...(typeof inputs.stopTimeout === "number" ? { StopTimeout: inputs.stopTimeout } : {}),
    HostConfig: {
      RestartPolicy: {
        Name: (inputs.restart as string | undefined) ?? "no",
        MaximumRetryCount: (inputs.maxRetryCount as number | undefined) ?? 0,
      },
      LogConfig: {
        Type: (inputs.logDriver as string | undefined) ?? "json-file",
        Config: (inputs.logOpts as Record<string, string> | undefined) ?? {},
      },
      Init: inputs.init === true,
      ...(Object.keys(bindings).length > 0 ? { PortBindings: bindings } : {}),
      ...(binds.length > 0 ? { Binds: binds } : {}),
      ...(inputs.securityOpts ? { SecurityOpt: inputs.securityOpts as string[] } : {}),
      ...(caps?.adds ? { CapAdd: caps.adds } : {}),
      ...(caps?.drops ? { CapDrop: caps.drops } : {}),
      ...(mb(inputs.memory) !== undefined ? { Memory: mb(inputs.memory) } : {}),
      ...(mb(inputs.shmSize) !== undefined ? { ShmSize: mb(inputs.shmSize) } : {}),
      ...(inputs.ipcMode ? { IpcMode: inputs.ipcMode as string } : {}),
    },
  };
}
