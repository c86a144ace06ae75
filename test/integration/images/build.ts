/**
 * Builds the stand-in images on a Docker daemon, each tagged with the exact reference Pulumi.yaml gives
 * its service (which must have a record in src/facts/imageRecords.ts), so the registered containers run
 * unchanged and nothing is ever pulled. Runs in the
 * integration test's setup; by hand: `npx tsx test/integration/images/build.ts` (DOCKER_HOST or
 * LLMSTACK_TEST_DOCKER_HOST names the daemon).
 */
import type Dockerode from "dockerode";
import { testDocker } from "../daemon";
import { resolvedStandins } from "./facts";
import { importStandin } from "./rootfs";
import { standinSpec } from "./standins";

/** Builds (or finds cached) every stand-in; returns reference → "built" | "cached". */
export async function buildStandins(
  docker: Dockerode,
): Promise<Record<string, "built" | "cached">> {
  const result: Record<string, "built" | "cached"> = {};
  for (const f of resolvedStandins()) {
    try {
      result[f.reference] = await importStandin(docker, f.reference, standinSpec(f));
    } catch (err) {
      const e = err as NodeJS.ErrnoException;
      if (e.code === "ENOENT" && e.path !== undefined) {
        throw new Error(
          `the ${f.reference} stand-in needs ${e.path}, which this machine lacks: install the Debian packages ` +
            `that .ci/run lists for the integration tests (or run .ci/run)`,
          { cause: err },
        );
      }
      throw err;
    }
  }
  return result;
}

if (require.main === module) {
  const host =
    process.env.LLMSTACK_TEST_DOCKER_HOST ??
    process.env.DOCKER_HOST ??
    "unix:///var/run/docker.sock";
  buildStandins(testDocker(host)).then(
    (r) => console.log(r),
    (err: Error) => {
      console.error(err.stack);
      process.exit(1);
    },
  );
}
