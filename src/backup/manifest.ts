/**
 * The backup's manifest (manifest.json beside the artefacts): the stack, when, and for each store the
 * image it ran and each artefact's file name, size and sha256. Restore reads it and checks it against the
 * stack's plan and the files before anything on the host is touched.
 */
import { parseImage } from "../config/images";
import type { StackPlan } from "../plan/types";
import { BackupError } from "./errors";
import { STORES, storeContainer, type StoreName } from "./steps";

export const MANIFEST_FILE = "manifest.json";
export const MANIFEST_FORMAT = 1;

export interface Artefact {
  /** Relative to the backup's directory or prefix, with "/" separators: `<store>/<file>`. */
  readonly file: string;
  readonly size: number;
  readonly sha256: string;
}

export interface StoreEntry {
  /** The image reference the store's container ran when it was backed up. */
  readonly image: string;
  /** The image's tag (its version), or null for an image given by digest only. */
  readonly version: string | null;
  readonly artefact: string;
  readonly files: readonly Artefact[];
}

export interface Manifest {
  readonly format: number;
  readonly stack: string;
  /** ISO 8601, UTC. */
  readonly time: string;
  readonly stores: Readonly<Record<StoreName, StoreEntry>>;
}

export function versionOf(image: string): string | null {
  return parseImage(image).tag;
}

/** The leading numbers of a version tag ("16.10" → [16, 10]; "v1.15.5" → [1, 15, 5]); [] when none. */
export function versionNumbers(tag: string | null): number[] {
  const m = tag === null ? null : /^v?(\d+)(?:\.(\d+))?(?:\.(\d+))?/.exec(tag);
  return m === null ? [] : m.slice(1).filter((x): x is string => x !== undefined).map(Number);
}

/**
 * Which store versions a backup restores into, by store. Postgres: a dump loads into a server of the same or a
 * newer major version, and is not guaranteed to load into an older one (https://www.postgresql.org/docs/16/
 * app-pgdump.html, Notes); pg_restore refuses an archive whose format is newer than it knows. Redis: a server loads RDB files of its own and older versions, and
 * refuses a newer RDB format version ("Can't handle RDB format version"). Qdrant: kept to the same major
 * and minor version, since a snapshot carries the storage format of the version that wrote it; this is a
 * conservative rule of this project, not one Qdrant's documentation states. The object store is copied through the S3 API,
 * which does not depend on the server's version.
 */
export const COMPATIBLE: Readonly<Record<StoreName, { readonly rule: string; readonly ok: (from: number[], to: number[]) => boolean }>> = {
  postgres: { rule: "the same or a newer Postgres major version", ok: (f, t) => f[0]! <= t[0]! },
  redis: { rule: "the same or a newer Redis major version", ok: (f, t) => f[0]! <= t[0]! },
  qdrant: { rule: "the same Qdrant major and minor version", ok: (f, t) => f[0] === t[0] && f[1] === t[1] },
  "object-store": { rule: "any version (objects are copied through the S3 API)", ok: () => true },
};

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);

/** Reads manifest.json's text; a malformed one is refused naming the key and what it must be. */
export function parseManifest(text: string, where: string): Manifest {
  const bad = (key: string, value: unknown, allowed: string): never => {
    throw new BackupError(
      `${where}: ${key} is ${JSON.stringify(value) ?? "missing"}; it must be ${allowed}. The backup's manifest was ` +
        "changed or is not one llmstack backup wrote",
      "use the manifest.json that llmstack backup wrote, or make a new backup with llmstack backup --stack <name> --to <dir>",
    );
  };
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    // The parser's own message differs between Node versions; where it failed is not the point.
    return bad("the file", "not valid JSON", "JSON");
  }
  if (!isObject(raw)) return bad("the file", raw, "a JSON object");
  if (raw.format !== MANIFEST_FORMAT) bad("format", raw.format, String(MANIFEST_FORMAT));
  if (typeof raw.stack !== "string") bad("stack", raw.stack, "a stack name");
  if (typeof raw.time !== "string" || Number.isNaN(Date.parse(raw.time))) bad("time", raw.time, "an ISO 8601 time");
  if (!isObject(raw.stores)) return bad("stores", raw.stores, `an object with ${STORES.join(", ")}`);
  const stores = raw.stores;
  for (const store of STORES) {
    const s = stores[store];
    if (!isObject(s)) return bad(`stores.${store}`, s, "an object with image, version, artefact and files");
    if (typeof s.image !== "string") bad(`stores.${store}.image`, s.image, "an image reference");
    if (s.version !== null && typeof s.version !== "string") bad(`stores.${store}.version`, s.version, "a version or null");
    if (!Array.isArray(s.files)) return bad(`stores.${store}.files`, s.files, "a list of files");
    s.files.forEach((f: unknown, i: number) => {
      const key = `stores.${store}.files[${i}]`;
      if (!isObject(f)) return bad(key, f, "an object with file, size and sha256");
      if (typeof f.file !== "string" || !f.file.startsWith(`${store}/`) || f.file.split("/").some((p) => p === ".." || p === ""))
        bad(`${key}.file`, f.file, `a path under ${store}/ without ".." or empty parts`);
      if (!Number.isSafeInteger(f.size) || (f.size as number) < 0) bad(`${key}.size`, f.size, "a size in bytes");
      if (typeof f.sha256 !== "string" || !/^[0-9a-f]{64}$/.test(f.sha256)) bad(`${key}.sha256`, f.sha256, "64 lower-case hex digits");
      return undefined;
    });
  }
  return raw as unknown as Manifest;
}

/** Every artefact file the manifest lists, store by store. */
export function manifestFiles(m: Manifest): string[] {
  return STORES.flatMap((store) => m.stores[store].files.map((f) => f.file));
}

/** What a file of the backup really is: its size and sha256 (null when it is missing). */
export type FileFacts = (file: string) => Promise<{ readonly size: number; readonly sha256: string } | null>;

/**
 * Refuses a backup that does not fit the stack, before anything is touched: another stack's, a store
 * version the planned image cannot read, a missing or changed file.
 */
export async function checkManifest(plan: StackPlan, manifest: Manifest, from: string, facts: FileFacts): Promise<void> {
  const where = `${from}/${MANIFEST_FILE}`;
  if (manifest.stack !== plan.stack) {
    throw new BackupError(
      `${where}: stack is "${manifest.stack}", but the restore is into the stack "${plan.stack}" (${plan.stackFile}); ` +
        "a backup restores only into the stack it was taken from",
      `llmstack restore --stack ${manifest.stack} --from ${from}`,
    );
  }
  for (const store of STORES) {
    const entry = manifest.stores[store];
    const planned = storeContainer(plan, store).image;
    const from_ = versionNumbers(entry.version);
    const to = versionNumbers(versionOf(planned));
    const { rule, ok } = COMPATIBLE[store];
    if (store !== "object-store" && (from_.length < 2 || to.length < 2 || !ok(from_, to))) {
      throw new BackupError(
        `${where}: stores.${store}.image is ${entry.image}, but ${plan.stackFile} plans ${planned}; a ${store} backup ` +
          `restores into ${rule}`,
        `set the ${store} image in ${plan.stackFile} to ${entry.image} (llmstack:images), deploy it, and run the restore again`,
      );
    }
  }
  for (const store of STORES) {
    for (const f of manifest.stores[store].files) {
      const real = await facts(f.file);
      const fix = `copy the backup again from where it was kept, or make a new one with llmstack backup --stack ${plan.stack} --to <dir>`;
      if (real === null) throw new BackupError(`${from}/${f.file}: the file is missing, but ${MANIFEST_FILE} lists it`, fix);
      if (real.size !== f.size || real.sha256 !== f.sha256) {
        throw new BackupError(
          `${from}/${f.file}: the file has ${real.size} bytes and sha256 ${real.sha256}, but ${MANIFEST_FILE} says ` +
            `${f.size} bytes and sha256 ${f.sha256}: it is damaged or was changed`,
          fix,
        );
      }
    }
  }
}
