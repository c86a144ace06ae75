/**
 * Stand-in for SeaweedFS's `weed server -s3` (chrislusf/seaweedfs:3.97), for the integration test.
 *
 * What it keeps of the real server: Go-style flags (an unknown one stops it with "flag provided but not
 * defined"); the master's HTTP port answers /cluster/status; with -s3 it reads the identities of
 * -s3.config at start (an unreadable file stops it, as it stops weed) and serves an S3 API on -s3.port
 * that accepts only requests signed with AWS SigV4 by one of those identities, with the action the
 * request needs (Read, Write, Admin); objects are written under -dir, so they outlive the container in
 * its volume. Buckets and objects, ListBuckets (GET /) and ListObjectsV2 (GET /{bucket}?list-type=2,
 * max-keys default 1000, continuation-token): no multipart or versioning.
 */
import { createHash } from "node:crypto";
import {
  existsSync,
  mkdirSync,
  readFileSync,
  readdirSync,
  writeFileSync,
  fsyncSync,
  openSync,
  closeSync,
} from "node:fs";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import { join } from "node:path";
import { readBody } from "./body";
import { parseAuthorization, sha256Hex, signature } from "./sigv4";

const GLOBAL_FLAGS = new Set(["logtostderr", "alsologtostderr", "v"]);
const SERVER_FLAGS = new Set([
  "dir",
  "ip",
  "ip.bind",
  "master.port",
  "volume.port",
  "volume.max",
  "master.volumePreallocate",
  "master.volumeSizeLimitMB",
  "filer",
  "s3",
  "s3.port",
  "s3.config",
]);
const BOOL_FLAGS = new Set([
  "logtostderr",
  "alsologtostderr",
  "master.volumePreallocate",
  "filer",
  "s3",
]);

function parseFlags(args: string[], known: Set<string>, flags: Map<string, string>): string[] {
  let i = 0;
  for (; i < args.length && args[i]!.startsWith("-"); i++) {
    const [name, value] = args[i]!.replace(/^-{1,2}/, "").split(/=(.*)/s, 2) as [
      string,
      string | undefined,
    ];
    if (!known.has(name)) {
      console.error(`flag provided but not defined: -${name}`);
      process.exit(2);
    }
    if (value !== undefined) flags.set(name, value);
    else if (BOOL_FLAGS.has(name)) flags.set(name, "true");
    else flags.set(name, args[++i] ?? "");
  }
  return args.slice(i);
}

interface Identity {
  readonly name: string;
  readonly credentials: { accessKey: string; secretKey: string }[];
  readonly actions: string[];
}

const flags = new Map<string, string>();
const rest = parseFlags(process.argv.slice(2), GLOBAL_FLAGS, flags);
if (rest[0] !== "server") {
  console.error(`weed stand-in: only "weed server" is implemented, not ${JSON.stringify(rest[0])}`);
  process.exit(2);
}
const extra = parseFlags(rest.slice(1), SERVER_FLAGS, flags);
if (extra.length > 0) {
  console.error(`weed stand-in: unexpected arguments ${extra.join(" ")}`);
  process.exit(2);
}
const dataDir = flags.get("dir") ?? "/tmp";
const masterPort = Number(flags.get("master.port") ?? 9333);

let identities: Identity[] = [];
if (flags.get("s3") === "true" && flags.has("s3.config")) {
  try {
    identities = (
      JSON.parse(readFileSync(flags.get("s3.config")!, "utf8")) as { identities: Identity[] }
    ).identities;
  } catch (err) {
    console.error(
      `F s3: fail to load config file ${flags.get("s3.config")}: ${(err as Error).message}`,
    );
    process.exit(1);
  }
}

function xmlError(res: ServerResponse, status: number, code: string, message: string): void {
  const body = `<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>${code}</Code><Message>${message}</Message></Error>`;
  res.writeHead(status, {
    "Content-Type": "application/xml",
    "Content-Length": Buffer.byteLength(body),
  });
  res.end(body);
}

const S3_NS = "http://s3.amazonaws.com/doc/2006-03-01/";

function escapeXml(text: string): string {
  return text.replace(/[<>&'"]/g, (c) => `&#${c.charCodeAt(0)};`);
}

function xml(res: ServerResponse, body: string): void {
  const text = `<?xml version="1.0" encoding="UTF-8"?>\n${body}`;
  res.writeHead(200, { "Content-Type": "application/xml", "Content-Length": Buffer.byteLength(text) });
  res.end(text);
}

/** The identity that signed the request, or an S3 error code. */
function authenticate(req: IncomingMessage, url: URL, action: string): Identity | string {
  const parsed = parseAuthorization(req.headers.authorization ?? "");
  if (!parsed) return "AccessDenied";
  const identity = identities.find((i) =>
    i.credentials.some((c) => c.accessKey === parsed.scope.accessKey),
  );
  if (!identity) return "InvalidAccessKeyId";
  const secret = identity.credentials.find(
    (c) => c.accessKey === parsed.scope.accessKey,
  )!.secretKey;
  const headers: Record<string, string> = {};
  for (const h of parsed.signedHeaders) headers[h] = String(req.headers[h] ?? "");
  const query = Object.fromEntries(url.searchParams.entries());
  const expected = signature(
    { method: req.method ?? "GET", path: url.pathname, query, headers },
    parsed.signedHeaders,
    parsed.scope,
    secret,
  );
  if (expected !== parsed.signature) return "SignatureDoesNotMatch";
  if (!identity.actions.includes(action) && !identity.actions.includes("Admin"))
    return "AccessDenied";
  return identity;
}

function objectPath(bucket: string, key: string): string {
  return join(dataDir, "buckets", bucket, encodeURIComponent(key));
}

async function s3(req: IncomingMessage, res: ServerResponse): Promise<void> {
  const url = new URL(req.url ?? "/", "http://s3");
  const [, bucket = "", ...keyParts] = url.pathname.split("/");
  const key = decodeURIComponent(keyParts.join("/"));
  const method = req.method ?? "GET";
  const action = method === "GET" || method === "HEAD" ? "Read" : key === "" ? "Admin" : "Write";
  const who = authenticate(req, url, action);
  if (typeof who === "string") return xmlError(res, 403, who, `request refused: ${who}`);
  const body = await readBody(req);
  const declared = String(req.headers["x-amz-content-sha256"] ?? "");
  if (declared !== "UNSIGNED-PAYLOAD" && declared !== sha256Hex(body)) {
    return xmlError(
      res,
      400,
      "XAmzContentSHA256Mismatch",
      "The provided 'x-amz-content-sha256' header does not match what was computed.",
    );
  }
  if (bucket === "" && method === "GET") {
    const names = readdirSync(join(dataDir, "buckets")).sort();
    return xml(
      res,
      `<ListAllMyBucketsResult xmlns="${S3_NS}"><Owner><ID>${who.name}</ID></Owner><Buckets>` +
        names.map((n) => `<Bucket><Name>${escapeXml(n)}</Name></Bucket>`).join("") +
        "</Buckets></ListAllMyBucketsResult>",
    );
  }
  if (bucket === "") return xmlError(res, 400, "InvalidBucketName", "no bucket in the path");
  const bucketDir = join(dataDir, "buckets", bucket);
  if (method === "PUT" && key === "") {
    mkdirSync(bucketDir, { recursive: true });
    res.writeHead(200, { "Content-Length": 0 });
    return void res.end();
  }
  if (!existsSync(bucketDir))
    return xmlError(res, 404, "NoSuchBucket", `The specified bucket does not exist: ${bucket}`);
  if (method === "GET" && key === "") {
    if (url.searchParams.get("list-type") !== "2")
      return xmlError(res, 501, "NotImplemented", "only ListObjectsV2 (list-type=2) is implemented");
    const max = Number(url.searchParams.get("max-keys") ?? 1000);
    const after = url.searchParams.get("continuation-token") ?? "";
    const keys = readdirSync(bucketDir)
      .map((f) => decodeURIComponent(f))
      .sort()
      .filter((k) => k > after);
    const page = keys.slice(0, max);
    const truncated = keys.length > max;
    return xml(
      res,
      `<ListBucketResult xmlns="${S3_NS}"><Name>${escapeXml(bucket)}</Name><KeyCount>${page.length}</KeyCount>` +
        `<MaxKeys>${max}</MaxKeys><IsTruncated>${truncated}</IsTruncated>` +
        (truncated ? `<NextContinuationToken>${escapeXml(page[page.length - 1]!)}</NextContinuationToken>` : "") +
        page.map((k) => `<Contents><Key>${escapeXml(k)}</Key></Contents>`).join("") +
        "</ListBucketResult>",
    );
  }
  if (method === "PUT") {
    const file = objectPath(bucket, key);
    writeFileSync(file, body);
    const fd = openSync(file, "r");
    fsyncSync(fd);
    closeSync(fd);
    res.writeHead(200, {
      ETag: `"${createHash("md5").update(body).digest("hex")}"`,
      "Content-Length": 0,
    });
    return void res.end();
  }
  if (method === "GET" || method === "HEAD") {
    const file = objectPath(bucket, key);
    if (!existsSync(file))
      return xmlError(res, 404, "NoSuchKey", "The specified key does not exist.");
    const data = readFileSync(file);
    res.writeHead(200, {
      "Content-Length": data.length,
      ETag: `"${createHash("md5").update(data).digest("hex")}"`,
    });
    return void res.end(method === "HEAD" ? undefined : data);
  }
  return xmlError(res, 501, "NotImplemented", `${method} is not implemented by the stand-in`);
}

mkdirSync(join(dataDir, "buckets"), { recursive: true });
createServer((req, res) => {
  if (req.url === "/cluster/status") {
    const body = JSON.stringify({
      IsLeader: true,
      Leader: `127.0.0.1:${masterPort}`,
      MaxVolumeId: 0,
    });
    res.writeHead(200, {
      "Content-Type": "application/json",
      "Content-Length": Buffer.byteLength(body),
    });
    return void res.end(body);
  }
  res.writeHead(404, { "Content-Length": 0 });
  res.end();
}).listen(masterPort, "0.0.0.0", () =>
  console.log(`weed stand-in: master on :${masterPort}, data in ${dataDir}`),
);

if (flags.get("s3") === "true") {
  const port = Number(flags.get("s3.port") ?? 8333);
  createServer((req, res) => {
    s3(req, res).catch((err: Error) => xmlError(res, 500, "InternalError", err.message));
  }).listen(port, "0.0.0.0", () =>
    console.log(`weed stand-in: s3 on :${port} with ${identities.length} identities`),
  );
}
