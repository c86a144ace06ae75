/**
 * `llmstack validate` against a real Docker daemon (Debian's docker.io, started by .ci/start-dockerd.sh).
 * The host has no NVIDIA container toolkit and no GPU, so a GPU stack fails and a cpu stack passes.
 */
import { execFileSync } from "node:child_process";
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createServer, type Server } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { realExec, type CliIo } from "../../src/cli/io";
import { main } from "../../src/cli/main";
import type { CheckResult } from "../../src/preflight/types";
import { ROOT } from "../helpers/pulumiMocks";

const HOST = process.env.LLMSTACK_TEST_DOCKER_HOST;
const PROJECT = "llm-multimodal-stack";

function requireDaemon(): string {
  if (HOST === undefined || HOST === "") {
    throw new Error(
      "LLMSTACK_TEST_DOCKER_HOST is not set: these tests need a real Docker daemon. Start one as root with " +
        "`eval \"$(sudo bash .ci/start-dockerd.sh)\"` (it prints export LLMSTACK_TEST_DOCKER_HOST=unix:///tmp/llmstack-dockerd/docker.sock) and run the tests again.",
    );
  }
  return HOST;
}

let dir = "";

function stackFile(name: string, dockerHost: string, gpu: string, port: number): void {
  writeFileSync(
    join(dir, `Pulumi.${name}.yaml`),
    [
      "config:",
      "  llmstack:environment: development",
      `  llmstack:dockerHost: ${dockerHost}`,
      "  llmstack:gpu:",
      ...gpu.split("\n").map((l) => `    ${l}`),
      "  llmstack:model:",
      "    name: Qwen/Qwen2.5-1.5B-Instruct",
      "    servedModelName: qwen2.5-1.5b-instruct",
      "    maxModelLen: 4096",
      "  llmstack:gateway:",
      "    bindAddress: 127.0.0.1",
      `    port: ${port}`,
      "",
    ].join("\n"),
  );
}

const GPU = "mode: multi\nvllmDevices: [\"0\", \"1\"]\nworkerDevices: [\"1\"]\nnvlink: true\ntensorParallelSize: 2\nmemoryUtilization: 0.8\nmemoryMiB: 24576";
const CPU = "mode: cpu";

async function validate(stack: string): Promise<{ code: number; out: string; err: string; checks: CheckResult[] }> {
  let out = "";
  let err = "";
  const io: CliIo = { env: process.env, cwd: dir, stdout: (t) => (out += t), stderr: (t) => (err += t), exec: realExec };
  const code = await main(["validate", "--stack", stack, "--json"], io);
  const checks = out ? (JSON.parse(out) as { checks: CheckResult[] }).checks : [];
  return { code, out, err, checks };
}

function byName(checks: CheckResult[], name: string): CheckResult {
  const c = checks.find((x) => x.check === name);
  if (!c) throw new Error(`no check ${name}; have ${checks.map((x) => x.check).join(", ")}`);
  return c;
}

function listen(port: number): Promise<Server> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once("error", reject);
    s.listen(port, "127.0.0.1", () => resolve(s));
  });
}

async function freePort(): Promise<number> {
  const s = await listen(0);
  const port = (s.address() as { port: number }).port;
  await new Promise((r) => s.close(r));
  return port;
}

// Every test that needs the daemon calls requireDaemon() itself, so a missing daemon fails each one (not a skip).
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), "llmstack-validate-"));
  copyFileSync(join(ROOT, "Pulumi.yaml"), join(dir, "Pulumi.yaml"));
});

afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe("llmstack validate against a real Docker daemon", () => {
  it("reaches the daemon and reads its API version", async () => {
    stackFile("cpu", requireDaemon(), CPU, await freePort());
    const r = await validate("cpu");
    const daemon = byName(r.checks, "docker.daemon");
    expect(daemon.status).toBe("pass");
    expect(daemon.found).toMatch(new RegExp(`^Docker \\S+ answers at ${requireDaemon()} \\(API 1\\.\\d+\\)$`));
    expect(byName(r.checks, "docker.api").status).toBe("pass");
  });

  it("passes a cpu stack and fails a GPU stack on a daemon without the NVIDIA toolkit", async () => {
    const port = await freePort();
    stackFile("cpu", requireDaemon(), CPU, port);
    stackFile("gpu", requireDaemon(), GPU, port);
    const cpu = await validate("cpu");
    expect(cpu.checks.filter((c) => c.status === "fail")).toEqual([]);
    expect(cpu.checks.map((c) => c.check)).toEqual(["docker.daemon", "docker.api", "host.ports", "host.disk", "pulumi.cli"]);
    expect(byName(cpu.checks, "host.ports").found).toBe(`127.0.0.1:${port} free`);
    expect(cpu.code).toBe(0);

    const gpu = await validate("gpu");
    expect(gpu.code).toBe(1);
    const nvidia = byName(gpu.checks, "docker.nvidia");
    expect(nvidia.status).toBe("fail");
    expect(nvidia.found).toMatch(
      /^Docker on this machine cannot satisfy NVIDIA device requests: no nvidia-container-runtime-hook on dockerd's PATH \((read from dockerd|systemd's default): [^)]+\) and no nvidia\.com\/gpu CDI spec in \/etc\/cdi or \/var\/run\/cdi$/,
    );
    expect(nvidia.fix).toContain("install the NVIDIA Container Toolkit on the Docker host and restart Docker");
    const devices = byName(gpu.checks, "gpu.devices");
    expect(devices.status).toBe("fail");
    expect(devices.found).toMatch(/^nvidia-smi --query-gpu on this machine: nvidia-smi is not installed \(exit code 127\)/);
  });

  it("fails the port check naming the process that holds the gateway port", async () => {
    const server = await listen(0);
    const port = (server.address() as { port: number }).port;
    try {
      stackFile("cpu", requireDaemon(), CPU, port);
      const r = await validate("cpu");
      expect(r.code).toBe(1);
      expect(byName(r.checks, "host.ports")).toEqual({
        check: "host.ports",
        status: "fail",
        found: `127.0.0.1:${port} (litellm) is in use by node (pid ${process.pid}) listening on 127.0.0.1:${port}`,
        fix: "stop what holds the port, or pick a free one in Pulumi.cpu.yaml (llmstack:gateway.port / bindAddress)",
      });
    } finally {
      await new Promise((r) => server.close(r));
    }
  });

  it("counts a port held by the stack's own running container as the stack's", async () => {
    const host = requireDaemon();
    const image = "llmstack-test-busybox:1";
    const docker = (...args: string[]) =>
      execFileSync("docker", ["--host", host, ...args], { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });
    const rootfs = mkdtempSync(join(tmpdir(), "llmstack-rootfs-"));
    mkdirSync(join(rootfs, "bin"));
    copyFileSync("/bin/busybox", join(rootfs, "bin", "busybox"));
    execFileSync("sh", ["-c", `tar -C ${rootfs} -c . | docker --host ${host} import - ${image}`]);
    rmSync(rootfs, { recursive: true, force: true });
    const port = await freePort();
    const name = `${PROJECT}-cpu-litellm`;
    docker("rm", "-f", name);
    docker("run", "-d", "--name", name, "--network", "host", image, "/bin/busybox", "httpd", "-f", "-p", `127.0.0.1:${port}`);
    try {
      stackFile("cpu", host, CPU, port);
      let r = await validate("cpu");
      for (let i = 0; i < 20 && byName(r.checks, "host.ports").status !== "pass"; i++) {
        await new Promise((res) => setTimeout(res, 250)); // httpd may not be listening yet
        r = await validate("cpu");
      }
      expect(byName(r.checks, "host.ports")).toEqual({
        check: "host.ports",
        status: "pass",
        found: `127.0.0.1:${port} (litellm) is held by the stack's own ${name}`,
        fix: null,
      });
      expect(r.code).toBe(0);
    } finally {
      docker("rm", "-f", name);
    }
  });

  it("says clearly that a stopped daemon does not answer", async () => {
    const gone = `unix://${join(dir, "stopped.sock")}`;
    stackFile("stopped", gone, CPU, await freePort());
    const r = await validate("stopped");
    expect(r.code).toBe(1);
    expect(byName(r.checks, "docker.daemon")).toEqual({
      check: "docker.daemon",
      status: "fail",
      found: `the Docker daemon at ${gone} does not answer: Cannot connect to the Docker daemon at ${gone}. Is the docker daemon running?`,
      fix: `start the Docker daemon on that host (sudo systemctl start docker) or fix llmstack:dockerHost ("${gone}")`,
    });
  });
});
