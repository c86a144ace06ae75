/**
 * Stand-in for Qdrant's REST API (qdrant/qdrant:v1.15.5), for the integration test.
 *
 * What it keeps of the real server: the HTTP port (QDRANT__SERVICE__HTTP_PORT, 6333); /healthz, /livez
 * and /readyz answer without a key; every other route needs QDRANT__SERVICE__API_KEY in the `api-key`
 * header or as a Bearer token; collections are created with a vector size, points upserted and read
 * back by id, and all of it is kept under the storage path (QDRANT__STORAGE__STORAGE_PATH, ./storage
 * from /qdrant), so it outlives the container in its volume. No search, no indexes.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import { join } from "node:path";

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

async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
  const url = new URL(req.url ?? "/", "http://qdrant");
  if (["/healthz", "/livez", "/readyz"].includes(url.pathname))
    return reply(res, 200, "all shards are ready");
  const given = req.headers["api-key"] ?? req.headers.authorization?.replace(/^Bearer /, "");
  if (apiKey && given !== apiKey)
    return reply(res, 401, "Must provide an API key or an Authorization bearer token");
  if (url.pathname === "/")
    return reply(res, 200, { title: "qdrant - vector search engine", version: "1.15.5" });
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
