/**
 * Redis's password reaches it only through the config file the program delivers, and its health check
 * authenticates with REDISCLI_AUTH: run a real redis-server (Debian's redis-server package, which .ci/run
 * installs) with the generated file and run the container's health check command against it.
 */
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { textToString } from "../../src/plan/render";
import { container, planOf } from "../helpers/stacks";

const PASSWORD = "redis-test-password-8c1f";

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = createServer();
    s.listen(0, "127.0.0.1", () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

describe("Redis with the generated config", () => {
  const found = spawnSync("sh", ["-c", "command -v redis-server && command -v redis-cli"], { encoding: "utf8" });
  if (found.status !== 0) throw new Error("redis-server is not installed: apt-get install -y redis-server (or run .ci/run)");
  let server: ChildProcess | undefined;
  afterAll(() => server?.kill("SIGKILL"));

  it("requires the password from its config file, and the health check passes with REDISCLI_AUTH only", async () => {
    const redis = container(planOf("production"), "redis");
    const conf = textToString(redis.uploads[0]!.content, () => PASSWORD);
    const dir = mkdtempSync(join(tmpdir(), "llmstack-redis-"));
    const port = await freePort();
    // The container's file, with its data dir and address moved to this test's.
    writeFileSync(join(dir, "redis.conf"), conf.replace("dir /data", `dir ${dir}`).replace("bind 0.0.0.0", "bind 127.0.0.1") + `port ${port}\n`);
    server = spawn("redis-server", [join(dir, "redis.conf")], { stdio: "ignore" });
    const cli = (env: NodeJS.ProcessEnv, ...args: string[]) =>
      spawnSync("redis-cli", ["-p", String(port), ...args], { encoding: "utf8", env: { PATH: process.env.PATH, ...env } });
    for (let i = 0; i < 50 && cli({ REDISCLI_AUTH: PASSWORD }, "ping").stdout.trim() !== "PONG"; i++) {
      await new Promise((r) => setTimeout(r, 100));
    }
    // Without the password Redis refuses; the container's health check (same command, same env) passes.
    expect(cli({}, "ping").stdout).toContain("NOAUTH");
    expect(redis.healthcheck?.tests).toEqual(["CMD-SHELL", "redis-cli ping | grep -q PONG"]);
    const check = spawnSync("sh", ["-c", `redis-cli -p ${port} ping | grep -q PONG`], {
      env: { PATH: process.env.PATH, REDISCLI_AUTH: PASSWORD },
    });
    expect(check.status).toBe(0);
    const wrong = spawnSync("sh", ["-c", `redis-cli -p ${port} ping | grep -q PONG`], {
      env: { PATH: process.env.PATH, REDISCLI_AUTH: "not-the-password" },
    });
    expect(wrong.status).toBe(1);
    expect(redis.env.REDISCLI_AUTH).toEqual({ secret: "redisPassword" });
    expect(redis.command.join(" ")).not.toContain(PASSWORD);
  });
});
