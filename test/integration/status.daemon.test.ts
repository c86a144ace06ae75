/**
 * `llmstack status` on a real Docker daemon (.ci/start-dockerd.sh), one case each: a stopped container, an
 * unhealthy one and one whose image drifted from the plan, each with the exit code cron and CI read (the
 * whole stack, healthy and then with a killed container, is in stack.daemon.test.ts). The containers carry the
 * planner's names and specs for a stack of their own; their images are busybox imported under test tags
 * (nothing can be pulled here), so the facts `docker inspect` reports are the daemon's own.
 */
import { execFileSync } from "node:child_process";
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { realExec } from "../../src/cli/io";
import type { ServiceName, StackPlan } from "../../src/plan/types";
import { gatherStatus } from "../../src/status/gather";
import { EXIT_DOWN, EXIT_DRIFT, EXIT_OK, exitCodeOf, problemsOf } from "../../src/status/report";
import { planFromValues, rawValues } from "../helpers/stacks";
import { requireDaemon } from "./daemon";

const STACK = `status${process.pid}`;
const IMAGE = `llmstack-test-status-${process.pid}`;
/** The image the drifted container was created from; its tag then moves to another image. */
const DRIFTING = `${IMAGE}:drifting`;

let host = "";
let plan: StackPlan;

function docker(...args: string[]): string {
  return execFileSync("docker", ["--host", host, ...args], { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });
}

const nameOf = (service: ServiceName): string => plan.containers.find((c) => c.service === service)!.name;

/** The plan cut down to `services`, each running `image` (the stand-in's tag) on the test daemon. */
function planWith(services: Partial<Record<ServiceName, string>>): StackPlan {
  return {
    ...plan,
    containers: plan.containers.flatMap((c) => {
      const image = services[c.service];
      return image === undefined ? [] : [{ ...c, image }];
    }),
  };
}

async function statusOf(p: StackPlan) {
  const s = await gatherStatus(p, { exec: realExec, now: Date.now });
  return { problems: problemsOf(s), code: exitCodeOf(problemsOf(s)) };
}

function importImage(tag: string, marker: string): void {
  const rootfs = mkdtempSync(join(tmpdir(), "llmstack-rootfs-"));
  mkdirSync(join(rootfs, "bin"));
  copyFileSync("/bin/busybox", join(rootfs, "bin", "busybox"));
  for (const applet of ["sh", "sleep", "true", "false"]) symlinkSync("busybox", join(rootfs, "bin", applet));
  // Different content, so a different image ID.
  writeFileSync(join(rootfs, "marker"), marker);
  execFileSync("sh", ["-c", `tar -C ${rootfs} -c . | docker --host ${host} import - ${tag}`]);
  rmSync(rootfs, { recursive: true, force: true });
}

/** Polls `docker inspect` until the container's health is `status` (the daemon runs its checks every second). */
async function untilHealth(name: string, status: string): Promise<void> {
  for (let i = 0; i < 120; i++) {
    if (docker("inspect", "--format", "{{.State.Health.Status}}", name).trim() === status) return;
    await new Promise((r) => setTimeout(r, 500));
  }
  throw new Error(`${name} never became ${status}: ${docker("inspect", "--format", "{{json .State}}", name)}`);
}

beforeAll(async () => {
  host = requireDaemon();
  const values = rawValues("development");
  values.dockerHost = host;
  values.gpu = { mode: "cpu" };
  plan = planFromValues(values, STACK);
  importImage(`${IMAGE}:stable`, "stable");
  importImage(DRIFTING, "first");
  const run = (service: ServiceName, image: string, ...args: string[]) =>
    docker("run", "-d", "--name", nameOf(service), ...args, image, ...(args.includes("--health-cmd") ? ["sleep", "600"] : []));
  // Running with a passing health check, as the plan's containers do.
  run("redis", `${IMAGE}:stable`, "--health-cmd", "true", "--health-interval", "1s", "--health-retries", "1");
  // A health check that fails once is unhealthy (retries 1).
  run("qdrant", `${IMAGE}:stable`, "--health-cmd", "false", "--health-interval", "1s", "--health-retries", "1");
  // Exits with code 3 at once.
  docker("run", "-d", "--name", nameOf("postgres"), `${IMAGE}:stable`, "sh", "-c", "exit 3");
  expect(docker("wait", nameOf("postgres")).trim()).toBe("3");
  // Created from the drifting tag, which then names another image: the container keeps the first one.
  run("object-store", DRIFTING, "--health-cmd", "true", "--health-interval", "1s", "--health-retries", "1");
  importImage(DRIFTING, "second");
  await untilHealth(nameOf("redis"), "healthy");
  await untilHealth(nameOf("object-store"), "healthy");
  await untilHealth(nameOf("qdrant"), "unhealthy");
});

afterAll(() => {
  if (host === "") return;
  const names = (["redis", "qdrant", "postgres", "object-store"] as const).map(nameOf);
  execFileSync("sh", ["-c", `docker --host ${host} rm -f ${names.join(" ")} >/dev/null 2>&1; docker --host ${host} image rm -f ${IMAGE}:stable ${DRIFTING} >/dev/null 2>&1; true`]);
});

describe("llmstack status on a real daemon", () => {
  it("is exit 0 for a running, healthy container on the plan's image", async () => {
    expect(await statusOf(planWith({ redis: `${IMAGE}:stable` }))).toEqual({ problems: [], code: EXIT_OK });
  });

  it("reports a stopped container with its exit code, exit 1", async () => {
    const name = nameOf("postgres");
    expect(await statusOf(planWith({ redis: `${IMAGE}:stable`, postgres: `${IMAGE}:stable` }))).toEqual({
      problems: [{ kind: "down", line: `${name} exited with code 3; run "docker --host ${host} logs ${name}"` }],
      code: EXIT_DOWN,
    });
  });

  it("reports an unhealthy container, exit 1", async () => {
    const name = nameOf("qdrant");
    expect(await statusOf(planWith({ redis: `${IMAGE}:stable`, qdrant: `${IMAGE}:stable` }))).toEqual({
      problems: [{ kind: "down", line: `${name} is unhealthy; run "docker --host ${host} logs ${name}"` }],
      code: EXIT_DOWN,
    });
  });

  it("reports a container whose tag now names another image as drifted, exit 3", async () => {
    const name = nameOf("object-store");
    const running = docker("inspect", "--format", "{{.Image}}", name).trim();
    expect(docker("image", "inspect", "--format", "{{.Id}}", DRIFTING).trim()).not.toBe(running);
    expect(await statusOf(planWith({ redis: `${IMAGE}:stable`, "object-store": DRIFTING }))).toEqual({
      problems: [{ kind: "drift", line: `${name} runs ${running}, not the plan's ${DRIFTING}; run "llmstack up --stack ${STACK}"` }],
      code: EXIT_DRIFT,
    });
  });
});
