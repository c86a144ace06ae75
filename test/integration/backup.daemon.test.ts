/**
 * `llmstack backup` and `restore` on a real Docker daemon (.ci/start-dockerd.sh): the data stores of the
 * cpu-mode development stack, as the program registers them, on the stand-in images (real Postgres 15 and
 * Redis 7.0 from Debian; Qdrant and the object store as stand-ins of their snapshot and S3 APIs). Data is
 * written to every store, backed up into a directory, the containers and volumes are removed and made
 * again (empty), and the restore brings the same data back, byte for byte where it can be compared. The
 * Redis pitfall is shown first: the backup's RDB dropped into the new volume with AOF on comes back empty.
 *
 * Its containers, network and volumes carry their own project name (llmstack-backup-<pid>), so the test
 * never touches another test's stack on the shared daemon.
 */
import { execFileSync } from "node:child_process";
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type Dockerode from "dockerode";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { BackupError } from "../../src/backup/errors";
import { backupStack, checkBackup, restoreStack, sha256File } from "../../src/backup/run";
import { downloadBackup, uploadBackup } from "../../src/backup/s3";
import { realExec } from "../../src/cli/io";
import { parseStackConfig } from "../../src/config/parse";
import { planStack } from "../../src/plan/stack";
import type { StackPlan } from "../../src/plan/types";
import { TEST_SECRETS } from "../helpers/pulumiMocks";
import { rawValues } from "../helpers/stacks";
import { Applier } from "./applier/apply";
import { registeredStack, type StackInputs } from "./applier/inputs";
import { requireDaemon, testDocker } from "./daemon";
import { buildStandins } from "./images/build";
import { containerOf, execIn, ipOf, postgresSql, purge, qdrant, redisCli, s3, s3Identity } from "./stackData";

const PROJECT = `llmstack-backup-${process.pid}`;
const DATA_STORES = ["postgres", "redis", "qdrant", "object-store"];
/** Every byte value, so a text conversion anywhere on the way would show. */
const BINARY = Buffer.from(Array.from({ length: 256 }, (_, i) => i));

/** The development stack's data stores in cpu mode, renamed to this test's own project. */
async function dataStack(host: string): Promise<{ stack: StackInputs; stores: StackInputs; plan: StackPlan }> {
  const edits = { dockerHost: host, gpu: { mode: "cpu" } };
  const overrides = Object.fromEntries(Object.entries(edits).map(([k, v]) => [`llmstack:${k}`, v]));
  const registered = await registeredStack("development", overrides, TEST_SECRETS);
  const from = registered.network.name;
  const renamed = JSON.parse(JSON.stringify(registered).split(`${from}`).join(`${PROJECT}-development`)) as StackInputs;
  // Only the data stores run; the rest is kept for what the test reads from it (the gateway's DATABASE_URL).
  const stores = {
    ...renamed,
    containers: renamed.containers.filter((c) => DATA_STORES.some((s) => c.name.endsWith(`-${s}`))),
  };
  const values = { ...rawValues("development"), ...edits };
  const plan = planStack({
    project: PROJECT,
    stack: "development",
    stackFile: "Pulumi.development.yaml",
    config: parseStackConfig(values, "Pulumi.development.yaml"),
    secretsPresent: new Set(),
  });
  return { stack: renamed, stores, plan };
}

describe("backup and restore on a real Docker daemon", () => {
  let host = "";
  let docker: Dockerode;
  let applier: Applier;
  let stack: StackInputs;
  let stores: StackInputs;
  let plan: StackPlan;
  const dir = mkdtempSync(join(tmpdir(), "llmstack-backup-test-"));
  const copy = mkdtempSync(join(tmpdir(), "llmstack-backup-test-copy-"));
  const log: string[] = [];
  const deps = () => ({ exec: realExec, env: process.env, now: Date.now, log: (l: string) => log.push(l) });
  const dockerCli = (...args: string[]): string => execFileSync("docker", ["--host", host, ...args], { encoding: "utf8" });

  beforeAll(async () => {
    host = requireDaemon();
    docker = testDocker(host);
    await buildStandins(docker);
    ({ stack, stores, plan } = await dataStack(host));
    applier = new Applier(docker, 180);
    await purge(docker, stores);
    const up = await applier.up(stores);
    expect([...up.failures]).toEqual([]);
  });

  afterAll(async () => {
    if (stores && docker) await purge(docker, stores);
    for (const d of [dir, copy]) rmSync(d, { recursive: true, force: true });
  });

  it("backs up every store, restores into new empty volumes, and reads the same data back", async () => {
    const identity = s3Identity(stack);
    // Postgres: a table with text and every byte value.
    expect(
      (await postgresSql(docker, stack, `CREATE TABLE proof (k text PRIMARY KEY, v text, b bytea); INSERT INTO proof VALUES ('k', 'kept', '\\x${BINARY.toString("hex")}')`)).code,
    ).toBe(0);
    // Redis: a string and a hash.
    expect((await redisCli(docker, stack, "SET", "proof", "kept")).out.trim()).toBe("OK");
    expect((await redisCli(docker, stack, "HSET", "proof:hash", "f", "v")).out.trim()).toBe("1");
    // Qdrant: two collections.
    for (const name of ["proof", "second"]) {
      expect((await qdrant(docker, stack, "PUT", `/collections/${name}`, { vectors: { size: 2, distance: "Cosine" } })).status).toBe(200);
    }
    const point = { id: 1, vector: [0.25, 0.5], payload: { v: "kept" } };
    expect((await qdrant(docker, stack, "PUT", "/collections/proof/points?wait=true", { points: [point] })).status).toBe(200);
    // The object store: two buckets (one empty), a nested key and a binary object.
    for (const path of ["/proof", "/empty"]) expect((await s3(docker, stack, "PUT", path, identity)).status).toBe(200);
    expect((await s3(docker, stack, "PUT", "/proof/a/b.txt", identity, "kept")).status).toBe(200);
    expect((await s3(docker, stack, "PUT", "/proof/binary", identity, BINARY.toString("latin1"))).status).toBe(200);

    const manifest = await backupStack(plan, dir, deps());
    expect(Object.fromEntries(Object.entries(manifest.stores).map(([s, e]) => [s, e.files.map((f) => f.file)]))).toEqual({
      postgres: ["postgres/postgres.dump"],
      redis: ["redis/dump.rdb"],
      qdrant: ["qdrant/proof.snapshot", "qdrant/second.snapshot"],
      "object-store": ["object-store/objects.tar"],
    });
    expect(manifest.stack).toBe("development");
    expect(manifest.stores.postgres.image).toBe(plan.containers.find((c) => c.service === "postgres")!.image);
    for (const f of Object.values(manifest.stores).flatMap((e) => e.files)) {
      expect([f.file, await sha256File(join(dir, f.file))]).toEqual([f.file, f.sha256]);
    }
    // pg_dump's custom format starts with "PGDMP"; an RDB with "REDIS".
    expect(readFileSync(join(dir, "postgres/postgres.dump")).subarray(0, 5).toString()).toBe("PGDMP");
    expect(readFileSync(join(dir, "redis/dump.rdb")).subarray(0, 5).toString()).toBe("REDIS");
    // The snapshots were removed from Qdrant's disk again.
    expect(JSON.parse((await qdrant(docker, stack, "GET", "/collections/proof/snapshots")).body).result).toEqual([]);

    // Through s3://: the backup uploaded to the stack's own S3 store (SigV4 checked by it) and downloaded
    // into a second directory, which the restore below uses.
    const s3Deps = { fetch: (url: string, init: RequestInit) => fetch(url, init), now: Date.now };
    const settings = { endpoint: `http://${await ipOf(docker, stack, "object-store")}:8333`, region: "us-east-1", ...identity };
    expect((await s3(docker, stack, "PUT", "/backups", identity)).status).toBe(200);
    await uploadBackup(dir, { bucket: "backups", prefix: "llmstack/development" }, settings, s3Deps);
    await downloadBackup({ bucket: "backups", prefix: "llmstack/development" }, copy, settings, s3Deps);
    expect(readFileSync(join(copy, "manifest.json"), "utf8")).toBe(readFileSync(join(dir, "manifest.json"), "utf8"));

    // Lose everything: containers and volumes, then a new, empty stack.
    await purge(docker, stores);
    expect([...(await applier.up(stores)).failures]).toEqual([]);
    expect((await redisCli(docker, stack, "GET", "proof")).out.trim()).toBe("");

    // The pitfall: the RDB dropped into /data while AOF is on comes back empty (Redis loads the AOF).
    const redis = containerOf(stack, "redis").name;
    dockerCli("stop", redis);
    const naive = `${PROJECT}-naive-rdb`;
    const volume = plan.volumes.find((v) => v.key === "redis-data")!.name;
    const image = plan.containers.find((c) => c.service === "redis")!.image;
    dockerCli("create", "--name", naive, "--user", "0", "--entrypoint", "cp", "--mount", `type=volume,src=${volume},dst=/data`, image, "/tmp/dump.rdb", "/data/dump.rdb");
    dockerCli("cp", join(dir, "redis/dump.rdb"), `${naive}:/tmp/dump.rdb`);
    dockerCli("start", "--attach", naive);
    dockerCli("rm", naive);
    dockerCli("start", redis);
    await waitForRedis(docker, stack);
    expect((await redisCli(docker, stack, "DBSIZE")).out.trim()).toBe("0");

    await checkBackup(plan, copy);
    await restoreStack(plan, copy, deps());
    await waitForRedis(docker, stack);

    expect((await postgresSql(docker, stack, "SELECT v || ' ' || encode(b, 'hex') FROM proof WHERE k = 'k'")).out.trim()).toBe(
      `kept ${BINARY.toString("hex")}`,
    );
    expect((await redisCli(docker, stack, "GET", "proof")).out.trim()).toBe("kept");
    expect((await redisCli(docker, stack, "HGET", "proof:hash", "f")).out.trim()).toBe("v");
    // Redis runs with AOF on and the data is in its AOF: it survives a restart.
    expect((await redisCli(docker, stack, "CONFIG", "GET", "appendonly")).out.trim().split("\n")).toEqual(["appendonly", "yes"]);
    dockerCli("restart", redis);
    await waitForRedis(docker, stack);
    expect((await redisCli(docker, stack, "GET", "proof")).out.trim()).toBe("kept");
    expect((await execIn(docker, redis, ["ls", "/data/appendonlydir"])).code).toBe(0);

    expect(JSON.parse((await qdrant(docker, stack, "GET", "/collections/proof/points/1")).body).result).toEqual(point);
    expect((await qdrant(docker, stack, "GET", "/collections/second")).status).toBe(200);
    expect(await s3(docker, stack, "GET", "/proof/a/b.txt", identity)).toEqual({ status: 200, body: "kept" });
    const binary = await s3(docker, stack, "GET", "/proof/binary", identity);
    // The test's client sends the string as UTF-8 and reads the answer as UTF-8: every byte came back.
    expect(binary).toEqual({ status: 200, body: BINARY.toString("latin1") });
    // The empty bucket is back: a PUT into a missing bucket answers 404 NoSuchBucket.
    expect((await s3(docker, stack, "PUT", "/empty/probe", identity, "x")).status).toBe(200);

    // A restore that fails in Redis (an RDB it cannot load) puts Redis's files back as they were.
    const bad = mkdtempSync(join(tmpdir(), "llmstack-backup-test-bad-"));
    cpSync(copy, bad, { recursive: true });
    writeFileSync(join(bad, "redis/dump.rdb"), "not an RDB file");
    const failed = await restoreStack(plan, bad, deps()).catch((e: unknown) => e);
    rmSync(bad, { recursive: true, force: true });
    expect(failed).toEqual(
      new BackupError(
        "the redis restore failed at its one-shot container: the Redis data files were put back as they were",
        `docker --host ${host} logs --tail 50 ${containerOf(stack, "redis").name}`,
      ),
    );
    await waitForRedis(docker, stack);
    expect((await redisCli(docker, stack, "GET", "proof")).out.trim()).toBe("kept");

    // No one-shot container is left behind: the stack's stores are all there is.
    const names = dockerCli("ps", "-a", "--format", "{{.Names}}", "--filter", `name=${PROJECT}`).trim().split("\n");
    expect(names.sort()).toEqual(stores.containers.map((c) => c.name).sort());
  });

  it("refuses a backup with a changed file before touching the stack", async () => {
    const file = join(dir, "redis/dump.rdb");
    const data = readFileSync(file);
    writeFileSync(file, Buffer.concat([data, Buffer.from("x")]));
    const err = await checkBackup(plan, dir).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(BackupError);
    expect((err as BackupError).message).toMatch(
      new RegExp(`^${dir}/redis/dump\\.rdb: the file has ${data.length + 1} bytes and sha256 [0-9a-f]{64}, but manifest\\.json says ${data.length} bytes`),
    );
  });
});

async function waitForRedis(docker: Dockerode, stack: StackInputs): Promise<void> {
  for (let i = 0; i < 100; i++) {
    if ((await redisCli(docker, stack, "PING")).out.trim() === "PONG") return;
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error("redis did not answer PING within 20 s");
}
