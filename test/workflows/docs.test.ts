/**
 * SECURITY.md and docs/ci-and-deploy.md keep up with the workflows: every actor of the threat model has
 * its section, and every secret a workflow reads is documented with the environment it belongs in.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { ROOT } from "../helpers/root";
import { FILES, jobsOf, secretsIn } from "./workflowFiles";

const security = readFileSync(join(ROOT, "SECURITY.md"), "utf8");
const guide = readFileSync(join(ROOT, "docs", "ci-and-deploy.md"), "utf8");

describe("SECURITY.md", () => {
  it("has a section for each actor, and no control left pending", () => {
    expect(security.split("\n").filter((l) => l.startsWith("### ") || l.startsWith("## "))).toEqual([
      "## What there is to protect",
      "## Actors",
      "### Author of a pull request from a fork",
      "### Branch pusher (write access to the repository)",
      "### Stack-file editor",
      "### User on the Docker host, and holders of copies",
    ]);
  });
});

describe("docs/ci-and-deploy.md", () => {
  const byEnvironment = new Map<string, Set<string>>();
  for (const f of FILES) {
    for (const [, job] of jobsOf(f)) {
      for (const s of secretsIn(job)) byEnvironment.set(s, (byEnvironment.get(s) ?? new Set()).add(job.environment ?? "(none)"));
    }
  }

  it("every secret belongs to one environment, named by its prefix", () => {
    expect(Object.fromEntries([...byEnvironment].map(([s, envs]) => [s, [...envs]]))).toEqual({
      PREVIEW_PULUMI_BACKEND_URL: ["preview"],
      PREVIEW_PULUMI_CONFIG_PASSPHRASE: ["preview"],
      PRODUCTION_DOCKER_HOST_KNOWN_HOSTS: ["production"],
      PRODUCTION_DOCKER_HOST_SSH_KEY: ["production"],
      PRODUCTION_PULUMI_BACKEND_URL: ["production"],
      PRODUCTION_PULUMI_CONFIG_PASSPHRASE: ["production"],
    });
  });

  it.each([...byEnvironment.keys()])("documents %s in its environment's table", (secret) => {
    expect(guide).toContain(`| \`${secret}\` |`);
  });
});
