/**
 * The pack's policies, as CrossGuard runs them, over what the real program registers (Pulumi mocks)
 * for every checked-in stack, and over a deliberately bad production stack.
 */
import { describe, expect, it } from "vitest";
import { CONTAINER } from "../../policy/policies";
import { appImagesOverride, runProgram, testPinned, type Registration } from "../helpers/pulumiMocks";
import { runPolicies, unwrapSecrets, type Violation } from "../helpers/policy";
import { STACKS } from "../helpers/stacks";

async function registrations(stack: string, overrides: Record<string, unknown> = {}): Promise<Registration[]> {
  const run = await runProgram(stack, overrides);
  if (run.error) throw run.error;
  return run.registrations;
}

describe("the pack over what the real program registers", () => {
  it.each(STACKS)("%s: every policy passes, advisories included", async (stack) => {
    const regs = await registrations(stack);
    expect(regs.filter((r) => r.type === CONTAINER).length).toBeGreaterThan(5);
    expect(runPolicies(regs, stack)).toEqual([]);
  });

  it("production with a scheduled backup: every policy passes", async () => {
    const regs = await registrations("production", { "llmstack:backup": { schedule: "03:30", keep: 7, to: "/srv/llmstack-backups" } });
    expect(regs.filter((r) => r.type === CONTAINER && r.name.startsWith("production-backup")).length).toBe(3);
    expect(runPolicies(regs, "production")).toEqual([]);
  });

  it("a deliberately bad production stack violates the policies it should, naming container and fix", async () => {
    const regs = await registrations("production", {
      // The worker runs (its image set), with a key on its command line.
      ...appImagesOverride("production"),
      "llmstack:vllm": { ipcHost: false, shmSizeMiB: 256 },
      "llmstack:gpu": {
        mode: "multi",
        vllmDevices: ["0", "1"],
        workerDevices: ["1"],
        nvlink: true,
        cardClass: "consumer",
        tensorParallelSize: 2,
        pipelineParallelSize: 1,
        memoryUtilization: 0.8,
        workerMemoryFraction: 0.1,
        memoryMiB: 24576,
      },
      "llmstack:services": {
        workerCommand: ["python3", "-m", "multimodal_worker", "--api-key", "sk-live-0123456789abcdef"],
        retrievalCommand: ["python3", "-m", "retrieval_proxy"],
        workerPort: 8090,
        retrievalPort: 8080,
      },
    });
    // The stack schema already refuses floating tags and a utilisation outside production's bounds; the
    // pack also holds when a value reaches the program another way (a changed default, a new service), so
    // those are set on the inputs.
    const images: Record<string, string> = {
      [testPinned("vllm/vllm-openai:v0.21.0")]: "vllm/vllm-openai:latest",
      [testPinned("ghcr.io/berriai/litellm:v1.84.0")]: "ghcr.io/berriai/litellm:main-stable",
      [testPinned("postgres:16.10")]: "postgres:16",
    };
    const lowUtil = (argv: string[]) => argv.map((a, i) => (argv[i - 1] === "--gpu-memory-utilization" ? "0.5" : a));
    const floated = regs.map((r) =>
      r.type.endsWith("RemoteImage") && images[r.inputs.name as string]
        ? { ...r, inputs: { ...r.inputs, name: images[r.inputs.name as string] } }
        : r.name === "production-vllm-container"
          ? { ...r, inputs: { ...r.inputs, command: lowUtil(r.inputs.command as string[]) } }
          : r,
    );
    const found = runPolicies(floated, "production");
    const pin = (repo: string) =>
      `pin a release tag (e.g. ${repo}:<version>) or a digest (${repo}@sha256:...) in llmstack:images (Pulumi.yaml or the stack file)`;
    const fix = "pass it in the container's env (a secret in the stack file) and read it there, never in argv";
    const expected: Violation[] = [
      ...["production-vllm-model-download-image", "production-vllm-image"].map((img) => ({
        policy: "no-floating-image-tags",
        level: "mandatory",
        message: `image ${img}: image "vllm/vllm-openai:latest" uses the floating tag "latest" in production; ${pin("vllm/vllm-openai")}`,
      })),
      {
        policy: "tensor-parallel-shared-memory",
        level: "mandatory",
        message:
          "container llm-multimodal-stack-production-vllm runs tensor parallelism 2 with 256 MiB of shared memory; NCCL needs " +
          'more: set llmstack:vllm.ipcHost: true (ipcMode "host") or shmSizeMiB >= 1024',
      },
      {
        policy: "production-gpu-memory-utilization",
        level: "mandatory",
        message:
          "container llm-multimodal-stack-production-vllm sets --gpu-memory-utilization 0.5 in production; allowed 0.6 to 0.92: " +
          "set llmstack:gpu.memoryUtilization within those bounds in the stack file",
      },
      {
        policy: "no-secret-in-command-line",
        level: "mandatory",
        message: `container llm-multimodal-stack-production-multimodal-worker: command[3] passes "--api-key" on the command line; ${fix}`,
      },
      {
        policy: "no-secret-in-command-line",
        level: "mandatory",
        message: `container llm-multimodal-stack-production-multimodal-worker: command[4] looks like a key or password; ${fix}`,
      },
    ];
    for (const v of expected) expect(found).toContainEqual(v);
    // LiteLLM's image is used by the gateway and the smoke test: both image resources are named.
    expect(found.filter((v) => v.message.includes('floating tag "main-stable"')).map((v) => v.message.split(":")[0])).toEqual(
      floated.filter((r) => r.type.endsWith("RemoteImage") && r.inputs.name === "ghcr.io/berriai/litellm:main-stable").map((r) => `image ${r.name}`),
    );
    expect(found.filter((v) => v.policy === "no-major-only-image-tags").map((v) => v.message)).toEqual([
      `image production-postgres-image: image "postgres:16" has the major-only tag "16", which moves with every minor release; ${pin("postgres")}`,
    ]);
  });

  it("program regressions the schema cannot express: a published data store, an over-subscribed GPU", async () => {
    const regs = await registrations("production", appImagesOverride("production"));
    const bad = regs.map((r) => {
      if (r.name === "production-qdrant-container") {
        return { ...r, inputs: { ...r.inputs, ports: [{ internal: 6333, external: 6333, ip: "0.0.0.0", protocol: "tcp" }] } };
      }
      if (r.name === "production-multimodal-worker-container") {
        const envs = unwrapSecrets(r.inputs.envs) as string[];
        return { ...r, inputs: { ...r.inputs, envs: envs.map((e) => (e.startsWith("WORKER_GPU_MEMORY_FRACTION=") ? "WORKER_GPU_MEMORY_FRACTION=0.2" : e)) } };
      }
      return r;
    });
    expect(runPolicies(bad, "production")).toEqual([
      {
        policy: "only-gateway-published",
        level: "mandatory",
        message:
          "container llm-multimodal-stack-production-qdrant publishes port 6333 on 0.0.0.0:6333; only the gateway (litellm, " +
          "gateway-tls) may listen on a non-loopback address: bind it to 127.0.0.1 or remove the port and reach it on the stack network",
      },
      {
        policy: "gpu-not-oversubscribed",
        level: "mandatory",
        message:
          "GPU 1 is shared by vLLM (memoryUtilization 0.9) and the multimodal worker (workerMemoryFraction 0.2): 0.9 + 0.2 " +
          "= 1.1 of its memory leaves nothing for a 512 MiB CUDA context per process; vLLM starts only when its whole " +
          "share is free, so it could not start again while the multimodal worker holds its share; lower " +
          "memoryUtilization or workerMemoryFraction, or give the multimodal worker a GPU vLLM does not use",
      },
    ]);
  });
});
