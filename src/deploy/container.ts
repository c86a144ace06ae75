/**
 * Maps one ContainerSpec onto `@pulumi/docker` resources: the pulled image (kept locally) and the
 * container. The settings come from the same `dockerSettings` the offline render prints; only the
 * secrets, the image and the network and volume resources are resolved here.
 */
import * as docker from "@pulumi/docker";
import * as pulumi from "@pulumi/pulumi";
import type { ContainerSpec, StackPlan } from "../plan/types";
import { bindSettings, dockerSettings, timeoutOptions, uploadSettings } from "../plan/render";
import { resolveText, type SecretValues } from "./secrets";

export interface ContainerDeps {
  /** The whole plan (the stack's network name, its Docker host). */
  readonly plan: StackPlan;
  /** The Docker provider of the stack's host; every child is created through it. */
  readonly provider: docker.Provider;
  /** The stack network; the container joins it with its service name as alias. */
  readonly network: docker.Network;
  /** The stack's volumes by key (a VolumeSpec's `key`, as the container's mounts name them). */
  readonly volumes: ReadonlyMap<string, docker.Volume>;
  /** The stack's secret values, which the spec's secret references resolve to. */
  readonly secrets: SecretValues;
  /** Resources this container must wait for (its dependencies' containers). */
  readonly dependsOn: pulumi.Input<pulumi.Resource[]>;
}

export function containerArgs(
  spec: ContainerSpec,
  image: pulumi.Input<string>,
  deps: ContainerDeps,
): docker.ContainerArgs {
  const envKeys = Object.keys(spec.env).sort();
  const envs = pulumi
    .all(envKeys.map((k) => resolveText(spec.env[k]!, deps.secrets)))
    .apply((vals) => vals.map((v, i) => `${envKeys[i]}=${v}`));
  const volume = (key: string): pulumi.Output<string> => {
    const v = deps.volumes.get(key);
    if (v === undefined) throw new Error(`${spec.service} mounts unknown volume ${key}`);
    return v.name;
  };
  return {
    image,
    ...dockerSettings(spec),
    envs,
    volumes: [
      ...spec.volumes.map((m) => ({
        volumeName: volume(m.volume),
        containerPath: m.containerPath,
        ...(m.readOnly ? { readOnly: true } : {}),
      })),
      ...bindSettings(spec),
    ],
    uploads: spec.uploads.map((u) => ({ ...uploadSettings(u), content: resolveText(u.content, deps.secrets) })),
    // A container on its host's network (a member of a replica across hosts) joins no other network.
    ...(spec.networkMode === "host" ? {} : { networksAdvanced: [{ name: deps.network.name, aliases: [spec.service] }] }),
  };
}

/** Pulls the image (kept on the host when the stack goes) and creates the container. */
export function createContainer(
  name: string,
  spec: ContainerSpec,
  deps: ContainerDeps,
  parent: pulumi.Resource,
): { image: docker.RemoteImage; container: docker.Container } {
  // The plan's timeouts, so neither the pull nor the create stops at the provider's 20 minutes.
  const timeouts = timeoutOptions(spec);
  const image = new docker.RemoteImage(
    `${name}-image`,
    { name: spec.image, keepLocally: true },
    { parent, provider: deps.provider, ...(timeouts.image ? { customTimeouts: timeouts.image } : {}) },
  );
  const container = new docker.Container(`${name}-container`, containerArgs(spec, image.imageId, deps), {
    parent,
    provider: deps.provider,
    dependsOn: deps.dependsOn,
    deleteBeforeReplace: spec.deleteBeforeReplace,
    ...(timeouts.container ? { customTimeouts: timeouts.container } : {}),
  });
  return { image, container };
}
