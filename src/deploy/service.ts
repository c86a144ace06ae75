/**
 * The component of every plain service: it takes its ContainerSpec from the plan and creates its image
 * and container as children, named from the component's name (never from a list index). vLLM (with its
 * model download) and the smoke test have components of their own (./vllm.ts, ./smokeTest.ts).
 */
import type * as docker from "@pulumi/docker";
import * as pulumi from "@pulumi/pulumi";
import type { ContainerSpec, ServiceName } from "../plan/types";
import { createContainer, type ContainerDeps } from "./container";

/**
 * Each plain service's component type, `llmstack:service:<Type>`. The type token is part of the URN of
 * the component and of every child: changing one replaces the service's resources unless the change
 * carries an alias (CONTRIBUTING.md, "Renames"; test/deploy/urns.test.ts pins the identities).
 */
export const SERVICE_TYPES = {
  litellm: "Litellm",
  "multimodal-worker": "MultimodalWorker",
  "retrieval-proxy": "RetrievalProxy",
  postgres: "Postgres",
  redis: "Redis",
  qdrant: "Qdrant",
  "object-store": "ObjectStore",
  "gateway-tls": "GatewayTls",
  "dcgm-exporter": "DcgmExporter",
  prometheus: "Prometheus",
  alertmanager: "Alertmanager",
  grafana: "Grafana",
} as const satisfies Partial<Record<ServiceName, string>>;

export type PlainService = keyof typeof SERVICE_TYPES;

export type PlainServiceSpec = ContainerSpec & { readonly service: PlainService };

export function isPlainService(spec: ContainerSpec): spec is PlainServiceSpec {
  return Object.hasOwn(SERVICE_TYPES, spec.service);
}

export interface ServiceArgs {
  /** The service's container, from the StackPlan. */
  readonly spec: ContainerSpec;
  /** Provider, network, volumes, secrets and the resources to wait for. */
  readonly deps: ContainerDeps;
}

export interface PlainServiceArgs extends ServiceArgs {
  /** A plain service's container; its `service` picks the component type. */
  readonly spec: PlainServiceSpec;
}

export class ServiceComponent extends pulumi.ComponentResource {
  public readonly image: docker.RemoteImage;
  public readonly container: docker.Container;

  constructor(name: string, args: PlainServiceArgs, opts?: pulumi.ComponentResourceOptions) {
    super(`llmstack:service:${SERVICE_TYPES[args.spec.service]}`, name, {}, opts);
    const { image, container } = createContainer(name, args.spec, args.deps, this);
    this.image = image;
    this.container = container;
    this.registerOutputs({ containerName: container.name, image: args.spec.image });
  }
}
