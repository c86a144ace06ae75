/**
 * `postgres.data` on a real Docker daemon (.ci/start-dockerd.sh): the script `validate` and the gate run reads
 * PG_VERSION out of a real volume, refuses a newer major, and creates no volume that is not there. The reading
 * image is busybox imported under a Postgres-like tag (nothing can be pulled here): the check needs only `sh`
 * and `head` in it, which the Postgres images have too.
 */
import { execFileSync } from "node:child_process";
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, symlinkSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { realExec } from "../../src/cli/io";
import { postgresDataLayout } from "../../src/facts/postgres";
import {
  checkPostgresData,
  parsePostgresData,
  postgresDataScript,
  type PostgresDataNeed,
} from "../../src/preflight/postgresData";
import { requireDaemon } from "./daemon";

const READER = (major: number) => `llmstack-test-pg-reader:${major}.0`;
const VOLUME = `llmstack-test-pgdata-${process.pid}`;
const MISSING = `llmstack-test-pgdata-missing-${process.pid}`;

let host = "";

function docker(...args: string[]): string {
  return execFileSync("docker", ["--host", host, ...args], { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });
}

function need(volume: string, major: number): PostgresDataNeed {
  return { volume, image: READER(major), major, layout: postgresDataLayout(major), containerName: `${VOLUME}-no-container` };
}

async function check(n: PostgresDataNeed) {
  const res = await realExec("sh", ["-s"], { input: postgresDataScript(n, ["--host", host]), timeoutMs: 120_000 });
  return checkPostgresData(n, parsePostgresData(res.stdout));
}

beforeAll(() => {
  host = requireDaemon();
  const rootfs = mkdtempSync(join(tmpdir(), "llmstack-rootfs-"));
  mkdirSync(join(rootfs, "bin"));
  copyFileSync("/bin/busybox", join(rootfs, "bin", "busybox"));
  for (const applet of ["sh", "head", "echo", "mkdir"]) symlinkSync("busybox", join(rootfs, "bin", applet));
  for (const major of [16, 18]) {
    execFileSync("sh", ["-c", `tar -C ${rootfs} -c . | docker --host ${host} import - ${READER(major)}`]);
  }
  rmSync(rootfs, { recursive: true, force: true });
  docker("volume", "create", VOLUME);
  docker("run", "--rm", "-v", `${VOLUME}:/d`, READER(16), "sh", "-c", "echo 15 > /d/PG_VERSION");
});

afterAll(() => {
  if (host === "") return;
  docker("volume", "rm", "-f", VOLUME);
});

describe("postgres.data on a real daemon", () => {
  it("refuses a 16 image on a volume written by 15, naming both versions", async () => {
    const r = await check(need(VOLUME, 16));
    expect(r.status).toBe("fail");
    expect(r.found).toBe(
      `the volume ${VOLUME} holds a Postgres 15 data directory (PG_VERSION), but llmstack:images.postgres is ` +
        `${READER(16)} (Postgres 16): the new server would stop with "FATAL: database files are incompatible with server"`,
    );
  });

  it("refuses an 18 image there: it would start an empty database beside the old one", async () => {
    const r = await check(need(VOLUME, 18));
    expect(r.found).toBe(
      `the volume ${VOLUME} holds a Postgres 15 data directory (PG_VERSION), but llmstack:images.postgres is ` +
        `${READER(18)} (Postgres 18): Postgres 18 looks for its data at 18/docker/PG_VERSION in the volume ` +
        "(mounted at /var/lib/postgresql) and would start a new, empty database beside the old one",
    );
  });

  it("passes a 15 image on it, and leaves no container behind", async () => {
    const before = docker("ps", "-aq").trim();
    const fifteen = { ...need(VOLUME, 15), image: READER(16) };
    expect((await check(fifteen)).status).toBe("pass");
    expect(docker("ps", "-aq").trim()).toBe(before);
  });

  it("passes a volume that does not exist, and does not create it", async () => {
    const r = await check(need(MISSING, 16));
    expect(r.found).toBe(`the volume ${MISSING} does not exist yet: ${READER(16)} creates a new Postgres 16 data directory in it`);
    expect(docker("volume", "ls", "-q", "--filter", `name=${MISSING}`).trim()).toBe("");
  });
});
