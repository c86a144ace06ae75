/**
 * The scheduled backup (`llmstack:backup`) on a real Docker daemon (.ci/start-dockerd.sh): the cpu-mode
 * development stack's data stores on the stand-in images, with the three backup containers as the
 * program registers them and the backup directory bind-mounted from a temp directory. The schedule is set
 * a few minutes ahead; the test waits for the dated directory and checks it the way `llmstack restore
 * --from` does (manifest, stack, versions, sizes and sha256), and reads the scheduler's metrics.
 *
 * Its containers, network and volumes carry their own project name (llmstack-sched-<pid>).
 */
import { execFileSync } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type Dockerode from "dockerode";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { checkBackup } from "../../src/backup/run";
import { parseStackConfig } from "../../src/config/parse";
import { planStack } from "../../src/plan/stack";
import type { StackPlan } from "../../src/plan/types";
import { TEST_SECRETS } from "../helpers/pulumiMocks";
import { rawValues } from "../helpers/stacks";
import { Applier } from "./applier/apply";
import { registeredStack, type StackInputs } from "./applier/inputs";
import { requireDaemon, testDocker } from "./daemon";
import { buildStandins } from "./images/build";
import { postgresSql, purge, redisCli } from "./stackData";

const PROJECT = `llmstack-sched-${process.pid}`;
const RUN = ["postgres", "redis", "qdrant", "object-store", "backup", "backup-postgres", "backup-redis"];
const STAMP = /^\d{8}T\d{6}Z$/;

/** The UTC time `minutes` from now, as "HH:MM". */
function inMinutes(minutes: number): string {
  const t = new Date(Date.now() + minutes * 60_000);
  return `${String(t.getUTCHours()).padStart(2, "0")}:${String(t.getUTCMinutes()).padStart(2, "0")}`;
}

describe("the scheduled backup on a real Docker daemon", () => {
  let host = "";
  let docker: Dockerode;
  let stack: StackInputs;
  /** The whole registered stack, which the data helpers read (the gateway's DATABASE_URL). */
  let full: StackInputs;
  let plan: StackPlan;
  const dir = mkdtempSync(join(tmpdir(), "llmstack-sched-test-"));

  beforeAll(async () => {
    host = requireDaemon();
    docker = testDocker(host);
    await buildStandins(docker);
    const edits = { dockerHost: host, gpu: { mode: "cpu" }, backup: { schedule: inMinutes(2), keep: 1, to: dir } };
    const overrides = Object.fromEntries(Object.entries(edits).map(([k, v]) => [`llmstack:${k}`, v]));
    const registered = await registeredStack("development", overrides, TEST_SECRETS);
    const from = registered.network.name;
    const renamed = JSON.parse(JSON.stringify(registered).split(from).join(`${PROJECT}-development`)) as StackInputs;
    full = renamed;
    stack = { ...renamed, containers: renamed.containers.filter((c) => RUN.some((s) => c.name === `${PROJECT}-development-${s}`)) };
    plan = planStack({
      project: PROJECT,
      stack: "development",
      stackFile: "Pulumi.development.yaml",
      config: parseStackConfig({ ...rawValues("development"), ...edits }, "Pulumi.development.yaml"),
      secretsPresent: new Set(),
    });
    await purge(docker, stack);
    const up = await new Applier(docker, 180).up(stack);
    expect([...up.failures]).toEqual([]);
  }, 600_000);

  afterAll(async () => {
    if (stack && docker) await purge(docker, stack);
    rmSync(dir, { recursive: true, force: true });
  });

  it("writes a dated backup that restore's checks accept, and reports it to Prometheus", async () => {
    expect(stack.containers.map((c) => c.name.slice(`${PROJECT}-development-`.length)).sort()).toEqual([...RUN].sort());
    expect((await postgresSql(docker, full, "CREATE TABLE proof (k text); INSERT INTO proof VALUES ('kept')")).code).toBe(0);
    expect((await redisCli(docker, full, "SET", "proof", "kept")).out.trim()).toBe("OK");
    // The schedule is two minutes ahead: wait for the renamed, complete directory (at most 6 minutes).
    let done: string[] = [];
    for (let i = 0; i < 360 && done.length === 0; i++) {
      await new Promise((r) => setTimeout(r, 1000));
      done = readdirSync(dir).filter((d) => STAMP.test(d) && existsSync(join(dir, d, "manifest.json")));
    }
    const logs = (name: string): string =>
      execFileSync("docker", ["--host", host, "logs", `${PROJECT}-development-${name}`], { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });
    expect([done.length, readdirSync(dir).join(","), logs("backup")]).toEqual([1, done[0], expect.stringContaining("complete")]);
    const manifest = await checkBackup(plan, join(dir, done[0]!));
    expect(Object.fromEntries(Object.entries(manifest.stores).map(([s, e]) => [s, e.files.map((f) => f.file)]))).toEqual({
      postgres: ["postgres/postgres.dump"],
      redis: ["redis/dump.rdb"],
      qdrant: [],
      "object-store": ["object-store/objects.tar"],
    });
    const metrics = execFileSync(
      "docker",
      ["--host", host, "exec", `${PROJECT}-development-backup`, "python3", "-c",
        "import urllib.request; print(urllib.request.urlopen('http://127.0.0.1:9477/metrics').read().decode())"],
      { encoding: "utf8" },
    );
    expect(metrics).toContain("llmstack_backup_last_run_success 1.0\n");
    expect(metrics).toContain("llmstack_backup_complete 1.0\n");
  }, 600_000);
});
