/**
 * The scheduled backup (`llmstack:backup`): the schema's errors, the three containers it plans (images,
 * entrypoints, commands, variables, the bind mount, the network), the programs they call against the
 * images' records, and the alerts. The runner and retention scripts run with sh against a temp directory.
 */
import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { RETENTION_SCRIPT, RUNNER_SCRIPT, SCHEDULER_SCRIPT } from "../../src/backup/scheduleScripts";
import { parseStackConfig } from "../../src/config/parse";
import { imageFactsFor } from "../../src/facts/images";
import { programsInScript } from "../../src/facts/shellPrograms";
import { alertRules } from "../../src/monitoring/rules";
import { scrapeJobs } from "../../src/monitoring/prometheus";
import { planJson } from "../../src/plan/render";
import { fleetPlan, fleetValues } from "../helpers/fleet";
import { container, planFromValues, planOf, rawValues } from "../helpers/stacks";

const P = "llm-multimodal-stack-production";
const BACKUP = { schedule: "03:30", keep: 7, to: "/srv/llmstack-backups" };

function withBackup(backup: unknown, stack = "production"): Record<string, unknown> {
  const v = rawValues(stack);
  v.backup = backup;
  return v;
}

const errorOf = (backup: unknown): string => {
  try {
    parseStackConfig(withBackup(backup), "Pulumi.production.yaml");
  } catch (e) {
    return (e as Error).message;
  }
  return "no error";
};
const invalid = (line: string): string =>
  `Pulumi.production.yaml: invalid stack config:\n  - ${line}\nFix these keys in Pulumi.production.yaml (every key is in docs/configuration.md).`;

describe("llmstack:backup", () => {
  it("takes one schedule form, a daily UTC time, and refuses others naming the key and the form", () => {
    expect(errorOf({ ...BACKUP, schedule: "every 24h" })).toBe(
      invalid('llmstack:backup.schedule: must be a daily time in UTC as "HH:MM" on a 24-hour clock, such as "03:30"; no other schedule form is read (got "every 24h")'),
    );
    expect(errorOf({ ...BACKUP, schedule: "24:00" })).toBe(
      invalid('llmstack:backup.schedule: must be a daily time in UTC as "HH:MM" on a 24-hour clock, such as "03:30"; no other schedule form is read (got "24:00")'),
    );
  });

  it("keeps at least one backup, in a host directory given by absolute path", () => {
    expect(errorOf({ ...BACKUP, keep: 0 })).toBe(
      invalid("llmstack:backup.keep: must be 1 or more: the newest complete backup is always kept (got 0)"),
    );
    expect(errorOf({ ...BACKUP, to: "backups" })).toBe(
      invalid('llmstack:backup.to: must be an absolute directory path on the Docker host, such as /srv/llmstack-backups (got "backups")'),
    );
    expect(errorOf({ ...BACKUP, extra: 1 })).toBe(
      invalid("llmstack:backup.extra: unknown key; allowed keys here are schedule, keep, to; check the spelling or remove it"),
    );
  });

  it("plans nothing when absent: the checked-in stacks have no backup container", () => {
    for (const stack of ["development", "staging", "production"]) {
      expect(planOf(stack).containers.filter((c) => c.service.startsWith("backup")).map((c) => c.name)).toEqual([]);
    }
  });
});

describe("the scheduled backup's containers", () => {
  const plan = planFromValues(withBackup(BACKUP));
  const sched = container(plan, "backup");
  const pg = container(plan, "backup-postgres");
  const redis = container(plan, "backup-redis");
  const json = planJson(plan) as { containers: Record<string, any>[] };
  const rendered = (service: string) => json.containers.find((c) => c.service === service)!;

  it("runs the scheduler in LiteLLM's image and each runner in its store's image, on the stack network", () => {
    expect([sched, pg, redis].map((c) => [c.name, c.image, c.entrypoints?.slice(0, 2), c.dependsOn])).toEqual([
      [`${P}-backup`, container(plan, "litellm").image, ["python3", "-c"], ["postgres", "redis", "qdrant", "object-store"]],
      [`${P}-backup-postgres`, container(plan, "postgres").image, ["sh", "-c"], ["postgres"]],
      [`${P}-backup-redis`, container(plan, "redis").image, ["sh", "-c"], ["redis"]],
    ]);
    for (const s of ["backup", "backup-postgres", "backup-redis"]) {
      expect([s, rendered(s).networksAdvanced, rendered(s).volumes, rendered(s).restart, rendered(s).memory]).toEqual([
        s,
        [{ name: P, aliases: [s] }],
        [{ hostPath: "/srv/llmstack-backups", containerPath: "/backups" }],
        "unless-stopped",
        512,
      ]);
    }
  });

  it("runs llmstack backup's own steps, with the stack's secrets by reference", () => {
    expect(pg.entrypoints).toEqual(["sh", "-c", RUNNER_SCRIPT, "runner"]);
    expect(pg.command).toEqual([
      "pg_dump", "--host", `${P}-postgres`, "--port", "5432", "--username", "litellm", "--dbname", "litellm",
      "--format=custom", "--file", "/tmp/llmstack-backup-postgres/postgres.dump",
    ]);
    expect(pg.env).toEqual({
      PGPASSWORD: { secret: "postgresPassword" },
      LLMSTACK_STORE: "postgres",
      LLMSTACK_ARTEFACTS: "/tmp/llmstack-backup-postgres",
      LLMSTACK_ROOT: "/backups",
      LLMSTACK_KEEP: "7",
      LLMSTACK_RETENTION: RETENTION_SCRIPT,
    });
    expect(redis.command).toEqual(["redis-cli", "-h", `${P}-redis`, "-p", "6379", "--rdb", "/tmp/llmstack-backup-redis/dump.rdb"]);
    expect(redis.env).toEqual({
      REDISCLI_AUTH: { secret: "redisPassword" },
      LLMSTACK_STORE: "redis",
      LLMSTACK_ARTEFACTS: "/tmp/llmstack-backup-redis",
      LLMSTACK_ROOT: "/backups",
    });
    expect(sched.entrypoints).toEqual(["python3", "-c", SCHEDULER_SCRIPT]);
    const { LLMSTACK_BACKUP, ...rest } = sched.env;
    expect(rest).toEqual({
      QDRANT_URL: `http://${P}-qdrant:6333`,
      QDRANT_API_KEY: { secret: "qdrantApiKey" },
      S3_ENDPOINT: `http://${P}-object-store:8333`,
      S3_ACCESS_KEY: "llmstack",
      S3_SECRET_KEY: { secret: "objectStoreSecretKey" },
    });
    const settings = JSON.parse(LLMSTACK_BACKUP as string);
    expect([settings.root, settings.hour, settings.minute, settings.stack, settings.port, settings.timeout]).toEqual([
      "/backups", 3, 30, "production", 9477, 14400,
    ]);
    expect(settings.images.postgres).toEqual({ image: container(plan, "postgres").image, version: "16.10" });
    expect(Object.keys(settings.steps)).toEqual(["qdrant", "object-store"]);
    expect(settings.steps.qdrant.argv.slice(0, 2)).toEqual(["python3", "-c"]);
    expect(settings.steps.qdrant.argv.slice(3)).toEqual(["qdrant-backup", "/tmp/llmstack-backup-qdrant"]);
  });

  it("calls only programs the images' records list, retention included", () => {
    const facts = (image: string) => imageFactsFor(image);
    expect(programsInScript(RUNNER_SCRIPT)).toEqual(["rm", "mkdir", "$@", "cp", "sh", "sleep"]);
    expect(programsInScript(RETENTION_SCRIPT)).toEqual(["rm"]);
    for (const p of [...programsInScript(RUNNER_SCRIPT), ...programsInScript(RETENTION_SCRIPT)].filter((x) => x !== "$@")) {
      expect([p, facts(pg.image)?.programs.includes(p), facts(redis.image)?.programs.includes(p)]).toEqual([p, true, true]);
    }
    expect(facts(sched.image)?.programs.includes("python3")).toBe(true);
  });

  it("is scraped by Prometheus and alerts on a failed, a missing and an unreachable backup", () => {
    const values = withBackup(BACKUP);
    values.monitoring = { ...(values.monitoring as object), enabled: true };
    const config = parseStackConfig(values, "Pulumi.production.yaml");
    const ctx = { project: "llm-multimodal-stack", stack: "production", stackFile: "Pulumi.production.yaml", config };
    expect(scrapeJobs(ctx).find((j) => j.job === "backup")).toEqual({ job: "backup", target: "backup:9477", metricsPath: "/metrics" });
    const rules = alertRules(ctx, config.monitoring!).filter((r) => r.alert.startsWith("Backup"));
    expect(rules.map((r) => [r.alert, r.expr, r.for, r.labels.severity])).toEqual([
      ["BackupFailed", "llmstack_backup_last_run_success == 0", "1m", "critical"],
      ["BackupMissing", "time() - llmstack_backup_last_success_timestamp_seconds > 172800", "10m", "critical"],
      ["BackupSchedulerDown", 'up{job="backup"} == 0', "10m", "warning"],
    ]);
    const without = { ...ctx, config: parseStackConfig({ ...values, backup: undefined }, "Pulumi.production.yaml") };
    expect(alertRules(without, config.monitoring!).filter((r) => r.alert.startsWith("Backup"))).toEqual([]);
  });
});

const sh = (script: string, args: string[], env: Record<string, string> = {}): string =>
  execFileSync("sh", ["-c", script, "test", ...args], { encoding: "utf8", env: { PATH: process.env.PATH ?? "", ...env } });

describe("the scheduled backup on a stack with hosts", () => {
  const values = fleetValues();
  values.backup = BACKUP;
  const plan = fleetPlan(values);
  const prometheus = plan.containers.find((c) => c.service === "prometheus")!;

  it("runs on the state host, beside the stores it reaches by name, writing to that host's directory", () => {
    const backup = plan.containers.filter((c) => c.service.startsWith("backup"));
    expect(backup.map((c) => [c.service, c.placement?.host, c.host, c.binds])).toEqual(
      ["backup", "backup-postgres", "backup-redis"].map((s) => [
        s,
        "control",
        "ssh://deploy@10.20.0.10",
        [{ hostPath: "/srv/llmstack-backups", containerPath: "/backups" }],
      ]),
    );
    const stores = plan.containers.filter((c) => ["postgres", "redis", "qdrant", "object-store"].includes(c.service));
    expect(new Set(stores.map((c) => c.placement?.host))).toEqual(new Set(["control"]));
  });

  it("is scraped by the Prometheus on the same host, by name", () => {
    expect(prometheus.placement?.host).toBe("control");
    const config = prometheus.uploads.find((u) => u.file.endsWith("prometheus.yml"))!.content as string;
    expect(config).toContain("  - job_name: backup\n    metrics_path: /metrics\n    static_configs:\n      - targets:\n          - backup:9477\n");
  });
});

describe("the runner and retention scripts, run with sh", () => {
  it("runs the step for a requested backup, copies its artefacts and records the outcome once", () => {
    const root = mkdtempSync(join(tmpdir(), "llmstack-sched-"));
    const art = join(root, "art");
    mkdirSync(join(root, "20261203T033000Z.partial"));
    writeFileSync(join(root, "20261203T033000Z.partial", "request"), "x\n");
    mkdirSync(join(root, "20261202T033000Z.partial"));
    const env = { LLMSTACK_STORE: "postgres", LLMSTACK_ARTEFACTS: art, LLMSTACK_ROOT: root, LLMSTACK_ONCE: "1" };
    sh(RUNNER_SCRIPT, ["sh", "-c", `echo dumped; printf data > ${art}/postgres.dump`], env);
    const d = join(root, "20261203T033000Z.partial");
    expect(readdirSync(d).sort()).toEqual(["postgres", "postgres.done", "postgres.log", "request"]);
    expect(readFileSync(join(d, "postgres", "postgres.dump"), "utf8")).toBe("data");
    expect(readFileSync(join(d, "postgres.log"), "utf8")).toBe("dumped\n");
    // Without a request nothing runs; a store with an outcome is not run again.
    expect(readdirSync(join(root, "20261202T033000Z.partial"))).toEqual([]);
    sh(RUNNER_SCRIPT, ["sh", "-c", "exit 1"], env);
    expect(existsSync(join(d, "postgres.failed"))).toBe(false);
    expect(existsSync(art)).toBe(false);
  });

  it("records a failed step as failed", () => {
    const root = mkdtempSync(join(tmpdir(), "llmstack-sched-"));
    mkdirSync(join(root, "20261203T033000Z.partial"));
    writeFileSync(join(root, "20261203T033000Z.partial", "request"), "x\n");
    const env = { LLMSTACK_STORE: "redis", LLMSTACK_ARTEFACTS: join(root, "art"), LLMSTACK_ROOT: root, LLMSTACK_ONCE: "1" };
    sh(RUNNER_SCRIPT, ["sh", "-c", "echo refused >&2; exit 3"], env);
    expect(readdirSync(join(root, "20261203T033000Z.partial")).sort()).toEqual(["redis", "redis.failed", "redis.log", "request"]);
    expect(readFileSync(join(root, "20261203T033000Z.partial", "redis.log"), "utf8")).toBe("refused\n");
  });

  it("keeps the newest N complete backups, never a partial one, and failed ones no older than those kept", () => {
    const root = mkdtempSync(join(tmpdir(), "llmstack-sched-"));
    const complete = ["20261201T033000Z", "20261202T033000Z", "20261204T033000Z", "20261205T033000Z"];
    for (const d of complete) {
      mkdirSync(join(root, d));
      writeFileSync(join(root, d, "manifest.json"), "{}\n");
    }
    // An old partial backup (one being written, or with its manifest just written), failed ones, and a
    // directory without a manifest: none of them counts as complete.
    mkdirSync(join(root, "20261130T033000Z.partial"));
    writeFileSync(join(root, "20261130T033000Z.partial", "manifest.json"), "{}\n");
    mkdirSync(join(root, "20261201T040000Z.failed"));
    mkdirSync(join(root, "20261203T033000Z.failed"));
    mkdirSync(join(root, "20261206T033000Z.failed"));
    mkdirSync(join(root, "20261129T000000Z"));
    const out = sh(RETENTION_SCRIPT, [root, "2"]);
    expect(readdirSync(root).sort()).toEqual([
      "20261129T000000Z",
      "20261130T033000Z.partial",
      "20261204T033000Z",
      "20261205T033000Z",
      "20261206T033000Z.failed",
    ]);
    expect(out).toBe(
      `deleted ${root}/20261201T033000Z\ndeleted ${root}/20261202T033000Z\n` +
        `deleted ${root}/20261201T040000Z.failed\ndeleted ${root}/20261203T033000Z.failed\n`,
    );
    // Fewer complete backups than kept: nothing goes.
    expect(sh(RETENTION_SCRIPT, [root, "5"])).toBe("");
    expect(readdirSync(root).length).toBe(5);
  });
});
