/**
 * The CrossGuard policies: each wires a pure rule from ./rules.ts into a ResourceValidationPolicy or a
 * StackValidationPolicy. Kept apart from index.ts (which starts the pack's server) so tests can run them.
 * https://www.pulumi.com/docs/iac/using-pulumi/crossguard/core-concepts/
 */
import type {
  Policies,
  PolicyConfigSchema,
  PolicyProviderResource,
  PolicyResource,
  ReportViolation,
  ResourceValidationArgs,
  ResourceValidationPolicy,
  StackValidationPolicy,
} from "@pulumi/policy";
import {
  gpuOversubscriptionFindings,
  imageTagFindings,
  productionUtilisationFindings,
  GATEWAY_SERVICES,
  publishedPortFindings,
  resolveEnvironment,
  secretInCommandFindings,
  tensorParallelShmFindings,
  type ContainerInputs,
  type Environment,
} from "./rules";

export const CONTAINER = "docker:index/container:Container";
export const REMOTE_IMAGE = "docker:index/remoteImage:RemoteImage";

/** Policy config: which environment's rules apply (staging and production pin images, ...). */
export interface PackConfig {
  readonly environment?: string;
}

const environmentSchema: PolicyConfigSchema = {
  properties: { environment: { type: "string", enum: ["development", "staging", "production"] } },
};

/** `--policy-pack-config` → `LLMSTACK_ENVIRONMENT` → production (the strictest when nobody says). */
export function environmentOf(args: { getConfig<T extends object>(): T }): Environment {
  return resolveEnvironment(args.getConfig<PackConfig>().environment, process.env.LLMSTACK_ENVIRONMENT);
}

function onContainer(
  check: (c: ContainerInputs, args: ResourceValidationArgs) => string[],
): (args: ResourceValidationArgs, report: ReportViolation) => void {
  return (args, report) => {
    if (args.type !== CONTAINER) return;
    for (const m of check(args.props as ContainerInputs, args)) report(m);
  };
}

function imagePolicy(level: "mandatory" | "advisory", name: string, description: string): ResourceValidationPolicy {
  return {
    name,
    description,
    enforcementLevel: level,
    configSchema: environmentSchema,
    validateResource: (args, report) => {
      const env = environmentOf(args);
      const image =
        args.type === REMOTE_IMAGE ? (args.props.name as string | undefined) : args.type === CONTAINER ? (args.props.image as string | undefined) : undefined;
      const owner = args.type === REMOTE_IMAGE ? `image ${args.name}` : `container ${String(args.props.name ?? args.name)}`;
      for (const f of imageTagFindings(image, owner, env)) if (f.level === level) report(f.message);
    },
  };
}

const noSecretInCommand: ResourceValidationPolicy = {
  name: "no-secret-in-command-line",
  description: "No key, password or secret env value in a container's entrypoint, command or health check.",
  enforcementLevel: "mandatory",
  validateResource: onContainer((c) => secretInCommandFindings(c)),
};

/**
 * The Docker daemon a resource goes to: its provider's `host`. A stack with hosts has one provider per
 * host (src/deploy/hosts.ts); a single-host stack one for all.
 */
function daemonOf(r: { provider?: PolicyProviderResource }): string {
  const host = r.provider?.props.host;
  return typeof host === "string" ? host : "";
}

/** The stack's containers by the daemon they go to, and whether there is more than one (a stack with hosts). */
function containersByDaemon(resources: readonly PolicyResource[]): { groups: Map<string, PolicyResource[]>; onHosts: boolean } {
  const groups = new Map<string, PolicyResource[]>();
  for (const r of resources.filter((x) => x.type === CONTAINER)) groups.set(daemonOf(r), [...(groups.get(daemonOf(r)) ?? []), r]);
  return { groups, onHosts: groups.size > 1 };
}

const gatewayOnly: StackValidationPolicy = {
  name: "only-gateway-published",
  description:
    "Only the gateway (LiteLLM, or the TLS proxy in front of it) is published on a non-loopback address; on a stack with " +
    "hosts, vLLM replicas and DCGM exporters also on their host's own address.",
  enforcementLevel: "mandatory",
  validateStack: (args, report) => {
    const { groups, onHosts } = containersByDaemon(args.resources);
    for (const r of [...groups.values()].flat()) {
      for (const m of publishedPortFindings(r.props as ContainerInputs, GATEWAY_SERVICES, onHosts)) report(m, r.urn);
    }
  },
};

const tensorParallelShm: ResourceValidationPolicy = {
  name: "tensor-parallel-shared-memory",
  description: "Tensor parallelism needs host IPC or enough shared memory for NCCL.",
  enforcementLevel: "mandatory",
  validateResource: onContainer((c) => tensorParallelShmFindings(c)),
};

const productionUtilisation: ResourceValidationPolicy = {
  name: "production-gpu-memory-utilization",
  description: "vLLM's GPU memory utilisation stays within the production bounds.",
  enforcementLevel: "mandatory",
  configSchema: environmentSchema,
  validateResource: onContainer((c, args) => productionUtilisationFindings(c, environmentOf(args))),
};

const gpuBudget: StackValidationPolicy = {
  name: "gpu-not-oversubscribed",
  description: "vLLM can start on each of its GPUs while the other containers there hold their memory shares.",
  enforcementLevel: "mandatory",
  validateStack: (args, report) => {
    // GPU "0" of one host is not GPU "0" of another: the budget is per daemon.
    for (const group of containersByDaemon(args.resources).groups.values()) {
      for (const m of gpuOversubscriptionFindings(group.map((r) => r.props as ContainerInputs))) report(m);
    }
  },
};

export const policies: Policies = [
  imagePolicy("mandatory", "no-floating-image-tags", "Staging and production pin image tags (no latest, main*, stable, nightly, or none)."),
  imagePolicy("advisory", "no-major-only-image-tags", "A major-only tag such as 16 moves with every minor release."),
  gatewayOnly,
  tensorParallelShm,
  productionUtilisation,
  gpuBudget,
  noSecretInCommand,
];
