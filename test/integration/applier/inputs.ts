/**
 * What the applier applies: exactly what the Pulumi program registers, read under Pulumi's mock runtime
 * (test/helpers/pulumiMocks.ts), never a plan re-derived by hand. Each resource's inputs come from the
 * mock monitor (secrets unwrapped, since the daemon gets the plain values as the provider would send
 * them); options the mocks do not see (dependsOn, retainOnDelete, customTimeouts) come from the
 * transformation runProgram installs. Each Docker resource carries the daemon of the provider it was
 * registered with (the provider's `host` input and, for tcp://, its TLS material), so a stack with hosts is
 * applied resource by resource onto the daemon its provider dials.
 */
import type * as pulumi from "@pulumi/pulumi";
import { runProgram, unwrap, type MockRun } from "../../helpers/pulumiMocks";
import { SECRET_SIG } from "../../safety/walker";

const CONTAINER = "docker:index/container:Container";
const NETWORK = "docker:index/network:Network";
const VOLUME = "docker:index/volume:Volume";
const IMAGE = "docker:index/remoteImage:RemoteImage";
const PROVIDER = "pulumi:providers:docker";

/** The daemon a resource's provider dials: its `host` input, and its TLS material for tcp://. */
export interface ProviderDaemon {
  /** The provider's Pulumi resource name, e.g. `fleet-docker-gpu-a`. */
  readonly provider: string;
  /** The provider's `host` input: unix://, tcp:// or ssh://. */
  readonly host: string;
  /** caMaterial, certMaterial and keyMaterial (PEM), when the provider has them. */
  readonly tls?: { readonly ca: string; readonly cert: string; readonly key: string };
}

export interface ContainerInputs {
  /** The Pulumi resource name, e.g. `development-redis-container`. */
  readonly resource: string;
  /** The Docker container name (`inputs.name`). */
  readonly name: string;
  readonly inputs: Record<string, unknown>;
  /** Docker names of the containers this one's create waits for (the registered `dependsOn`). */
  readonly dependsOn: readonly string[];
  /** `customTimeouts.create` in minutes, when the program sets it. */
  readonly createTimeoutMinutes?: number;
  /** The daemon of the provider the container was registered with. */
  readonly daemon?: ProviderDaemon;
}

export interface StackInputs {
  /** The stack network's name and driver (a stack with hosts has one such network on each host). */
  readonly network: { readonly name: string; readonly driver: string };
  /** Every registered network, each with its provider's daemon. */
  readonly networks: readonly { readonly name: string; readonly driver: string; readonly daemon?: ProviderDaemon }[];
  readonly volumes: readonly { readonly name: string; readonly retainOnDelete: boolean; readonly daemon?: ProviderDaemon }[];
  readonly images: readonly { readonly name: string; readonly keepLocally: boolean; readonly daemon?: ProviderDaemon }[];
  readonly containers: readonly ContainerInputs[];
}

/** A registered input with every mock secret marker replaced by its value. */
export function reveal(value: unknown): unknown {
  if (value !== null && typeof value === "object" && SECRET_SIG in (value as object)) {
    return reveal((value as { value: unknown }).value);
  }
  if (Array.isArray(value)) return value.map(reveal);
  if (value !== null && typeof value === "object") {
    return Object.fromEntries(
      Object.entries(value as Record<string, unknown>).map(([k, v]) => [k, reveal(v)]),
    );
  }
  return value;
}

function optionsOf(run: MockRun, resource: string): pulumi.CustomResourceOptions {
  const o = run.options.find((x) => x.name === resource);
  if (!o) throw new Error(`no options were captured for ${resource}`);
  return o.opts as pulumi.CustomResourceOptions;
}

/** "125m" → 125; the program writes Pulumi's `customTimeouts.create` in minutes. */
function minutes(timeout: string | undefined): number | undefined {
  if (timeout === undefined) return undefined;
  const m = /^(\d+)m$/.exec(timeout);
  if (!m)
    throw new Error(
      `customTimeouts.create "${timeout}" is not in minutes; the applier reads only "<n>m"`,
    );
  return Number(m[1]);
}

async function dependencyNames(
  opts: pulumi.CustomResourceOptions,
  resource: string,
): Promise<string[]> {
  if (opts.dependsOn === undefined) return [];
  const deps = (await unwrap(
    opts.dependsOn as pulumi.Input<pulumi.Resource[] | pulumi.Resource>,
  )) as pulumi.Resource | pulumi.Resource[];
  const list = Array.isArray(deps) ? deps : [deps];
  return Promise.all(
    list.map(async (d) => {
      const name = (d as unknown as { name?: pulumi.Output<string> }).name;
      if (name === undefined)
        throw new Error(`${resource} depends on a resource that is not a container`);
      return unwrap(name);
    }),
  );
}

/**
 * The providers of a run by Pulumi resource name. A registration's provider reference is
 * `<provider URN>::<provider ID>`, and a URN ends with `::<resource name>`.
 */
function providerDaemons(run: MockRun): (ref: string | undefined) => ProviderDaemon | undefined {
  const byName = new Map<string, ProviderDaemon>();
  for (const r of run.registrations.filter((x) => x.type === PROVIDER)) {
    const i = reveal(r.inputs) as { host?: string; caMaterial?: string; certMaterial?: string; keyMaterial?: string };
    if (i.host === undefined) throw new Error(`the Docker provider ${r.name} has no host input`);
    const tls =
      i.caMaterial !== undefined && i.certMaterial !== undefined && i.keyMaterial !== undefined
        ? { ca: i.caMaterial, cert: i.certMaterial, key: i.keyMaterial }
        : undefined;
    byName.set(r.name, { provider: r.name, host: i.host, ...(tls ? { tls } : {}) });
  }
  return (ref) => {
    if (ref === undefined) return undefined;
    const parts = ref.split("::");
    const name = parts[parts.length - 2]!;
    const daemon = byName.get(name);
    if (!daemon) throw new Error(`a resource names the provider ${ref}, which the program did not register`);
    return daemon;
  };
}

/** Reads the registrations of one mock run of the program. */
export async function stackInputs(run: MockRun): Promise<StackInputs> {
  if (run.error) throw run.error;
  const of = (type: string) => run.registrations.filter((r) => r.type === type);
  const daemonOf = providerDaemons(run);
  const withDaemon = (ref: string | undefined) => {
    const d = daemonOf(ref);
    return d ? { daemon: d } : {};
  };
  const networks = of(NETWORK).map((r) => {
    const n = reveal(r.inputs) as { name: string; driver: string };
    return { name: n.name, driver: n.driver, ...withDaemon(r.provider) };
  });
  if (networks.length === 0) throw new Error("the program registered no network");
  const net = networks[0]!;
  const other = networks.find((n) => n.name !== net.name || n.driver !== net.driver);
  if (other) throw new Error(`the program registered networks ${net.name} and ${other.name}; the applier handles one stack network`);
  const containers = await Promise.all(
    of(CONTAINER).map(async (r): Promise<ContainerInputs> => {
      const opts = optionsOf(run, r.name);
      const inputs = reveal(r.inputs) as Record<string, unknown>;
      const timeout = minutes((opts.customTimeouts as { create?: string } | undefined)?.create);
      return {
        resource: r.name,
        name: inputs.name as string,
        inputs,
        dependsOn: await dependencyNames(opts, r.name),
        ...(timeout !== undefined ? { createTimeoutMinutes: timeout } : {}),
        ...withDaemon(r.provider),
      };
    }),
  );
  return {
    network: { name: net.name, driver: net.driver },
    networks,
    volumes: of(VOLUME).map((r) => ({
      name: (reveal(r.inputs) as { name: string }).name,
      retainOnDelete: optionsOf(run, r.name).retainOnDelete === true,
      ...withDaemon(r.provider),
    })),
    images: of(IMAGE).map((r) => {
      const i = reveal(r.inputs) as { name: string; keepLocally?: boolean };
      return { name: i.name, keepLocally: i.keepLocally === true, ...withDaemon(r.provider) };
    }),
    containers,
  };
}

/**
 * Runs the program for `stack` under mocks with `overrides` and returns what it registered. `preview`
 * registers as `pulumi preview` does (the program refuses an update of a stack with hosts, not a preview,
 * and registers the same inputs either way).
 */
export async function registeredStack(
  stack: string,
  overrides: Record<string, unknown>,
  secrets: Record<string, string>,
  preview = false,
): Promise<StackInputs> {
  return stackInputs(await runProgram(stack, overrides, secrets, preview));
}
