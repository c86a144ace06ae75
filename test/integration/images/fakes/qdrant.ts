/**
 * Stand-in for Qdrant's REST API (qdrant/qdrant:v1.15.5), for the integration test.
 *
 * What it keeps of the real server: the HTTP port (QDRANT__SERVICE__HTTP_PORT, 6333); /healthz, /livez
 * and /readyz answer without a key; every other route needs QDRANT__SERVICE__API_KEY in the `api-key`
 * header or as a Bearer token; collections are created with a vector size, points upserted and read
 * back by id, and all of it is kept under the storage path (QDRANT__STORAGE__STORAGE_PATH, ./storage
 * from /qdrant), so it outlives the container in its volume. No search, no indexes.
 *
 * Collection snapshots as the snapshot API has them (https://api.qdrant.tech/api-reference/snapshots):
 * GET /collections lists the collections; POST /collections/{name}/snapshots writes one under the
 * snapshots path (QDRANT__STORAGE__SNAPSHOTS_PATH, ./snapshots) and answers its name, size and checksum;
 * GET .../snapshots/{snapshot} downloads it, DELETE removes it; POST .../snapshots/upload (multipart field
 * "snapshot", priority no_sync|snapshot|replica) recovers the collection from it, creating it when absent
 * and replacing its data otherwise. The stand-in's snapshot is a JSON file, not Qdrant's tar archive: its
 * clients treat a snapshot as opaque bytes, as they must with the real one.
 */
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import { join } from "node:path";
import { readBody } from "./body";

interface Point {
  readonly id: number | string;
  readonly vector: number[];
  readonly payload?: Record<string, unknown>;
}

if (process.argv.length > 2) {
  console.error(`error: unexpected argument '${process.argv[2]}' found`);
  process.exit(2);
}
const apiKey = process.env.QDRANT__SERVICE__API_KEY;
const port = Number(process.env.QDRANT__SERVICE__HTTP_PORT ?? 6333);
const storage = process.env.QDRANT__STORAGE__STORAGE_PATH ?? "./storage";
const snapshots = process.env.QDRANT__STORAGE__SNAPSHOTS_PATH ?? "./snapshots";
let operation = 0;

function reply(res: ServerResponse, status: number, body: unknown): void {
  const text = typeof body === "string" ? body : JSON.stringify(body);
  res.writeHead(status, {
    "Content-Type": typeof body === "string" ? "text/plain" : "application/json",
    "Content-Length": Buffer.byteLength(text),
  });
  res.end(text);
}

function readJson(req: IncomingMessage): Promise<Record<string, unknown>> {
  return new Promise((resolve, reject) => {
    let text = "";
    req.on("data", (c: Buffer) => (text += c.toString("utf8")));
    req.on("end", () => {
      try {
        resolve(text ? (JSON.parse(text) as Record<string, unknown>) : {});
      } catch (err) {
        reject(err);
      }
    });
  });
}

const dirOf = (name: string): string => join(storage, "collections", encodeURIComponent(name));
const notFound = (res: ServerResponse, name: string): void =>
  reply(res, 404, {
    status: { error: `Not found: Collection \`${name}\` doesn't exist!` },
    time: 0,
  });

function points(name: string): Point[] {
  const file = join(dirOf(name), "points.json");
  return existsSync(file) ? (JSON.parse(readFileSync(file, "utf8")) as Point[]) : [];
}

/** The content of the multipart field `field`, or null. */
function multipartField(body: Buffer, contentType: string, field: string): Buffer | null {
  const boundary = /boundary="?([^";]+)"?/.exec(contentType)?.[1];
  if (!boundary) return null;
  const delimiter = Buffer.from(`--${boundary}`);
  let at = body.indexOf(delimiter);
  while (at >= 0) {
    const headersEnd = body.indexOf("\r\n\r\n", at);
    const next = body.indexOf(Buffer.from(`\r\n--${boundary}`), headersEnd);
    if (headersEnd < 0 || next < 0) return null;
    const headers = body.subarray(at, headersEnd).toString("utf8");
    if (new RegExp(`name="${field}"`).test(headers)) return body.subarray(headersEnd + 4, next);
    at = next + 2;
  }
  return null;
}

const snapshotDir = (name: string): string => join(snapshots, encodeURIComponent(name));

async function snapshotRoute(req: IncomingMessage, res: ServerResponse, url: URL, name: string, snap: string | undefined): Promise<void> {
  const config = join(dirOf(name), "config.json");
  if (snap === "upload" && req.method === "POST") {
    const priority = url.searchParams.get("priority");
    if (priority !== null && !["no_sync", "snapshot", "replica"].includes(priority))
      return reply(res, 422, { status: { error: `Unknown variant \`${priority}\`` } });
    const file = multipartField(await readBody(req), req.headers["content-type"] ?? "", "snapshot");
    if (file === null) return reply(res, 400, { status: { error: "Wrong input: no snapshot field in the form" } });
    const snapshot = JSON.parse(file.toString("utf8")) as { config: unknown; points: Point[] };
    mkdirSync(dirOf(name), { recursive: true });
    writeFileSync(config, JSON.stringify(snapshot.config));
    writeFileSync(join(dirOf(name), "points.json"), JSON.stringify(snapshot.points));
    return reply(res, 200, { result: true, status: "ok", time: 0 });
  }
  if (!existsSync(config)) return notFound(res, name);
  if (snap === undefined && req.method === "POST") {
    const content = JSON.stringify({ config: JSON.parse(readFileSync(config, "utf8")), points: points(name) });
    const created = new Date().toISOString().replace(/\.\d+Z$/, "");
    const snapName = `${name}-standin-${created.replace(/[:T]/g, "-")}-${operation++}.snapshot`;
    mkdirSync(snapshotDir(name), { recursive: true });
    writeFileSync(join(snapshotDir(name), snapName), content);
    const checksum = createHash("sha256").update(content).digest("hex");
    return reply(res, 200, {
      result: { name: snapName, creation_time: created, size: Buffer.byteLength(content), checksum },
      status: "ok",
      time: 0,
    });
  }
  if (snap === undefined && req.method === "GET") {
    const list = existsSync(snapshotDir(name)) ? readdirSync(snapshotDir(name)) : [];
    return reply(res, 200, { result: list.map((n) => ({ name: n })), status: "ok", time: 0 });
  }
  const file = snap === undefined ? "" : join(snapshotDir(name), snap);
  if (snap === undefined || !existsSync(file))
    return reply(res, 404, { status: { error: `Not found: Snapshot ${snap} not found` } });
  if (req.method === "GET") {
    const data = readFileSync(file);
    res.writeHead(200, { "Content-Type": "application/octet-stream", "Content-Length": data.length });
    return void res.end(data);
  }
  if (req.method === "DELETE") {
    rmSync(file);
    return reply(res, 200, { result: true, status: "ok", time: 0 });
  }
  return reply(res, 405, { status: { error: `${req.method} is not implemented by the stand-in` } });
}

async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
  const url = new URL(req.url ?? "/", "http://qdrant");
  if (["/healthz", "/livez", "/readyz"].includes(url.pathname))
    return reply(res, 200, "all shards are ready");
  const given = req.headers["api-key"] ?? req.headers.authorization?.replace(/^Bearer /, "");
  if (apiKey && given !== apiKey)
    return reply(res, 401, "Must provide an API key or an Authorization bearer token");
  if (url.pathname === "/")
    return reply(res, 200, { title: "qdrant - vector search engine", version: "1.15.5" });
  if (url.pathname === "/collections" && req.method === "GET") {
    const dirs = readdirSync(join(storage, "collections")).filter((d) =>
      existsSync(join(storage, "collections", d, "config.json")),
    );
    const collections = dirs.map((d) => ({ name: decodeURIComponent(d) }));
    return reply(res, 200, { result: { collections }, status: "ok", time: 0 });
  }
  const sm = /^\/collections\/([^/]+)\/snapshots(?:\/([^/]+))?$/.exec(url.pathname);
  if (sm)
    return snapshotRoute(
      req,
      res,
      url,
      decodeURIComponent(sm[1]!),
      sm[2] === undefined ? undefined : decodeURIComponent(sm[2]),
    );
  const m = /^\/collections\/([^/]+)(\/points(?:\/([^/]+))?)?$/.exec(url.pathname);
  if (!m) return reply(res, 404, { status: { error: `Not found: ${url.pathname}` } });
  const name = decodeURIComponent(m[1]!);
  const config = join(dirOf(name), "config.json");
  if (!m[2] && req.method === "PUT") {
    if (existsSync(config))
      return reply(res, 400, {
        status: { error: `Wrong input: Collection \`${name}\` already exists!` },
      });
    const body = await readJson(req);
    mkdirSync(dirOf(name), { recursive: true });
    writeFileSync(config, JSON.stringify(body));
    return reply(res, 200, { result: true, status: "ok", time: 0 });
  }
  if (!existsSync(config)) return notFound(res, name);
  const params = JSON.parse(readFileSync(config, "utf8")) as { vectors?: { size?: number } };
  if (!m[2] && req.method === "GET") {
    return reply(res, 200, {
      result: { status: "green", points_count: points(name).length, config: { params } },
      status: "ok",
      time: 0,
    });
  }
  if (m[2] && !m[3] && req.method === "PUT") {
    const body = (await readJson(req)) as { points?: Point[] };
    const incoming = body.points ?? [];
    const size = params.vectors?.size;
    const wrong = incoming.find((p) => size !== undefined && p.vector.length !== size);
    if (wrong)
      return reply(res, 400, {
        status: {
          error: `Wrong input: Vector dimension error: expected dim: ${size}, got ${wrong.vector.length}`,
        },
      });
    const kept = points(name).filter((p) => !incoming.some((q) => String(q.id) === String(p.id)));
    writeFileSync(join(dirOf(name), "points.json"), JSON.stringify([...kept, ...incoming]));
    return reply(res, 200, {
      result: { operation_id: operation++, status: "completed" },
      status: "ok",
      time: 0,
    });
  }
  if (m[3] && req.method === "GET") {
    const point = points(name).find((p) => String(p.id) === decodeURIComponent(m[3]!));
    if (!point)
      return reply(res, 404, {
        status: { error: `Not found: Point with id ${m[3]} does not exists!` },
      });
    return reply(res, 200, { result: point, status: "ok", time: 0 });
  }
  return reply(res, 405, {
    status: { error: `${req.method} ${url.pathname} is not implemented by the stand-in` },
  });
}

mkdirSync(join(storage, "collections"), { recursive: true });
createServer((req, res) => {
  handle(req, res).catch((err: Error) => reply(res, 500, { status: { error: err.message } }));
}).listen(port, "0.0.0.0", () =>
  console.log(`qdrant stand-in: REST on :${port}, storage ${storage}`),
);
