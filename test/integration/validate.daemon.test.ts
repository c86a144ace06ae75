/**
 * `llmstack validate` against a real Docker daemon (Debian's docker.io, started by .ci/start-dockerd.sh).
 * The host has no NVIDIA container toolkit and no GPU, so a GPU stack fails and a cpu stack passes. Which of
 * the stack's images the daemon holds depends on what other tests built on it (stand-ins under the real
 * references) and nothing can be pulled here, so docker.images is shown images whose state is known: a
 * busybox image imported onto the daemon, one behind a port where nothing listens, and one a local HTTP
 * registry does not serve.
 */
import { execFileSync } from "node:child_process";
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createServer as createHttpServer } from "node:http";
import { createServer, type Server } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { realExec, type CliIo } from "../../src/cli/io";
import { main } from "../../src/cli/main";
import { parseStackConfig } from "../../src/config/parse";
import { readStack } from "../../src/config/stackFile";
import { planStack } from "../../src/plan/stack";
import { stackNeeds, type ImageNeed } from "../../src/preflight/needs";
import { runPreflight } from "../../src/preflight/run";
import type { CheckResult } from "../../src/preflight/types";
import { ROOT } from "../helpers/root";

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

/** A busybox image imported onto the daemon (nothing can be pulled here), the same for every test. */
const BUSYBOX = "llmstack-test-busybox:1";

function docker(host: string, ...args: string[]): string {
  return execFileSync("docker", ["--host", host, ...args], { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });
}

/** Imports the busybox image unless the daemon has it already. */
function importBusybox(host: string): void {
  try {
    docker(host, "image", "inspect", "--format", "{{.Id}}", BUSYBOX);
    return;
  } catch {
    // not there yet
  }
  const rootfs = mkdtempSync(join(tmpdir(), "llmstack-rootfs-"));
  mkdirSync(join(rootfs, "bin"));
  copyFileSync("/bin/busybox", join(rootfs, "bin", "busybox"));
  execFileSync("sh", ["-c", `tar -C ${rootfs} -c . | docker --host ${host} import - ${BUSYBOX}`]);
  rmSync(rootfs, { recursive: true, force: true });
}

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

/** docker.images for a cpu stack on the daemon, shown the given images in place of the stack's own. */
async function imagesCheck(images: readonly ImageNeed[]): Promise<CheckResult> {
  const host = requireDaemon();
  stackFile("images", host, CPU, await freePort());
  const raw = readStack(dir, "images");
  const config = parseStackConfig(raw.values, raw.stackFile);
  const plan = planStack({ project: raw.project, stack: raw.stack, stackFile: raw.stackFile, config, secretsPresent: raw.secretsPresent });
  const results = await runPreflight({ ...stackNeeds(config, plan), images }, realExec, process.env);
  return byName(results, "docker.images");
}

/** docker.images depends on the images this shared daemon holds; the tests of other checks leave it out. */
function failedBesidesImages(checks: readonly CheckResult[]): string[] {
  return checks.filter((c) => c.status === "fail" && c.check !== "docker.images").map((c) => c.check);
}

function byName(checks: readonly CheckResult[], name: string): CheckResult {
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
    expect(failedBesidesImages(cpu.checks)).toEqual([]);
    expect(cpu.checks.map((c) => c.check)).toEqual([
      "docker.daemon",
      "docker.api",
      "docker.images",
      "postgres.data",
      "qdrant.data",
      "host.ports",
      "host.disk",
      "pulumi.cli",
    ]);
    // A stack that never ran has no data volume yet: nothing to compare, and nothing is created.
    expect(byName(cpu.checks, "postgres.data").status).toBe("pass");
    expect(byName(cpu.checks, "qdrant.data").status).toBe("pass");
    expect(byName(cpu.checks, "host.ports").found).toBe(`127.0.0.1:${port} free`);
    expect(cpu.code).toBe(byName(cpu.checks, "docker.images").status === "fail" ? 1 : 0);

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
      expect(failedBesidesImages(r.checks)).toEqual(["host.ports"]);
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
    importBusybox(host);
    const port = await freePort();
    const name = `${PROJECT}-cpu-litellm`;
    docker(host, "rm", "-f", name);
    docker(host, "run", "-d", "--name", name, "--network", "host", BUSYBOX, "/bin/busybox", "httpd", "-f", "-p", `127.0.0.1:${port}`);
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
      expect(failedBesidesImages(r.checks)).toEqual([]);
    } finally {
      docker(host, "rm", "-f", name);
    }
  });

  it("passes an image that is already on the host", async () => {
    importBusybox(requireDaemon());
    expect(await imagesCheck([{ ref: BUSYBOX, key: "llmstack:images.litellm", optional: false }])).toEqual({
      check: "docker.images",
      status: "pass",
      found: "all 1 images can be had: 1 on the host, 0 pullable without a login",
      fix: null,
    });
  });

  it("names an image that is not on the host when its registry cannot be reached", async () => {
    const host = requireDaemon();
    // Nothing listens on this port: the registry cannot be reached, as none can from this machine.
    const registry = `127.0.0.1:${await freePort()}`;
    const absent = `${registry}/llmstack/absent:1.0.0`;
    expect(await imagesCheck([{ ref: absent, key: "llmstack:images.litellm", optional: false }])).toEqual({
      check: "docker.images",
      status: "fail",
      found:
        `${absent} (llmstack:images.litellm) is not on the host and ${registry} cannot be reached from this machine: ` +
        `failed to configure transport: error pinging v2 registry: Get "https://${registry}/v2/": dial tcp ${registry}: connect: connection refused`,
      fix: `pull or load it on the Docker host (docker --host ${host} pull ${absent}, or docker load), or check this machine's network or proxy`,
    });
  });

  it("names an image its registry does not serve", async () => {
    const host = requireDaemon();
    // A registry (Docker Registry HTTP API v2 as distribution answers it) that has no manifest at all, over plain
    // HTTP: the docker CLI pings it, and without --insecure reads no manifest over HTTP ("no such manifest").
    const seen: string[] = [];
    const server = createHttpServer((req, res) => {
      seen.push(`${req.method} ${req.url}`);
      const headers = { "Content-Type": "application/json", "Docker-Distribution-API-Version": "registry/2.0" };
      if (req.url === "/v2/") {
        res.writeHead(200, headers).end("{}");
        return;
      }
      res.writeHead(404, headers).end(JSON.stringify({ errors: [{ code: "MANIFEST_UNKNOWN", message: "manifest unknown", detail: {} }] }));
    });
    await new Promise<void>((ok) => server.listen(0, "127.0.0.1", ok));
    const registry = `127.0.0.1:${(server.address() as { port: number }).port}`;
    const worker = `${registry}/acme/multimodal-worker:1.0.0`;
    try {
      expect(await imagesCheck([{ ref: worker, key: "llmstack:images.multimodalWorker", optional: true }])).toEqual({
        check: "docker.images",
        status: "fail",
        found:
          `${worker} (llmstack:images.multimodalWorker) is not on the host and ${registry} does not serve it without a ` +
          `login: no such manifest: ${worker}`,
        fix:
          `if it is private: docker login ${registry}, then docker --host ${host} pull ${worker} (the Docker provider pulls ` +
          "without credentials and uses the host's copy); if it does not exist: build and push it, or set " +
          "llmstack:images.multimodalWorker to an image that exists, or unset llmstack:images.multimodalWorker to run the " +
          "stack without it",
      });
      expect(seen).toContain("GET /v2/");
    } finally {
      await new Promise((ok) => server.close(ok));
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
