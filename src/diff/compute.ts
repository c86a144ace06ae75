/**
 * diffPlans: two rendered plans (`llmstack plan --json`) → what `pulumi up` would do to each container.
 * Pure: no git, no I/O.
 *
 * Which fields replace a container follows the Docker provider that `@pulumi/docker` bridges
 * (kreuzwerker/terraform-provider-docker, `resource_docker_container.go`): every input is `ForceNew`
 * except the resource limits and restart policy it applies with Docker's container update API
 * (`docker update`, https://docs.docker.com/reference/cli/docker/container/update/) and the settings that
 * only steer the provider itself (wait, must-run, logs). A changed Docker host is a new provider, which
 * Pulumi also answers with a replacement.
 */
import { canonical } from "../config/canonical";
import { flagOfLabel } from "../plan/flags";
import { byHostOrder, containerHost, containerReplica, diffHostedVolumes, diffHosts, hasHosts, hostedKey, hostOrder } from "./hosts";
import { diffNetwork, diffVolumes } from "./resources";
import type {
  Action,
  ContainerDiff,
  ContainerJson,
  Effect,
  FieldChange,
  PlanDiff,
  PlanDoc,
  RenderWith,
  SecretChange,
} from "./types";

export { canonical };

/** Fields the provider changes on the running container, or that never reach Docker. */
export const IN_PLACE_FIELDS: ReadonlySet<string> = new Set([
  // `docker update`: restart policy and resource limits.
  "restart",
  "maxRetryCount",
  "memory",
  "memorySwap",
  "memoryReservation",
  "cpuShares",
  "cpuSet",
  "cpuPeriod",
  "cpuQuota",
  // Provider-side behaviour only.
  "wait",
  "waitTimeout",
  "mustRun",
  "start",
  "attach",
  "logs",
  "rm",
  "destroyGraceSeconds",
  "removeVolumes",
  "containerReadRefreshTimeoutMilliseconds",
]);

/** Plan facts next to the Docker inputs in `plan --json`: they describe, they are not sent to Docker. */
export const PLAN_ONLY_FIELDS: ReadonlySet<string> = new Set([
  "service",
  "dependsOn",
  "gpu",
  "deleteBeforeReplace",
  // Pulumi resource options: a changed timeout changes nothing on the host.
  "customTimeouts",
  "imageCustomTimeouts",
]);

export function effectOf(field: string): Effect {
  return IN_PLACE_FIELDS.has(field) ? "update" : "replace";
}

/** `KEY=VALUE` strings → a map; the value is everything after the first `=`. */
export function envMap(envs: unknown): Map<string, string> {
  const m = new Map<string, string>();
  if (!Array.isArray(envs)) return m;
  for (const e of envs) {
    const s = String(e);
    const i = s.indexOf("=");
    m.set(i < 0 ? s : s.slice(0, i), i < 0 ? "" : s.slice(i + 1));
  }
  return m;
}

/** The keys whose values differ between two maps, sorted, with each side's value (undefined: absent). */
export function mapChanges<V>(
  a: ReadonlyMap<string, V>,
  b: ReadonlyMap<string, V>,
): { key: string; old: V | undefined; new: V | undefined }[] {
  return [...new Set([...a.keys(), ...b.keys()])]
    .sort()
    .filter((k) => a.get(k) !== b.get(k))
    .map((k) => ({ key: k, old: a.get(k), new: b.get(k) }));
}

/** Per-key changes of a keyed input (`envs[KEY]`, `labels[KEY]`); both kinds replace the container. */
function keyedChanges(field: string, a: ReadonlyMap<string, string>, b: ReadonlyMap<string, string>): FieldChange[] {
  return mapChanges(a, b).map((c) => ({
    field: `${field}[${c.key}]`,
    effect: "replace",
    ...(c.old !== undefined ? { old: c.old } : {}),
    ...(c.new !== undefined ? { new: c.new } : {}),
  }));
}

/** Per-entry changes of an env list: Pulumi shows the whole list as secret, this shows each key. */
export function envChanges(oldEnvs: unknown, newEnvs: unknown): FieldChange[] {
  return keyedChanges("envs", envMap(oldEnvs), envMap(newEnvs));
}

/** `@pulumi/docker`'s ContainerLabel list → a map of key to value. */
function labelMap(labels: unknown): Map<string, string> {
  const m = new Map<string, string>();
  if (!Array.isArray(labels)) return m;
  for (const l of labels as { label?: unknown; value?: unknown }[]) m.set(String(l.label), String(l.value));
  return m;
}

/** Per-label changes (`labels[llmstack.vllm.tensor-parallel-size]`); labels are ForceNew in the provider. */
export function labelChanges(oldLabels: unknown, newLabels: unknown): FieldChange[] {
  return keyedChanges("labels", labelMap(oldLabels), labelMap(newLabels));
}

/**
 * A label that restates a flag (src/plan/flags.ts) changes whenever the flag does: when the flag's own
 * change is in the list with the same values, the label's is left out, so one edit shows once.
 */
export function withoutRestatedLabels(changes: readonly FieldChange[]): FieldChange[] {
  return changes.filter((c) => {
    const label = /^labels\[(.+)\]$/.exec(c.field)?.[1];
    const flag = label === undefined ? null : flagOfLabel(label);
    if (flag === null) return true;
    return !changes.some(
      (f) => (f.field === `command ${flag}` || f.field === `entrypoints ${flag}`) && f.old === c.old && f.new === c.new,
    );
  });
}

const isStringArray = (v: unknown): v is string[] => Array.isArray(v) && v.every((x) => typeof x === "string");

/** Argv changes named by their flag (`command --gpu-memory-utilization`) when the shape is unchanged. */
export function argvChanges(field: string, oldV: unknown, newV: unknown, effect: Effect): FieldChange[] {
  if (!isStringArray(oldV) || !isStringArray(newV) || oldV.length !== newV.length) {
    return [{ field, effect, ...(oldV !== undefined ? { old: oldV } : {}), ...(newV !== undefined ? { new: newV } : {}) }];
  }
  const out: FieldChange[] = [];
  oldV.forEach((o, i) => {
    const n = newV[i]!;
    if (o === n) return;
    const eq = /^(--?[\w-]+)=/.exec(n);
    const prev = oldV[i - 1];
    const label =
      eq && o.startsWith(`${eq[1]}=`)
        ? `${field} ${eq[1]}`
        : prev !== undefined && prev === newV[i - 1] && /^--?[A-Za-z]/.test(prev)
          ? `${field} ${prev}`
          : `${field}[${i}]`;
    out.push({ field: label, effect, old: o, new: n });
  });
  return out;
}

interface UploadJson {
  readonly file: string;
  readonly content?: string;
  readonly permissions?: string;
  readonly owner?: string;
  readonly group?: string;
}

const isUploadList = (v: unknown): v is UploadJson[] =>
  Array.isArray(v) && v.every((u) => u !== null && typeof u === "object" && typeof (u as UploadJson).file === "string");

/** The lines only in `a` and the lines only in `b`, in order (a longest-common-subsequence diff). */
export function lineChanges(a: string, b: string): { removed: string[]; added: string[] } {
  const x = a.split("\n");
  const y = b.split("\n");
  const lcs: number[][] = Array.from({ length: x.length + 1 }, () => new Array<number>(y.length + 1).fill(0));
  for (let i = x.length - 1; i >= 0; i--) {
    for (let j = y.length - 1; j >= 0; j--) {
      lcs[i]![j] = x[i] === y[j] ? lcs[i + 1]![j + 1]! + 1 : Math.max(lcs[i + 1]![j]!, lcs[i]![j + 1]!);
    }
  }
  const removed: string[] = [];
  const added: string[] = [];
  let i = 0;
  let j = 0;
  while (i < x.length || j < y.length) {
    if (i < x.length && j < y.length && x[i] === y[j]) {
      i++;
      j++;
    } else if (j < y.length && (i >= x.length || lcs[i]![j + 1]! >= lcs[i + 1]![j]!)) {
      added.push(y[j++]!);
    } else {
      removed.push(x[i++]!);
    }
  }
  return { removed, added };
}

/**
 * Per-file changes of an uploads list, with only the lines that changed: a one-line Caddyfile or
 * LiteLLM config edit stays readable instead of two whole files side by side.
 */
export function uploadChanges(oldV: unknown, newV: unknown): FieldChange[] {
  if (!isUploadList(oldV) || !isUploadList(newV)) {
    return [{ field: "uploads", effect: "replace", ...(oldV !== undefined ? { old: oldV } : {}), ...(newV !== undefined ? { new: newV } : {}) }];
  }
  const a = new Map(oldV.map((u) => [u.file, u]));
  const b = new Map(newV.map((u) => [u.file, u]));
  const out: FieldChange[] = [];
  for (const file of [...new Set([...a.keys(), ...b.keys()])]) {
    const o = a.get(file);
    const n = b.get(file);
    if (canonical(o) === canonical(n)) continue;
    if (o === undefined || n === undefined) {
      out.push({ field: `uploads[${file}]`, effect: "replace", ...(o ? { old: o.content } : {}), ...(n ? { new: n.content } : {}) });
      continue;
    }
    if (o.content !== n.content) {
      const { removed, added } = lineChanges(o.content ?? "", n.content ?? "");
      out.push({ field: `uploads[${file}] lines`, effect: "replace", old: removed, new: added });
    }
    for (const key of ["permissions", "owner", "group"] as const) {
      if (o[key] !== n[key]) out.push({ field: `uploads[${file}] ${key}`, effect: "replace", old: o[key], new: n[key] });
    }
  }
  return out;
}

function fieldChanges(before: ContainerJson, after: ContainerJson): FieldChange[] {
  const keys = [...new Set([...Object.keys(before), ...Object.keys(after)])].filter((k) => !PLAN_ONLY_FIELDS.has(k));
  const out: FieldChange[] = [];
  for (const k of keys) {
    const o = before[k];
    const n = after[k];
    if (canonical(o) === canonical(n)) continue;
    const effect = effectOf(k);
    if (k === "envs") out.push(...envChanges(o, n));
    else if (k === "labels") out.push(...labelChanges(o, n));
    else if (k === "uploads") out.push(...uploadChanges(o, n));
    else if (k === "command" || k === "entrypoints") out.push(...argvChanges(k, o, n, effect));
    else out.push({ field: k, effect, ...(o !== undefined ? { old: o } : {}), ...(n !== undefined ? { new: n } : {}) });
  }
  const shown = withoutRestatedLabels(out);
  return [...shown.filter((c) => c.effect === "replace"), ...shown.filter((c) => c.effect === "update")];
}

export function diffContainer(before: ContainerJson | undefined, after: ContainerJson | undefined): ContainerDiff {
  const c = (after ?? before)!;
  const base = { service: c.service, name: c.name, secrets: [] };
  if (before === undefined) return { ...base, action: "create", downtime: false, rerun: false, changes: [] };
  if (after === undefined) return { ...base, action: "delete", downtime: before.gpu === true, rerun: false, changes: [] };
  const changes = fieldChanges(before, after);
  const action: Action = changes.some((x) => x.effect === "replace")
    ? "replace"
    : changes.length > 0
      ? "update"
      : "unchanged";
  const gpu = before.gpu === true || after.gpu === true;
  // `attach` marks a one-shot container in `plan --json` (it runs to completion instead of staying up).
  const rerun = action === "replace" && after.attach === true;
  return { ...base, action, downtime: action === "replace" && gpu, rerun, changes };
}

export interface DiffInput {
  readonly stack: string;
  readonly base: string;
  /** The revision whose stack files are the new side; absent: the working tree. */
  readonly head?: string;
  /** How the base was rendered (default: by its own program). */
  readonly renderWith?: RenderWith;
  /** The plan at the base revision; null when the stack file does not exist there. */
  readonly before: PlanDoc | null;
  /** The new plan; null when the stack file is gone from the new side. */
  readonly after: PlanDoc | null;
  /** Secrets whose stack-file value changed between the two sides (./secrets.ts). */
  readonly secrets?: readonly SecretChange[];
  readonly encryptionChanged?: boolean;
}

export function diffPlans(input: DiffInput): PlanDiff {
  const before = input.before?.containers ?? [];
  const after = input.after?.containers ?? [];
  const secrets = input.secrets ?? [];
  // A stack with hosts has several containers of one service (a vLLM per replica): the same container is
  // the same name on the same host (./hosts.ts). A single host's containers are one per service.
  const hosted = hasHosts(input.before, input.after);
  const keyOf = hosted ? hostedKey : (c: ContainerJson): string => c.service;
  const byKey = (list: readonly ContainerJson[]) => new Map(list.map((c) => [keyOf(c), c]));
  const b = byKey(before);
  const a = byKey(after);
  const withSecrets = (d: ContainerDiff): ContainerDiff => ({
    ...d,
    secrets: secrets.filter((s) => s.usedBy.includes(d.service)).map((s) => s.name),
  });
  const withHost = (d: ContainerDiff, c: ContainerJson): ContainerDiff => {
    if (!hosted) return d;
    const host = containerHost(c);
    const replica = containerReplica(c);
    const { service, name, ...rest } = d;
    return { service, name, ...(host !== undefined ? { host } : {}), ...(replica !== undefined ? { replica } : {}), ...rest };
  };
  const listed: ContainerDiff[] = [
    ...after.map((c) => withHost(withSecrets(diffContainer(b.get(keyOf(c)), c)), c)),
    ...before.filter((c) => !a.has(keyOf(c))).map((c) => withHost(diffContainer(c, undefined), c)),
  ];
  const hosts = hosted ? diffHosts(input.before, input.after) : undefined;
  const order = hostOrder(input.before, input.after);
  const containers = hosted ? byHostOrder(listed, order) : listed;
  const counts: Record<Action, number> = { create: 0, update: 0, replace: 0, delete: 0, unchanged: 0 };
  for (const c of containers) counts[c.action] += 1;
  const volumes = hosted ? diffHostedVolumes(input.before, input.after) : diffVolumes(input.before, input.after);
  const network = diffNetwork(input.before, input.after);
  return {
    stack: input.stack,
    base: input.base,
    ...(input.head !== undefined ? { head: input.head } : {}),
    renderWith: input.renderWith ?? "revision",
    stackAdded: input.before === null && input.after !== null,
    stackRemoved: input.after === null && input.before !== null,
    containers,
    counts,
    volumes: hosted ? byHostOrder(volumes.volumes, order) : volumes.volumes,
    volumesUnknown: volumes.unknown,
    network,
    secrets,
    encryptionChanged: input.encryptionChanged ?? false,
    // A new encryption salt alone changes nothing on the host; the secrets it re-encrypted are listed.
    changed:
      containers.some((c) => c.action !== "unchanged") ||
      volumes.volumes.length > 0 ||
      network.action !== "unchanged" ||
      secrets.length > 0 ||
      (hosts ?? []).some((h) => h.action !== "unchanged"),
    ...(hosts !== undefined ? { hosts } : {}),
  };
}
