/**
 * vLLM and its one-shot model download. The download runs to completion before vLLM is created or
 * replaced; a failed download stops the update with its exit code instead of a vLLM that cannot load.
 */
import type * as docker from "@pulumi/docker";
import * as pulumi from "@pulumi/pulumi";
import { componentType } from "../config/services";
import type { ContainerSpec } from "../plan/types";
import { createContainer, type ContainerDeps } from "./container";

export interface VllmArgs {
  /** vLLM's container, from the StackPlan. */
  readonly spec: ContainerSpec;
  /** The one-shot model download, from the StackPlan. */
  readonly download: ContainerSpec;
  /**
   * The download's container when another component created it (a stack with hosts has one download per
   * GPU host, which that host's replicas share); this component creates it otherwise.
   */
  readonly downloaded?: docker.Container;
  readonly deps: ContainerDeps;
  /**
   * Containers vLLM starts after besides its download: the headless members of a replica across hosts, for
   * its head (src/deploy/fleet.ts).
   */
  readonly after?: readonly pulumi.Resource[];
}

export class Vllm extends pulumi.ComponentResource {
  public readonly download: docker.Container;
  public readonly container: docker.Container;

  constructor(name: string, args: VllmArgs, opts?: pulumi.ComponentResourceOptions) {
    super(componentType("vllm"), name, {}, opts);
    const download = args.downloaded ?? createContainer(`${name}-model-download`, args.download, args.deps, this).container;
    const model = args.download.command[0];
    const downloaded = download.exitCode.apply((code) => {
      if (code !== undefined && code !== null && code !== 0) {
        throw new Error(
          `model download of ${model} exited with code ${code}: check the model name, HF_TOKEN for gated ` +
            `models (pulumi config set --secret llmstack:hfToken ...), and disk space; ` +
            `"docker logs ${args.download.name}" shows why`,
        );
      }
      return [download as pulumi.Resource, ...(args.after ?? [])];
    });
    this.download = download;
    this.container = createContainer(name, args.spec, { ...args.deps, dependsOn: downloaded }, this).container;
    this.registerOutputs({ containerName: this.container.name });
  }
}
