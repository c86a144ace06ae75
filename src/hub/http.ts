/**
 * Reading files from the Hugging Face Hub over HTTP, as huggingface_hub does (v1.28.0):
 * - a file is `{endpoint}/{repo}/resolve/{revision}/{filename}`, the revision percent-encoded
 *   (constants.py HUGGINGFACE_CO_URL_TEMPLATE; file_download.py `hf_hub_url`);
 * - the Hub redirects: relatively for a renamed repository, and to a CDN on another host for large
 *   (LFS/Xet) files. Redirects are followed here one by one, and the token goes only to the Hub's own
 *   host, never to the CDN, whose signed URL needs none (utils/_http.py
 *   `_httpx_follow_relative_redirects_with_backoff` follows only relative ones with the token);
 * - errors carry X-Error-Code (RepoNotFound, RevisionNotFound, EntryNotFound, GatedRepo) and
 *   X-Error-Message; a 401 is also what a missing repository answers without a token
 *   (utils/_http.py `hf_raise_for_status`).
 */
import type { HubSettings } from "./settings";

/** The fetch function a command is given (globalThis.fetch in the real CLI, a stand-in in tests). */
export type FetchFn = (url: string, init: RequestInit) => Promise<Response>;

export type HubFailure =
  | {
      readonly kind: "status";
      readonly status: number;
      readonly errorCode: string | null;
      readonly errorMessage: string | null;
    }
  | { readonly kind: "network"; readonly reason: string };

export class HubRequestError extends Error {
  constructor(
    readonly failure: HubFailure,
    readonly url: string,
  ) {
    super(failure.kind === "status" ? `${failure.status} for ${url}` : `${failure.reason} (${url})`);
    this.name = "HubRequestError";
  }
}

const MAX_REDIRECTS = 10;
/** The largest JSON file read (an index of a very large checkpoint is a few MB). */
export const MAX_JSON_BYTES = 64 * 1024 * 1024;

export interface HubClient {
  readonly settings: HubSettings;
  readonly fetch: FetchFn;
}

export function resolveUrl(endpoint: string, repo: string, revision: string, filename: string): string {
  return `${endpoint}/${repo}/resolve/${encodeURIComponent(revision)}/${filename}`;
}

function networkReason(err: unknown, timeoutMs: number): string {
  const e = err as { name?: string; message?: string; cause?: { message?: string } };
  if (e.name === "TimeoutError" || e.name === "AbortError") return `no answer within ${timeoutMs / 1000} s`;
  return e.cause?.message ?? e.message ?? String(err);
}

/** GET with manual redirects; a non-2xx answer or a network failure throws HubRequestError. */
export async function hubGet(client: HubClient, url: string, range?: string): Promise<Response> {
  const { endpoint, token, timeoutMs } = client.settings;
  const hubOrigin = new URL(endpoint).origin;
  let current = url;
  for (let hop = 0; hop <= MAX_REDIRECTS; hop++) {
    const headers: Record<string, string> = { "user-agent": "llmstack" };
    if (range !== undefined) headers.range = range;
    if (token !== null && new URL(current).origin === hubOrigin) headers.authorization = `Bearer ${token}`;
    let res: Response;
    try {
      res = await client.fetch(current, { headers, redirect: "manual", signal: AbortSignal.timeout(timeoutMs) });
    } catch (err) {
      throw new HubRequestError({ kind: "network", reason: networkReason(err, timeoutMs) }, current);
    }
    const location = res.headers.get("location");
    if (res.status >= 300 && res.status < 400 && location !== null) {
      await res.body?.cancel();
      current = new URL(location, current).toString();
      continue;
    }
    if (!res.ok) {
      await res.body?.cancel();
      const failure: HubFailure = {
        kind: "status",
        status: res.status,
        errorCode: res.headers.get("x-error-code"),
        errorMessage: res.headers.get("x-error-message"),
      };
      throw new HubRequestError(failure, current);
    }
    return res;
  }
  throw new HubRequestError({ kind: "network", reason: `more than ${MAX_REDIRECTS} redirects` }, url);
}

/**
 * The first `count` bytes of the body (fewer when it ends first); the rest is not downloaded. A server
 * that ignores Range answers 200 with the whole file: reading stops after `count` bytes all the same.
 */
export async function bodyPrefix(res: Response, count: number): Promise<Uint8Array> {
  const chunks: Uint8Array[] = [];
  let filled = 0;
  const reader = res.body?.getReader();
  if (reader === undefined) return new Uint8Array(0);
  try {
    while (filled < count) {
      const { done, value } = await reader.read();
      if (done) break;
      const take = value.subarray(0, Math.min(value.length, count - filled));
      chunks.push(take);
      filled += take.length;
    }
  } finally {
    await reader.cancel().catch(() => undefined);
  }
  return Buffer.concat(chunks, filled);
}

/** The body as text, refusing one larger than MAX_JSON_BYTES. */
export async function bodyText(res: Response, where: string): Promise<string> {
  const bytes = await bodyPrefix(res, MAX_JSON_BYTES + 1);
  if (bytes.length > MAX_JSON_BYTES) throw new Error(`${where} is larger than ${MAX_JSON_BYTES} bytes; it is not a model's JSON file`);
  return new TextDecoder().decode(bytes);
}
