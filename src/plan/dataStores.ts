/**
 * Postgres, Redis, Qdrant and the S3-compatible object store. Each keeps its data in a named volume
 * that outlives the container and the stack, and has a health check built from tools in its own image.
 */
import {
  baseContainer,
  healthcheck,
  INTERNAL_PORTS,
  join,
  MEMORY_LIMITS_MIB,
  OBJECT_STORE_ACCESS_KEY,
  PG_DB,
  PG_USER,
  physicalName,
  secret,
  STOP_TIMEOUTS,
  type PlanContext,
  type Planners,
} from "./common";
import type { ContainerSpec } from "./types";
import { StackConfigError } from "../config/errors";
import { postgresDataLayout, postgresMajor } from "../facts/postgres";

export const DATA_VOLUMES = {
  postgres: "postgres-data",
  redis: "redis-data",
  qdrant: "qdrant-data",
  objectStore: "object-store-data",
} as const;

/**
 * The data volume is mounted where the image's major version keeps its data (src/facts/postgres.ts): 17
 * and older at /var/lib/postgresql/data, 18 and newer at /var/lib/postgresql. A different mount on a volume
 * that already holds data is a major-version change; the preflight check `postgres.data` refuses it before
 * anything is replaced.
 */
export function postgresMount(ctx: PlanContext): string {
  const image = ctx.config.images.postgres;
  const major = postgresMajor(image);
  if (major === null) {
    throw new StackConfigError(
      `${ctx.stackFile}: llmstack:images.postgres is "${image}", whose tag names no Postgres major version, so ` +
        `neither the data volume's mount path (the official image moved it in 18) nor a major-version change on ` +
        `the retained volume can be worked out. Allowed: a tag that starts with the major version, such as ` +
        `postgres:16.10 or postgres:16.10@sha256:<digest>. Fix: set llmstack:images.postgres to the version the ` +
        `volume was created with (\`llmstack images pin\` then adds the digest and keeps the tag).`,
    );
  }
  return postgresDataLayout(major).mount;
}

export function planPostgres(ctx: PlanContext): ContainerSpec {
  return {
    ...baseContainer(ctx),
    service: "postgres",
    name: physicalName(ctx, "postgres"),
    image: ctx.config.images.postgres,
    command: [],
    env: { POSTGRES_USER: PG_USER, POSTGRES_DB: PG_DB, POSTGRES_PASSWORD: secret("postgresPassword", "line") },
    volumes: [{ volume: DATA_VOLUMES.postgres, containerPath: postgresMount(ctx) }],
    healthcheck: healthcheck(["CMD", "pg_isready", "-U", PG_USER, "-d", PG_DB], 30),
    memory: MEMORY_LIMITS_MIB.postgres,
    stopTimeout: STOP_TIMEOUTS.postgres,
    waitTimeout: 180,
  };
}

export const REDIS_CONF_PATH = "/usr/local/etc/redis/redis.conf";

/**
 * The password lives in a config file the program delivers, never on a command line (`--requirepass`
 * would show in `docker inspect` and `ps`); the health check authenticates with REDISCLI_AUTH.
 */
export function planRedis(ctx: PlanContext): ContainerSpec {
  return {
    ...baseContainer(ctx),
    service: "redis",
    name: physicalName(ctx, "redis"),
    image: ctx.config.images.redis,
    command: ["redis-server", REDIS_CONF_PATH],
    env: { REDISCLI_AUTH: secret("redisPassword") },
    uploads: [
      {
        file: REDIS_CONF_PATH,
        content: join(
          "bind 0.0.0.0\nprotected-mode yes\nappendonly yes\ndir /data\nrequirepass ",
          secret("redisPassword", "redis"),
          "\n",
        ),
        permissions: "0400",
      },
    ],
    volumes: [{ volume: DATA_VOLUMES.redis, containerPath: "/data" }],
    healthcheck: healthcheck(["CMD-SHELL", "redis-cli ping | grep -q PONG"], 20),
    memory: MEMORY_LIMITS_MIB.redis,
    waitTimeout: 120,
  };
}

/** Qdrant's image has bash but neither curl nor wget; /readyz needs no API key. */
export function planQdrant(ctx: PlanContext): ContainerSpec {
  const probe =
    `exec 3<>/dev/tcp/127.0.0.1/${INTERNAL_PORTS.qdrant} && ` +
    `printf 'GET /readyz HTTP/1.0\\r\\n\\r\\n' >&3 && grep -q ' 200 ' <&3`;
  return {
    ...baseContainer(ctx),
    service: "qdrant",
    name: physicalName(ctx, "qdrant"),
    image: ctx.config.images.qdrant,
    command: [],
    env: { QDRANT__SERVICE__API_KEY: secret("qdrantApiKey", "token") },
    volumes: [{ volume: DATA_VOLUMES.qdrant, containerPath: "/qdrant/storage" }],
    healthcheck: healthcheck(["CMD", "bash", "-c", probe], 30),
    memory: MEMORY_LIMITS_MIB.qdrant,
    waitTimeout: 180,
  };
}

export const S3_CONFIG_PATH = "/etc/seaweedfs/s3.json";

/**
 * SeaweedFS as the S3-compatible store: maintained, with published images (MinIO stopped publishing
 * its community images in 2025). Credentials come from an identities file the program delivers.
 * https://github.com/seaweedfs/seaweedfs/wiki/Amazon-S3-API
 */
export function planObjectStore(ctx: PlanContext): ContainerSpec {
  return {
    ...baseContainer(ctx),
    service: "object-store",
    name: physicalName(ctx, "object-store"),
    image: ctx.config.images.objectStore,
    command: [
      "server",
      "-dir=/data",
      "-s3",
      `-s3.port=${INTERNAL_PORTS.objectStore}`,
      `-s3.config=${S3_CONFIG_PATH}`,
    ],
    env: {},
    uploads: [
      {
        file: S3_CONFIG_PATH,
        content: join(
          `{"identities":[{"name":"llmstack","credentials":[{"accessKey":${JSON.stringify(OBJECT_STORE_ACCESS_KEY)},"secretKey":`,
          secret("objectStoreSecretKey", "json"),
          '}],"actions":["Admin","Read","List","Tagging","Write"]}]}\n',
        ),
        permissions: "0400",
      },
    ],
    volumes: [{ volume: DATA_VOLUMES.objectStore, containerPath: "/data" }],
    healthcheck: healthcheck(["CMD", "wget", "-q", "-O", "/dev/null", "http://127.0.0.1:9333/cluster/status"], 30),
    memory: MEMORY_LIMITS_MIB.objectStore,
    waitTimeout: 180,
  };
}

/** The services this file plans (src/plan/services.ts). */
export const DATA_STORE_PLANNERS = {
  postgres: planPostgres,
  redis: planRedis,
  qdrant: planQdrant,
  "object-store": planObjectStore,
} satisfies Planners;
