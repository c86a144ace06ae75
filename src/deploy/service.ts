/**
 * What every service component shares: it takes its ContainerSpec from the plan and creates its image
 * and container as children, named from the component's name (never from a list index).
 */
import type * as docker from "@pulumi/docker";
import * as pulumi from "@pulumi/pulumi";
import type { ContainerSpec } from "../plan/types";
import { createContainer, type ContainerDeps } from "./container";

export interface ServiceArgs {
  /** The service's container, from the StackPlan. */
  readonly spec: ContainerSpec;
  /** Provider, network, volumes, secrets and the resources to wait for. */
  readonly deps: ContainerDeps;
}

export class ServiceComponent extends pulumi.ComponentResource {
  public readonly image: docker.RemoteImage;
  public readonly container: docker.Container;

  constructor(type: string, name: string, args: ServiceArgs, opts?: pulumi.ComponentResourceOptions) {
    super(type, name, {}, opts);
    const { image, container } = createContainer(name, args.spec, args.deps, this);
    this.image = image;
    this.container = container;
    this.registerOutputs({ containerName: container.name, image: args.spec.image });
  }
}
