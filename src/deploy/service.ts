/**
 * The one component of every plain service: it takes its ContainerSpec from the plan and creates its image
 * and container as children, named from the component's name (never from a list index). Its type token
 * is the service's entry in the service table (src/config/services.ts), so a new service needs no class.
 *
 * Two services keep components of their own, for what they do beyond one container: vLLM (./vllm.ts)
 * creates its model download first and fails the update with the download's exit code before vLLM is
 * created; the smoke test (./smokeTest.ts) turns a failed check into an error carrying the gateway's and
 * vLLM's log tails. Their type tokens come from the table as well.
 */
import type * as docker from "@pulumi/docker";
import * as pulumi from "@pulumi/pulumi";
import { componentType, type ServiceName } from "../config/services";
import type { ContainerSpec } from "../plan/types";
import { createContainer, type ContainerDeps } from "./container";

/** The services with a component of their own (see above), and the model download inside vLLM's. */
export const OWN_COMPONENT_SERVICES = ["model-download", "vllm", "smoke-test"] as const satisfies
  readonly ServiceName[];

/** A service the generic component creates: every service of the table but those above. */
export type PlainService = Exclude<ServiceName, (typeof OWN_COMPONENT_SERVICES)[number]>;

export type PlainServiceSpec = ContainerSpec & { readonly service: PlainService };

export function isPlainService(spec: ContainerSpec): spec is PlainServiceSpec {
  return !(OWN_COMPONENT_SERVICES as readonly ServiceName[]).includes(spec.service);
}

/** What every service component takes. */
export interface ServiceArgs {
  /**
   * The service's container from the StackPlan (src/plan/types.ts): image, command, env with secret
   * references, ports, volume keys, uploads, health check and timeouts, in `@pulumi/docker` terms.
   */
  readonly spec: ContainerSpec;
  /**
   * The stack's resources it needs: the Docker provider of the stack's host, the stack network, the data
   * volumes by key, the secret values, and the containers of the services it depends on.
   */
  readonly deps: ContainerDeps;
}

export interface PlainServiceArgs extends ServiceArgs {
  /** A plain service's container; its `service` picks the component's type token from the service table. */
  readonly spec: PlainServiceSpec;
}

/**
 * `llmstack:service:<Name>` for a plain service (the token of its table entry). Children: the pulled image
 * `${name}-image` and the container `${name}-container`.
 */
export class ServiceComponent extends pulumi.ComponentResource {
  /** The pulled image, kept on the host when the stack goes. */
  public readonly image: docker.RemoteImage;
  public readonly container: docker.Container;

  constructor(name: string, args: PlainServiceArgs, opts?: pulumi.ComponentResourceOptions) {
    super(componentType(args.spec.service), name, {}, opts);
    const { image, container } = createContainer(name, args.spec, args.deps, this);
    this.image = image;
    this.container = container;
    this.registerOutputs({ containerName: container.name, image: args.spec.image });
  }
}
