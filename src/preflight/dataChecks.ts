/**
 * The retained data volume checks, `postgres.data` and `qdrant.data`: each a script that the docker CLI here
 * runs against the host (`--host`, so unix://, tcp:// and ssh:// alike) and the check of its output. `validate`
 * (src/preflight/run.ts) and the `pulumi up` gate (src/deploy/preflightGate.ts) run the same ones.
 */
import { checkPostgresData, parsePostgresData, postgresDataScript, type PostgresDataNeed } from "./postgresData";
import { checkQdrantData, parseQdrantData, qdrantDataScript, type QdrantDataNeed } from "./qdrantData";
import type { CheckResult } from "./types";

export interface VolumeCheck {
  /** A POSIX sh script, run with `sh -s` on the machine that runs the docker CLI. */
  readonly script: string;
  readonly check: (stdout: string) => CheckResult;
}

/**
 * The checks for the stores the stack runs, in this order: Postgres, Qdrant. `dockerArgs` reach the host
 * (`--host <host>` unless given: a fleet's gate adds a tcp:// host's TLS files).
 */
export function dataVolumeChecks(
  needs: { readonly postgres: PostgresDataNeed | null; readonly qdrant: QdrantDataNeed | null },
  host: string,
  dockerArgs: readonly string[] = ["--host", host],
): VolumeCheck[] {
  const { postgres, qdrant } = needs;
  return [
    ...(postgres === null
      ? []
      : [{ script: postgresDataScript(postgres, dockerArgs), check: (out: string) => checkPostgresData(postgres, parsePostgresData(out)) }]),
    ...(qdrant === null
      ? []
      : [
          {
            script: qdrantDataScript(qdrant, dockerArgs),
            check: (out: string) => checkQdrantData(qdrant, parseQdrantData(out, qdrant.containerName)),
          },
        ]),
  ];
}
