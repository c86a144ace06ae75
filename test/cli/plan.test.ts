import { execFileSync } from "node:child_process";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { main } from "../../src/cli/main";
import { fakeIo } from "../helpers/fakeIo";
import { ROOT } from "../helpers/root";

describe("llmstack plan", () => {
  it("prints production as JSON with Docker input names and secrets masked", async () => {
    const io = fakeIo(ROOT);
    expect(await main(["plan", "--stack", "production", "--json"], io)).toBe(0);
    const json = JSON.parse(io.out()) as { stack: string; containers: Record<string, unknown>[] };
    expect(json.stack).toBe("production");
    const vllm = json.containers.find((c) => c.service === "vllm")!;
    expect(vllm.dependsOn).toEqual(["model-download"]);
    expect(vllm.deviceRequests).toEqual([{ driver: "nvidia", deviceIds: ["0", "1"], capabilities: ["gpu"] }]);
    expect(vllm.envs).toContain("VLLM_API_KEY=********");
    // The GPU layout is vLLM's argv, restated in labels for people; never VLLM_* environment vLLM does not read.
    expect(vllm.envs).not.toContain("VLLM_GPU_MEMORY_UTILIZATION=0.9");
    expect(vllm.labels).toEqual([
      { label: "llmstack.vllm.gpu-memory-utilization", value: "0.9" },
      { label: "llmstack.vllm.pipeline-parallel-size", value: "1" },
      { label: "llmstack.vllm.tensor-parallel-size", value: "2" },
    ]);
    expect(vllm.ipcMode).toBe("host");
    expect(vllm.waitTimeout).toBe(1200);
    expect(Object.keys(vllm)).toEqual(expect.arrayContaining([
      "service", "dependsOn", "name", "image", "command", "envs", "deviceRequests", "ipcMode", "ports",
      "volumes", "uploads", "healthcheck", "restart", "logOpts", "securityOpts",
    ]));
  });

  it("prints a table and lists the missing secrets with the command that stores them", async () => {
    const io = fakeIo(ROOT);
    expect(await main(["plan", "--stack", "staging"], io)).toBe(0);
    const lines = io.out().split("\n");
    expect(lines[0]).toBe("stack staging (staging) on unix:///var/run/docker.sock, from Pulumi.staging.yaml");
    expect(lines).toContain(
      "secrets missing: postgresPassword, redisPassword, qdrantApiKey, objectStoreSecretKey, litellmMasterKey, " +
        "litellmSaltKey, vllmApiKey, grafanaAdminPassword; run: npx llmstack secrets init --stack staging",
    );
    expect(lines.find((l) => l.startsWith("litellm "))).toMatch(/^litellm\s+ghcr\.io\/berriai\/litellm:v1\.84\.0\s+-\s+-\s+4096 MiB\s+vllm,postgres$/);
    expect(lines.find((l) => l.startsWith("gateway-tls "))).toMatch(/^gateway-tls\s+caddy:2\.10\.2\s+-\s+0\.0\.0\.0:443->443\s+512 MiB\s+litellm$/);
  });

  it("names an unknown stack and how to fix it", async () => {
    const io = fakeIo(ROOT);
    expect(await main(["plan", "--stack", "prod"], io)).toBe(1);
    expect(io.err()).toBe(
      `llmstack plan: Pulumi.prod.yaml: no such stack file in ${ROOT}; create it (copy Pulumi.development.yaml) or pick another --stack; ` +
        'run "cp Pulumi.development.yaml Pulumi.prod.yaml"\n',
    );
  });

  it("requires --stack and rejects unknown options (exit 1: plan's 2 means the plan changes)", async () => {
    const io = fakeIo(ROOT);
    expect(await main(["plan"], io)).toBe(1);
    expect(io.err()).toBe(
      'llmstack plan: --stack is required: the stack whose file is Pulumi.<name>.yaml; run "llmstack plan --stack production"\n',
    );
    const io2 = fakeIo(ROOT);
    expect(await main(["plan", "--stack", "production", "--jsn"], io2)).toBe(1);
    expect(io2.err()).toBe(`llmstack plan: unknown option '--jsn' (did you mean --json?); run "llmstack plan --help"\n`);
  });

  it("runs as the npm script a user types, without Pulumi or Docker", () => {
    const out = execFileSync("npm", ["run", "--silent", "plan", "--", "--stack", "production", "--json"], {
      cwd: ROOT,
      encoding: "utf8",
      env: { ...process.env, PATH: `${join(ROOT, "node_modules", ".bin")}:/usr/local/bin:/usr/bin:/bin` },
    });
    expect((JSON.parse(out) as { stack: string }).stack).toBe("production");
  });
});
