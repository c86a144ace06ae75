/**
 * Where a model's files are read from: a cached snapshot, a local directory, or the Hub. Each answers
 * one wanted file at a time, so one procedure (./gather.ts) reads a model the same way from all three.
 */
import { readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { cachedFile, type Snapshot } from "./cache";
import { bodyPrefix, bodyText, hubGet, HubRequestError, resolveUrl, type HubClient } from "./http";
import { FIRST_READ_BYTES, headerLength, localSafetensorsBytes, tensorBytes } from "./safetensors";

/** A file the reader wants: its text, or (a safetensors file) the bytes of its tensors from the header. */
export interface Want {
  readonly file: string;
  readonly kind: "text" | "safetensors";
}

export type Place = "cache" | "hub" | "dir";

export type Got =
  | { readonly state: "found"; readonly value: string | number; readonly from: Place }
  /** The source knows the file does not exist. */
  | { readonly state: "absent" }
  /** Not cached, and the Hub was not asked: `reason` says why. */
  | { readonly state: "unavailable"; readonly reason: string }
  | { readonly state: "failed"; readonly error: HubRequestError };

function readLocal(path: string, want: Want, from: Place): Got {
  const value = want.kind === "text" ? readFileSync(path, "utf8") : localSafetensorsBytes(path);
  return { state: "found", value, from };
}

/** From a cached snapshot; undefined when the cache cannot tell (the file was never downloaded). */
export function fromCache(snapshot: Snapshot, want: Want): Got | undefined {
  const cached = cachedFile(snapshot, want.file);
  if (cached.state === "absent") return { state: "absent" };
  return cached.state === "present" ? readLocal(cached.path, want, "cache") : undefined;
}

/** From a model directory on disk (what `vllm serve /path` reads). */
export function fromDirectory(dir: string, want: Want): Got {
  const path = join(dir, want.file);
  return statSync(path, { throwIfNoEntry: false })?.isFile() ? readLocal(path, want, "dir") : { state: "absent" };
}

/**
 * From the Hub. A safetensors header is read with Range requests, as huggingface_hub's
 * `parse_safetensors_file_metadata` does (hf_api.py, v1.28.0): the first 100,000 bytes, then the rest of
 * the header only when it is longer. A 404 without RepoNotFound / RevisionNotFound is a missing file.
 */
export async function fromHub(client: HubClient, repo: string, revision: string, want: Want): Promise<Got> {
  const url = resolveUrl(client.settings.endpoint, repo, revision, want.file);
  const where = `${want.file} of ${repo} (${url})`;
  try {
    if (want.kind === "text") {
      return { state: "found", value: await bodyText(await hubGet(client, url), where), from: "hub" };
    }
    const first = await bodyPrefix(await hubGet(client, url, `bytes=0-${FIRST_READ_BYTES - 1}`), FIRST_READ_BYTES);
    const n = headerLength(first.subarray(0, 8), where);
    let header = first.subarray(8, 8 + n);
    if (header.length < n) header = await bodyPrefix(await hubGet(client, url, `bytes=8-${n + 7}`), n);
    if (header.length < n) throw new Error(`${where} is cut short: its header needs ${n} bytes, the Hub sent ${header.length}`);
    return { state: "found", value: tensorBytes(header, where), from: "hub" };
  } catch (err) {
    if (!(err instanceof HubRequestError)) throw err;
    const f = err.failure;
    const missingFile = f.kind === "status" && f.status === 404 && f.errorCode !== "RepoNotFound" && f.errorCode !== "RevisionNotFound";
    return missingFile ? { state: "absent" } : { state: "failed", error: err };
  }
}
