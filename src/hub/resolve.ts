/**
 * A model reference (a Hugging Face repository ID and revision) → its facts, for the capacity estimate:
 * the local Hugging Face cache first, then the Hub (unless HF_HUB_OFFLINE), and the built-in catalog
 * only when neither has the model. The CLI uses `resolveModel`; the Pulumi program, which does not go to
 * the network, `resolveModelFromCache`. Both return a ModelLookup (src/capacity/lookup.ts) for the plan.
 */
import { catalogFacts, SOURCE_LABELS, type ModelLookup, type ModelMissing, type ModelSource } from "../capacity";
import { findSnapshot, type Snapshot } from "./cache";
import { CONFIG_FILE, ConfigNotRead, gather, INDEX_FILE, runAsync, runSync, SINGLE_FILE, type Gathered } from "./gather";
import type { FetchFn } from "./http";
import { cacheWhere, hubFailureMessage, noConfigMessage, notCachedMessage, type ProblemContext } from "./messages";
import { hubSettings, type HubSettings } from "./settings";
import { fromCache, fromDirectory, fromHub, type Got, type Place, type Want } from "./sources";

export interface ModelRef {
  /** A Hugging Face repository ID, `org/name`. */
  readonly name: string;
  /** A branch, tag or commit; default main. */
  readonly revision?: string;
}

export interface ResolveOptions {
  readonly env: NodeJS.ProcessEnv;
  /** How to reach the Hub; without it the Hub is not asked. */
  readonly fetch?: FetchFn;
}

/** What is asked of the Hub when a cached snapshot lacks it. */
const HUB_FOR_SNAPSHOT = new Set([CONFIG_FILE, INDEX_FILE, SINGLE_FILE]);

const PLACE_NAMES: Record<Place, (s: HubSettings) => string> = {
  cache: (s) => cacheWhere(s),
  hub: (s) => `the Hugging Face Hub (${s.endpoint})`,
  dir: () => "the model directory",
};

function describe(ref: Required<ModelRef>, g: Gathered, settings: HubSettings, snapshot: Snapshot | null): string {
  const at = snapshot !== null && snapshot.commit !== ref.revision ? `${ref.revision} (commit ${snapshot.commit})` : ref.revision;
  const groups = new Map<Place, string[]>();
  for (const r of g.read) groups.set(r.from, [...(groups.get(r.from) ?? []), r.file]);
  const from = [...groups].map(([place, files]) => `from ${PLACE_NAMES[place](settings)}: ${files.join(", ")}`).join("; ");
  return `${ref.name} at ${at} ${from}; ${weightsText(g)}`;
}

function weightsText(g: Gathered): string {
  return g.facts.weightBytes !== undefined
    ? `weights ${g.facts.weightBytes} bytes`
    : `no exact weight size (${g.weightsMissing}), so the weights are estimated from the parameter count`;
}

function found(ref: Required<ModelRef>, g: Gathered, settings: HubSettings, snapshot: Snapshot | null): ModelLookup {
  const source: ModelSource = g.read[0]!.from === "hub" ? "hub" : g.read[0]!.from === "cache" ? "cache" : "file";
  return { facts: g.facts, source, detail: describe(ref, g, settings, snapshot) };
}

/** Why config.json was not read, as one line; the catalog's facts when it knows the model. */
function notRead(ctx: ProblemContext, got: ConfigNotRead["got"], snapshot: Snapshot | null): ModelLookup {
  const problem =
    got.state === "unavailable"
      ? notCachedMessage(ctx, got.reason)
      : got.state === "failed"
        ? hubFailureMessage(ctx, got.error.failure, got.error.url)
        : noConfigMessage(ctx, snapshot !== null ? `the cached snapshot ${snapshot.commit}` : "the Hugging Face Hub");
  const facts = catalogFacts(ctx.repo);
  if (facts === null) return { facts: null, problem };
  return { facts, source: "catalog", detail: `${facts.name} from ${SOURCE_LABELS.catalog}, because ${problem}` };
}

interface Begun {
  readonly ref: Required<ModelRef>;
  readonly settings: HubSettings;
  readonly snapshot: Snapshot | null;
}

/** The settings and the cached snapshot, or the problem with the environment (a bad HF_ENDPOINT). */
function begin(model: ModelRef, env: NodeJS.ProcessEnv): Begun | ModelMissing {
  try {
    const settings = hubSettings(env);
    const ref = { name: model.name, revision: model.revision ?? "main" };
    const snapshot = settings.cacheDir === null ? null : findSnapshot(settings.cacheDir, ref.name, ref.revision);
    return { ref, settings, snapshot };
  } catch (err) {
    return { facts: null, problem: `${model.name}: ${(err as Error).message}` };
  }
}

function settle(b: Begun, err: unknown): ModelLookup {
  const ctx: ProblemContext = { repo: b.ref.name, revision: b.ref.revision, settings: b.settings };
  if (err instanceof ConfigNotRead) return notRead(ctx, err.got, b.snapshot);
  return { facts: null, problem: (err as Error).message };
}

/** The cache, then the Hub (when `fetch` is given and HF_HUB_OFFLINE is off), then the catalog. */
export async function resolveModel(model: ModelRef, opts: ResolveOptions): Promise<ModelLookup> {
  const b = begin(model, opts.env);
  if ("problem" in b) return b;
  const { ref, settings, snapshot } = b;
  const why =
    settings.offlineBy !== null
      ? `${settings.offlineBy}=${opts.env[settings.offlineBy]} keeps llmstack off the network`
      : "the Hub was not asked (this command was given no network access)";
  // Files missing from a cached snapshot come from the Hub at the same commit, so the set is consistent.
  const revision = snapshot?.commit ?? ref.revision;
  const fetch = settings.offlineBy === null ? opts.fetch : undefined;
  const answer = async (want: Want): Promise<Got> => {
    const cached = snapshot === null ? undefined : fromCache(snapshot, want);
    if (cached !== undefined) return cached;
    // A quantization config downloads with config.json (`hf download --include "*.json"`, vLLM's own
    // download), so a snapshot without one has none; weight files may be missing from a partial one.
    if (snapshot !== null && !HUB_FOR_SNAPSHOT.has(want.file)) return { state: "absent" };
    if (fetch === undefined) return { state: "unavailable", reason: why };
    return fromHub({ settings, fetch }, ref.name, revision, want);
  };
  try {
    const where = snapshot?.dir ?? `${settings.endpoint}/${ref.name}/resolve/${encodeURIComponent(revision)}`;
    return found(ref, await runAsync(gather(ref.name, where), answer), settings, snapshot);
  } catch (err) {
    return settle(b, err);
  }
}

/** The cache, then the catalog: no network (the Pulumi program). */
export function resolveModelFromCache(model: ModelRef, env: NodeJS.ProcessEnv): ModelLookup {
  const b = begin(model, env);
  if ("problem" in b) return b;
  const { ref, settings, snapshot } = b;
  const unavailable: Got = { state: "unavailable", reason: "the Pulumi program reads only the cache, never the network" };
  const answer = (want: Want): Got => (snapshot === null ? undefined : fromCache(snapshot, want)) ?? unavailable;
  try {
    return found(ref, runSync(gather(ref.name, snapshot?.dir ?? ref.name), answer), settings, snapshot);
  } catch (err) {
    return settle(b, err);
  }
}

/** A model directory on disk (config.json beside its weights), as `vllm serve /path` takes it. */
export function resolveModelDirectory(dir: string): ModelLookup {
  try {
    const g = runSync(gather(null, dir), (want) => fromDirectory(dir, want));
    return { facts: g.facts, source: "file", detail: `${dir}: ${g.read.map((r) => r.file).join(", ")}; ${weightsText(g)}` };
  } catch (err) {
    if (!(err instanceof ConfigNotRead)) return { facts: null, problem: (err as Error).message };
    return { facts: null, problem: `${dir} has no config.json; give a model directory (config.json beside its weights) or the path of a config.json` };
  }
}
