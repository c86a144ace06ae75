/**
 * Copies a backup's directory to and from `s3://bucket/prefix` on an S3-compatible endpoint, signed with
 * AWS Signature Version 4 in the Authorization header (https://docs.aws.amazon.com/AmazonS3/latest/API/
 * sig-v4-header-based-auth.html) with node:crypto; path-style URLs (`<endpoint>/<bucket>/<key>`), which
 * SeaweedFS, MinIO, Ceph and AWS all accept. The endpoint and credentials come from the variables the AWS
 * CLI reads: AWS_ENDPOINT_URL (default https://s3.<region>.amazonaws.com), AWS_REGION or AWS_DEFAULT_REGION
 * (default us-east-1), AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY and, for temporary credentials,
 * AWS_SESSION_TOKEN. Each file is one PutObject, so a file must be under S3's 5 GB single-upload limit.
 * The manifest is uploaded last, so a prefix with a manifest holds a whole backup.
 */
import { createHash, createHmac } from "node:crypto";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { BackupError } from "./errors";
import { MANIFEST_FILE, manifestFiles, parseManifest } from "./manifest";

export interface S3Location {
  readonly bucket: string;
  /** Without a leading or trailing "/"; "" for the bucket's root. */
  readonly prefix: string;
}

export interface S3Settings {
  readonly endpoint: string;
  readonly region: string;
  readonly accessKey: string;
  readonly secretKey: string;
  readonly sessionToken?: string;
}

export type S3Fetch = (url: string, init: RequestInit) => Promise<Response>;

const BUCKET = /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/;

/** `s3://bucket/prefix` → its parts; null for anything that is not an s3:// URL. */
export function parseS3Url(text: string): S3Location | null {
  if (!text.startsWith("s3://")) return null;
  const [bucket = "", ...rest] = text.slice(5).split("/");
  if (!BUCKET.test(bucket)) {
    throw new BackupError(
      `${text}: the bucket "${bucket}" is not a valid S3 bucket name (3 to 63 lower-case letters, digits, "." and "-", starting and ending with a letter or digit)`,
      "give the destination as s3://<bucket>/<prefix>, e.g. s3://backups/llmstack/production",
    );
  }
  return { bucket, prefix: rest.filter((p) => p !== "").join("/") };
}

/** The endpoint and credentials from the environment; a missing credential is refused by name. */
export function s3Settings(env: NodeJS.ProcessEnv): S3Settings {
  const region = env.AWS_REGION ?? env.AWS_DEFAULT_REGION ?? "us-east-1";
  for (const name of ["AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"] as const) {
    if (!env[name]) {
      throw new BackupError(
        `${name} is not set: an s3:// backup is signed with the credentials in AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY ` +
          "(and AWS_SESSION_TOKEN for temporary ones), at the endpoint in AWS_ENDPOINT_URL",
        `export ${name}=... and run the command again`,
      );
    }
  }
  return {
    endpoint: (env.AWS_ENDPOINT_URL ?? `https://s3.${region}.amazonaws.com`).replace(/\/+$/, ""),
    region,
    accessKey: env.AWS_ACCESS_KEY_ID!,
    secretKey: env.AWS_SECRET_ACCESS_KEY!,
    ...(env.AWS_SESSION_TOKEN ? { sessionToken: env.AWS_SESSION_TOKEN } : {}),
  };
}

const sha256Hex = (data: string | Buffer): string => createHash("sha256").update(data).digest("hex");
const hmac = (key: string | Buffer, data: string): Buffer => createHmac("sha256", key).update(data).digest();
/** RFC 3986 as SigV4 wants it; "/" kept in object keys (S3 encodes the path once). */
const encodeKey = (key: string): string =>
  key.split("/").map((p) => encodeURIComponent(p).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`)).join("/");

/** The request's headers, Authorization included, for `method path` with `body` at `amzDate` (YYYYMMDDTHHMMSSZ). */
export function signedHeaders(s: S3Settings, method: string, path: string, body: Buffer, amzDate: string): Record<string, string> {
  const host = new URL(s.endpoint).host;
  const headers: Record<string, string> = {
    host,
    "x-amz-content-sha256": sha256Hex(body),
    "x-amz-date": amzDate,
    ...(s.sessionToken ? { "x-amz-security-token": s.sessionToken } : {}),
  };
  const names = Object.keys(headers).sort();
  const canonical = [method, path, "", names.map((h) => `${h}:${headers[h]!.trim()}\n`).join(""), names.join(";"), headers["x-amz-content-sha256"]].join("\n");
  const day = amzDate.slice(0, 8);
  const scope = `${day}/${s.region}/s3/aws4_request`;
  const toSign = ["AWS4-HMAC-SHA256", amzDate, scope, sha256Hex(canonical)].join("\n");
  const key = hmac(hmac(hmac(hmac(`AWS4${s.secretKey}`, day), s.region), "s3"), "aws4_request");
  const signature = createHmac("sha256", key).update(toSign).digest("hex");
  return { ...headers, authorization: `AWS4-HMAC-SHA256 Credential=${s.accessKey}/${scope}, SignedHeaders=${names.join(";")}, Signature=${signature}` };
}

export interface S3Deps {
  readonly fetch: S3Fetch;
  readonly now: () => number;
}

async function request(s: S3Settings, deps: S3Deps, method: "GET" | "PUT", at: S3Location, file: string, body = Buffer.alloc(0)): Promise<Buffer> {
  const key = [at.prefix, file].filter((p) => p !== "").join("/");
  const path = `/${at.bucket}/${encodeKey(key)}`;
  const amzDate = new Date(deps.now()).toISOString().replace(/[-:]/g, "").replace(/\.\d+/, "");
  const headers = signedHeaders(s, method, path, body, amzDate);
  const { host: _host, ...sent } = headers;
  const where = `s3://${at.bucket}/${key}`;
  let res: Response;
  try {
    res = await deps.fetch(`${s.endpoint}${path}`, { method, headers: sent, ...(method === "PUT" ? { body: new Uint8Array(body) } : {}) });
  } catch (err) {
    throw new BackupError(`${where}: ${method} to ${s.endpoint} failed: ${(err as Error).message}`, "check AWS_ENDPOINT_URL and that the endpoint is reachable");
  }
  const data = Buffer.from(await res.arrayBuffer());
  if (!res.ok) {
    const code = /<Code>([^<]*)<\/Code>/.exec(data.toString("utf8"))?.[1] ?? `HTTP ${res.status}`;
    throw new BackupError(`${where}: the endpoint ${s.endpoint} answered ${res.status} (${code}) to ${method}`, "check the bucket, AWS_ENDPOINT_URL and the credentials in AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY");
  }
  return data;
}

/** Uploads the backup in `dir` (its manifest's files, then the manifest itself). */
export async function uploadBackup(dir: string, at: S3Location, s: S3Settings, deps: S3Deps): Promise<string[]> {
  const manifest = readFileSync(join(dir, MANIFEST_FILE));
  const files = manifestFiles(parseManifest(manifest.toString("utf8"), join(dir, MANIFEST_FILE)));
  for (const f of files) await request(s, deps, "PUT", at, f, readFileSync(join(dir, ...f.split("/"))));
  await request(s, deps, "PUT", at, MANIFEST_FILE, manifest);
  return [...files, MANIFEST_FILE];
}

/** Downloads the manifest and the files it lists into `dir` (which the caller then checks). */
export async function downloadBackup(at: S3Location, dir: string, s: S3Settings, deps: S3Deps): Promise<void> {
  const text = await request(s, deps, "GET", at, MANIFEST_FILE);
  writeFileSync(join(dir, MANIFEST_FILE), text);
  const where = `s3://${at.bucket}/${[at.prefix, MANIFEST_FILE].filter((p) => p !== "").join("/")}`;
  for (const f of manifestFiles(parseManifest(text.toString("utf8"), where))) {
    const target = join(dir, ...f.split("/"));
    mkdirSync(dirname(target), { recursive: true });
    writeFileSync(target, await request(s, deps, "GET", at, f));
  }
}
