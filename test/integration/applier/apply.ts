/**
 * A test-only applier: puts what the program registered on a real Docker daemon through the Engine API,
 * doing what `pulumi up` / `pulumi destroy` with @pulumi/docker's provider do (terraform-provider-docker
 * v4.5.0, `internal/provider/resource_docker_container_funcs.go`):
 *
 * - create: the network, the volumes (an existing volume is reused, as the daemon's VolumeCreate does),
 *   then each container once every container it depends on is created, the independent ones at once;
 *   after the first failure nothing new starts (Pulumi's default), what runs finishes;
 * - a container: create, leave the default network and join the stack network with its aliases, upload
 *   files, start; `wait` polls inspect every second until healthy (`waitTimeout` s, 60 by default);
 *   `attach` waits for the exit and reads the logs; the whole create is bounded by `customTimeouts.create`
 *   (20 minutes by default);
 * - a one-shot container that exits non-zero fails the update, as the program makes it fail
 *   (src/deploy/vllm.ts, src/deploy/smokeTest.ts);
 * - destroy: containers stopped (grace 0) and removed after their dependents, then the network; volumes
 *   with retainOnDelete and images with keepLocally stay.
 *
 * Images are never pulled: each must already be on the daemon (the stand-ins).
 *
 * Which daemon: `new Applier(docker)` puts everything on `docker` (a single-host stack, whose one provider
 * dials the test daemon); `Applier.perProvider()` puts each resource on the daemon its provider dials, as
 * Pulumi does with a stack with hosts: the provider's `host` input, over TLS with its CA, certificate and
 * key for tcp:// (the provider verifies the daemon with that CA), the socket for unix://.
 */
import Dockerode from "dockerode";
import { containerBody } from "./containerBody";
import type { ContainerInputs, ProviderDaemon, StackInputs } from "./inputs";
import { uploadArchive, type UploadInput } from "./uploads";

export type ApplyEventKind = "created" | "started" | "healthy" | "exited";

export interface ApplyEvent {
  readonly seq: number;
  readonly container: string;
  readonly kind: ApplyEventKind;
  readonly exitCode?: number;
}

export interface UpResult {
  readonly events: readonly ApplyEvent[];
  /** Container name → why its create failed. */
  readonly failures: ReadonlyMap<string, string>;
  /** Containers not created because a dependency failed or the update had already failed. */
  readonly skipped: readonly string[];
  /** One-shot containers' logs (`attach` + `logs`). */
  readonly logs: ReadonlyMap<string, string>;
}

const DEFAULT_WAIT_TIMEOUT_S = 60;
const DEFAULT_CREATE_TIMEOUT_MIN = 20;

/** Docker's multiplexed log stream (8-byte frame headers) as text. */
export function demux(buf: Buffer): string {
  let out = "";
  for (let i = 0; i + 8 <= buf.length; ) {
    const size = buf.readUInt32BE(i + 4);
    out += buf.subarray(i + 8, i + 8 + size).toString("utf8");
    i += 8 + size;
  }
  return out;
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

async function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const limit = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () =>
        reject(
          new Error(
            `${what}: the create did not finish within its create timeout (${ms / 60000}m)`,
          ),
        ),
      ms,
    );
  });
  try {
    return await Promise.race([p, limit]);
  } finally {
    clearTimeout(timer);
  }
}

export async function containerLogs(c: Dockerode.Container, tail = 40): Promise<string> {
  const buf = (await c.logs({
    stdout: true,
    stderr: true,
    follow: false,
    tail,
  })) as unknown as Buffer;
  return demux(buf);
}

/** Why a container is not healthy: its last health check output and its log tail. */
async function unhealthyReport(c: Dockerode.Container): Promise<string> {
  const info = await c.inspect();
  const health = info.State.Health;
  const last = health?.Log?.[health.Log.length - 1];
  return (
    `state ${info.State.Status} (restarts ${info.RestartCount}, health ${health?.Status ?? "none"}); ` +
    `last health check: exit ${last?.ExitCode ?? "-"} ${JSON.stringify((last?.Output ?? "").trim())}; ` +
    `log tail:\n${(await containerLogs(c)).trim()}`
  );
}

export interface ApplierOptions {
  /**
   * Creates containers without their `deviceRequests`. Only for a test on a machine without GPUs (the CI
   * machine has none, and a daemon without the NVIDIA runtime refuses a GPU request); such a test must also
   * assert that the registered inputs do carry the requests this removes. Without this option a container
   * that requests GPUs fails to apply.
   */
  readonly withoutDeviceRequests?: "no GPU on this machine";
}

/** A client for a provider's daemon, as the provider dials it. */
export function providerClient(d: ProviderDaemon): Dockerode {
  if (d.host.startsWith("unix://")) return new Dockerode({ socketPath: d.host.slice("unix://".length) });
  if (d.host.startsWith("tcp://")) {
    const url = new URL(d.host.replace(/^tcp:/, "http:"));
    if (d.tls === undefined) return new Dockerode({ host: url.hostname, port: Number(url.port) });
    return new Dockerode({ host: url.hostname, port: Number(url.port), protocol: "https", ...d.tls });
  }
  throw new Error(`the applier dials unix:// and tcp:// providers, not ${d.host} (${d.provider})`);
}

export class Applier {
  private seq = 0;
  private readonly clients = new Map<string, Dockerode>();

  /**
   * `maxWaitSeconds` bounds the health wait below a container's own `waitTimeout` (vLLM's allows 20
   * minutes for a model load the stand-in does in a second), so a broken stand-in fails a test run in
   * minutes; the error says which limit ended the wait.
   */
  constructor(
    private readonly docker: Dockerode | undefined,
    private readonly maxWaitSeconds = Infinity,
    private readonly options: ApplierOptions = {},
  ) {}

  /** An applier that puts each resource on the daemon of the provider it was registered with. */
  static perProvider(maxWaitSeconds = Infinity, options: ApplierOptions = {}): Applier {
    return new Applier(undefined, maxWaitSeconds, options);
  }

  /** The daemon a resource goes to. */
  daemonOf(resource: { readonly daemon?: ProviderDaemon; readonly name: string }): Dockerode {
    if (this.docker !== undefined) return this.docker;
    const d = resource.daemon;
    if (d === undefined) throw new Error(`${resource.name} was registered without a provider`);
    let client = this.clients.get(d.provider);
    if (!client) {
      client = providerClient(d);
      this.clients.set(d.provider, client);
    }
    return client;
  }

  async up(stack: StackInputs): Promise<UpResult> {
    const events: ApplyEvent[] = [];
    const failures = new Map<string, string>();
    const skipped: string[] = [];
    const logs = new Map<string, string>();
    const record = (container: string, kind: ApplyEventKind, exitCode?: number): void => {
      events.push({
        seq: this.seq++,
        container,
        kind,
        ...(exitCode !== undefined ? { exitCode } : {}),
      });
    };

    for (const image of stack.images) {
      await this.daemonOf(image)
        .getImage(image.name)
        .inspect()
        .catch(() => {
          const where = image.daemon ? ` of ${image.daemon.provider} (${image.daemon.host})` : "";
          throw new Error(
            `image ${image.name} is not on the daemon${where} and the applier never pulls: build the stand-ins (test/integration/images)`,
          );
        });
    }
    for (const n of stack.networks) {
      await this.daemonOf(n).createNetwork({ Name: n.name, Driver: n.driver, CheckDuplicate: true });
    }
    for (const v of stack.volumes) await this.daemonOf(v).createVolume({ Name: v.name });

    const byName = new Map(stack.containers.map((c) => [c.name, c]));
    const runs = new Map<string, Promise<boolean>>();
    const run = (c: ContainerInputs): Promise<boolean> => {
      let p = runs.get(c.name);
      if (p) return p;
      p = (async () => {
        const deps = await Promise.all(
          c.dependsOn.map((d) => {
            const dep = byName.get(d);
            if (!dep)
              throw new Error(`${c.name} depends on ${d}, which the program did not register`);
            return run(dep);
          }),
        );
        if (!deps.every(Boolean) || failures.size > 0) {
          skipped.push(c.name);
          return false;
        }
        const minutes = c.createTimeoutMinutes ?? DEFAULT_CREATE_TIMEOUT_MIN;
        try {
          const code = await withTimeout(this.create(c, record, logs), minutes * 60_000, c.name);
          if (code !== undefined && code !== 0) {
            failures.set(c.name, `exited with code ${code}:\n${logs.get(c.name) ?? ""}`);
            return false;
          }
          return true;
        } catch (err) {
          failures.set(c.name, (err as Error).message);
          return false;
        }
      })();
      runs.set(c.name, p);
      return p;
    };
    await Promise.all(stack.containers.map(run));
    return { events, failures, skipped, logs };
  }

  /** Creates one container; returns the exit code of a one-shot (`attach`) container. */
  private async create(
    c: ContainerInputs,
    record: (container: string, kind: ApplyEventKind, exitCode?: number) => void,
    logs: Map<string, string>,
  ): Promise<number | undefined> {
    const docker = this.daemonOf(c);
    const inputs = this.options.withoutDeviceRequests ? { ...c.inputs, deviceRequests: undefined } : c.inputs;
    const container = await docker.createContainer(containerBody(inputs));
    record(c.name, "created");
    const networks =
      (inputs.networksAdvanced as { name: string; aliases?: string[] }[] | undefined) ?? [];
    if (networks.length > 0) {
      await docker
        .getNetwork("bridge")
        .disconnect({ Container: container.id, Force: false })
        .catch((err: Error) => {
          // The only error the provider lets pass.
          if (!err.message.includes("is not connected to the network bridge")) throw err;
        });
      for (const n of networks) {
        await docker
          .getNetwork(n.name)
          .connect({ Container: container.id, EndpointConfig: { Aliases: n.aliases ?? [] } });
      }
    }
    for (const u of (inputs.uploads as UploadInput[] | undefined) ?? []) {
      await container.putArchive(uploadArchive(u), { path: "/" });
    }
    if (inputs.start === false) return undefined;
    await container.start();
    record(c.name, "started");
    if (inputs.wait === true) {
      const planned = (inputs.waitTimeout as number | undefined) ?? DEFAULT_WAIT_TIMEOUT_S;
      const seconds = Math.min(planned, this.maxWaitSeconds);
      const bound =
        seconds < planned
          ? `the test's bound of ${seconds} s, below waitTimeout ${planned} s`
          : `waitTimeout ${planned} s`;
      const limit = Date.now() + seconds * 1000;
      for (;;) {
        const info = await container.inspect();
        if (!info.State.Health) {
          throw new Error(
            "you have supplied a 'wait' argument, but the container does not have a healthcheck defined. Please remove the 'wait' argument or add a 'healthcheck' attribute",
          );
        }
        if (info.State.Health.Status === "healthy") break;
        if (Date.now() > limit) {
          throw new Error(
            `container failed to be in healthy state (${bound}): ${await unhealthyReport(container)}`,
          );
        }
        await sleep(1000);
      }
      record(c.name, "healthy");
    }
    if (inputs.attach === true) {
      const result = (await container.wait({ condition: "not-running" })) as { StatusCode: number };
      if (inputs.logs === true) logs.set(c.name, await containerLogs(container, 200));
      record(c.name, "exited", result.StatusCode);
      return result.StatusCode;
    }
    return undefined;
  }

  /** `pulumi destroy`: returns the volumes it removed and the ones it kept. */
  async destroy(stack: StackInputs): Promise<{ removedVolumes: string[]; keptVolumes: string[] }> {
    const dependents = new Map<string, string[]>();
    for (const c of stack.containers)
      for (const d of c.dependsOn)
        (dependents.get(d) ?? dependents.set(d, []).get(d)!).push(c.name);
    const byName = new Map(stack.containers.map((c) => [c.name, c]));
    const deletes = new Map<string, Promise<void>>();
    const del = (name: string): Promise<void> => {
      let p = deletes.get(name);
      if (p) return p;
      p = (async () => {
        await Promise.all((dependents.get(name) ?? []).map(del));
        const c = this.daemonOf(byName.get(name)!).getContainer(name);
        const exists = await c.inspect().then(
          () => true,
          () => false,
        );
        if (!exists) return;
        if (byName.get(name)?.inputs.attach !== true) await c.stop({ t: 0 }).catch(() => undefined);
        await c.remove({ force: true, v: true });
      })();
      deletes.set(name, p);
      return p;
    };
    await Promise.all(stack.containers.map((c) => del(c.name)));
    for (const n of stack.networks) {
      await this.daemonOf(n)
        .getNetwork(n.name)
        .remove()
        .catch((err: Error) => {
          if (!/not found|No such network/i.test(err.message)) throw err;
        });
    }
    const removedVolumes: string[] = [];
    const keptVolumes: string[] = [];
    for (const v of stack.volumes) {
      if (v.retainOnDelete) {
        keptVolumes.push(v.name);
        continue;
      }
      await this.daemonOf(v).getVolume(v.name).remove();
      removedVolumes.push(v.name);
    }
    return { removedVolumes, keptVolumes };
  }
}
