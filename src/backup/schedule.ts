/**
 * The scheduled backup (`llmstack:backup`), planned by the planner (src/plan/stack.ts) from the planned
 * stack, as the monitoring containers are by src/monitoring/plan.ts: three containers on the stack network that share one host
 * directory, bind-mounted at BACKUP_ROOT. They run the same backup steps as `llmstack backup`
 * (src/backup/steps.ts), each in the stack's image that has the step's program, and no image of their
 * own and no Docker socket:
 * - backup: the scheduler, in LiteLLM's image (python3): the Qdrant and object store steps, the manifest,
 *   and the metrics Prometheus scrapes;
 * - backup-postgres: pg_dump, in the Postgres image; it also applies retention;
 * - backup-redis: redis-cli --rdb, in the Redis image.
 * The credentials the CLI reads from the running stores are given here from the same stack secrets.
 */
import { BACKUP_METRICS_PORT, dailyTime, type BackupConfig } from "../config/backupSchema";
import type { ServiceName } from "../config/services";
import { baseContainer, MEMORY_LIMITS_MIB, physicalName, secret, type PlanContext } from "../plan/common";
import type { ContainerSpec, StackPlan, Text } from "../plan/types";
import { versionOf } from "./manifest";
import { BACKUP_ROOT, RETENTION_SCRIPT, RUNNER_SCRIPT, SCHEDULER_SCRIPT } from "./scheduleScripts";
import { STORES, storeSteps, type Credential, type StoreName, type StoreStep } from "./steps";

/** Seconds one scheduled backup may take before the scheduler records it as failed. */
export const BACKUP_TIMEOUT_SECONDS = 4 * 60 * 60;

/** The runner services, by the store each backs up. */
const RUNNERS = { postgres: "backup-postgres", redis: "backup-redis" } as const satisfies Partial<Record<StoreName, ServiceName>>;

/** A step's credential as plan text: the same stack secret (or value) the running store was given. */
function credentialText(plan: StackPlan, c: Credential): Text {
  switch (c.from) {
    case "value":
      return c.value;
    case "s3-identity":
      // The identities file of the object store carries this secret (src/plan/dataStores.ts).
      return secret("objectStoreSecretKey");
    case "env": {
      const text = plan.containers.find((x) => x.name === c.container)?.env[c.name];
      if (text === undefined) throw new Error(`${c.container} has no variable ${c.name} in the plan`);
      // Verbatim: the step reads the value from a variable, not from the store's own format.
      return typeof text === "object" && "secret" in text ? secret(text.secret) : text;
    }
  }
}

const envOf = (plan: StackPlan, step: StoreStep): Record<string, Text> =>
  Object.fromEntries(Object.entries(step.env).map(([k, c]) => [k, credentialText(plan, c)]));

/** The scheduled backup's containers for a planned stack; none without `llmstack:backup`. */
export function planBackupSchedule(ctx: PlanContext, plan: StackPlan): ContainerSpec[] {
  const cfg: BackupConfig | undefined = ctx.config.backup;
  if (cfg === undefined) return [];
  const steps = new Map(storeSteps(plan, "backup").map((s) => [s.store, s]));
  const step = (store: StoreName): StoreStep => steps.get(store)!;
  const binds = [{ hostPath: cfg.to, containerPath: BACKUP_ROOT }];
  const common = {
    ...baseContainer(ctx),
    command: [],
    binds,
    memory: MEMORY_LIMITS_MIB.backup,
    // Long-running, with no health check: the create waits for nothing but the start.
    wait: false,
  };
  const runner = (store: keyof typeof RUNNERS): ContainerSpec => {
    const s = step(store);
    return {
      ...common,
      service: RUNNERS[store],
      name: physicalName(ctx, RUNNERS[store]),
      image: s.image,
      entrypoints: ["sh", "-c", RUNNER_SCRIPT, "runner"],
      command: [s.entrypoint, ...s.argv],
      env: {
        ...envOf(plan, s),
        LLMSTACK_STORE: store,
        LLMSTACK_ARTEFACTS: s.dir,
        LLMSTACK_ROOT: BACKUP_ROOT,
        // Retention runs in one runner, the Postgres image's, which has rm (src/facts/imageRecords.ts).
        ...(store === "postgres" ? { LLMSTACK_KEEP: String(cfg.keep), LLMSTACK_RETENTION: RETENTION_SCRIPT } : {}),
      },
      dependsOn: [store],
    };
  };
  const own = (["qdrant", "object-store"] as const).map(step);
  const { hour, minute } = dailyTime(cfg.schedule);
  const settings = {
    root: BACKUP_ROOT,
    hour,
    minute,
    stack: plan.stack,
    timeout: BACKUP_TIMEOUT_SECONDS,
    port: BACKUP_METRICS_PORT,
    images: Object.fromEntries(
      STORES.map((s) => {
        const image = plan.containers.find((c) => c.service === s)!.image;
        return [s, { image, version: versionOf(image) }];
      }),
    ),
    artefacts: Object.fromEntries(STORES.map((s) => [s, step(s).artefact])),
    steps: Object.fromEntries(own.map((s) => [s.store, { argv: [s.entrypoint, ...s.argv], dir: s.dir }])),
  };
  const scheduler: ContainerSpec = {
    ...common,
    service: "backup",
    name: physicalName(ctx, "backup"),
    image: own[0]!.image,
    entrypoints: ["python3", "-c", SCHEDULER_SCRIPT],
    env: { ...own.reduce((e, s) => ({ ...e, ...envOf(plan, s) }), {}), LLMSTACK_BACKUP: JSON.stringify(settings) },
    dependsOn: [...STORES],
  };
  return [scheduler, runner("postgres"), runner("redis")];
}
