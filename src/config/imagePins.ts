/**
 * Where a stack's image references are written, and how to rewrite them in place: the project's
 * `llmstack:images` in Pulumi.yaml (or the stack file, when it sets its own), and the stack's
 * monitoring images (the stack file's `llmstack:monitoring.images`, else the defaults in code, which
 * are then written out there). Uses the `yaml` Document API so comments, order and quoting stay as they
 * were (https://eemeli.org/yaml/#documents). Pure: text in, text out.
 */
import { isMap, isScalar, type Document } from "yaml";
import { StackConfigError } from "./errors";
import { load, STRINGIFY } from "./yamlDocument";
import { DEFAULT_MONITORING_IMAGES } from "./monitoringSchema";
import { NAMESPACE } from "./parse";

export type FileRole = "project" | "stack";

export interface ImageSlot {
  /** The file that holds the reference (or will, for a monitoring default). */
  readonly file: FileRole;
  /** Path of the scalar in that file's YAML document. */
  readonly path: readonly string[];
  /** The key as errors name it, e.g. `llmstack:images.vllm`. */
  readonly key: string;
  readonly ref: string;
}

export interface PinSources {
  readonly project: { readonly text: string; readonly file: string };
  /** The stack, when its own images and monitoring images are to be pinned too. */
  readonly stack?: { readonly text: string; readonly file: string; readonly monitoringEnabled: boolean };
}

const IMAGES_KEY = `${NAMESPACE}:images`;
const MONITORING_KEY = `${NAMESPACE}:monitoring`;

/** Every image reference the sources name, in file order. */
export function imageSlots(src: PinSources): ImageSlot[] {
  const docs = {
    project: load(src.project.text, src.project.file),
    stack: src.stack ? load(src.stack.text, src.stack.file) : undefined,
  };
  const slots: ImageSlot[] = [];
  const images = locate(IMAGES_KEY, docs);
  if (images === undefined) {
    throw new StackConfigError(`${src.project.file}: no ${IMAGES_KEY} to pin; the project file lists the stack's images there`);
  }
  const imagesMap = docs[images.file]!.getIn(images.path, true);
  if (!isMap(imagesMap)) {
    throw new StackConfigError(`${fileName(src, images.file)}: ${IMAGES_KEY} must be a mapping of service to image`);
  }
  for (const pair of imagesMap.items) {
    const name = String(isScalar(pair.key) ? pair.key.value : pair.key);
    const value = isScalar(pair.value) ? pair.value.value : undefined;
    if (typeof value !== "string") {
      throw new StackConfigError(`${fileName(src, images.file)}: ${IMAGES_KEY}.${name} must be an image reference such as postgres:16.10`);
    }
    slots.push({ file: images.file, path: [...images.path, name], key: `${IMAGES_KEY}.${name}`, ref: value });
  }
  if (src.stack?.monitoringEnabled) {
    const monitoring = locate(MONITORING_KEY, docs)!;
    const at = [...monitoring.path, "images"];
    for (const [name, fallback] of Object.entries(DEFAULT_MONITORING_IMAGES)) {
      const node = docs[monitoring.file]!.getIn([...at, name], true);
      const ref = isScalar(node) && typeof node.value === "string" ? node.value : fallback;
      const key = `${MONITORING_KEY}.images.${name}`;
      slots.push({ file: monitoring.file, path: [...at, name], key, ref });
    }
  }
  return slots;
}

/**
 * The file's text with each path set to its reference. A scalar that is there keeps its node (and so
 * its comment and quoting); a missing one is added, with any mapping above it. Unchanged text when
 * nothing changes.
 */
export function writePins(
  text: string,
  file: string,
  pins: readonly { path: readonly string[]; ref: string }[],
): string {
  const doc = load(text, file);
  let changed = false;
  for (const { path, ref } of pins) {
    const node = doc.getIn(path, true);
    if (isScalar(node)) {
      if (node.value === ref) continue;
      node.value = ref;
    } else {
      doc.setIn(path, ref);
    }
    changed = true;
  }
  return changed ? doc.toString(STRINGIFY) : text;
}

/** A config key's node: the stack file's value when it sets the key, else the project default's. */
function locate(
  key: string,
  docs: { project: Document; stack?: Document },
): { file: FileRole; path: string[] } | undefined {
  if (docs.stack?.hasIn(["config", key])) return { file: "stack", path: ["config", key] };
  const entry = docs.project.getIn(["config", key], true);
  if (entry === undefined) return undefined;
  // Pulumi.yaml project config: `key: {value: ...}` or `key: {default: ...}` (or a bare value).
  for (const field of ["value", "default"]) {
    if (isMap(entry) && entry.has(field)) return { file: "project", path: ["config", key, field] };
  }
  return { file: "project", path: ["config", key] };
}

function fileName(src: PinSources, role: FileRole): string {
  return role === "stack" ? src.stack!.file : src.project.file;
}
