/**
 * Rewrites the `llmstack:gpu` key of a stack file and nothing else, with the `yaml` Document API so the
 * file's comments, key order, quoting and other values stay as they were (https://eemeli.org/yaml/#documents).
 * Keys whose value does not change keep their node (and its comments); new keys go after the kept ones.
 */
import { isMap, isScalar, isSeq, Scalar, type Document, type YAMLMap } from "yaml";
import { StackConfigError } from "../config/errors";
import { load, STRINGIFY } from "../config/yamlDocument";
import type { GpuSection } from "./layout";

export const GPU_KEY = "llmstack:gpu";
export const ENVIRONMENT_KEY = "llmstack:environment";

export interface StackGpu {
  /** The current `llmstack:gpu` value as plain data; undefined when the file has none. */
  readonly previous: unknown;
  /** `llmstack:environment` when the file sets it. */
  readonly environment: string | undefined;
}

export interface KeyChange {
  readonly key: string;
  /** undefined: the key is added (before) or removed (after). */
  readonly before: unknown;
  readonly after: unknown;
}

export function readStackGpu(text: string, file: string): StackGpu {
  const config = configMap(load(text, file), file);
  const gpu = config.get(GPU_KEY, true);
  const env = config.get(ENVIRONMENT_KEY);
  return {
    previous: gpu === undefined ? undefined : toJs(gpu),
    environment: typeof env === "string" ? env : undefined,
  };
}

/** The new file text and the key-level changes; the text is unchanged when the section already matches. */
export function writeStackGpu(text: string, file: string, section: GpuSection): { text: string; changes: KeyChange[] } {
  const doc = load(text, file);
  return writeSection(doc, text, configMap(doc, file), GPU_KEY, section);
}

export const HOSTS_KEY = "llmstack:hosts";

export interface HostGpu extends StackGpu {
  /** The host's place in llmstack:hosts. */
  readonly index: number;
  /** The host's entry as plain data (endpoint, hostKey, roles, ...). */
  readonly host: Record<string, unknown>;
}

/** The entry of `llmstack:hosts` named `name`, with its current gpu section; one error naming the hosts otherwise. */
export function readHostGpu(text: string, file: string, name: string): HostGpu {
  const config = configMap(load(text, file), file);
  const env = config.get(ENVIRONMENT_KEY);
  const { index, entry } = hostEntry(config, file, name);
  const gpu = entry.get("gpu", true);
  return {
    index,
    host: toJs(entry) as Record<string, unknown>,
    previous: gpu === undefined ? undefined : toJs(gpu),
    environment: typeof env === "string" ? env : undefined,
  };
}

/** Rewrites `llmstack:hosts[name].gpu` and nothing else, as writeStackGpu rewrites `llmstack:gpu`. */
export function writeHostGpu(text: string, file: string, name: string, section: GpuSection): { text: string; changes: KeyChange[] } {
  const doc = load(text, file);
  const { entry } = hostEntry(configMap(doc, file), file, name);
  return writeSection(doc, text, entry, "gpu", section);
}

function hostEntry(config: YAMLMap, file: string, name: string): { index: number; entry: YAMLMap } {
  const hosts = config.get(HOSTS_KEY, true);
  if (!isSeq(hosts)) {
    throw new StackConfigError(
      `${file}: --host ${name} names a host of ${HOSTS_KEY}, but the file has no ${HOSTS_KEY} list; ` +
        `leave out --host to write ${GPU_KEY} of a single-host stack, or list the hosts (docs/fleet.md)`,
    );
  }
  const names: string[] = [];
  for (const [index, item] of hosts.items.entries()) {
    if (!isMap(item)) continue;
    const n = item.get("name");
    if (typeof n === "string") names.push(n);
    if (n === name) return { index, entry: item };
  }
  throw new StackConfigError(
    `${file}: ${HOSTS_KEY} has no host named ${JSON.stringify(name)}; ` +
      (names.length === 0 ? "give each host a name" : `use one of ${names.join(", ")}`),
  );
}

/** Writes `section` under `key` of `parent`, keeping the nodes (and comments) of unchanged keys. */
function writeSection(
  doc: Document,
  text: string,
  parent: YAMLMap,
  sectionKey: string,
  section: GpuSection,
): { text: string; changes: KeyChange[] } {
  const current = parent.get(sectionKey, true);
  const after = section as Record<string, unknown>;
  if (!isMap(current)) {
    const before = current === undefined ? undefined : toJs(current);
    const fresh = doc.createNode(after);
    quoteLists(fresh, null);
    parent.set(sectionKey, fresh);
    const changes: KeyChange[] = Object.keys(after).map((key) => ({ key, before: undefined, after: after[key] }));
    if (before !== undefined) changes.unshift({ key: "(whole section)", before, after: undefined });
    return { text: doc.toString(STRINGIFY), changes };
  }
  const changes: KeyChange[] = [];
  const removed: KeyChange[] = [];
  for (const item of [...current.items]) {
    const key = String(toJs(item.key));
    if (!(key in after)) {
      removed.push({ key, before: toJs(item.value), after: undefined });
      current.delete(item.key);
    }
  }
  for (const [key, value] of Object.entries(after)) {
    const node = current.get(key, true);
    const before = node === undefined ? undefined : toJs(node);
    if (same(before, value)) continue;
    // A list keeps the flow style (["0", "1"]) or block style it was written in.
    const flow = isSeq(node) ? node.flow === true : true;
    const fresh = doc.createNode(value, { flow });
    quoteLists(fresh, node);
    // An end-of-line comment belongs to the value node; carry it over so the file keeps it.
    if (node !== undefined && node !== null && typeof node === "object" && "comment" in node) {
      fresh.comment = (node as { comment?: string | null }).comment ?? undefined;
    }
    current.set(key, fresh);
    changes.push({ key, before, after: value });
  }
  changes.push(...removed);
  return { text: changes.length === 0 ? text : doc.toString(STRINGIFY), changes };
}

/**
 * Device IDs are strings that can look like numbers ("0"): list items take the quoting of the list they
 * replace, double quotes by default, so every ID reads as the string it is.
 */
function quoteLists(node: unknown, old: unknown): void {
  const style = isSeq(old) && isScalar(old.items[0]) ? old.items[0].type : undefined;
  const visit = (n: unknown): void => {
    if (isMap(n)) n.items.forEach((p) => visit(p.value));
    if (isSeq(n)) {
      n.items.forEach((item) => {
        if (isScalar(item) && typeof item.value === "string") {
          item.type = style === Scalar.QUOTE_SINGLE ? Scalar.QUOTE_SINGLE : Scalar.QUOTE_DOUBLE;
        }
      });
    }
  };
  visit(node);
}

function configMap(doc: Document, file: string): YAMLMap {
  const config = doc.get("config", true);
  if (config === undefined || config === null) {
    throw new StackConfigError(`${file}: no "config:" mapping; a stack file holds its settings under config:, e.g. config:\\n  ${ENVIRONMENT_KEY}: production`);
  }
  if (!isMap(config)) throw new StackConfigError(`${file}: "config" must be a mapping of keys to values`);
  return config;
}

function toJs(node: unknown): unknown {
  return node !== null && typeof node === "object" && "toJSON" in node
    ? (node as { toJSON: () => unknown }).toJSON()
    : node;
}

function same(a: unknown, b: unknown): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}
