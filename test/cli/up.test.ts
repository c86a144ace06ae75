import { createHash } from "node:crypto";
import { cpSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { main } from "../../src/cli/main";
import { lastGoodEnv } from "../../src/cli/up";
import { PULUMI_CLI_VERSION } from "../../src/cli/pulumiCli";
import { localStackFile } from "../../src/cli/quickstart";
import type { ExecCall } from "../helpers/fakeIo";
import { parseStackConfig } from "../../src/config/parse";
import { readStack } from "../../src/config/stackFile";
import { unpinnedImages, unpinnedImagesMessage } from "../../src/plan/digests";
import { configSha256, LAST_GOOD_ENV, lastGoodRecord, REVISION_ENV, type LastGoodConfig } from "../../src/plan/lastGood";
import { CONTAINER_FORMAT } from "../../src/status/inspect";
import { fakeIo } from "../helpers/fakeIo";
import { planFromValues, planOf } from "../helpers/stacks";
import { ROOT } from "../helpers/root";

describe("llmstack up", () => {
  it("does not run pulumi up when the host fails a check", async () => {
    // No docker, no nvidia-smi, no pulumi: the daemon check fails. (Development may run tagged images.)
    const io = fakeIo(ROOT);
    expect(await main(["up", "--stack", "development"], io)).toBe(1);
    expect(io.err()).toContain(
      'up: the host failed a check above, so pulumi up was not run; fix it as its line says; run "llmstack up --stack development"\n',
    );
    expect(io.calls.some((c) => c.file === "pulumi" && c.args[0] === "up")).toBe(false);
  });

  it.each(["staging", "production"])("refuses %s with an image that has no digest, before contacting the host", async (stack) => {
    const io = fakeIo(ROOT);
    expect(await main(["up", "--stack", stack], io)).toBe(1);
    expect(io.err()).toBe(`up: ${unpinnedImagesMessage(planOf(stack), unpinnedImages(planOf(stack)))}\n`);
    expect(io.err()).toMatch(new RegExp(`; run "npx llmstack images pin --stack ${stack}"\n$`));
    expect(io.calls).toEqual([]);
  });

  it("requires --stack, a usage error (exit 2)", async () => {
    const io = fakeIo(ROOT);
    expect(await main(["up"], io)).toBe(2);
    expect(io.err()).toBe(
      'llmstack up: --stack is required: the stack whose file is Pulumi.<name>.yaml; run "llmstack up --stack production"\n',
    );
  });
});

/**
 * A CPU stack on a tcp:// Docker host whose daemon answers and has every image: validate passes (the host
 * probe is skipped over tcp://, with a warning), so `up` goes on to pulumi.
 */
function readyHost(): string {
  const dir = mkdtempSync(join(tmpdir(), "llmstack-up-"));
  cpSync(join(ROOT, "Pulumi.yaml"), join(dir, "Pulumi.yaml"));
  const file = localStackFile({ mode: "cpu" }, "a test").replace("unix:///var/run/docker.sock", "tcp://127.0.0.1:2375");
  writeFileSync(join(dir, "Pulumi.local.yaml"), file);
  return dir;
}

/** The revision up hands the program: the config's and the stack file's hashes (no git here, so no commit). */
function revisionOf(dir: string): string {
  const raw = readStack(dir, "local");
  const text = readFileSync(join(dir, "Pulumi.local.yaml"), "utf8");
  return JSON.stringify({
    configSha256: configSha256(parseStackConfig(raw.values, raw.stackFile)),
    stackFile: "Pulumi.local.yaml",
    stackFileSha256: createHash("sha256").update(text).digest("hex"),
  });
}

function docker(c: ExecCall): { code: number; stdout: string; stderr: string } | null {
  if (c.file !== "docker") return null;
  if (c.args.includes("version")) return { code: 0, stdout: '{"Server":{"Version":"28.2.2","ApiVersion":"1.50"}}', stderr: "" };
  if (c.args.includes("image")) return { code: 0, stdout: "sha256:0123\n", stderr: "" };
  return { code: 0, stdout: "", stderr: "" };
}

describe("the Pulumi CLI llmstack up runs", () => {
  it("is the one quickstart installed in .llmstack/pulumi when PATH has none, for validate and for pulumi up", async () => {
    const dir = readyHost();
    const cli = join(dir, ".llmstack", "pulumi", "bin", "pulumi");
    const io = fakeIo(
      dir,
      (c) => docker(c) ?? (c.file === cli ? { code: 0, stdout: `v${PULUMI_CLI_VERSION}\n`, stderr: "" } : { code: 127, stdout: "", stderr: "not found" }),
      { PATH: "/usr/bin" },
    );
    expect(await main(["up", "--stack", "local", "--", "--yes"], io)).toBe(0);
    expect(io.out()).toContain(`PASS  pulumi.cli     Pulumi CLI v${PULUMI_CLI_VERSION} is installed (npm run up uses it)\n`);
    const up = io.calls.filter((c) => c.args[0] === "up");
    expect(up).toEqual([
      {
        file: cli,
        args: ["up", "--stack", "local", "--yes"],
        opts: { cwd: dir, passthrough: true, env: { PATH: `${join(dir, ".llmstack", "pulumi", "bin")}:/usr/bin`, [REVISION_ENV]: revisionOf(dir) } },
      },
    ]);
  });

  it("says when pulumi up fails, ending with up again (pulumi printed why; what it created stays in the state)", async () => {
    const dir = readyHost();
    const pulumi = (c: ExecCall) =>
      c.file !== "pulumi" ? { code: 127, stdout: "", stderr: "not found" } : { code: c.args[0] === "up" ? 255 : 0, stdout: "v3.248.0\n", stderr: "" };
    const io = fakeIo(dir, (c) => docker(c) ?? pulumi(c));
    expect(await main(["up", "--stack", "local"], io)).toBe(1);
    expect(io.err()).toBe(
      'up: pulumi up --stack local failed (exit 255); fix what its output above says; run "llmstack up --stack local"\n',
    );
  });

  it("says what to install when there is none, after validate, and does not run pulumi up", async () => {
    const dir = readyHost();
    const io = fakeIo(dir, (c) => docker(c) ?? { code: 127, stdout: "", stderr: "not found" });
    expect(await main(["up", "--stack", "local"], io)).toBe(1);
    expect(io.out()).toContain("Pulumi.local.yaml: the host can run this stack (7 checks, none failed)\n");
    expect(io.err()).toBe(
      "up: the Pulumi CLI is neither on PATH nor in .llmstack/pulumi, so pulumi up was not run; install it " +
        "(https://www.pulumi.com/docs/iac/download-install/), open a new shell and run up again; " +
        'run "curl -fsSL https://get.pulumi.com | sh"\n',
    );
    expect(io.calls.some((c) => c.args[0] === "up")).toBe(false);
  });
});

describe("llmstack up when the replaced vLLM fails its health check", () => {
  /** The record of the last good update: the same stack with a 1024-token context (the file says 2048). */
  function goodRecord(dir: string): LastGoodConfig {
    const values = readStack(dir, "local").values;
    const good = { ...values, model: { ...(values.model as Record<string, unknown>), maxModelLen: 1024 } };
    return lastGoodRecord({
      plan: planFromValues(good, "local"),
      config: parseStackConfig(good, "Pulumi.local.yaml"),
      values: good,
      secretsPresent: new Set(),
    });
  }

  const unhealthy = JSON.stringify({
    image: "sha256:0123",
    restarts: 0,
    state: { Status: "running", ExitCode: 0, StartedAt: "2026-01-01T00:00:00Z", Health: { Status: "unhealthy", Log: [{ Output: "curl: (7) Failed to connect" }] } },
  });

  function host(dir: string, inspect: { code: number; stdout: string; stderr: string }) {
    return (c: ExecCall) => {
      if (c.file === "docker" && c.args.includes("inspect") && c.args.includes("container")) return inspect;
      const d = docker(c);
      if (d !== null) return d;
      if (c.file !== "pulumi") return { code: 127, stdout: "", stderr: "not found" };
      if (c.args[0] === "stack") return { code: 0, stdout: JSON.stringify(goodRecord(dir)), stderr: "" };
      return { code: c.args[0] === "up" ? 255 : 0, stdout: "v3.248.0\n", stderr: "" };
    };
  }

  it("says so, with the container's health, and names the rollback command", async () => {
    const dir = readyHost();
    const name = planFromValues(readStack(dir, "local").values, "local").containers.find((c) => c.service === "vllm")!.name;
    const io = fakeIo(dir, host(dir, { code: 0, stdout: unhealthy, stderr: "" }));
    expect(await main(["up", "--stack", "local"], io)).toBe(1);
    expect(io.err()).toBe(
      `up: pulumi up --stack local failed: the replaced vLLM (command --max-model-len) did not pass its health check ` +
        `(${name} is running, health unhealthy; its last health check said: curl: (7) Failed to connect), so nothing ` +
        "serves qwen2.5-0.5b-instruct now; " +
        `"docker logs ${name}" shows why. Go back to the last good config (config sha256 ${goodRecord(dir).revision.configSha256.slice(0, 12)}) ` +
        'while you fix it; run "llmstack rollback --stack local"\n',
    );
    expect(io.calls.filter((c) => c.file === "docker" && c.args.includes("inspect") && c.args.includes("container"))).toEqual([
      { file: "docker", args: ["--host", "tcp://127.0.0.1:2375", "inspect", "--type", "container", "--format", CONTAINER_FORMAT, name], opts: { timeoutMs: 30_000 } },
    ]);
  });

  it("keeps its own message when vLLM is healthy: the failure was elsewhere", async () => {
    const dir = readyHost();
    const healthy = unhealthy.replace('"unhealthy"', '"healthy"');
    const io = fakeIo(dir, host(dir, { code: 0, stdout: healthy, stderr: "" }));
    expect(await main(["up", "--stack", "local"], io)).toBe(1);
    expect(io.err()).toBe('up: pulumi up --stack local failed (exit 255); fix what its output above says; run "llmstack up --stack local"\n');
  });
});

describe("what llmstack up hands a blue-green program", () => {
  function blueGreenProject(): string {
    const dir = mkdtempSync(join(tmpdir(), "llmstack-up-bg-"));
    cpSync(join(ROOT, "Pulumi.yaml"), join(dir, "Pulumi.yaml"));
    const file = readFileSync(join(ROOT, "Pulumi.development.yaml"), "utf8").concat("  llmstack:rollout:\n    strategy: blue-green\n");
    writeFileSync(join(dir, "Pulumi.development.yaml"), file);
    return dir;
  }
  const answering = (stack: { code: number; stdout: string; stderr: string }) => (c: ExecCall) =>
    c.file === "pulumi" && c.args[0] === "stack" ? stack : { code: 127, stdout: "", stderr: "not found" };

  it("the last good record, which the program checks the new vLLM against", async () => {
    const dir = blueGreenProject();
    const record = goodDevelopmentRecord();
    const io = fakeIo(dir, answering({ code: 0, stdout: JSON.stringify(record), stderr: "" }));
    expect(await lastGoodEnv(io, "development")).toEqual({ [LAST_GOOD_ENV]: JSON.stringify(record) });
  });

  it("none before the first good update", async () => {
    const io = fakeIo(blueGreenProject(), answering({ code: 255, stdout: "", stderr: "error: current stack does not have output property 'lastGoodConfig'\n" }));
    expect(await lastGoodEnv(io, "development")).toEqual({ [LAST_GOOD_ENV]: "none" });
  });

  it("nothing, and no Pulumi call, for a stack without the opt-in", async () => {
    const io = fakeIo(ROOT);
    expect(await lastGoodEnv(io, "development")).toEqual({});
    expect(io.calls).toEqual([]);
  });
});

function goodDevelopmentRecord(): LastGoodConfig {
  const values = { ...readStack(ROOT, "development").values, rollout: { strategy: "blue-green" } };
  return lastGoodRecord({
    plan: planFromValues(values, "development"),
    config: parseStackConfig(values, "Pulumi.development.yaml"),
    values,
    secretsPresent: new Set(),
  });
}
