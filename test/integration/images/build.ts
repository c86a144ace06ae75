/**
 * Builds the stand-in images on a Docker daemon, each tagged with the exact reference Pulumi.yaml gives
 * its service, so the registered containers run unchanged and nothing is ever pulled. Runs in the
 * integration test's setup; by hand: `npx tsx test/integration/images/build.ts` (DOCKER_HOST or
 * LLMSTACK_TEST_DOCKER_HOST names the daemon).
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import type Dockerode from "dockerode";
import { parse } from "yaml";
import { ROOT } from "../../helpers/pulumiMocks";
import { testDocker } from "../daemon";
import { STANDIN_FACTS, type StandinFacts } from "./facts";
import { importStandin } from "./rootfs";
import { standinSpec } from "./standins";

/** The image references of Pulumi.yaml's `llmstack:images`. */
export function projectImages(): Record<string, string> {
  const project = parse(readFileSync(join(ROOT, "Pulumi.yaml"), "utf8")) as {
    config: Record<string, { value?: unknown }>;
  };
  return project.config["llmstack:images"]!.value as Record<string, string>;
}

function checkReference(f: StandinFacts, images: Record<string, string>): void {
  const planned = images[f.imageKey];
  if (planned !== f.reference) {
    throw new Error(
      `Pulumi.yaml sets llmstack:images.${f.imageKey} to ${planned}, but the stand-in reproduces ${f.reference}: ` +
        `read the new image's Dockerfile and entrypoint, then update test/integration/images/facts.ts`,
    );
  }
}

/** Builds (or finds cached) every stand-in; returns reference → "built" | "cached". */
export async function buildStandins(
  docker: Dockerode,
): Promise<Record<string, "built" | "cached">> {
  const images = projectImages();
  const result: Record<string, "built" | "cached"> = {};
  for (const f of STANDIN_FACTS) {
    checkReference(f, images);
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
