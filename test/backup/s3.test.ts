/**
 * s3:// locations: parsing, the credentials from the environment, SigV4 signing held against the
 * verifier the integration suite's object store uses (itself held to AWS's worked example), and the
 * order of an upload (manifest last) and a download, with a fake endpoint.
 */
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { BackupError } from "../../src/backup/errors";
import { downloadBackup, parseS3Url, s3Settings, signedHeaders, uploadBackup, type S3Fetch } from "../../src/backup/s3";
import { parseAuthorization, sha256Hex, signature } from "../integration/images/fakes/sigv4";

const settings = { endpoint: "http://127.0.0.1:8333", region: "us-east-1", accessKey: "llmstack", secretKey: "s3cr3t" };
const NOW = Date.parse("2026-01-31T02:03:04Z");

describe("s3:// locations", () => {
  it("reads the bucket and the prefix", () => {
    expect(parseS3Url("s3://backups/llmstack/production/")).toEqual({ bucket: "backups", prefix: "llmstack/production" });
    expect(parseS3Url("s3://backups")).toEqual({ bucket: "backups", prefix: "" });
    expect(parseS3Url("/srv/backups")).toBeNull();
  });

  it("refuses a bucket name S3 does not allow", () => {
    expect(() => parseS3Url("s3://Backups_1/x")).toThrow(
      new BackupError(
        's3://Backups_1/x: the bucket "Backups_1" is not a valid S3 bucket name (3 to 63 lower-case letters, digits, "." and "-", starting and ending with a letter or digit)',
        "give the destination as s3://<bucket>/<prefix>, e.g. s3://backups/llmstack/production",
      ),
    );
  });

  it("takes the endpoint and credentials from the AWS variables", () => {
    expect(s3Settings({ AWS_ACCESS_KEY_ID: "a", AWS_SECRET_ACCESS_KEY: "b", AWS_REGION: "eu-west-1" })).toEqual({
      endpoint: "https://s3.eu-west-1.amazonaws.com", region: "eu-west-1", accessKey: "a", secretKey: "b",
    });
    expect(s3Settings({ AWS_ACCESS_KEY_ID: "a", AWS_SECRET_ACCESS_KEY: "b", AWS_ENDPOINT_URL: "http://minio:9000/", AWS_SESSION_TOKEN: "t" })).toEqual({
      endpoint: "http://minio:9000", region: "us-east-1", accessKey: "a", secretKey: "b", sessionToken: "t",
    });
    expect(() => s3Settings({ AWS_ACCESS_KEY_ID: "a" })).toThrow(/^AWS_SECRET_ACCESS_KEY is not set: /);
  });
});

describe("SigV4", () => {
  it("signs as the object store's verifier checks it", () => {
    const body = Buffer.from("data");
    const h = signedHeaders(settings, "PUT", "/backups/p/a%20b.txt", body, "20260131T020304Z");
    expect(h["x-amz-content-sha256"]).toBe(sha256Hex(body));
    const parsed = parseAuthorization(h.authorization!)!;
    expect(parsed.scope).toEqual({ accessKey: "llmstack", date: "20260131", region: "us-east-1", service: "s3" });
    expect(parsed.signedHeaders).toEqual(["host", "x-amz-content-sha256", "x-amz-date"]);
    const { authorization: _a, ...headers } = h;
    expect(parsed.signature).toBe(signature({ method: "PUT", path: "/backups/p/a%20b.txt", headers }, parsed.signedHeaders, parsed.scope, "s3cr3t"));
  });
});

describe("upload and download", () => {
  function backupDir(): string {
    const dir = mkdtempSync(join(tmpdir(), "llmstack-s3-test-"));
    const files: Record<string, string> = { "postgres/postgres.dump": "pg", "redis/dump.rdb": "rdb", "qdrant/a%2Fb.snapshot": "q", "object-store/objects.tar": "tar" };
    const stores: Record<string, unknown> = {};
    for (const store of ["postgres", "redis", "qdrant", "object-store"]) {
      const mine = Object.entries(files).filter(([f]) => f.startsWith(`${store}/`));
      stores[store] = { image: "x:1.2", version: "1.2", artefact: "a", files: mine.map(([file, text]) => ({ file, size: text.length, sha256: sha256Hex(text) })) };
      for (const [f, text] of mine) {
        mkdirSync(join(dir, store), { recursive: true });
        writeFileSync(join(dir, f), text);
      }
    }
    writeFileSync(join(dir, "manifest.json"), JSON.stringify({ format: 1, stack: "production", time: "2026-01-31T02:00:00Z", stores }));
    return dir;
  }

  it("puts every file, then the manifest, and gets them back", async () => {
    const stored = new Map<string, Buffer>();
    const calls: string[] = [];
    const fetch: S3Fetch = async (url, init) => {
      calls.push(`${init.method} ${url}`);
      const key = new URL(url).pathname;
      if (init.method === "PUT") stored.set(key, Buffer.from(init.body as Uint8Array));
      const data = stored.get(key);
      return data === undefined ? new Response("<Error><Code>NoSuchKey</Code></Error>", { status: 404 }) : new Response(init.method === "PUT" ? "" : new Uint8Array(data));
    };
    const deps = { fetch, now: () => NOW };
    const at = { bucket: "backups", prefix: "llmstack/prod" };
    const dir = backupDir();
    await uploadBackup(dir, at, settings, deps);
    expect(calls).toEqual([
      "PUT http://127.0.0.1:8333/backups/llmstack/prod/postgres/postgres.dump",
      "PUT http://127.0.0.1:8333/backups/llmstack/prod/redis/dump.rdb",
      "PUT http://127.0.0.1:8333/backups/llmstack/prod/qdrant/a%252Fb.snapshot",
      "PUT http://127.0.0.1:8333/backups/llmstack/prod/object-store/objects.tar",
      "PUT http://127.0.0.1:8333/backups/llmstack/prod/manifest.json",
    ]);
    const into = mkdtempSync(join(tmpdir(), "llmstack-s3-test-"));
    await downloadBackup(at, into, settings, deps);
    for (const f of ["manifest.json", "postgres/postgres.dump", "qdrant/a%2Fb.snapshot", "object-store/objects.tar"]) {
      expect([f, readFileSync(join(into, f), "utf8")]).toEqual([f, readFileSync(join(dir, f), "utf8")]);
    }
    await expect(downloadBackup({ bucket: "backups", prefix: "none" }, into, settings, deps)).rejects.toThrow(
      new BackupError(
        "s3://backups/none/manifest.json: the endpoint http://127.0.0.1:8333 answered 404 (NoSuchKey) to GET",
        "check the bucket, AWS_ENDPOINT_URL and the credentials in AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY",
      ),
    );
  });
});
