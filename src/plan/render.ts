/**
 * Turns a StackPlan into what people and tools read: Docker Container input fields with secrets masked
 * (JSON), and a table. Also resolves Text into plain strings for any consumer that has the values.
 */
import { tableLines } from "../table";
import { budgetJson, budgetLine, fleetCapacity, fleetLine } from "./capacity";
import { digestLine } from "./digests";
import { encodeSecret } from "./encode";
import { isMissing, missingSecrets } from "./stack";
import type { ContainerSpec, SecretRef, StackPlan, Text, UploadSpec } from "./types";

export const MASK = "********";

export function isSecretRef(t: unknown): t is SecretRef {
  return typeof t === "object" && t !== null && "secret" in t;
}

/**
 * Resolves text with a function for secrets (the deploy layer passes values, the render a mask), each
 * written for the format of the place it lands: the one place a secret's value is encoded.
 */
export function textToString(t: Text, resolve: (ref: SecretRef) => string): string {
  const value = (ref: SecretRef): string => encodeSecret(resolve(ref), ref.encode ?? "raw");
  if (typeof t === "string") return t;
  if (isSecretRef(t)) return value(t);
  return t.parts.map((p) => (typeof p === "string" ? p : value(p))).join("");
}

export function textHasSecret(t: Text): boolean {
  if (typeof t === "string") return false;
  if (isSecretRef(t)) return true;
  return t.parts.some((p) => typeof p !== "string");
}

/** Environment as sorted KEY=VALUE strings, the form `@pulumi/docker` takes. */
export function envList(env: ContainerSpec["env"], resolve: (ref: SecretRef) => string): string[] {
  return Object.keys(env)
    .sort()
    .map((k) => `${k}=${textToString(env[k]!, resolve)}`);
}

const mask = (): string => MASK;

/** Labels as `@pulumi/docker`'s ContainerLabel list, sorted by key. */
export function labelList(labels: Readonly<Record<string, string>>): { label: string; value: string }[] {
  return Object.keys(labels)
    .sort()
    .map((label) => ({ label, value: labels[label]! }));
}

/**
 * The Container inputs that hold no secret and name no other resource, in `@pulumi/docker`'s field
 * names: the one mapping both the JSON view and the deploy layer use.
 */
export function dockerSettings(c: ContainerSpec) {
  return {
    name: c.name,
    ...(c.entrypoints ? { entrypoints: [...c.entrypoints] } : {}),
    command: [...c.command],
    ...(c.labels ? { labels: labelList(c.labels) } : {}),
    deviceRequests: c.deviceRequests.map((d) => ({
      driver: d.driver,
      deviceIds: [...d.deviceIds],
      capabilities: [...d.capabilities],
    })),
    ...(c.ipcMode ? { ipcMode: c.ipcMode } : {}),
    ...(c.networkMode ? { networkMode: c.networkMode } : {}),
    ...(c.shmSize !== undefined ? { shmSize: c.shmSize } : {}),
    ports: c.ports.map((p) => ({ internal: p.internal, external: p.external, ip: p.ip, protocol: p.protocol })),
    ...(c.healthcheck ? { healthcheck: { ...c.healthcheck, tests: [...c.healthcheck.tests] } } : {}),
    restart: c.restart,
    ...(c.memory !== undefined ? { memory: c.memory } : {}),
    logDriver: c.logDriver,
    logOpts: { ...c.logOpts },
    securityOpts: [...c.securityOpts],
    ...(c.capAdd ? { capabilities: { adds: [...c.capAdd] } } : {}),
    stopTimeout: c.stopTimeout,
    ...(c.oneShot
      ? { attach: true, logs: true, mustRun: false }
      : { wait: c.wait, ...(c.waitTimeout !== undefined ? { waitTimeout: c.waitTimeout } : {}) }),
  };
}

/** A container's host directory mounts, in `@pulumi/docker`'s ContainerVolume names. */
export function bindSettings(c: ContainerSpec): { hostPath: string; containerPath: string }[] {
  return (c.binds ?? []).map((b) => ({ hostPath: b.hostPath, containerPath: b.containerPath }));
}

/** An upload's settings beside its content, in `@pulumi/docker`'s ContainerUpload names. */
export function uploadSettings(u: UploadSpec) {
  return {
    file: u.file,
    ...(u.permissions ? { permissions: u.permissions } : {}),
    ...(u.owner !== undefined ? { owner: u.owner } : {}),
    ...(u.group !== undefined ? { group: u.group } : {}),
  };
}

/** Pulumi `customTimeouts` of the container and of the pull of its image (RemoteImage). */
export function timeoutOptions(c: ContainerSpec) {
  return {
    ...(c.createTimeoutMinutes !== undefined ? { container: { create: `${c.createTimeoutMinutes}m` } } : {}),
    ...(c.pullTimeoutMinutes !== undefined ? { image: { create: `${c.pullTimeoutMinutes}m` } } : {}),
  };
}

/** The JSON view of one container: `@pulumi/docker` Container input names, secret values masked. */
export function containerJson(c: ContainerSpec, plan: StackPlan): Record<string, unknown> {
  const volumeName = (key: string): string => plan.volumes.find((v) => v.key === key)?.name ?? key;
  const timeouts = timeoutOptions(c);
  return {
    service: c.service,
    dependsOn: [...c.dependsOn],
    image: c.image,
    host: c.host,
    ...(c.placement ? { placement: { ...c.placement } } : {}),
    ...dockerSettings(c),
    envs: envList(c.env, mask),
    volumes: [
      ...c.volumes.map((v) => ({
        volumeName: volumeName(v.volume),
        containerPath: v.containerPath,
        ...(v.readOnly ? { readOnly: true } : {}),
      })),
      ...bindSettings(c),
    ],
    uploads: c.uploads.map((u) => ({ ...uploadSettings(u), content: textToString(u.content, mask) })),
    ...(c.networkMode === "host"
      ? { listens: (c.listens ?? []).map((p) => ({ ...p })) }
      : { networksAdvanced: [{ name: plan.network.name, aliases: [c.service] }] }),
    gpu: c.gpu,
    deleteBeforeReplace: c.deleteBeforeReplace,
    // Resource options, not inputs: how long Pulumi lets the create and the image pull take.
    ...(timeouts.container ? { customTimeouts: timeouts.container } : {}),
    ...(timeouts.image ? { imageCustomTimeouts: timeouts.image } : {}),
  };
}

export function planJson(plan: StackPlan): Record<string, unknown> {
  return {
    stack: plan.stack,
    environment: plan.environment,
    dockerHost: plan.dockerHost,
    network: plan.network.name,
    gatewayUrl: plan.gatewayUrl,
    servedModelName: plan.servedModelName,
    vllmArgs: [...plan.vllmArgs],
    gpuMap: plan.gpuMap,
    capacity: budgetJson(plan.capacity),
    volumes: plan.volumes,
    secrets: plan.secrets.map((s) => ({
      name: s.name,
      source: s.source,
      status: s.present ? (s.source === "generated" ? "generated" : "set") : isMissing(s) ? "missing" : "not set (optional)",
    })),
    containers: plan.containers.map((c) => containerJson(c, plan)),
    ...(plan.hosts ? { hosts: plan.hosts } : {}),
    ...(plan.replicas
      ? { replicas: plan.replicas.map((r) => ({ ...r, capacity: budgetJson(r.capacity) })), fleetCapacity: fleetCapacity(plan.replicas) }
      : {}),
    ...(plan.warnings ? { warnings: [...plan.warnings] } : {}),
  };
}

/** A readable table of the stack for a terminal. */
export function planTable(plan: StackPlan): string {
  // A stack with hosts shows each container's host, and each replica's name beside vLLM's.
  const fleet = plan.hosts !== undefined;
  const rows = plan.containers.map((c) => [
    c.placement?.replica
      ? `${c.service} ${c.placement.replica}${c.placement.nodeRank !== undefined ? ` rank ${c.placement.nodeRank}` : ""}`
      : c.service,
    ...(fleet ? [c.placement?.host ?? "-"] : []),
    c.image,
    c.deviceRequests.length ? `GPU ${c.deviceRequests.flatMap((d) => d.deviceIds).join(",")}` : "-",
    c.ports.length
      ? c.ports.map((p) => `${p.ip}:${p.external}->${p.internal}`).join(" ")
      : c.listens?.length
        ? `${c.listens.map((p) => `${p.ip}:${p.external}`).join(" ")} (host network)`
        : c.networkMode === "host"
          ? "(host network)"
          : "-",
    c.memory !== undefined ? `${c.memory} MiB` : "-",
    c.dependsOn.join(",") || "-",
  ]);
  const missing = missingSecrets(plan);
  return [
    `stack ${plan.stack} (${plan.environment}) on ${plan.dockerHost}, from ${plan.stackFile}`,
    "",
    ...tableLines(rows, ["SERVICE", ...(fleet ? ["HOST"] : []), "IMAGE", "GPUS", "PUBLISHED", "MEMORY", "AFTER"]),
    "",
    `gateway: ${plan.gatewayUrl} (model "${plan.servedModelName}")`,
    `vllm: ${plan.vllmArgs.join(" ")}`,
    ...plan.gpuMap.map(
      (g) => `gpu: ${g.service} gets host GPU ${g.hostDevices.join(",")} (CUDA_VISIBLE_DEVICES=${g.cudaVisibleDevices})`,
    ),
    ...(plan.replicas
      ? [
          ...plan.replicas.map(
            (r) => `replica ${r.id} on ${r.host} GPU ${r.devices.join(",")}, dialled at ${r.endpoint}: ${budgetLine(r.capacity)}`,
          ),
          fleetLine(fleetCapacity(plan.replicas)),
        ]
      : [budgetLine(plan.capacity), ...(plan.capacity.result?.violations ?? []).map((v) => `  - ${v.message}`)]),
    ...(plan.warnings ?? []).map((w) => `warning: ${w}`),
    missing.length
      ? `secrets missing: ${missing.join(", ")}; run: npx llmstack secrets init --stack ${plan.stack}`
      : "secrets: all present",
    ...[digestLine(plan)].filter((l) => l !== null),
    "",
  ].join("\n");
}
