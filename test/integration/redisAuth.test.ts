/**
 * Redis's password reaches it only through the config file the program delivers, and its health check
 * authenticates with REDISCLI_AUTH: run a real redis-server (Debian's redis-server package, which .ci/run
 * installs) with the generated file and run the container's health check command against it. Passwords
 * with spaces, quotes, backslashes and line breaks (one crafted to add `requirepass ""`) work the same.
 */
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import fc from "fast-check";
import { afterEach, describe, expect, it } from "vitest";
import { textToString } from "../../src/plan/render";
import { readRedisConf } from "../helpers/redisConf";
import { container, planOf } from "../helpers/stacks";

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = createServer();
    s.listen(0, "127.0.0.1", () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

const redis = container(planOf("production"), "redis");
let server: ChildProcess | undefined;

/** Starts redis-server on the container's config file rendered with `password`; returns a redis-cli runner. */
async function startWith(password: string) {
  const conf = textToString(redis.uploads[0]!.content, () => password);
  const dir = mkdtempSync(join(tmpdir(), "llmstack-redis-"));
  const port = await freePort();
  // The container's file, with its data dir and address moved to this test's.
  writeFileSync(join(dir, "redis.conf"), conf.replace("dir /data", `dir ${dir}`).replace("bind 0.0.0.0", "bind 127.0.0.1") + `port ${port}\n`);
  server = spawn("redis-server", [join(dir, "redis.conf")], { stdio: "ignore" });
  const cli = (env: NodeJS.ProcessEnv, ...args: string[]) =>
    spawnSync("redis-cli", ["-p", String(port), ...args], { encoding: "utf8", env: { PATH: process.env.PATH, ...env } });
  for (let i = 0; i < 50 && cli({ REDISCLI_AUTH: password }, "ping").stdout.trim() !== "PONG"; i++) {
    await new Promise((r) => setTimeout(r, 100));
  }
  const healthCheck = (auth: string) =>
    spawnSync("sh", ["-c", `redis-cli -p ${port} ping | grep -q PONG`], { env: { PATH: process.env.PATH, REDISCLI_AUTH: auth } }).status;
  return { conf, cli, healthCheck };
}

describe("Redis with the generated config", () => {
  const found = spawnSync("sh", ["-c", "command -v redis-server && command -v redis-cli"], { encoding: "utf8" });
  if (found.status !== 0) throw new Error("redis-server is not installed: apt-get install -y redis-server (or run .ci/run)");
  afterEach(() => {
    server?.kill("SIGKILL");
    server = undefined;
  });

  it("requires the password from its config file, and the health check passes with REDISCLI_AUTH only", async () => {
    const password = "redis-test-password-8c1f";
    const { cli, healthCheck } = await startWith(password);
    // Without the password Redis refuses; the container's health check (same command, same env) passes.
    expect(cli({}, "ping").stdout).toContain("NOAUTH");
    expect(redis.healthcheck?.tests).toEqual(["CMD-SHELL", "redis-cli ping | grep -q PONG"]);
    expect(healthCheck(password)).toBe(0);
    expect(healthCheck("not-the-password")).toBe(1);
    expect(redis.env.REDISCLI_AUTH).toEqual({ secret: "redisPassword" });
    expect(redis.command.join(" ")).not.toContain(password);
  });

  it("starts with a password of spaces, quotes, backslashes and a line that tries to turn auth off", async () => {
    const password = 'pa ss"w\'o\\rd\nrequirepass ""';
    const { cli, healthCheck } = await startWith(password);
    expect(cli({}, "ping").stdout).toContain("NOAUTH");
    expect(cli({ REDISCLI_AUTH: password }, "config", "get", "requirepass").stdout).toBe(`requirepass\n${password}\n`);
    expect(healthCheck(password)).toBe(0);
    expect(healthCheck("")).toBe(1);
  });

  it("reads generated passwords of every printable character exactly as the test's copy of its parser does", async () => {
    const printable = Array.from({ length: 95 }, (_, i) => String.fromCharCode(0x20 + i)).concat(["\n", "\t"]);
    const passwords = fc.sample(fc.string({ unit: fc.constantFrom(...printable), minLength: 1, maxLength: 30 }), {
      seed: 7,
      numRuns: 12,
    });
    let mishandled = 0;
    for (const password of passwords) {
      const { conf, cli } = await startWith(password);
      const parsed = readRedisConf(conf);
      const served = cli({ REDISCLI_AUTH: password }, "config", "get", "requirepass").stdout;
      if (served !== `requirepass\n${password}\n` || !("directives" in parsed) || parsed.directives[4]?.[1] !== password) mishandled++;
      server?.kill("SIGKILL");
    }
    console.log(`fuzz: ${passwords.length} generated Redis passwords tried on a real redis-server, ${mishandled} mishandled`);
    expect(mishandled).toBe(0);
  });
});
