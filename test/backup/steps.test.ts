/**
 * The steps of a backup and a restore, as data: exact images, argv, variables and mounts for the
 * development stack, and every program they call is one the image's record lists.
 */
import { describe, expect, it } from "vitest";
import { createArgs } from "../../src/backup/docker";
import { BACKUP_CLIENT, REDIS_RESTORE_SCRIPT } from "../../src/backup/scripts";
import { storeSteps } from "../../src/backup/steps";
import { imageFactsFor } from "../../src/facts/images";
import { programsInScript } from "../../src/facts/shellPrograms";
import { planOf } from "../helpers/stacks";

const plan = planOf("development");
const P = "llm-multimodal-stack-development";

describe("backup steps", () => {
  const steps = storeSteps(plan, "backup");

  it("dumps Postgres in custom format from its own image over the stack network, the password by name", () => {
    expect(steps[0]).toEqual({
      store: "postgres",
      action: "backup",
      host: "unix:///var/run/docker.sock",
      target: `${P}-postgres`,
      image: "postgres:16.10",
      entrypoint: "pg_dump",
      argv: [
        "--host", `${P}-postgres`, "--port", "5432", "--username", "litellm", "--dbname", "litellm",
        "--format=custom", "--file", "/tmp/llmstack-backup-postgres/postgres.dump",
      ],
      env: { PGPASSWORD: { from: "env", container: `${P}-postgres`, name: "POSTGRES_PASSWORD" } },
      network: P,
      mounts: [],
      dir: "/tmp/llmstack-backup-postgres",
      artefact: "pg_dump custom-format archive (-Fc)",
    });
  });

  it("takes Redis's RDB with redis-cli --rdb, and Qdrant and the object store with Python in the LiteLLM image", () => {
    expect(steps.map((s) => [s.store, s.image, s.entrypoint, s.argv.slice(-2)])).toEqual([
      ["postgres", "postgres:16.10", "pg_dump", ["--file", "/tmp/llmstack-backup-postgres/postgres.dump"]],
      ["redis", "redis:7.4.6", "redis-cli", ["--rdb", "/tmp/llmstack-backup-redis/dump.rdb"]],
      ["qdrant", "ghcr.io/berriai/litellm:v1.84.0", "python3", ["qdrant-backup", "/tmp/llmstack-backup-qdrant"]],
      ["object-store", "ghcr.io/berriai/litellm:v1.84.0", "python3", ["object-store-backup", "/tmp/llmstack-backup-object-store"]],
    ]);
    expect(steps[3]!.env).toEqual({
      S3_ENDPOINT: { from: "value", value: `http://${P}-object-store:8333` },
      S3_ACCESS_KEY: { from: "value", value: "llmstack" },
      S3_SECRET_KEY: { from: "s3-identity", container: `${P}-object-store`, file: "/etc/seaweedfs/s3.json", accessKey: "llmstack" },
    });
  });

  it("creates each one-shot container with the variables' names only", () => {
    expect(createArgs(steps[1]!, "one-shot")).toEqual([
      "create", "--name", "one-shot", "--network", P, "--user", "0", "--entrypoint", "redis-cli",
      "--workdir", "/tmp/llmstack-backup-redis", "--env", "REDISCLI_AUTH", "redis:7.4.6",
      "-h", `${P}-redis`, "-p", "6379", "--rdb", "/tmp/llmstack-backup-redis/dump.rdb",
    ]);
  });
});

describe("restore steps", () => {
  const steps = storeSteps(plan, "restore");

  it("restores Postgres in one transaction, replacing what the dump recreates", () => {
    expect(steps[0]!.entrypoint).toBe("pg_restore");
    expect(steps[0]!.argv.slice(8)).toEqual([
      "--clean", "--if-exists", "--single-transaction", "--exit-on-error", "--no-password",
      "/tmp/llmstack-backup-postgres/postgres.dump",
    ]);
  });

  it("loads Redis's RDB into its stopped volume without a network, with the AOF handled by the script", () => {
    expect(steps[1]).toMatchObject({
      entrypoint: "sh",
      argv: ["-c", REDIS_RESTORE_SCRIPT, "redis-restore", "/tmp/llmstack-backup-redis/dump.rdb"],
      env: {},
      network: "none",
      mounts: [{ volume: `${P}-redis-data`, target: "/data" }],
      stopped: `${P}-redis`,
    });
    // Started with AOF off so the RDB is what loads; AOF turned on and its rewrite waited for.
    expect(REDIS_RESTORE_SCRIPT).toContain("--appendonly no");
    expect(REDIS_RESTORE_SCRIPT).toContain("config set appendonly yes");
    expect(REDIS_RESTORE_SCRIPT).toContain("'^aof_rewrite_in_progress:0'");
    expect(REDIS_RESTORE_SCRIPT).toContain("'^aof_rewrite_scheduled:0'");
    expect(REDIS_RESTORE_SCRIPT).toContain("rm -rf appendonlydir appendonly.aof dump.rdb");
  });
});

describe("the programs the steps call", () => {
  it.each(["backup", "restore"] as const)("%s: each is in its image's record", (action) => {
    for (const step of storeSteps(plan, action)) {
      const called = step.entrypoint === "sh" ? programsInScript(step.argv[1]!) : [step.entrypoint];
      const has = imageFactsFor(step.image).programs;
      expect([step.store, called.filter((p) => !has.includes(p))]).toEqual([step.store, []]);
    }
  });

  it("the Python client uses the standard library only", () => {
    const imports = [...BACKUP_CLIENT.matchAll(/^import (.+)$/gm)].flatMap((m) => m[1]!.split(",").map((s) => s.trim()));
    expect(imports).toEqual([
      "datetime", "hashlib", "hmac", "io", "json", "os", "shutil", "sys", "tarfile", "urllib.error", "urllib.parse",
      "urllib.request", "xml.etree.ElementTree as ET",
    ]);
  });
});
