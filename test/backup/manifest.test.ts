/**
 * The manifest: what a malformed one is refused with, and the checks a restore makes against the stack
 * and the files before it touches anything.
 */
import { describe, expect, it } from "vitest";
import { BackupError } from "../../src/backup/errors";
import { checkManifest, manifestFiles, parseManifest, versionNumbers, type FileFacts, type Manifest } from "../../src/backup/manifest";
import { planOf } from "../helpers/stacks";

const plan = planOf("development");
const SHA = "a".repeat(64);
const FIX = "use the manifest.json that llmstack backup wrote, or make a new backup with llmstack backup --stack <name> --to <dir>";

function manifest(images: Partial<Record<string, string>> = {}): Manifest {
  const entry = (store: string, image: string, file: string) => ({
    image,
    version: image.split(":")[1]!,
    artefact: "a",
    files: [{ file: `${store}/${file}`, size: 3, sha256: SHA }],
  });
  return {
    format: 1,
    stack: "development",
    time: "2026-01-31T02:00:00.000Z",
    stores: {
      postgres: entry("postgres", images.postgres ?? "postgres:16.10", "postgres.dump"),
      redis: entry("redis", images.redis ?? "redis:7.4.6", "dump.rdb"),
      qdrant: entry("qdrant", images.qdrant ?? "qdrant/qdrant:v1.15.5", "proof.snapshot"),
      "object-store": entry("object-store", "chrislusf/seaweedfs:3.97", "objects.tar"),
    },
  };
}

const allThere: FileFacts = async () => ({ size: 3, sha256: SHA });

async function refusal(m: Manifest, facts: FileFacts = allThere): Promise<[string, string]> {
  const err = await checkManifest(plan, m, "/b", facts).then(() => null, (e: unknown) => e);
  if (!(err instanceof BackupError)) throw new Error(`expected a BackupError, got ${String(err)}`);
  return [err.message, err.fix];
}

describe("parseManifest", () => {
  it("reads what backup writes and lists its files", () => {
    const m = parseManifest(JSON.stringify(manifest()), "/b/manifest.json");
    expect(manifestFiles(m)).toEqual(["postgres/postgres.dump", "redis/dump.rdb", "qdrant/proof.snapshot", "object-store/objects.tar"]);
  });

  it.each([
    ["not JSON", "{", 'the file is "not valid JSON"; it must be JSON'],
    ["another format", JSON.stringify({ ...manifest(), format: 2 }), "format is 2; it must be 1"],
    [
      "a file outside its store",
      JSON.stringify({ ...manifest(), stores: { ...manifest().stores, redis: { ...manifest().stores.redis, files: [{ file: "redis/../../etc/passwd", size: 1, sha256: SHA }] } } }),
      'stores.redis.files[0].file is "redis/../../etc/passwd"; it must be a path under redis/ without ".." or empty parts',
    ],
    [
      "a bad checksum",
      JSON.stringify({ ...manifest(), stores: { ...manifest().stores, qdrant: { ...manifest().stores.qdrant, files: [{ file: "qdrant/x", size: 1, sha256: "XYZ" }] } } }),
      'stores.qdrant.files[0].sha256 is "XYZ"; it must be 64 lower-case hex digits',
    ],
  ])("refuses %s, naming the key, the value and what is allowed", (_name, text, what) => {
    expect(() => parseManifest(text, "/b/manifest.json")).toThrow(
      new BackupError(`/b/manifest.json: ${what}. The backup's manifest was changed or is not one llmstack backup wrote`, FIX),
    );
  });
});

describe("checkManifest", () => {
  it("passes a backup of this stack whose files match", async () => {
    await expect(checkManifest(plan, manifest(), "/b", allThere)).resolves.toBeUndefined();
  });

  it("refuses a Postgres dump of a newer major version than the planned image", async () => {
    expect(await refusal(manifest({ postgres: "postgres:17.6" }))).toEqual([
      "/b/manifest.json: stores.postgres.image is postgres:17.6, but Pulumi.development.yaml plans postgres:16.10; a " +
        "postgres backup restores into the same or a newer Postgres major version",
      "set the postgres image in Pulumi.development.yaml to postgres:17.6 (llmstack:images), deploy it, and run the restore again",
    ]);
  });

  it("takes an older Postgres and Redis, and refuses another Qdrant minor version", async () => {
    await expect(checkManifest(plan, manifest({ postgres: "postgres:15.8", redis: "redis:6.2.14" }), "/b", allThere)).resolves.toBeUndefined();
    expect((await refusal(manifest({ qdrant: "qdrant/qdrant:v1.14.1" })))[0]).toBe(
      "/b/manifest.json: stores.qdrant.image is qdrant/qdrant:v1.14.1, but Pulumi.development.yaml plans " +
        "qdrant/qdrant:v1.15.5; a qdrant backup restores into the same Qdrant major and minor version",
    );
  });

  it("refuses a missing file and a changed one", async () => {
    expect((await refusal(manifest(), async (f) => (f === "redis/dump.rdb" ? null : { size: 3, sha256: SHA })))[0]).toBe(
      "/b/redis/dump.rdb: the file is missing, but manifest.json lists it",
    );
    const other = "b".repeat(64);
    expect(await refusal(manifest(), async (f) => ({ size: f === "qdrant/proof.snapshot" ? 4 : 3, sha256: f === "qdrant/proof.snapshot" ? other : SHA }))).toEqual([
      `/b/qdrant/proof.snapshot: the file has 4 bytes and sha256 ${other}, but manifest.json says 3 bytes and sha256 ${SHA}: it is damaged or was changed`,
      "copy the backup again from where it was kept, or make a new one with llmstack backup --stack development --to <dir>",
    ]);
  });

  it("reads version tags", () => {
    expect([versionNumbers("16.10"), versionNumbers("v1.15.5"), versionNumbers("7.4.6-alpine"), versionNumbers("latest"), versionNumbers(null)]).toEqual([
      [16, 10], [1, 15, 5], [7, 4, 6], [], [],
    ]);
  });
});
