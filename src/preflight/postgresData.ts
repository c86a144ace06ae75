/**
 * `postgres.data`: the Postgres major version already on the stack's retained data volume against the
 * planned image's. A server refuses a data directory of another major version (src/facts/postgres.ts,
 * PG_INCOMPATIBLE_FATAL), and from 18 the official image looks for its data elsewhere in the volume, so a
 * major-version change on a volume with data is refused here, before anything is replaced.
 *
 * The volume is read as src/preflight/volumeRead.ts reads one, in the planned Postgres image, else the image
 * of the stack's Postgres container, listing PG_VERSION.
 */
import { shellQuote, shellWords } from "../config/shell";
import {
  PG_INCOMPATIBLE_FATAL,
  postgresDataLayout,
  postgresMajor,
  POSTGRES_UPGRADE_DOC,
  type PostgresDataLayout,
} from "../facts/postgres";
import { DATA_VOLUMES } from "../plan/dataStores";
import type { StackPlan } from "../plan/types";
import { fail, pass, warn, type CheckResult } from "./types";
import { oneShotLines, outputLines, volumeInspectLines, volumeOutcome, type VolumeProblem } from "./volumeRead";

export const POSTGRES_DATA_CHECK = "postgres.data";

/** What the stack plans for Postgres: its data volume, image and major version. */
export interface PostgresDataNeed {
  /** Physical name of the data volume. */
  readonly volume: string;
  readonly image: string;
  readonly major: number;
  readonly layout: PostgresDataLayout;
  /** The stack's Postgres container, whose image can read the volume when the planned one is not pulled yet. */
  readonly containerName: string;
}

/** Null when the plan runs no Postgres (or its tag names no major, which the planner refuses). */
export function postgresDataNeed(plan: StackPlan): PostgresDataNeed | null {
  const container = plan.containers.find((c) => c.service === "postgres");
  const volume = plan.volumes.find((v) => v.key === DATA_VOLUMES.postgres);
  const major = container ? postgresMajor(container.image) : null;
  if (!container || !volume || major === null) return null;
  return { volume: volume.name, image: container.image, major, layout: postgresDataLayout(major), containerName: container.name };
}

/** A POSIX sh script that reports the volume's PG_VERSION files, one fact a line (parsed below). */
export function postgresDataScript(need: PostgresDataNeed, dockerArgs: readonly string[]): string {
  const d = shellWords(["docker", ...dockerArgs]);
  // PG_VERSION at the root is a 17-or-older layout; <major>/docker/PG_VERSION is 18 and newer's.
  const list = `for f in PG_VERSION */docker/PG_VERSION; do [ -f "$f" ] && echo "found $f $(head -n 1 "$f")"; done; echo listed`;
  const images = `${shellQuote(need.image)} $(${d} container inspect --format '{{.Image}}' ${shellQuote(need.containerName)} 2>/dev/null)`;
  return [...volumeInspectLines(d, need.volume), ...oneShotLines(d, need.volume, images, list)].join("\n");
}

export type VolumeRead =
  | VolumeProblem
  | { readonly kind: "read"; readonly image: string; readonly versions: readonly { readonly path: string; readonly version: string }[] };

export function parsePostgresData(text: string): VolumeRead {
  const lines = outputLines(text);
  const outcome = volumeOutcome(lines);
  if (outcome.kind !== "listed") return outcome;
  const versions = lines.flatMap((l) => {
    const m = /^found (\S+) (\S+)$/.exec(l);
    return m === null ? [] : [{ path: m[1]!, version: m[2]! }];
  });
  return { kind: "read", image: outcome.image, versions };
}

/** Where PG_VERSION of a layout lies in the volume. */
function versionFile(layout: PostgresDataLayout): string {
  return layout.inVolume === "" ? "PG_VERSION" : `${layout.inVolume}/PG_VERSION`;
}

export function checkPostgresData(need: PostgresDataNeed, read: VolumeRead): CheckResult {
  const planned = `llmstack:images.postgres is ${need.image} (Postgres ${need.major})`;
  if (read.kind === "absent") {
    return pass(POSTGRES_DATA_CHECK, `the volume ${need.volume} does not exist yet: ${need.image} creates a new Postgres ${need.major} data directory in it`);
  }
  if (read.kind === "unreadable") {
    return warn(
      POSTGRES_DATA_CHECK,
      `could not read the Postgres version in the volume ${need.volume} (${read.why}), so a major-version change is not checked`,
      `pull ${need.image} on the host and run validate again, or compare by hand: docker run --rm -v ` +
        `${need.volume}:/data ${need.image} cat /data/${versionFile(need.layout)} must print ${need.major}`,
    );
  }
  if (read.versions.length === 0) {
    return pass(POSTGRES_DATA_CHECK, `the volume ${need.volume} holds no Postgres data directory yet: ${need.image} creates a Postgres ${need.major} one`);
  }
  const expected = versionFile(need.layout);
  const own = read.versions.find((v) => v.path === expected);
  if (own !== undefined && own.version === String(need.major)) {
    return pass(POSTGRES_DATA_CHECK, `the volume ${need.volume} holds a Postgres ${own.version} data directory, the major version of ${need.image}`);
  }
  const old = own ?? read.versions[0]!;
  const effect =
    old.path === expected
      ? `the new server would stop with "FATAL: ${PG_INCOMPATIBLE_FATAL}"`
      : `Postgres ${need.major} looks for its data at ${expected} in the volume (mounted at ${need.layout.mount}) and ` +
        `would start a new, empty database beside the old one`;
  return fail(
    POSTGRES_DATA_CHECK,
    `the volume ${need.volume} holds a Postgres ${old.version} data directory (${old.path}), but ${planned}: ${effect}`,
    `keep llmstack:images.postgres at Postgres ${old.version} for now, and move the data to ${need.major} by dump ` +
      `and restore: pg_dump -Fc from the running ${old.version} server (docker exec ${need.containerName} pg_dump -Fc ...), ` +
      `then restore into a new ${need.major} data volume; the steps are in ${POSTGRES_UPGRADE_DOC}`,
  );
}
