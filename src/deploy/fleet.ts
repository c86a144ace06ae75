/**
 * A stack with hosts on its hosts: a provider per host (./hosts.ts), a network on each host, each volume
 * on its host, and every container through its host's provider. Resource names carry the host (and the
 * replica), never a position in a list, so reordering `llmstack:hosts` replaces nothing.
 *
 * A replica across hosts is one Vllm component per member, each through its own host's provider: the
 * headless members `<stack>-vllm-<replica>-<host>`, the head `<stack>-vllm-<replica>` after them.
 *
 * Every provider waits for the preflight gate across hosts (./fleetGate.ts), so nothing is registered on
 * any host until the checks pass.
 */
import * as docker from "@pulumi/docker";
import * as pulumi from "@pulumi/pulumi";
import type { StackConfig } from "../config/schema";
import type { ContainerSpec, ServiceName, StackPlan } from "../plan/types";
import { createContainer, type ContainerDeps } from "./container";
import { fleetPreflightGate } from "./fleetGate";
import { hostProviders, writeKnownHosts } from "./hosts";
import type { SecretValues } from "./secrets";
import { isPlainService, ServiceComponent } from "./service";
import { SmokeTest } from "./smokeTest";
import { SERVICE_ROLES } from "../plan/fleet";
import { orderByDependencies } from "../plan/order";
import { Vllm } from "./vllm";

export interface FleetResources {
  readonly providers: ReadonlyMap<string, docker.Provider>;
  readonly networks: ReadonlyMap<string, docker.Network>;
  /** By `<key>@<host>`. */
  readonly volumes: ReadonlyMap<string, docker.Volume>;
  /** By physical container name. */
  readonly containers: ReadonlyMap<string, docker.Container>;
  readonly smokeTest?: pulumi.Output<string>;
}

function hostOf(spec: ContainerSpec): string {
  if (spec.placement === undefined) throw new Error(`${spec.name} has no placement on a stack with hosts`);
  return spec.placement.host;
}

export function deployFleet(
  name: string,
  plan: StackPlan,
  secrets: SecretValues,
  parent: pulumi.Resource,
  config: StackConfig,
): FleetResources {
  writeKnownHosts(plan);
  const gate = fleetPreflightGate(plan, config, secrets.get("dockerTls"), parent);
  const providers = hostProviders(name, plan, secrets.get("dockerTls"), parent, gate);
  const provider = (host: string): docker.Provider => {
    const p = providers.get(host);
    if (p === undefined) throw new Error(`no provider for host ${host}`);
    return p;
  };
  const used = [...new Set(plan.containers.map(hostOf))];
  const networks = new Map(
    used.map((h) => [
      h,
      new docker.Network(`${name}-network-${h}`, { name: plan.network.name, driver: "bridge" }, { parent, provider: provider(h) }),
    ]),
  );
  const volumes = new Map<string, docker.Volume>();
  for (const v of plan.volumes) {
    const h = v.host!;
    volumes.set(
      `${v.key}@${h}`,
      new docker.Volume(`${name}-${v.key}-${h}`, { name: v.name }, {
        parent,
        provider: provider(h),
        retainOnDelete: v.retainOnDelete,
        protect: v.protect,
      }),
    );
  }
  const containers = new Map<string, docker.Container>();
  const byService = new Map<ServiceName, docker.Container[]>();
  const add = (spec: ContainerSpec, c: docker.Container): void => {
    containers.set(spec.name, c);
    byService.set(spec.service, [...(byService.get(spec.service) ?? []), c]);
  };
  const depsFor = (spec: ContainerSpec): ContainerDeps => {
    const h = hostOf(spec);
    const onHost = new Map([...volumes].filter(([k]) => k.endsWith(`@${h}`)).map(([k, v]) => [k.slice(0, k.lastIndexOf("@")), v]));
    return {
      plan,
      provider: provider(h),
      network: networks.get(h)!,
      volumes: onHost,
      secrets,
      dependsOn: spec.dependsOn.flatMap((d) => byService.get(d) ?? []),
    };
  };
  for (const w of plan.warnings ?? []) pulumi.log.warn(w, parent);
  const downloads = new Map<string, docker.Container>();
  /** The headless members of replicas across hosts, by `<replica>@<host>`. */
  const spanMembers = new Map<string, docker.Container>();
  let smokeTest: pulumi.Output<string> | undefined;
  for (const spec of orderByDependencies(plan.containers)) {
    const h = hostOf(spec);
    if (spec.service === "model-download") {
      const c = createContainer(`${name}-model-download-${h}`, spec, depsFor(spec), parent).container;
      downloads.set(h, c);
      add(spec, c);
      continue;
    }
    if (spec.service === "vllm") {
      const download = plan.containers.find((c) => c.service === "model-download" && c.placement?.host === h)!;
      const { replica, nodeRank } = spec.placement!;
      // The head of a replica across hosts starts after its headless members (the plan lists them first).
      const members = nodeRank === 0 ? [...spanMembers.entries()].filter(([k]) => k.startsWith(`${replica}@`)).map(([, c]) => c) : [];
      const vllm = new Vllm(
        nodeRank !== undefined && nodeRank > 0 ? `${name}-vllm-${replica!}-${h}` : `${name}-vllm-${replica!}`,
        { spec, download, downloaded: downloads.get(h)!, deps: { ...depsFor(spec), dependsOn: [] }, after: members },
        { parent },
      );
      if (nodeRank !== undefined && nodeRank > 0) spanMembers.set(`${replica!}@${h}`, vllm.container);
      add(spec, vllm.container);
      continue;
    }
    if (spec.service === "smoke-test") {
      const logsOf = plan.containers.filter((c) => c.service === "litellm" && hostOf(c) === h).map((c) => c.name);
      const smoke = new SmokeTest(`${name}-smoke-test`, { spec, deps: depsFor(spec), logsOf }, { parent });
      add(spec, smoke.container);
      smokeTest = smoke.result;
      continue;
    }
    if (!isPlainService(spec)) throw new Error(`no component for service ${spec.service}`);
    // A service on every GPU host (the DCGM exporter) carries its host in its name, as the model download does.
    const component = SERVICE_ROLES[spec.service] === "gpu" ? `${name}-${spec.service}-${h}` : `${name}-${spec.service}`;
    add(spec, new ServiceComponent(component, { spec, deps: depsFor(spec) }, { parent }).container);
  }
  return { providers, networks, volumes, containers, ...(smokeTest ? { smokeTest } : {}) };
}
