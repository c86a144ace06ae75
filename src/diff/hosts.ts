/**
 * The diff of a stack with hosts (docs/fleet.md), host by host. Pure: no git, no I/O.
 *
 * A container is the same container on both sides when it has the same physical name on the same host:
 * a replica that moves to another host gets another name (`vllm-<host>-<slot>`), and any container that
 * moves starts afresh on its new host, so both show as removed from one host and created on the other.
 * A volume is the same volume when it has the same key on the same host (src/deploy/fleet.ts names it
 * `<stack>-<key>-<host>`): the model cache on a new GPU host is a new, empty volume.
 */
import { canonical } from "../config/canonical";
import { diffVolume } from "./resources";
import type { ContainerJson, HostDiff, HostJson, PlanDoc, VolumeDiff, VolumeJson } from "./types";

/** Either side lists hosts: the diff is shown host by host. */
export function hasHosts(before: PlanDoc | null, after: PlanDoc | null): boolean {
  return (before?.hosts?.length ?? 0) > 0 || (after?.hosts?.length ?? 0) > 0;
}

/** The host a container of `plan --json` is placed on; undefined on a single-host side. */
export function containerHost(c: ContainerJson): string | undefined {
  const p = c.placement as { host?: unknown } | undefined;
  return typeof p?.host === "string" ? p.host : undefined;
}

/** The replica a vLLM container of `plan --json` is; undefined for every other container. */
export function containerReplica(c: ContainerJson): string | undefined {
  const p = c.placement as { replica?: unknown } | undefined;
  return typeof p?.replica === "string" ? p.replica : undefined;
}

/** The identity of a container across the two sides of a diff of a stack with hosts. */
export function hostedKey(c: ContainerJson): string {
  return `${containerHost(c) ?? ""}\0${c.name}`;
}

/** The host names of both sides: the new side's order, then the hosts only the old side lists. */
export function hostOrder(before: PlanDoc | null, after: PlanDoc | null): string[] {
  const names = (after?.hosts ?? []).map((h) => h.name);
  for (const h of before?.hosts ?? []) if (!names.includes(h.name)) names.push(h.name);
  return names;
}

/** A host's keys that the diff compares, in the order of the stack file. */
const HOST_FIELDS = ["endpoint", "address", "interface", "roles", "hostKey"] as const;

function diffHost(name: string, b: HostJson | undefined, a: HostJson | undefined): HostDiff {
  const endpoint = (a ?? b)!.endpoint;
  if (b === undefined) return { name, action: "create", endpoint, changes: [] };
  if (a === undefined) return { name, action: "delete", endpoint, changes: [] };
  const changes = HOST_FIELDS.filter((f) => canonical(b[f]) !== canonical(a[f])).map((f) => ({
    field: f,
    ...(b[f] !== undefined ? { old: b[f] } : {}),
    ...(a[f] !== undefined ? { new: a[f] } : {}),
  }));
  return { name, action: changes.length > 0 ? "update" : "unchanged", endpoint, changes };
}

/** Every host of either side, in hostOrder. */
export function diffHosts(before: PlanDoc | null, after: PlanDoc | null): HostDiff[] {
  const b = new Map((before?.hosts ?? []).map((h) => [h.name, h]));
  const a = new Map((after?.hosts ?? []).map((h) => [h.name, h]));
  return hostOrder(before, after).map((n) => diffHost(n, b.get(n), a.get(n)));
}

const volumeKey = (v: VolumeJson): string => `${v.host ?? ""}\0${v.key}`;

/**
 * Volume changes by host and key, in the new plan's order and then the removed ones; unknown when a side
 * lists no volumes (a plan of an older program).
 */
export function diffHostedVolumes(before: PlanDoc | null, after: PlanDoc | null): { volumes: VolumeDiff[]; unknown: boolean } {
  if ((before !== null && before.volumes === undefined) || (after !== null && after.volumes === undefined)) {
    return { volumes: [], unknown: true };
  }
  const b = new Map((before?.volumes ?? []).map((v) => [volumeKey(v), v]));
  const a = new Map((after?.volumes ?? []).map((v) => [volumeKey(v), v]));
  const keys = [...a.keys(), ...[...b.keys()].filter((k) => !a.has(k))];
  const volumes = keys.flatMap((k) => {
    const v = (a.get(k) ?? b.get(k))!;
    const d = diffVolume(v.key, b.get(k), a.get(k));
    return d.action === "unchanged" ? [] : [v.host !== undefined ? { ...d, host: v.host } : d];
  });
  return { volumes, unknown: false };
}

/** Items in host order (stable within a host); those without a host last. */
export function byHostOrder<T extends { readonly host?: string }>(items: readonly T[], hosts: readonly string[]): T[] {
  const rank = (x: T): number => {
    const i = x.host === undefined ? -1 : hosts.indexOf(x.host);
    return i < 0 ? hosts.length : i;
  };
  return items
    .map((x, i) => ({ x, i }))
    .sort((p, q) => rank(p.x) - rank(q.x) || p.i - q.i)
    .map((p) => p.x);
}
