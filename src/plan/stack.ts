/**
 * planStack: a validated stack config → the StackPlan. Pure and deterministic: no Pulumi, no I/O.
 */
import { StackConfigError } from "../config/errors";
import { checkBlueGreen, withVllmName } from "./blueGreen";
import { SECRET_NAMES, type SecretName, type StackConfig } from "../config/schema";
import { serviceRuns } from "../config/services";
import { TLS_DATA_VOLUME } from "./gatewayTls";
import { planSmokeTest } from "./smokeTest";
import { planBackupSchedule } from "../backup/schedule";
import { planCapacity } from "./capacity";
import type { ModelLookup } from "../capacity";
import { finalizeContainer, type ImageFactsResolver } from "./finalize";
import { physicalName, protectData, type PlanContext } from "./common";
import { DATA_VOLUMES } from "./dataStores";
import { planMonitoring } from "../monitoring/plan";
import { PLANNED_SERVICES, PLANNERS } from "./services";
import type { ContainerSpec, GpuMapEntry, SecretSpec, StackPlan, VolumeSpec } from "./types";
import { HF_CACHE_VOLUME, vllmArgs } from "./vllm";
import { spanWarnings } from "./span";
import { fleetReplicas, placeOnHosts, placeVolumes, plannedHosts, plannedReplicas, replicaContainers } from "./fleet";

export interface PlanInput {
  readonly project: string;
  readonly stack: string;
  readonly stackFile: string;
  readonly config: StackConfig;
  /** Secret keys that have a value in the stack file. */
  readonly secretsPresent: ReadonlySet<string>;
  /** Where image records come from (src/facts/images.ts unless a test brings stand-in images). */
  readonly imageFacts?: ImageFactsResolver;
  /**
   * The config of the stack as it runs (its last good config), for a blue-green rollout's check that the
   * new vLLM fits beside the running one; undefined when nothing runs yet or it is not known (offline).
   */
  readonly running?: StackConfig;
  /**
   * The model's facts as the caller resolved them (the command line reads the Hugging Face cache and
   * the Hub: src/hub); without them the built-in catalog's.
   */
  readonly model?: ModelLookup;
}

/** Only development may generate its own credentials; elsewhere they must outlive the stack's state. */
export function secretSource(config: StackConfig): SecretSpec["source"] {
  return config.environment === "development" ? "generated" : "config";
}

export function planStack(input: PlanInput): StackPlan {
  const { config } = input;
  const stackCtx: PlanContext = withVllmName({
    project: input.project,
    stack: input.stack,
    stackFile: input.stackFile,
    config,
  });
  checkBlueGreen(stackCtx, input.running);
  const hfToken = input.secretsPresent.has("hfToken");
  // A stack with hosts: its replicas are placed (and checked to fit) before anything else is planned, and
  // the gateway is planned with the address of each.
  const hosts = config.hosts;
  const fleet = hosts ? fleetReplicas(stackCtx, hosts, input.model ? { model: input.model } : {}) : undefined;
  const replicas = hosts && fleet ? plannedReplicas(fleet, hosts) : undefined;
  const ctx: PlanContext = replicas
    ? { ...stackCtx, replicas: replicas.map((r) => ({ id: r.id, endpoint: r.endpoint })) }
    : stackCtx;
  // Each service of the table's "stack" group by its planner, in plan order; a service on your own image
  // only when the stack sets it (there is no public default to pull).
  const services: ContainerSpec[] = PLANNED_SERVICES.filter((s) => serviceRuns(config.images, s)).flatMap(
    (s) => PLANNERS[s](ctx, { secretsPresent: input.secretsPresent }) ?? [],
  );
  const containers = hosts && fleet ? replicaContainers(ctx, services, hosts, fleet.replicas) : services;
  const finalize = (c: ContainerSpec): ContainerSpec => finalizeContainer(c, ctx, input.imageFacts);
  const planned = containers.map(finalize);
  if (config.smokeTest.enabled) planned.push(finalize(planSmokeTest(ctx, planned)));
  const protect = protectData(config);
  const volumeKeys = [
    HF_CACHE_VOLUME,
    ...Object.values(DATA_VOLUMES),
    ...(config.gateway.tls ? [TLS_DATA_VOLUME] : []),
  ];
  const volumes: VolumeSpec[] = volumeKeys.map((key) => ({
    key,
    name: physicalName(ctx, key),
    retainOnDelete: true,
    protect,
  }));
  const source = secretSource(config);
  const secrets: SecretSpec[] = [
    ...SECRET_NAMES.map(
      (name): SecretSpec => ({
        name,
        // A value in the stack file always wins; development generates what is missing.
        source: input.secretsPresent.has(name) ? "config" : source,
        present: input.secretsPresent.has(name) || source === "generated",
        optional: false,
      }),
    ),
    { name: "hfToken", source: "config", present: hfToken, optional: true },
    ...(config.gateway.tls?.mode === "certificate"
      ? (["tlsCertificate", "tlsPrivateKey"] as const).map(
          (name): SecretSpec => ({ name, source: "config", present: input.secretsPresent.has(name), optional: false }),
        )
      : []),
    // The TLS material of the tcp:// hosts (src/deploy/hosts.ts reads each host's entry).
    ...(hosts?.some((h) => h.endpoint.startsWith("tcp://"))
      ? [{ name: "dockerTls", source: "config", present: input.secretsPresent.has("dockerTls"), optional: false } as const]
      : []),
  ];
  // Appended after the GPU map: the DCGM exporter watches every GPU but is given none of their memory.
  const monitoring = planMonitoring(ctx, {
    secretsPresent: input.secretsPresent,
    secretSource: source,
    ...(hosts && fleet ? { fleet: { hosts, replicas: plannedReplicas(fleet, hosts) } } : {}),
  });
  const gpuMap: GpuMapEntry[] = planned
    .filter((c) => c.deviceRequests.length > 0)
    .map((c) => ({
      service: c.service,
      hostDevices: c.deviceRequests.flatMap((d) => d.deviceIds),
      cudaVisibleDevices: String(c.env.CUDA_VISIBLE_DEVICES ?? ""),
    }));
  const all = [...planned, ...monitoring.containers.map(finalize)];
  const placed = hosts ? placeOnHosts(all, hosts) : all;
  // Host ports clash only on one host: each host's containers are checked apart.
  const onHosts = [...new Set(placed.map((c) => c.placement?.host))];
  const clash =
    onHosts.map((h) => hostPortClash(placed.filter((c) => c.placement?.host === h))).find((c) => c !== null) ?? null;
  if (clash !== null) throw new StackConfigError(`${input.stackFile}: ${clash}`);
  const warnings = hosts ? spanWarnings(input.stackFile, config.model.placement, hosts) : [];
  const tls = config.gateway.tls;
  const gatewayHost =
    tls?.mode === "acme" || (tls?.mode === "certificate" && tls.domain)
      ? tls.domain!
      : tls?.mode === "internal"
        ? tls.hosts[0]!
        : config.gateway.bindAddress === "0.0.0.0" || config.gateway.bindAddress === "::"
        ? "localhost"
        : config.gateway.bindAddress;
  const scheme = tls ? "https" : "http";
  const plan: StackPlan = {
    project: input.project,
    stack: input.stack,
    environment: config.environment,
    stackFile: input.stackFile,
    // A stack with hosts is reached, for the smoke test and status, through its gateway host.
    dockerHost: hosts?.find((h) => h.roles.includes("gateway"))?.endpoint ?? config.dockerHost,
    network: { name: `${input.project}-${input.stack}` },
    volumes: hosts ? placeVolumes([...volumes, ...monitoring.volumes], placed) : [...volumes, ...monitoring.volumes],
    secrets: [...secrets, ...monitoring.secrets],
    containers: placed,
    gpuMap,
    vllmArgs: vllmArgs(ctx),
    servedModelName: config.model.servedModelName,
    // A stack with hosts: its first replica's budget (every replica's is under replicas, each checked to fit
    // when placed); the stack's own GPU section is only a template there, which a replica across hosts outgrows.
    capacity: fleet ? fleet.budgets.get(fleet.replicas[0]!.id)! : planCapacity(config, input.model),
    gatewayUrl: `${scheme}://${gatewayHost.includes(":") ? `[${gatewayHost}]` : gatewayHost}:${config.gateway.port}`,
    ...(hosts && replicas ? { hosts: plannedHosts(hosts), replicas } : {}),
    ...(warnings.length > 0 ? { warnings } : {}),
  };
  // The scheduled backup runs the planned stores' steps, so it is planned from the plan; on a stack with
  // hosts it runs on the state host, beside the stores it reaches by name.
  const scheduled = planBackupSchedule(ctx, plan).map(finalize);
  const backup = hosts ? placeOnHosts(scheduled, hosts) : scheduled;
  return backup.length === 0 ? plan : { ...plan, containers: [...plan.containers, ...backup] };
}

/**
 * Two containers (or one twice) publishing the same host port, which Docker refuses halfway through an
 * update; null when none. A wildcard address (0.0.0.0, ::) overlaps every address of its port.
 */
export function hostPortClash(containers: readonly ContainerSpec[]): string | null {
  const seen: { service: string; ip: string; port: number; protocol: string }[] = [];
  const wildcard = (ip: string): boolean => ip === "0.0.0.0" || ip === "::" || ip === "";
  for (const c of containers) {
    for (const p of [...c.ports, ...(c.listens ?? [])]) {
      const other = seen.find(
        (s) => s.port === p.external && s.protocol === p.protocol && (s.ip === p.ip || wildcard(s.ip) || wildcard(p.ip)),
      );
      if (other) {
        return (
          `host port ${p.external}/${p.protocol} is published twice, by ${other.service} on ${other.ip} and by ` +
          `${c.service} on ${p.ip}; give llmstack:gateway.port another port`
        );
      }
      seen.push({ service: c.service, ip: p.ip, port: p.external, protocol: p.protocol });
    }
  }
  return null;
}

/**
 * A secret the stack needs that the stack file does not have and nothing generates (staging and
 * production generate none). The one statement of the rule: the plan table, `plan --json`'s secret
 * status, `secrets init` and the deploy gate all ask it.
 */
export function isMissing(s: SecretSpec): boolean {
  return !s.present && !s.optional;
}

/** The names of the stack's missing secrets, in the plan's order. */
export function missingSecrets(plan: StackPlan): SecretName[] {
  return plan.secrets.filter(isMissing).map((s) => s.name);
}
