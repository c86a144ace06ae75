/**
 * The stack's other resources in the diff: its volumes and its network. Pure: no git, no I/O.
 *
 * A volume is the Pulumi resource `<stack>-<key>` with the physical Docker name `<project>-<stack>-<key>`
 * (src/deploy/stack.ts), so the same key is the same resource and a new physical name replaces it.
 * The facts this relies on, each from its source:
 * - the Docker provider recreates a volume or network whose `name` changes (`ForceNew` on `name` in
 *   kreuzwerker/terraform-provider-docker `internal/provider/resource_docker_volume.go` and
 *   `resource_docker_network.go`), and a new volume starts empty;
 * - Pulumi refuses to delete a resource whose state is protected, and to replace one that is protected
 *   both in its state and in the program (pulumi/pulumi `pkg/resource/deploy/step.go`, `DeleteStep.Apply`;
 *   `pkg/resource/deploy/step_generator.go`, "we do allow unprotecting and replacing to happen in a
 *   single update cycle"; https://www.pulumi.com/docs/iac/concepts/resources/options/protect/);
 * - a retained resource that Pulumi deletes or replaces is dropped from the state and left in place
 *   (`DeleteStep.Apply` skips the provider's Delete for `RetainOnDelete`;
 *   https://www.pulumi.com/docs/iac/concepts/resources/options/retainondelete/).
 */
import type { NetworkDiff, PlanDoc, VolumeDiff, VolumeJson, VolumeOutcome, VolumeState } from "./types";

const state = (v: VolumeJson): VolumeState => ({ name: v.name, protect: v.protect, retainOnDelete: v.retainOnDelete });

/** What happens to a volume the program stops using, by its options in the last deployed state. */
export function outcomeOf(before: VolumeState, afterProtect: boolean): VolumeOutcome {
  if (before.protect && afterProtect) return "fails";
  return before.retainOnDelete ? "orphaned" : "deleted";
}

export function diffVolume(key: string, b: VolumeJson | undefined, a: VolumeJson | undefined): VolumeDiff {
  const data = [b, a].some((v) => v !== undefined && (v.protect || v.retainOnDelete));
  const sides = { ...(b ? { before: state(b) } : {}), ...(a ? { after: state(a) } : {}) };
  if (b === undefined) return { key, action: "create", data, ...sides };
  // A volume gone from the program is deleted with the options of its state: protect refuses it.
  if (a === undefined) return { key, action: "delete", data, ...sides, outcome: outcomeOf(state(b), true) };
  if (a.name !== b.name) return { key, action: "rename", data, ...sides, outcome: outcomeOf(state(b), a.protect) };
  const action = a.protect !== b.protect || a.retainOnDelete !== b.retainOnDelete ? "options" : "unchanged";
  return { key, action, data, ...sides };
}

/** Volume changes, in the new plan's order and then the removed ones; unknown when the base lists none. */
export function diffVolumes(before: PlanDoc | null, after: PlanDoc | null): { volumes: VolumeDiff[]; unknown: boolean } {
  if ((before !== null && before.volumes === undefined) || (after !== null && after.volumes === undefined)) {
    return { volumes: [], unknown: true };
  }
  const b = new Map((before?.volumes ?? []).map((v) => [v.key, v]));
  const a = new Map((after?.volumes ?? []).map((v) => [v.key, v]));
  const keys = [...a.keys(), ...[...b.keys()].filter((k) => !a.has(k))];
  return {
    volumes: keys.map((k) => diffVolume(k, b.get(k), a.get(k))).filter((v) => v.action !== "unchanged"),
    unknown: false,
  };
}

export function diffNetwork(before: PlanDoc | null, after: PlanDoc | null): NetworkDiff {
  const b = before?.network;
  const a = after?.network;
  const sides = { ...(b !== undefined ? { before: b } : {}), ...(a !== undefined ? { after: a } : {}) };
  if (before === null && a !== undefined) return { action: "create", ...sides };
  if (after === null && b !== undefined) return { action: "delete", ...sides };
  if (a !== undefined && b !== undefined && a !== b) return { action: "replace", ...sides };
  return { action: "unchanged", ...sides };
}

const isObject = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === "object" && !Array.isArray(v);

/**
 * The plan document a revision's own program printed, checked before the diff reads it: that program
 * may be anything a branch holds, so a malformed document is one clear error, not a crash.
 */
export function parsePlanDoc(text: string): PlanDoc {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch {
    throw new Error(`it did not print JSON: ${JSON.stringify(text.slice(0, 200))}`);
  }
  const problem = planDocProblem(doc);
  if (problem) throw new Error(`its JSON is not a plan document: ${problem}`);
  return doc as PlanDoc;
}

function planDocProblem(doc: unknown): string | undefined {
  if (!isObject(doc)) return "expected an object";
  if (typeof doc.stack !== "string") return `"stack" must be a string`;
  if (!Array.isArray(doc.containers)) return `"containers" must be a list`;
  const badContainer = doc.containers.findIndex(
    (c) => !isObject(c) || typeof c.service !== "string" || typeof c.name !== "string",
  );
  if (badContainer >= 0) return `containers[${badContainer}] needs a string "service" and "name"`;
  if (doc.network !== undefined && typeof doc.network !== "string") return `"network" must be a string`;
  if (doc.hosts !== undefined) {
    if (!Array.isArray(doc.hosts)) return `"hosts" must be a list`;
    const badHost = doc.hosts.findIndex((h) => !isObject(h) || typeof h.name !== "string" || typeof h.endpoint !== "string");
    if (badHost >= 0) return `hosts[${badHost}] needs a string "name" and "endpoint"`;
  }
  if (doc.volumes === undefined) return undefined;
  if (!Array.isArray(doc.volumes)) return `"volumes" must be a list`;
  const badVolume = doc.volumes.findIndex(
    (v) =>
      !isObject(v) ||
      typeof v.key !== "string" ||
      typeof v.name !== "string" ||
      typeof v.protect !== "boolean" ||
      typeof v.retainOnDelete !== "boolean",
  );
  if (badVolume >= 0) return `volumes[${badVolume}] needs a string "key" and "name" and boolean "protect" and "retainOnDelete"`;
  return undefined;
}
