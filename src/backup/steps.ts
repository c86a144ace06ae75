/**
 * What a backup or a restore runs for each data store, as plain data: the one-shot container's image,
 * entrypoint, argv, environment (by name: the values are read from the running store at run time, never
 * written here or on a command line), network and mounts, and where its artefacts lie in it. The runner
 * (./run.ts) turns a step into docker CLI calls; a scheduled runner can reuse the same steps.
 *
 * Each step calls only programs its image has (src/facts/imageRecords.ts, held by test/backup/steps.test.ts):
 * - Postgres: pg_dump in custom format (-Fc) and pg_restore, from the stack's own Postgres image, over
 *   the stack network (https://www.postgresql.org/docs/16/app-pgdump.html, app-pgrestore.html).
 * - Redis: `redis-cli --rdb` from the stack's Redis image: the server sends a point-in-time RDB as it does
 *   to a replica (https://redis.io/docs/latest/develop/tools/cli/, "Remote backups of RDB files"). Restore
 *   loads it into the stopped store's volume with AOF off, then turns AOF on and waits for its rewrite
 *   (./scripts.ts): an RDB beside an empty AOF comes back empty, as Redis prefers the AOF.
 * - Qdrant and the object store: the Qdrant image has neither curl nor wget, and SeaweedFS's has only
 *   BusyBox wget (no S3 signing), so their HTTP APIs are called by a Python script (./scripts.ts, the
 *   standard library only) in the stack's LiteLLM image, which has python3.
 */
import { INTERNAL_PORTS, OBJECT_STORE_ACCESS_KEY, PG_DB, PG_USER } from "../plan/common";
import { DATA_VOLUMES, S3_CONFIG_PATH } from "../plan/dataStores";
import type { ContainerSpec, StackPlan } from "../plan/types";
import { BackupError } from "./errors";
import { BACKUP_CLIENT, REDIS_RESTORE_SCRIPT } from "./scripts";

export const STORES = ["postgres", "redis", "qdrant", "object-store"] as const;
export type StoreName = (typeof STORES)[number];

/** Where a credential's value comes from when the step runs. */
export type Credential =
  /** A variable of the running store container's environment (`docker container inspect`). */
  | { readonly from: "env"; readonly container: string; readonly name: string }
  /** The secret key of the first identity in SeaweedFS's identities file, read from the running store. */
  | { readonly from: "s3-identity"; readonly container: string; readonly file: string; readonly accessKey: string }
  | { readonly from: "value"; readonly value: string };

export interface StoreStep {
  readonly store: StoreName;
  readonly action: "backup" | "restore";
  /** The Docker host (`--host`) the store runs on. */
  readonly host: string;
  /** The store container the step reads from or writes to. */
  readonly target: string;
  readonly image: string;
  readonly entrypoint: string;
  readonly argv: readonly string[];
  /** Variables of the one-shot container, passed by name (`--env NAME`), so no value is on a command line. */
  readonly env: Readonly<Record<string, Credential>>;
  /** The stack network, or "none" when the step needs no network. */
  readonly network: string;
  readonly mounts: readonly { readonly volume: string; readonly target: string }[];
  /** The directory in the one-shot container that holds the store's artefacts (copied out or in whole). */
  readonly dir: string;
  /** What the artefacts are, for the manifest and the output. */
  readonly artefact: string;
  /** A container stopped before the step runs and started after it (Redis: its data files are replaced). */
  readonly stopped?: string;
}

/** Where the artefacts of a store lie in its one-shot container: /tmp exists in every image. */
export const artefactDir = (store: StoreName): string => `/tmp/llmstack-backup-${store}`;

/** The store's container in the plan; a stack without it cannot be backed up or restored. */
export function storeContainer(plan: StackPlan, store: StoreName): ContainerSpec {
  const c = plan.containers.find((x) => x.service === store);
  if (c === undefined) {
    throw new BackupError(
      `${plan.stackFile}: the stack ${plan.stack} plans no ${store} container, so it has no ${store} data to back up or restore`,
      `llmstack plan --stack ${plan.stack}`,
    );
  }
  return c;
}

function volumeOf(plan: StackPlan, key: string): string {
  const v = plan.volumes.find((x) => x.key === key);
  if (v === undefined) throw new BackupError(`${plan.stackFile}: the plan has no volume ${key}`, `llmstack plan --stack ${plan.stack}`);
  return v.name;
}

/** The image that runs the HTTP client: the stack's LiteLLM image, which has python3. */
function clientImage(plan: StackPlan): string {
  const c = plan.containers.find((x) => x.service === "litellm");
  if (c === undefined) {
    throw new BackupError(
      `${plan.stackFile}: the stack ${plan.stack} plans no litellm container, whose image runs the client of the Qdrant and object store APIs`,
      `llmstack plan --stack ${plan.stack}`,
    );
  }
  return c.image;
}

const env = (container: string, name: string): Credential => ({ from: "env", container, name });

function postgres(plan: StackPlan, action: StoreStep["action"]): StoreStep {
  const pg = storeContainer(plan, "postgres");
  const conn = ["--host", pg.name, "--port", String(INTERNAL_PORTS.postgres), "--username", PG_USER, "--dbname", PG_DB];
  const file = `${artefactDir("postgres")}/postgres.dump`;
  return {
    store: "postgres",
    action,
    host: pg.host,
    target: pg.name,
    image: pg.image,
    entrypoint: action === "backup" ? "pg_dump" : "pg_restore",
    // --clean --if-exists drops what the dump recreates; one transaction, so a failed restore changes nothing.
    argv:
      action === "backup"
        ? [...conn, "--format=custom", "--file", file]
        : [...conn, "--clean", "--if-exists", "--single-transaction", "--exit-on-error", "--no-password", file],
    env: { PGPASSWORD: env(pg.name, "POSTGRES_PASSWORD") },
    network: plan.network.name,
    mounts: [],
    dir: artefactDir("postgres"),
    artefact: "pg_dump custom-format archive (-Fc)",
  };
}

function redis(plan: StackPlan, action: StoreStep["action"]): StoreStep {
  const r = storeContainer(plan, "redis");
  const dir = artefactDir("redis");
  const common = { store: "redis", action, host: r.host, target: r.name, image: r.image, dir, artefact: "RDB snapshot" } as const;
  if (action === "backup") {
    return {
      ...common,
      entrypoint: "redis-cli",
      argv: ["-h", r.name, "-p", String(INTERNAL_PORTS.redis), "--rdb", `${dir}/dump.rdb`],
      env: { REDISCLI_AUTH: env(r.name, "REDISCLI_AUTH") },
      network: plan.network.name,
      mounts: [],
    };
  }
  return {
    ...common,
    entrypoint: "sh",
    argv: ["-c", REDIS_RESTORE_SCRIPT, "redis-restore", `${dir}/dump.rdb`],
    env: {},
    network: "none",
    mounts: [{ volume: volumeOf(plan, DATA_VOLUMES.redis), target: "/data" }],
    stopped: r.name,
  };
}

function client(plan: StackPlan, store: "qdrant" | "object-store", action: StoreStep["action"]): StoreStep {
  const s = storeContainer(plan, store);
  const python = clientImage(plan);
  const dir = artefactDir(store);
  const vars: Record<string, Credential> =
    store === "qdrant"
      ? {
          QDRANT_URL: { from: "value", value: `http://${s.name}:${INTERNAL_PORTS.qdrant}` },
          QDRANT_API_KEY: env(s.name, "QDRANT__SERVICE__API_KEY"),
        }
      : {
          S3_ENDPOINT: { from: "value", value: `http://${s.name}:${INTERNAL_PORTS.objectStore}` },
          S3_ACCESS_KEY: { from: "value", value: OBJECT_STORE_ACCESS_KEY },
          S3_SECRET_KEY: { from: "s3-identity", container: s.name, file: S3_CONFIG_PATH, accessKey: OBJECT_STORE_ACCESS_KEY },
        };
  return {
    store,
    action,
    host: s.host,
    target: s.name,
    image: python,
    entrypoint: "python3",
    argv: ["-c", BACKUP_CLIENT, `${store}-${action}`, dir],
    env: vars,
    network: plan.network.name,
    mounts: [],
    dir,
    artefact: store === "qdrant" ? "one Qdrant snapshot per collection" : "a tar of every bucket and object",
  };
}

/** The steps of a backup or a restore of every store, in this order. */
export function storeSteps(plan: StackPlan, action: StoreStep["action"]): StoreStep[] {
  return STORES.map((store) => {
    switch (store) {
      case "postgres":
        return postgres(plan, action);
      case "redis":
        return redis(plan, action);
      case "qdrant":
      case "object-store":
        return client(plan, store, action);
    }
  });
}
