/**
 * The runner against a fake docker CLI: what it asks the host, in which order, where the credentials go
 * (the docker CLI's environment, never its argv), the manifest it writes, and the host it leaves alone
 * when a store is not running.
 */
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { BackupError } from "../../src/backup/errors";
import { backupStack, restoreStack } from "../../src/backup/run";
import type { ExecFn, ExecOptions } from "../../src/exec";
import { planOf } from "../helpers/stacks";

const plan = planOf("development");
const P = "llm-multimodal-stack-development";
const NOW = Date.parse("2026-01-31T02:03:04Z");
const STAMP = "20260131t020304";

interface Call {
  readonly args: readonly string[];
  readonly env: NodeJS.ProcessEnv | undefined;
}

/** A host where every store runs with these variables; `docker cp` out writes one file per store. */
function host(running = true): { exec: ExecFn; calls: Call[] } {
  const calls: Call[] = [];
  const env: Record<string, string[]> = {
    [`${P}-postgres`]: ["POSTGRES_PASSWORD=pg-secret", "POSTGRES_USER=litellm"],
    [`${P}-redis`]: ["REDISCLI_AUTH=redis-secret"],
    [`${P}-qdrant`]: ["QDRANT__SERVICE__API_KEY=qdrant-secret"],
    [`${P}-object-store`]: [],
  };
  const exec: ExecFn = async (file, argv, opts?: ExecOptions) => {
    const args = argv.slice(2);
    calls.push({ args, env: opts?.env });
    const ok = (stdout = "") => ({ code: 0, stdout, stderr: "" });
    if (file !== "docker" || argv[0] !== "--host" || argv[1] !== "unix:///var/run/docker.sock") return { code: 127, stdout: "", stderr: "no" };
    if (args[0] === "container" && args[1] === "inspect") {
      const name = args.at(-1)!;
      return ok(JSON.stringify({ running, image: `image-of-${name.slice(P.length + 1)}:1.2.3`, env: env[name] }));
    }
    if (args[0] === "exec") return ok('{"identities":[{"name":"llmstack","credentials":[{"accessKey":"llmstack","secretKey":"s3-secret"}]}]}\n');
    if (args[0] === "cp" && args[1]!.includes(":")) {
      const store = args[1]!.split(":")[1]!.replace("/tmp/llmstack-backup-", "").replace("/.", "");
      mkdirSync(args[2]!, { recursive: true });
      writeFileSync(join(args[2]!, `${store}.bin`), store);
    }
    if (args[0] === "start" && args[1] === "--attach") return ok(`${args[2]} done\n`);
    return ok();
  };
  return { exec, calls };
}

const deps = (exec: ExecFn, log: string[] = []) => ({ exec, env: { PATH: "/usr/bin" }, now: () => NOW, log: (l: string) => log.push(l) });

describe("backupStack", () => {
  it("copies every store out of its one-shot container and writes the manifest", async () => {
    const { exec, calls } = host();
    const dir = join(mkdtempSync(join(tmpdir(), "llmstack-run-test-")), "b");
    const m = await backupStack(plan, dir, deps(exec));
    const postgres = calls.filter((c) => c.args.some((a) => a.includes(`${P}-postgres-backup-${STAMP}`))).map((c) => c.args.slice(0, 2).join(" "));
    expect(postgres).toEqual(["create --name", "start --attach", `cp ${P}-postgres-backup-${STAMP}:/tmp/llmstack-backup-postgres/.`, "rm --force"]);
    const sha = (t: string) => createHash("sha256").update(t).digest("hex");
    expect(m).toEqual({
      format: 1,
      stack: "development",
      time: "2026-01-31T02:03:04.000Z",
      stores: {
        postgres: { image: "image-of-postgres:1.2.3", version: "1.2.3", artefact: "pg_dump custom-format archive (-Fc)", files: [{ file: "postgres/postgres.bin", size: 8, sha256: sha("postgres") }] },
        redis: { image: "image-of-redis:1.2.3", version: "1.2.3", artefact: "RDB snapshot", files: [{ file: "redis/redis.bin", size: 5, sha256: sha("redis") }] },
        qdrant: { image: "image-of-qdrant:1.2.3", version: "1.2.3", artefact: "one Qdrant snapshot per collection", files: [{ file: "qdrant/qdrant.bin", size: 6, sha256: sha("qdrant") }] },
        "object-store": { image: "image-of-object-store:1.2.3", version: "1.2.3", artefact: "a tar of every bucket and object", files: [{ file: "object-store/object-store.bin", size: 12, sha256: sha("object-store") }] },
      },
    });
    expect(JSON.parse(readFileSync(join(dir, "manifest.json"), "utf8"))).toEqual(m);
  });

  it("hands each credential to docker create through the environment, never on a command line", async () => {
    const { exec, calls } = host();
    await backupStack(plan, join(mkdtempSync(join(tmpdir(), "llmstack-run-test-")), "b"), deps(exec));
    const creates = calls.filter((c) => c.args[0] === "create");
    expect(creates.map((c) => Object.fromEntries(Object.entries(c.env!).filter(([k]) => k !== "PATH")))).toEqual([
      { PGPASSWORD: "pg-secret" },
      { REDISCLI_AUTH: "redis-secret" },
      { QDRANT_URL: `http://${P}-qdrant:6333`, QDRANT_API_KEY: "qdrant-secret" },
      { S3_ENDPOINT: `http://${P}-object-store:8333`, S3_ACCESS_KEY: "llmstack", S3_SECRET_KEY: "s3-secret" },
    ]);
    const argv = calls.flatMap((c) => c.args).join(" ");
    for (const secret of ["pg-secret", "redis-secret", "qdrant-secret", "s3-secret"]) expect(argv).not.toContain(secret);
  });

  it("refuses a directory that holds a backup, and a stack whose store is stopped, before any container is made", async () => {
    const dir = mkdtempSync(join(tmpdir(), "llmstack-run-test-"));
    writeFileSync(join(dir, "manifest.json"), "{}");
    const { exec, calls } = host();
    await expect(backupStack(plan, dir, deps(exec))).rejects.toThrow(
      new BackupError(
        `${dir} already holds a backup (manifest.json or a store's directory); a backup never overwrites another`,
        "llmstack backup --stack development --to <a new directory>",
      ),
    );
    expect(calls).toEqual([]);
    const stopped = host(false);
    const fresh = join(dir, "new");
    await expect(backupStack(plan, fresh, deps(stopped.exec))).rejects.toThrow(
      `the postgres container ${P}-postgres is not running on unix:///var/run/docker.sock; backup needs every data store of the stack running, and nothing was changed`,
    );
    expect(stopped.calls.map((c) => c.args[0])).toEqual(["container"]);
    expect(existsSync(fresh)).toBe(false);
  });
});

describe("restoreStack", () => {
  it("copies each store's files in first, removes each one-shot container, and stops Redis around its step only", async () => {
    const { exec, calls } = host();
    const dir = mkdtempSync(join(tmpdir(), "llmstack-run-test-"));
    await restoreStack(plan, dir, deps(exec));
    const asked = calls.filter((c) => !["container", "exec"].includes(c.args[0]!)).map((c) => c.args.slice(0, 3).join(" ").replace(`-${STAMP}`, ""));
    const of = (store: string) => asked.filter((a) => a.includes(`${P}-${store}`));
    expect(of("postgres")).toEqual([
      `create --name ${P}-postgres-restore`,
      `cp ${dir}/postgres/. ${P}-postgres-restore:/tmp/llmstack-backup-postgres`,
      `start --attach ${P}-postgres-restore`,
    ]);
    expect(of("redis")).toEqual([
      `stop ${P}-redis`,
      `create --name ${P}-redis-restore`,
      `cp ${dir}/redis/. ${P}-redis-restore:/tmp/llmstack-backup-redis`,
      `start --attach ${P}-redis-restore`,
      `start ${P}-redis`,
    ]);
    expect(asked.filter((a) => a.startsWith("rm"))).toEqual(Array(4).fill("rm --force --volumes"));
    expect(asked.filter((a) => a.startsWith("stop"))).toEqual([`stop ${P}-redis`]);
  });
});
