/**
 * The gate inside the program, under Pulumi mocks: the mocks' `call` handler answers the
 * `command:local:run` invoke with probe output built from real nvidia-smi captures.
 */
import * as pulumi from "@pulumi/pulumi";
import { afterEach, describe, expect, it, vi } from "vitest";
import { appImagesOverride, configFor, mockResourceState, settleOrFailure, TEST_SECRETS, testPinned, unwrap } from "../helpers/pulumiMocks";
import { HOOK_FOUND, HOST_A100, idleReferenceHostProbe, probeOutput, RIG_3090, RIG_3090_UUIDS } from "./probeOutput";

interface GateRun {
  readonly types: string[];
  readonly containers: string[];
  /** The GPU probe's invokes. */
  readonly invokes: { token: string; command: string }[];
  /** The Postgres data check's invokes (src/preflight/postgresData.ts), decoded to the script they run. */
  readonly postgresScripts: string[];
  /** The Qdrant data check's (src/preflight/qdrantData.ts), decoded likewise. */
  readonly qdrantScripts: string[];
  readonly error: Error | null;
}

const CONTAINER = "docker:index/container:Container";

async function runGate(
  stack: string,
  overrides: Record<string, unknown>,
  stdout: string | undefined,
  preview = false,
  postgresStdout = "volume absent\n",
  qdrantStdout = "volume absent\n",
): Promise<GateRun> {
  const postgresScripts: string[] = [];
  const qdrantScripts: string[] = [];
  const types: string[] = [];
  const containers: string[] = [];
  const invokes: { token: string; command: string }[] = [];
  pulumi.runtime.setMocks(
    {
      newResource(args) {
        types.push(args.type);
        if (args.type === CONTAINER) containers.push(String(args.inputs.name));
        return mockResourceState(args);
      },
      call(args) {
        const script = Buffer.from(/^echo (\S+) \|/.exec(String(args.inputs.command))?.[1] ?? "", "base64").toString();
        if (args.token === "command:local:run" && script.includes("-qdrant-data' ")) {
          qdrantScripts.push(script);
          return { command: args.inputs.command, stdout: qdrantStdout, stderr: "", assets: {} };
        }
        if (args.token === "command:local:run" && script.includes("volume inspect")) {
          postgresScripts.push(script);
          return { command: args.inputs.command, stdout: postgresStdout, stderr: "", assets: {} };
        }
        if (args.token === "command:local:run") {
          invokes.push({ token: args.token, command: String(args.inputs.command) });
          return stdout === undefined ? args.inputs : { command: args.inputs.command, stdout, stderr: "", assets: {} };
        }
        return args.inputs;
      },
    },
    "llm-multimodal-stack",
    stack,
    preview,
  );
  const { config, secretKeys } = configFor(stack, overrides, TEST_SECRETS);
  pulumi.runtime.setAllConfig(config, secretKeys);
  const { deployStack } = await import("../../src/deploy/program");
  // A failed gate rejects the provider's host input; the Pulumi runtime reports that as the program's error.
  const error = await settleOrFailure(async () => {
    const out = deployStack();
    await Promise.all([unwrap(out.component.provider.id), ...[...out.component.containers.values()].map((c) => unwrap(c.id))]);
  });
  return { types, containers, invokes, postgresScripts, qdrantScripts, error };
}

const GPU_CONTAINERS = [
  "llm-multimodal-stack-production-model-download",
  "llm-multimodal-stack-production-vllm",
  "llm-multimodal-stack-production-multimodal-worker",
];

/** The reference host idle, with a constructed R575 driver: CUDA 12.9, not 13.0. */
const R575_RIG = idleReferenceHostProbe("575.51.03");

afterEach(() => vi.restoreAllMocks());

describe("the preflight gate in the program", () => {
  it("registers no container, GPU or other, on a host without the NVLink the stack expects nor the driver its vLLM needs, and names the checks", async () => {
    const stdout = probeOutput({ hook: HOOK_FOUND, cdi: { text: "" }, ...HOST_A100, apps: { text: "" }, stackpids: { text: "" } });
    const run = await runGate("production", {}, stdout);
    expect(run.invokes).toHaveLength(1);
    expect(run.invokes[0]!.command).toMatch(/^echo [A-Za-z0-9+/=]+ \| base64 -d \| sh -s 2>&1; echo "@@transport \$\?"; exit 0$/);
    expect(run.error?.message).toBe(
      'error serializing property "host": ' +
        "Pulumi.production.yaml: preflight failed, so no GPU container was created and nothing was changed:\n" +
        `  - gpu.driver: NVIDIA driver 555.42.02 on this machine is older than 580.65.06, the first for CUDA 13.0, which ${testPinned("vllm/vllm-openai:v0.21.0")} is built on\n` +
        "    fix: upgrade the NVIDIA driver to 580.65.06 or newer, or set llmstack:images.vllm to a vLLM image built for CUDA 12.4 or older in Pulumi.production.yaml (its llmstack:images replaces Pulumi.yaml's, so list every image there)\n" +
        "  - gpu.nvlink: Pulumi.production.yaml says nvlink: true, but vLLM's GPUs 0, 1 are not all joined by NVLink on this host: GPU 0–GPU 1 (no active NVLink)\n" +
        "    fix: set llmstack:gpu.nvlink to false in Pulumi.production.yaml (llmstack configure-gpu auto --stack production writes what the host has), or seat the NVLink bridge\n" +
        "Run `llmstack validate --stack production` to see every check.",
    );
    expect(run.containers.filter((c) => GPU_CONTAINERS.includes(c))).toEqual([]);
    expect(run.types.filter((t) => t.startsWith("docker:"))).toEqual([]);
  });

  it("stops on GPUs already used by something else (the 3090 rig at ~94%)", async () => {
    const stdout = probeOutput({ hook: HOOK_FOUND, ...RIG_3090, apps: { text: "" }, stackpids: { text: "" } });
    const run = await runGate("production", {}, stdout);
    expect(run.error?.message.split("\n")[1]).toBe(
      "  - gpu.memory-in-use: GPU 0 (NVIDIA GeForce RTX 3090): 23166 MiB of 24576 MiB already used by processes nvidia-smi does not list " +
        "(another container's or a display's); vLLM asks memoryUtilization 0.9 = 22118 MiB but only 1410 MiB is free; GPU 1 (NVIDIA GeForce RTX 3090): " +
        "22938 MiB of 24576 MiB already used by processes nvidia-smi does not list (another container's or a display's); vLLM asks memoryUtilization 0.9 = " +
        "22118 MiB but only 1638 MiB is free",
    );
    expect(run.containers).toEqual([]);
  });

  it("lets the stack through when the memory in use is its own running vLLM's (an update)", async () => {
    const apps = { text: `4242, 23000, ${RIG_3090_UUIDS[0]}\n4243, 22800, ${RIG_3090_UUIDS[1]}\n` };
    const stackpids = { text: "llm-multimodal-stack-development-vllm 4242\nllm-multimodal-stack-development-vllm 4243\n" };
    const stdout = probeOutput({ hook: HOOK_FOUND, ...RIG_3090, apps, stackpids });
    const run = await runGate("development", appImagesOverride("development"), stdout);
    expect(run.error).toBe(null);
    expect(run.containers).toContain("llm-multimodal-stack-development-vllm");
    expect(run.containers).toContain("llm-multimodal-stack-development-multimodal-worker");
  });

  it("stops pulumi up before the Docker provider exists when the driver is too old for the vLLM image", async () => {
    const run = await runGate("production", {}, R575_RIG);
    expect(run.error?.message).toBe(
      'error serializing property "host": ' +
        "Pulumi.production.yaml: preflight failed, so no GPU container was created and nothing was changed:\n" +
        `  - gpu.driver: NVIDIA driver 575.51.03 on this machine is older than 580.65.06, the first for CUDA 13.0, which ${testPinned("vllm/vllm-openai:v0.21.0")} is built on\n` +
        "    fix: upgrade the NVIDIA driver to 580.65.06 or newer, or set llmstack:images.vllm to vllm/vllm-openai:v0.21.0-cu129 " +
        "(built on CUDA 12.9, which needs driver 575.51.03) in Pulumi.production.yaml (its llmstack:images replaces Pulumi.yaml's, so list every image there)\n" +
        "Run `llmstack validate --stack production` to see every check.",
    );
    expect(run.types.filter((t) => t.startsWith("docker:"))).toEqual([]);
    expect(run.containers).toEqual([]);
  });

  it("lets the cu129 variant through on that driver", async () => {
    const images = JSON.parse(configFor("production").config["llmstack:images"]!) as Record<string, string>;
    const run = await runGate("production", { "llmstack:images": { ...images, vllm: testPinned("vllm/vllm-openai:v0.21.0-cu129") } }, R575_RIG);
    expect(run.error).toBe(null);
    expect(run.containers).toContain("llm-multimodal-stack-production-vllm");
  });

  it("skips the checks in a preview that cannot reach an ssh host, and says so", async () => {
    const warn = vi.spyOn(pulumi.log, "warn").mockImplementation(() => Promise.resolve());
    const stdout = "ssh: connect to host gpu-box port 22: Connection refused\n@@transport 255\n";
    const run = await runGate("production", { "llmstack:dockerHost": "ssh://deploy@gpu-box" }, stdout, true);
    expect(run.error).toBe(null);
    expect(run.invokes[0]!.command).toContain("| ssh '-o' 'BatchMode=yes' '-o' 'ConnectTimeout=10' '--' 'deploy@gpu-box' sh -s");
    expect(warn.mock.calls.map((c) => c[0])).toContain(
      "preflight: skipped the GPU checks during preview: could not reach gpu-box over ssh to check its GPUs (exit code 255 from ssh): " +
        "ssh: connect to host gpu-box port 22: Connection refused",
    );
    expect(run.containers).toContain("llm-multimodal-stack-production-vllm");
  });

  it("fails pulumi up when the ssh host cannot be reached", async () => {
    const stdout = "ssh: connect to host gpu-box port 22: Connection refused\n@@transport 255\n";
    const run = await runGate("production", { "llmstack:dockerHost": "ssh://deploy@gpu-box" }, stdout, false);
    expect(run.error?.message).toBe(
      'error serializing property "host": ' +
        "Pulumi.production.yaml: preflight: could not reach gpu-box over ssh to check its GPUs (exit code 255 from ssh): " +
        "ssh: connect to host gpu-box port 22: Connection refused. Nothing was changed. Make the host reachable " +
        "(`ssh deploy@gpu-box` must log in without a prompt), or set llmstack:preflight.enabled to false for a host checked another way.",
    );
    expect(run.containers).toEqual([]);
  });

  it("runs no check when preflight.enabled is false, and says so", async () => {
    const warn = vi.spyOn(pulumi.log, "warn").mockImplementation(() => Promise.resolve());
    const run = await runGate("production", { "llmstack:preflight": { enabled: false } }, "");
    expect(run.error).toBe(null);
    expect(run.invokes).toEqual([]);
    expect(run.postgresScripts).toEqual([]);
    expect(run.qdrantScripts).toEqual([]);
    expect(warn.mock.calls.map((c) => c[0])).toContain(
      "preflight: llmstack:preflight.enabled is false in Pulumi.production.yaml, so the host's GPUs are not checked before " +
        "containers are created; run `llmstack validate --stack production` to check them",
    );
    expect(run.containers).toContain("llm-multimodal-stack-production-vllm");
  });

  it("stops pulumi up when the probe printed nothing: the host's GPUs cannot be told ready", async () => {
    const run = await runGate("production", {}, undefined);
    expect(run.error?.message).toBe(
      'error serializing property "host": Pulumi.production.yaml: preflight: could not reach this machine to check its ' +
        "GPUs: no output. Nothing was changed. Check that sh, docker and nvidia-smi run on this machine (`llmstack validate` " +
        "shows which does not), or set llmstack:preflight.enabled to false for a host checked another way.",
    );
    expect(run.containers).toEqual([]);
  });

  it("stops pulumi up, on a tcp:// host too (where the GPU checks cannot run), when the retained Postgres volume holds another major version", async () => {
    const run = await runGate("development", { "llmstack:dockerHost": "tcp://10.0.0.5:2376" }, undefined, false, "image postgres:16.10\nfound PG_VERSION 15\nlisted\n");
    expect(run.postgresScripts).toHaveLength(1);
    expect(run.postgresScripts[0]).toContain("'docker' '--host' 'tcp://10.0.0.5:2376' volume inspect --format '{{.Name}}' 'llm-multimodal-stack-development-postgres-data'");
    expect(run.error?.message).toBe(
      'error serializing property "host": ' +
        "Pulumi.development.yaml: preflight failed, so no container was replaced and nothing was changed:\n" +
        "  - postgres.data: the volume llm-multimodal-stack-development-postgres-data holds a Postgres 15 data directory (PG_VERSION), " +
        'but llmstack:images.postgres is postgres:16.10 (Postgres 16): the new server would stop with "FATAL: database files are incompatible with server"\n' +
        "    fix: keep llmstack:images.postgres at Postgres 15 for now, and move the data to 16 by dump and restore: pg_dump -Fc from the " +
        "running 15 server (docker exec llm-multimodal-stack-development-postgres pg_dump -Fc ...), then restore into a new 16 data volume; " +
        "the steps are in docs/operations.md#upgrading-postgres\n" +
        "Run `llmstack validate --stack development` to see every check.",
    );
    expect(run.types.filter((t) => t.startsWith("docker:"))).toEqual([]);
  });

  it("says it could not read the volume and goes on", async () => {
    const warn = vi.spyOn(pulumi.log, "warn").mockImplementation(() => Promise.resolve());
    const run = await runGate("development", { "llmstack:dockerHost": "tcp://10.0.0.5:2376" }, undefined, false, "no image\n");
    expect(run.error).toBe(null);
    expect(warn.mock.calls.map((c) => c[0])).toContain(
      "preflight: postgres.data warn: could not read the Postgres version in the volume llm-multimodal-stack-development-postgres-data " +
        "(no image to read it with is on the host), so a major-version change is not checked",
    );
    expect(run.containers).toContain("llm-multimodal-stack-development-postgres");
  });

  it("stops pulumi up, on a tcp:// host too, when the retained Qdrant storage was last served by a release two minors back", async () => {
    const served =
      "ran ref sha256:4f1c\nran label v1.13.2\nran tags qdrant/qdrant:v1.13.2\nplanned label\n" +
      "image sha256:4f1c\ncollection 0.4.2 docs\nlisted\n";
    const run = await runGate("development", { "llmstack:dockerHost": "tcp://10.0.0.5:2376" }, undefined, false, "volume absent\n", served);
    expect(run.qdrantScripts).toHaveLength(1);
    expect(run.postgresScripts).toHaveLength(1);
    expect(run.qdrantScripts[0]).toContain("'docker' '--host' 'tcp://10.0.0.5:2376' volume inspect --format '{{.Name}}' 'llm-multimodal-stack-development-qdrant-data'");
    expect(run.error?.message).toBe(
      'error serializing property "host": ' +
        "Pulumi.development.yaml: preflight failed, so no container was replaced and nothing was changed:\n" +
        "  - qdrant.data: the volume llm-multimodal-stack-development-qdrant-data holds 1 Qdrant collection (docs), last served by " +
        "Qdrant 1.13.2 (the label org.opencontainers.image.version of the image of the container llm-multimodal-stack-development-qdrant), " +
        "but llmstack:images.qdrant is qdrant/qdrant:v1.15.5 (Qdrant 1.15.5): Qdrant migrates its storage one minor release at a time, " +
        "so 1.13.2 to 1.15.5 skips 1.14\n" +
        "    fix: step through each minor release in between at its latest patch: set llmstack:images.qdrant to " +
        "qdrant/qdrant:v1.14.<latest patch>, running pulumi up and waiting for Qdrant to be ready after each, then qdrant/qdrant:v1.15.5; " +
        "the steps are in docs/operations.md#upgrading-qdrant\n" +
        "Run `llmstack validate --stack development` to see every check.",
    );
    expect(run.types.filter((t) => t.startsWith("docker:"))).toEqual([]);
  });
});
