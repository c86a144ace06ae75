/**
 * Where the official Postgres images keep their data, and what a server does with a data directory of
 * another major version. Pure data and string functions: the planner mounts the data volume from here, and
 * the preflight check (src/preflight/postgresData.ts) reads the volume's PG_VERSION where this says it is.
 */
import { parseImage } from "../config/images";

/** Where an image of one major version expects its data volume and its data directory (PGDATA). */
export interface PostgresDataLayout {
  /** The container path the data volume is mounted at. */
  readonly mount: string;
  /** PGDATA: the data directory, at or under the mount. */
  readonly pgdata: string;
  /** PGDATA relative to the volume's root ("" when it is the root). */
  readonly inVolume: string;
}

/** The first major version with the pg_ctlcluster layout. */
export const PG_CTLCLUSTER_LAYOUT_FROM = 18;

export const POSTGRES_LAYOUT_SOURCE =
  "docker-library/postgres 18/trixie/Dockerfile (read at 12eb5762e3cf3c44440ed078b59843b5dfbde570): " +
  '"in 18+, PGDATA has changed to match the pg_ctlcluster standard directory structure, and the VOLUME has ' +
  'moved from /var/lib/postgresql/data to /var/lib/postgresql"; ENV PGDATA /var/lib/postgresql/18/docker, ' +
  "VOLUME /var/lib/postgresql. Up to 17 (e.g. 16/trixie/Dockerfile at " +
  "1cb68aee8fbbd39106c8a8eb41f45721941d11a8): ENV PGDATA /var/lib/postgresql/data, VOLUME /var/lib/postgresql/data";

/**
 * The layout of an official image of `major`. From 18 the volume holds `<major>/docker` beneath its root,
 * so a volume written by 17 or older, mounted where 18 expects it, shows its old files at the root and an
 * empty `18/docker`: the new server would initdb a fresh, empty cluster beside the old data.
 */
export function postgresDataLayout(major: number): PostgresDataLayout {
  if (major >= PG_CTLCLUSTER_LAYOUT_FROM) {
    const inVolume = `${major}/docker`;
    return { mount: "/var/lib/postgresql", pgdata: `/var/lib/postgresql/${inVolume}`, inVolume };
  }
  return { mount: "/var/lib/postgresql/data", pgdata: "/var/lib/postgresql/data", inVolume: "" };
}

/**
 * The major version an image reference names in its tag ("16.10", "16", "18-alpine", "16.10-trixie";
 * a digest after the tag is ignored), or null when the tag names none ("latest", "alpine", no tag).
 * From 10 on the first number is the major version (https://www.postgresql.org/support/versioning/).
 */
export function postgresMajor(ref: string): number | null {
  const { tag } = parseImage(ref);
  const m = tag === null ? null : /^(\d+)(?:[.-]|$)/.exec(tag);
  return m === null ? null : Number(m[1]);
}

/**
 * What the server says when PG_VERSION names another major version: postgres/postgres
 * src/backend/utils/init/miscinit.c, ValidatePgVersion (errmsg and errdetail, read from a stored copy of
 * the current file): `FATAL:  database files are incompatible with server` / `The data directory was
 * initialized by PostgreSQL version %s, which is not compatible with this version %s.` The container then
 * exits, and with a restart policy it restarts in a loop.
 */
export const PG_INCOMPATIBLE_FATAL = "database files are incompatible with server";

/** The docs section that spells out the dump and restore across major versions. */
export const POSTGRES_UPGRADE_DOC = "docs/operations.md#upgrading-postgres";
