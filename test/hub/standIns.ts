/**
 * Stand-ins for the Hugging Face Hub and its cache, for hermetic tests.
 *
 * The Hub: a server on 127.0.0.1 answering `/{org}/{name}/resolve/{revision}/{file}` as huggingface.co
 * does (huggingface_hub v1.28.0 utils/_http.py `hf_raise_for_status` reads the same answers): X-Error-Code
 * RepoNotFound (401 without a token, 404 with one), RevisionNotFound and EntryNotFound (404), GatedRepo
 * (401 without a token, 403 for an account not granted access), "Invalid credentials in Authorization
 * header" (401) for a bad token; a relative 307 for a renamed repository; a 302 to a CDN on another host
 * for large (LFS) files, which answers Range requests with 206.
 *
 * The cache: files laid out as huggingface_hub lays them out (file_download.py): blobs/<hash> holding the
 * content, snapshots/<commit>/<file> a relative link to it, refs/<revision> holding the commit hash, and
 * .no_exist/<commit>/<file> for a file known not to exist.
 */
import { createHash } from "node:crypto";
import { mkdirSync, mkdtempSync, symlinkSync, writeFileSync } from "node:fs";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { dirname, join, relative } from "node:path";

export const GRANTED_TOKEN = "hf_granted";
export const NOT_GRANTED_TOKEN = "hf_not_granted";

export interface HubRepo {
  readonly commit: string;
  readonly files: Readonly<Record<string, string | Buffer>>;
  /** Served through a 302 to the CDN, as the Hub serves LFS files. */
  readonly lfs?: readonly string[];
  /** Readable only with GRANTED_TOKEN. */
  readonly gated?: boolean;
}

export interface LoggedRequest {
  readonly server: "hub" | "cdn";
  readonly path: string;
  readonly authorization: string | null;
  readonly range: string | null;
}

export interface StandInHub {
  readonly url: string;
  readonly cdnUrl: string;
  readonly requests: LoggedRequest[];
  readonly repos: Map<string, HubRepo>;
  /** old name → new name: a relative redirect, as for a renamed repository. */
  readonly renamed: Map<string, string>;
  /** Answer Range requests with the whole file (200), as a server without Range support does. */
  ignoreRange: boolean;
  close(): Promise<void>;
}

const listen = (server: Server): Promise<string> =>
  new Promise((ok) => server.listen(0, "127.0.0.1", () => ok(`http://127.0.0.1:${(server.address() as AddressInfo).port}`)));

function send(res: ServerResponse, req: IncomingMessage, body: Buffer, ignoreRange: boolean): void {
  const m = /^bytes=(\d+)-(\d+)$/.exec(req.headers.range ?? "");
  if (m === null || ignoreRange) {
    res.writeHead(200, { "content-length": body.length });
    res.end(body);
    return;
  }
  const from = Number(m[1]);
  const to = Math.min(Number(m[2]), body.length - 1);
  res.writeHead(206, { "content-range": `bytes ${from}-${to}/${body.length}`, "content-length": to - from + 1 });
  res.end(body.subarray(from, to + 1));
}

function fail(res: ServerResponse, status: number, code: string | null, message: string): void {
  res.writeHead(status, { ...(code !== null ? { "x-error-code": code } : {}), "x-error-message": message });
  res.end(message);
}

export async function startHub(): Promise<StandInHub> {
  const hub = {
    requests: [] as LoggedRequest[],
    repos: new Map<string, HubRepo>(),
    renamed: new Map<string, string>(),
    ignoreRange: false,
  };
  const log = (server: "hub" | "cdn", req: IncomingMessage) =>
    hub.requests.push({ server, path: req.url ?? "", authorization: req.headers.authorization ?? null, range: req.headers.range ?? null });
  const bytes = (v: string | Buffer) => (typeof v === "string" ? Buffer.from(v) : v);

  const cdn = createServer((req, res) => {
    log("cdn", req);
    const m = /^\/blob\/([^/]+\/[^/]+)\/(.+)\?signed=1$/.exec(req.url ?? "");
    const file = m === null ? undefined : hub.repos.get(m[1]!)?.files[m[2]!];
    if (file === undefined) return fail(res, 404, null, "no such blob");
    send(res, req, bytes(file), hub.ignoreRange);
  });
  const cdnUrl = await listen(cdn);

  const server = createServer((req, res) => {
    log("hub", req);
    const m = /^\/([^/]+\/[^/]+)\/resolve\/([^/]+)\/(.+)$/.exec(req.url ?? "");
    if (m === null) return fail(res, 404, null, "not a resolve URL");
    const [, name, rawRevision, file] = m as unknown as [string, string, string, string];
    const auth = req.headers.authorization;
    if (auth !== undefined && auth !== `Bearer ${GRANTED_TOKEN}` && auth !== `Bearer ${NOT_GRANTED_TOKEN}`) {
      return fail(res, 401, null, "Invalid credentials in Authorization header");
    }
    const renamed = hub.renamed.get(name);
    if (renamed !== undefined) {
      res.writeHead(307, { location: `/${renamed}/resolve/${rawRevision}/${file}` });
      return res.end();
    }
    const repo = hub.repos.get(name);
    if (repo === undefined) return fail(res, auth === undefined ? 401 : 404, "RepoNotFound", "Repository not found");
    if (repo.gated && auth !== `Bearer ${GRANTED_TOKEN}`) {
      return fail(res, auth === undefined ? 401 : 403, "GatedRepo", `Access to model ${name} is restricted.`);
    }
    const revision = decodeURIComponent(rawRevision);
    if (revision !== "main" && revision !== repo.commit) return fail(res, 404, "RevisionNotFound", "Invalid rev id");
    const content = repo.files[file];
    if (content === undefined) return fail(res, 404, "EntryNotFound", `${file} does not exist`);
    if (repo.lfs?.includes(file)) {
      res.writeHead(302, { location: `${cdnUrl}/blob/${name}/${file}?signed=1` });
      return res.end();
    }
    send(res, req, bytes(content), hub.ignoreRange);
  });
  const url = await listen(server);
  const close = (s: Server) => new Promise<void>((ok) => s.close(() => ok()));
  return Object.assign(hub, { url, cdnUrl, close: async () => void (await Promise.all([close(server), close(cdn)])) });
}

export interface CachedRepo {
  readonly commit: string;
  readonly files: Readonly<Record<string, string | Buffer>>;
  /** refs/<name> → commit; default { main: commit }. */
  readonly refs?: Readonly<Record<string, string>>;
  /** Files huggingface_hub recorded as missing at the commit (.no_exist). */
  readonly noExist?: readonly string[];
}

/** A fresh cache directory holding `repos` (repository ID → files at one commit). */
export function layCache(repos: Readonly<Record<string, CachedRepo>>): string {
  const cache = mkdtempSync(join(tmpdir(), "llmstack-hf-cache-"));
  for (const [name, repo] of Object.entries(repos)) {
    const root = join(cache, `models--${name.replace("/", "--")}`);
    for (const [ref, commit] of Object.entries(repo.refs ?? { main: repo.commit })) {
      mkdirSync(dirname(join(root, "refs", ref)), { recursive: true });
      writeFileSync(join(root, "refs", ref), commit);
    }
    for (const [file, content] of Object.entries(repo.files)) {
      const blob = join(root, "blobs", createHash("sha256").update(content).digest("hex"));
      mkdirSync(dirname(blob), { recursive: true });
      writeFileSync(blob, content);
      const link = join(root, "snapshots", repo.commit, file);
      mkdirSync(dirname(link), { recursive: true });
      symlinkSync(relative(dirname(link), blob), link);
    }
    for (const file of repo.noExist ?? []) {
      mkdirSync(join(root, ".no_exist", repo.commit), { recursive: true });
      writeFileSync(join(root, ".no_exist", repo.commit, file), "");
    }
  }
  return cache;
}

/** A safetensors file: the 8-byte little-endian header length, the JSON header, then `data` bytes. */
export function safetensorsFile(header: Record<string, unknown>, dataBytes = 0): Buffer {
  const json = Buffer.from(JSON.stringify(header));
  const n = Buffer.alloc(8);
  n.writeBigUInt64LE(BigInt(json.length));
  return Buffer.concat([n, json, Buffer.alloc(dataBytes)]);
}

/** A fetch that records each URL asked and fails it: tests assert that `calls` stays empty. */
export function noNetwork(): { fetch: (url: string) => Promise<Response>; calls: string[] } {
  const calls: string[] = [];
  return { calls, fetch: (url) => (calls.push(url), Promise.reject(new Error(`unexpected network request: ${url}`))) };
}

/**
 * The tensors of Qwen/Qwen2.5-0.5B-Instruct's single model.safetensors, by name and shape as the
 * Qwen2 architecture lays them out for its config (hidden 896, 24 layers, 14 heads of 64, 2 KV heads,
 * intermediate 4864, vocab 151936, tied embeddings), all bfloat16. The real file is 988,097,824 bytes:
 * 988,065,536 bytes of tensors plus its header.
 */
export function qwen05Header(): Record<string, unknown> {
  const h: Record<string, unknown> = { __metadata__: { format: "pt" } };
  let offset = 0;
  const add = (name: string, shape: number[]) => {
    const size = shape.reduce((a, b) => a * b, 1) * 2;
    h[name] = { dtype: "BF16", shape, data_offsets: [offset, offset + size] };
    offset += size;
  };
  add("model.embed_tokens.weight", [151936, 896]);
  for (let l = 0; l < 24; l++) {
    const p = `model.layers.${l}`;
    add(`${p}.self_attn.q_proj.weight`, [896, 896]);
    add(`${p}.self_attn.q_proj.bias`, [896]);
    add(`${p}.self_attn.k_proj.weight`, [128, 896]);
    add(`${p}.self_attn.k_proj.bias`, [128]);
    add(`${p}.self_attn.v_proj.weight`, [128, 896]);
    add(`${p}.self_attn.v_proj.bias`, [128]);
    add(`${p}.self_attn.o_proj.weight`, [896, 896]);
    add(`${p}.mlp.gate_proj.weight`, [4864, 896]);
    add(`${p}.mlp.up_proj.weight`, [4864, 896]);
    add(`${p}.mlp.down_proj.weight`, [896, 4864]);
    add(`${p}.input_layernorm.weight`, [896]);
    add(`${p}.post_attention_layernorm.weight`, [896]);
  }
  add("model.norm.weight", [896]);
  return h;
}
