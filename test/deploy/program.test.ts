import type * as pulumi from "@pulumi/pulumi";
import { beforeAll, describe, expect, it } from "vitest";
import { containerJson, dockerSettings } from "../../src/plan/render";
import { appImagesOverride, pinImagesForTests, runProgram, TEST_SECRETS, testPinned, unwrap, type MockRun } from "../helpers/pulumiMocks";
import { planFromValues, rawValues, STACKS } from "../helpers/stacks";

const CONTAINER = "docker:index/container:Container";
const SECRET_SIG = "4dabf18193072939515e22adb298388d";

/** Pulumi mocks record a secret input as { <sig>: ..., value }. */
function reveal(v: unknown): { secret: boolean; value: unknown } {
  if (v !== null && typeof v === "object" && SECRET_SIG in (v as object)) {
    return { secret: true, value: (v as { value: unknown }).value };
  }
  return { secret: false, value: v };
}

function inputsOf(run: MockRun, name: string): Record<string, unknown> {
  return run.byName(name).inputs;
}

describe.each(STACKS)("the %s stack under Pulumi mocks", (stack) => {
  let run: MockRun;
  // As runProgram configures it: staging and production with their images pinned.
  const plan = planFromValues({ ...rawValues(stack), ...pinImagesForTests(rawValues(stack)) }, stack);

  // One run of the program for every test of the stack, each of which reads it.
  beforeAll(async () => {
    run = await runProgram(stack);
  });

  it("registers the provider, network, volumes, images and one container per service", () => {
    expect(run.error).toBeUndefined();
    const types = run.registrations.map((r) => r.type);
    // The model download, vLLM, LiteLLM, the four stores and the smoke test (no worker or retrieval proxy:
    // the checked-in stacks set no image for them); staging and production add Caddy (the gateway is
    // published beyond loopback) and monitoring (DCGM exporter, Alertmanager, Prometheus, Grafana).
    const count = plan.containers.length;
    expect(count).toBe(stack === "development" ? 8 : 13);
    expect(types.filter((t) => t === CONTAINER)).toHaveLength(count);
    expect(types.filter((t) => t === "docker:index/remoteImage:RemoteImage")).toHaveLength(count);
    expect(types.filter((t) => t === "docker:index/volume:Volume")).toHaveLength(plan.volumes.length);
    expect(types.filter((t) => t === "docker:index/network:Network")).toHaveLength(1);
    expect(run.byName(`${stack}-docker`).inputs.host).toBe("unix:///var/run/docker.sock");
    expect(run.byName(`${stack}-vllm`).type).toBe("llmstack:service:Vllm");
    expect(run.byName(`${stack}-litellm`).type).toBe("llmstack:service:Litellm");
    expect(run.byName(`${stack}`).type).toBe("llmstack:index:LlmStack");
  });

  it("registers exactly the inputs the offline plan shows, secrets aside", async () => {
    for (const spec of plan.containers) {
      const resource = spec.service === "model-download" ? `${stack}-vllm-model-download` : `${stack}-${spec.service}`;
      const inputs = inputsOf(run, `${resource}-container`);
      const shown = containerJson(spec, plan);
      // Every Docker setting the plan prints, plus the fields that name other resources.
      const fields = [...Object.keys(dockerSettings(spec)), "image", "volumes", "networksAdvanced"];
      expect(fields).toEqual(expect.arrayContaining(["name", "command", "deviceRequests", "ports", "restart", "logOpts", "securityOpts"]));
      for (const field of fields) {
        expect(inputs[field], `${spec.service}.${field}`).toEqual(shown[field]);
      }
      const envs = reveal(inputs.envs);
      const masked = (envs.value as string[]).map((e) =>
        Object.values(TEST_SECRETS).reduce((acc, s) => acc.split(s).join("********"), e),
      );
      expect(masked, `${spec.service}.envs`).toEqual(shown.envs);
    }
  });

  it("passes secrets only as secret inputs", async () => {
    const vllm = inputsOf(run, `${stack}-vllm-container`);
    const envs = reveal(vllm.envs);
    expect(envs.secret).toBe(true);
    expect(envs.value).toContain(`VLLM_API_KEY=${TEST_SECRETS.vllmApiKey}`);
    // A secret inside the uploads list makes Pulumi mark the whole list secret.
    const uploads = reveal(inputsOf(run, `${stack}-redis-container`).uploads);
    expect(uploads).toEqual({
      secret: true,
      value: [
        {
          file: "/usr/local/etc/redis/redis.conf",
          content: `bind 0.0.0.0\nprotected-mode yes\nappendonly yes\ndir /data\nrequirepass "${TEST_SECRETS.redisPassword}"\n`,
          permissions: "0400",
          // redis 7.4's entrypoint drops to redis (999:999) with gosu before redis-server reads its config.
          owner: "999",
          group: "999",
        },
      ],
    });
    // Containers without any secret keep a readable env list.
    expect(reveal(inputsOf(run, `${stack}-vllm-model-download-container`).envs)).toEqual({
      secret: false,
      value: ["HF_HOME=/root/.cache/huggingface"],
    });
  });

  it("waits for vLLM's model load, and runs the download to completion", async () => {
    const vllm = inputsOf(run, `${stack}-vllm-container`);
    expect([vllm.wait, vllm.waitTimeout]).toEqual([true, 1200]);
    const download = inputsOf(run, `${stack}-vllm-model-download-container`);
    expect([download.attach, download.mustRun, download.wait]).toEqual([true, false, undefined]);
    const vllmImage = stack === "development" ? "vllm/vllm-openai:v0.21.0" : testPinned("vllm/vllm-openai:v0.21.0");
    expect(inputsOf(run, `${stack}-vllm-image`)).toEqual({ name: vllmImage, keepLocally: true });
  });

  it("replaces containers delete-first and keeps data volumes on delete", () => {
    const opts = (name: string) => run.options.find((o) => o.name === name)!.opts as pulumi.CustomResourceOptions;
    for (const c of run.containers()) expect(opts(c.name).deleteBeforeReplace, c.name).toBe(true);
    for (const key of ["hf-cache", "postgres-data", "redis-data", "qdrant-data", "object-store-data"]) {
      expect(opts(`${stack}-${key}`).retainOnDelete).toBe(true);
      expect(opts(`${stack}-${key}`).protect).toBe(stack === "production");
    }
    expect(opts(`${stack}-vllm-model-download-container`).customTimeouts).toEqual({ create: "125m" });
  });

  it("gives every create and pull the timeout the stack's settings call for", () => {
    const opts = (name: string) => run.options.find((o) => o.name === name)!.opts as pulumi.CustomResourceOptions;
    // vLLM's create covers its 1200 s health wait (vllm.startupTimeoutSeconds) plus 5 minutes to create
    // and start; its image pull gets vllm.pullTimeoutMinutes (60) instead of the provider's 20.
    expect(opts(`${stack}-vllm-container`).customTimeouts).toEqual({ create: "25m" });
    expect(opts(`${stack}-vllm-image`).customTimeouts).toEqual({ create: "60m" });
    expect(opts(`${stack}-vllm-model-download-image`).customTimeouts).toEqual({ create: "60m" });
    expect(opts(`${stack}-redis-container`).customTimeouts).toEqual({ create: "7m" });
    expect(opts(`${stack}-redis-image`).customTimeouts).toEqual({ create: "20m" });
    expect(opts(`${stack}-smoke-test-container`).customTimeouts).toEqual({ create: "10m" });
    // Every container and image registers exactly the timeouts the offline plan shows.
    for (const spec of plan.containers) {
      const resource = spec.service === "model-download" ? `${stack}-vllm-model-download` : `${stack}-${spec.service}`;
      const shown = containerJson(spec, plan);
      expect(opts(`${resource}-container`).customTimeouts, spec.service).toEqual(shown.customTimeouts);
      expect(opts(`${resource}-image`).customTimeouts, spec.service).toEqual(shown.imageCustomTimeouts);
      expect(shown.customTimeouts, spec.service).toEqual({ create: `${spec.createTimeoutMinutes}m` });
    }
  });

  it("creates LiteLLM after vLLM and Postgres", async () => {
    const opts = run.options.find((o) => o.name === `${stack}-litellm-container`)!.opts;
    const deps = (await unwrap(opts.dependsOn as never)) as { __name?: string }[];
    const names = await Promise.all(deps.map((d) => unwrap((d as unknown as { name: never }).name)));
    expect(names).toEqual([`llm-multimodal-stack-${stack}-vllm`, `llm-multimodal-stack-${stack}-postgres`]);
  });

  it("exports the gateway URL, served model, GPU map and vLLM's arguments", () => {
    expect(run.outputs.gatewayUrl).toBe(plan.gatewayUrl);
    expect(run.outputs.servedModel).toBe(plan.servedModelName);
    expect(run.outputs.gpuMap).toEqual(plan.gpuMap);
    expect(run.outputs.vllmArgs).toEqual(plan.vllmArgs);
  });
});

describe("timeouts follow the stack's own settings", () => {
  it("raises the vLLM create timeout with vllm.startupTimeoutSeconds and the pull with vllm.pullTimeoutMinutes", async () => {
    const run = await runProgram("production", {
      "llmstack:vllm": { startupTimeoutSeconds: 5400, pullTimeoutMinutes: 180 },
    });
    expect(run.error).toBeUndefined();
    const opts = (name: string) => run.options.find((o) => o.name === name)!.opts as pulumi.CustomResourceOptions;
    expect(run.byName("production-vllm-container").inputs.waitTimeout).toBe(5400);
    expect(opts("production-vllm-container").customTimeouts).toEqual({ create: "95m" });
    expect(opts("production-vllm-image").customTimeouts).toEqual({ create: "180m" });
    expect(opts("production-postgres-image").customTimeouts).toEqual({ create: "20m" });
  });
});

describe("a stack that cannot be deployed registers nothing", () => {
  it("fails production without its secrets, naming the command that stores them", async () => {
    const run = await runProgram("production", {}, {});
    expect(run.error?.message).toBe(
      "Pulumi.production.yaml: the stack needs these secrets, which the stack file does not have: " +
        "llmstack:postgresPassword, llmstack:redisPassword, llmstack:qdrantApiKey, llmstack:objectStoreSecretKey, " +
        "llmstack:litellmMasterKey, llmstack:litellmSaltKey, llmstack:vllmApiKey, llmstack:grafanaAdminPassword. " +
        "They open data that outlives the " +
        'stack, so production keeps them in the stack file: run "npx llmstack secrets init --stack production" once ' +
        '(it generates and stores them with "pulumi config set --secret"), then run pulumi up again.',
    );
    expect(run.registrations).toEqual([]);
  });

  it.each([
    ["utilisation 1.2", { "llmstack:gpu": { ...gpu(), memoryUtilization: 1.2 } }, "llmstack:gpu.memoryUtilization: Too big"],
    ["TP 3 on 2 GPUs", { "llmstack:gpu": { ...gpu(), tensorParallelSize: 3 } }, "llmstack:gpu.tensorParallelSize: tensorParallelSize 3"],
    [
      "a shared GPU over budget",
      { "llmstack:gpu": { ...gpu(), workerMemoryFraction: 0.3 }, ...appImagesOverride("production") },
      "llmstack:gpu.workerMemoryFraction: GPU 1 is shared",
    ],
    ["an unknown key", { "llmstack:gpuu": {} }, "llmstack:gpuu: unknown key"],
    ["a wrong type", { "llmstack:gateway": { bindAddress: "127.0.0.1", port: "4000" } }, "llmstack:gateway.port: Invalid input: expected number, received string"],
  ])("rejects %s", async (_name, overrides, text) => {
    const run = await runProgram("production", overrides);
    expect(run.error?.message).toContain("Pulumi.production.yaml: invalid stack config:\n");
    expect(run.error?.message).toContain(text);
    expect(run.registrations).toEqual([]);
  });
});

describe("your application images", () => {
  it("registers the worker and the retrieval proxy, pulling their images, once the images are set", async () => {
    const run = await runProgram("development", appImagesOverride("development"));
    expect(run.error).toBeUndefined();
    const images = run.registrations.filter((r) => r.type === "docker:index/remoteImage:RemoteImage").map((r) => r.inputs.name);
    expect(images).toContain("registry.example.com/acme/multimodal-worker:1.0.0");
    expect(images).toContain("registry.example.com/acme/retrieval-proxy:1.0.0");
    expect(inputsOf(run, "development-multimodal-worker-container").name).toBe("llm-multimodal-stack-development-multimodal-worker");
    expect(inputsOf(run, "development-retrieval-proxy-container").name).toBe("llm-multimodal-stack-development-retrieval-proxy");
  });
});

describe("development generates its own credentials", () => {
  it("creates a random password per missing secret and prefixes LiteLLM's master key", async () => {
    const run = await runProgram("development", {}, {});
    expect(run.error).toBeUndefined();
    const generated = run.registrations.filter((r) => r.type === "random:index/randomPassword:RandomPassword");
    expect(generated.map((g) => g.name)).toEqual([
      "development-postgresPassword",
      "development-redisPassword",
      "development-qdrantApiKey",
      "development-objectStoreSecretKey",
      "development-litellmMasterKey",
      "development-litellmSaltKey",
      "development-vllmApiKey",
    ]);
    expect(generated[0]!.inputs).toEqual({ length: 40, special: false });
    const envs = reveal(inputsOf(run, "development-litellm-container").envs);
    expect(envs.secret).toBe(true);
    expect(envs.value).toContain("LITELLM_MASTER_KEY=sk-generated-development-litellmMasterKey");
  });
});

function gpu(): Record<string, unknown> {
  return {
    mode: "multi",
    vllmDevices: ["0", "1"],
    workerDevices: ["1"],
    nvlink: true,
    cardClass: "consumer",
    tensorParallelSize: 2,
    pipelineParallelSize: 1,
    memoryUtilization: 0.9,
    workerMemoryFraction: 0.1,
  };
}
