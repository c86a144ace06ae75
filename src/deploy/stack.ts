/**
 * The whole stack as one component: the Docker provider for the stack's host, its network and data
 * volumes, and one component per service, created in the plan's dependency order.
 */
import * as docker from "@pulumi/docker";
import * as pulumi from "@pulumi/pulumi";
import type { StackConfig } from "../config/schema";
import { orderByDependencies } from "../plan/order";
import type { ContainerSpec, ServiceName, StackPlan } from "../plan/types";
import type { ContainerDeps } from "./container";
import { preflightGate } from "./preflightGate";
import { resolveSecrets } from "./secrets";
import { isPlainService, ServiceComponent } from "./service";
import { SmokeTest } from "./smokeTest";
import { Vllm } from "./vllm";
import { loadStack } from "../config/load";
import { deployFleet } from "./fleet";

export { orderByDependencies };

export interface LlmStackArgs {
  readonly plan: StackPlan;
  /** Reads a secret from the stack file. */
  readonly secret: (name: string) => pulumi.Output<string>;
  /** The parsed stack config, for the preflight gate (read from Pulumi config when absent). */
  readonly config?: StackConfig;
}

export class LlmStack extends pulumi.ComponentResource {
  public readonly provider: docker.Provider;
  public readonly network: docker.Network;
  public readonly volumes: ReadonlyMap<string, docker.Volume>;
  /** By service on a single-host stack; by physical container name on a stack with hosts (a vLLM per replica). */
  public readonly containers: ReadonlyMap<string, docker.Container>;
  /** The Docker provider of each host, by host name (a single-host stack: its one provider, by its Docker host). */
  public readonly providers: ReadonlyMap<string, docker.Provider>;
  /** LiteLLM's master key, a secret output (`pulumi stack output gatewayMasterKey --show-secrets`). */
  public readonly masterKey: pulumi.Output<string>;
  /** "passed" once the smoke test answered, or "disabled". */
  public readonly smokeTest: pulumi.Output<string>;

  constructor(name: string, args: LlmStackArgs, opts?: pulumi.ComponentResourceOptions) {
    super("llmstack:index:LlmStack", name, {}, opts);
    const { plan } = args;
    const secrets = resolveSecrets(plan, args.secret, this);
    this.masterKey = pulumi.secret(secrets.get("litellmMasterKey") ?? pulumi.output(""));
    if (plan.hosts !== undefined) {
      // A stack with hosts: a provider per host and every resource through its host's (./fleet.ts). The
      // gateway host's provider and network stand for the stack where one is asked for.
      const fleet = deployFleet(name, plan, secrets, this, args.config ?? loadStack().config);
      const gateway = plan.hosts.find((h) => h.roles.includes("gateway"))!.name;
      this.providers = fleet.providers;
      this.provider = fleet.providers.get(gateway)!;
      this.network = fleet.networks.get(gateway)!;
      this.volumes = fleet.volumes;
      this.containers = fleet.containers;
      this.smokeTest = fleet.smokeTest ?? pulumi.output("disabled");
      this.registerOutputs({ network: this.network.name, smokeTest: this.smokeTest });
      return;
    }
    // The provider takes its host from the preflight gate, so no container is registered until the checks pass.
    this.provider = new docker.Provider(`${name}-docker`, { host: preflightGate(plan, this, args.config) }, { parent: this });
    this.providers = new Map([[plan.dockerHost, this.provider]]);
    const child = { parent: this, provider: this.provider };
    this.network = new docker.Network(`${name}-network`, { name: plan.network.name, driver: "bridge" }, child);
    const volumes = new Map<string, docker.Volume>();
    for (const v of plan.volumes) {
      volumes.set(
        v.key,
        new docker.Volume(`${name}-${v.key}`, { name: v.name }, {
          ...child,
          // Data outlives the stack: a destroy or replacement leaves the volume, production refuses.
          retainOnDelete: v.retainOnDelete,
          protect: v.protect,
        }),
      );
    }
    this.volumes = volumes;

    const containers = new Map<ServiceName, docker.Container>();
    const depsFor = (spec: ContainerSpec): ContainerDeps => ({
      plan,
      provider: this.provider,
      network: this.network,
      volumes,
      secrets,
      dependsOn: spec.dependsOn.flatMap((d) => {
        const c = containers.get(d);
        return c ? [c] : [];
      }),
    });
    const byService = new Map(plan.containers.map((c) => [c.service, c]));
    let smokeResult: pulumi.Output<string> = pulumi.output("disabled");
    for (const spec of orderByDependencies(plan.containers)) {
      if (spec.service === "model-download") continue;
      const svcName = `${name}-${spec.service}`;
      if (spec.service === "vllm") {
        const download = byService.get("model-download");
        if (!download) throw new Error("the plan has vLLM but no model download");
        const vllm = new Vllm(svcName, { spec, download, deps: depsFor(spec) }, { parent: this });
        containers.set("model-download", vllm.download);
        containers.set("vllm", vllm.container);
        continue;
      }
      if (spec.service === "smoke-test") {
        const logsOf = plan.containers.filter((c) => c.service === "litellm" || c.service === "vllm").map((c) => c.name);
        const smoke = new SmokeTest(svcName, { spec, deps: depsFor(spec), logsOf }, { parent: this });
        containers.set("smoke-test", smoke.container);
        smokeResult = smoke.result;
        continue;
      }
      if (!isPlainService(spec)) throw new Error(`no component for service ${spec.service}`);
      const component = new ServiceComponent(svcName, { spec, deps: depsFor(spec) }, { parent: this });
      containers.set(spec.service, component.container);
    }
    this.containers = containers;
    this.smokeTest = smokeResult;
    this.registerOutputs({ network: this.network.name, smokeTest: this.smokeTest });
  }
}
