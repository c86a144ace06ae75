/**
 * What the applier applies: exactly what the Pulumi program registers, read under Pulumi's mock runtime
 * (test/helpers/pulumiMocks.ts), never a plan re-derived by hand. Each resource's inputs come from the
 * mock monitor (secrets unwrapped, since the daemon gets the plain values as the provider would send
 * them); options the mocks do not see (dependsOn, retainOnDelete, customTimeouts) come from the
 * transformation runProgram installs.
 */
import type * as pulumi from "@pulumi/pulumi";
import { runProgram, unwrap, type MockRun } from "../../helpers/pulumiMocks";
import { SECRET_SIG } from "../../safety/walker";

const CONTAINER = "docker:index/container:Container";
const NETWORK = "docker:index/network:Network";
const VOLUME = "docker:index/volume:Volume";
const IMAGE = "docker:index/remoteImage:RemoteImage";

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
}

export interface StackInputs {
  readonly network: { readonly name: string; readonly driver: string };
  readonly volumes: readonly { readonly name: string; readonly retainOnDelete: boolean }[];
  readonly images: readonly { readonly name: string; readonly keepLocally: boolean }[];
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

/** Reads the registrations of one mock run of the program. */
export async function stackInputs(run: MockRun): Promise<StackInputs> {
  if (run.error) throw run.error;
  const of = (type: string) => run.registrations.filter((r) => r.type === type);
  const networks = of(NETWORK);
  if (networks.length !== 1)
    throw new Error(`the program registered ${networks.length} networks; the applier handles one`);
  const net = reveal(networks[0]!.inputs) as { name: string; driver: string };
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
      };
    }),
  );
  return {
    network: { name: net.name, driver: net.driver },
    volumes: of(VOLUME).map((r) => ({
      name: (reveal(r.inputs) as { name: string }).name,
      retainOnDelete: optionsOf(run, r.name).retainOnDelete === true,
    })),
    images: of(IMAGE).map((r) => {
      const i = reveal(r.inputs) as { name: string; keepLocally?: boolean };
      return { name: i.name, keepLocally: i.keepLocally === true };
    }),
    containers,
  };
}

/** Runs the program for `stack` under mocks with `overrides` and returns what it registered. */
export async function registeredStack(
  stack: string,
  overrides: Record<string, unknown>,
  secrets: Record<string, string>,
): Promise<StackInputs> {
  return stackInputs(await runProgram(stack, overrides, secrets));
}
