import { describe, expect, it } from "vitest";
import { StackConfigError } from "../../src/config/errors";
import { parseStackConfig } from "../../src/config/parse";
import { stackConfigSchema } from "../../src/config/schema";
import { readStack } from "../../src/config/stackFile";
import { ROOT } from "../helpers/root";
import { rawValues, STACKS, withAppImages } from "../helpers/stacks";

function errorOf(values: Record<string, unknown>, file = "Pulumi.production.yaml"): string {
  try {
    parseStackConfig(values, file);
  } catch (err) {
    expect(err).toBeInstanceOf(StackConfigError);
    return (err as Error).message;
  }
  throw new Error("expected the config to be rejected");
}

function production(edit: (v: Record<string, any>) => void): Record<string, unknown> {
  const v = rawValues("production") as Record<string, any>;
  edit(v);
  return v;
}

const FOOTER = 'Fix these keys in Pulumi.production.yaml (every key is in docs/configuration.md).';

describe("checked-in stack files", () => {
  it.each(STACKS)("%s parses with its environment's utilisation and the reference GPU layout", (stack) => {
    const raw = readStack(ROOT, stack);
    expect(raw.stackFile).toBe(`Pulumi.${stack}.yaml`);
    const config = parseStackConfig(raw.values, raw.stackFile);
    expect(config.environment).toBe(stack);
    expect(config.gpu).toEqual({
      mode: "multi",
      vllmDevices: ["0", "1"],
      workerDevices: ["1"],
      nvlink: true,
      cardClass: "consumer",
      gpuName: "NVIDIA GeForce RTX 3090",
      memoryMiB: 24576,
      tensorParallelSize: 2,
      pipelineParallelSize: 1,
      memoryUtilization: { development: 0.8, staging: 0.85, production: 0.9 }[stack],
      workerMemoryFraction: { development: 0.1, staging: 0.04, production: 0.04 }[stack],
    });
    expect(config.dockerHost).toBe("unix:///var/run/docker.sock");
  });
});

describe("invalid stack config", () => {
  it("names the file, key and value for utilisation 1.2", () => {
    expect(errorOf(production((v) => (v.gpu.memoryUtilization = 1.2)))).toBe(
      "Pulumi.production.yaml: invalid stack config:\n" +
        "  - llmstack:gpu.memoryUtilization: Too big: expected number to be <=0.95 (got 1.2)\n" +
        FOOTER,
    );
  });

  it("rejects utilisation 0", () => {
    expect(errorOf(production((v) => (v.gpu.memoryUtilization = 0)))).toContain(
      "  - llmstack:gpu.memoryUtilization: Too small: expected number to be >0 (got 0)",
    );
  });

  it("rejects a wrong type", () => {
    expect(errorOf(production((v) => (v.gpu.tensorParallelSize = "2")))).toBe(
      "Pulumi.production.yaml: invalid stack config:\n" +
        '  - llmstack:gpu.tensorParallelSize: Invalid input: expected number, received string (got "2")\n' +
        FOOTER,
    );
  });

  it("rejects an unknown key with the allowed keys", () => {
    expect(errorOf(production((v) => (v.gpu.memoryUtilisation = 0.9)))).toBe(
      "Pulumi.production.yaml: invalid stack config:\n" +
        "  - llmstack:gpu.memoryUtilisation: unknown key; check the spelling or remove it\n" +
        FOOTER,
    );
    expect(errorOf(production((v) => (v.modle = {})))).toBe(
      "Pulumi.production.yaml: invalid stack config:\n" +
        "  - llmstack:modle: unknown key; allowed keys here are " +
        Object.keys(stackConfigSchema.shape).join(", ") +
        "; check the spelling or remove it\n" +
        FOOTER,
    );
  });

  it("rejects TP 3 on 2 GPUs", () => {
    expect(errorOf(production((v) => (v.gpu.tensorParallelSize = 3)))).toBe(
      "Pulumi.production.yaml: invalid stack config:\n" +
        "  - llmstack:gpu.tensorParallelSize: tensorParallelSize 3 × pipelineParallelSize 1 = 3, but vllmDevices " +
        "lists 2 GPU(s); vLLM needs TP × PP to equal the GPUs it is given: set tensorParallelSize to 2 or change " +
        "vllmDevices (got 3)\n" +
        FOOTER,
    );
  });

  // 0.1 is exactly the rest of the GPU: the shares fit, the two CUDA contexts do not, so vLLM could not
  // restart beside the running worker (accepted before the contexts were counted).
  it.each([
    [0.2, "27574 MiB, 3438", "0.75"],
    [0.1, "25160 MiB, 1024", "0.85"],
  ])("rejects worker share %s beside vLLM's 0.9 on GPU 1: beyond the memory budget", (w, over, maxUtil) => {
    expect(errorOf(production((v) => {
      v.gpu.workerMemoryFraction = w;
      withAppImages(v);
    }))).toBe(
      "Pulumi.production.yaml: invalid stack config:\n" +
        "  - llmstack:gpu.workerMemoryFraction: GPU 1 is shared by vLLM (memoryUtilization 0.9) and the multimodal " +
        `worker (workerMemoryFraction ${w}): 0.9 + ${w} of the 24136 MiB CUDA can allocate (memory.total 24576 MiB ` +
        `less 440 MiB the driver keeps) plus a 512 MiB CUDA context per process come to ${over} MiB more ` +
        "than there is; vLLM starts only when its whole share is free, so it could not start again while the " +
        "multimodal worker holds its share; lower workerMemoryFraction to 0.05 or less, or memoryUtilization to " +
        `${maxUtil} or less, or give the multimodal worker a GPU vLLM does not use (got ${w})\n` +
        FOOTER,
    );
  });

  it("accepts the largest worker share the message offers", () => {
    expect(parseStackConfig(production((v) => (v.gpu.workerMemoryFraction = 0.05)), "Pulumi.production.yaml").gpu).toMatchObject({
      workerMemoryFraction: 0.05,
    });
  });

  it("rejects vLLM alone on a GPU too small for its share and its CUDA context", () => {
    const values = rawValues("development") as Record<string, any>;
    Object.assign(values.gpu, { mode: "single", vllmDevices: ["0"], nvlink: false, tensorParallelSize: 1 });
    Object.assign(values.gpu, { memoryMiB: 8192, memoryUtilization: 0.95 });
    expect(errorOf(values, "Pulumi.development.yaml")).toBe(
      "Pulumi.development.yaml: invalid stack config:\n" +
        "  - llmstack:gpu.memoryUtilization: GPU 0 is used by vLLM (memoryUtilization 0.95) alone: 0.95 of the 7752 " +
        "MiB CUDA can allocate (memory.total 8192 MiB less 440 MiB the driver keeps) plus its 512 MiB CUDA context " +
        "come to 7876 MiB, 124 MiB more than there is; vLLM starts only when its whole share is free, so it could " +
        "not start; lower memoryUtilization to 0.93 or less (got 0.95)\n" +
        'Fix these keys in Pulumi.development.yaml (every key is in docs/configuration.md).',
    );
  });

  it("needs memoryMiB on a GPU vLLM shares with the worker, to count the CUDA contexts", () => {
    expect(errorOf(production((v) => {
      delete v.gpu.memoryMiB;
      withAppImages(v);
    }))).toBe(
      "Pulumi.production.yaml: invalid stack config:\n" +
        "  - llmstack:gpu.memoryMiB: GPU 1 is shared by vLLM and the multimodal worker, and the budget counts each " +
        "process's 512 MiB CUDA context against the GPU's memory, so it needs memoryMiB; set it to the GPU's " +
        "memory.total in MiB as nvidia-smi reports it (llmstack configure-gpu auto writes it), or give the worker a " +
        "GPU vLLM does not use (not set)\n" +
        FOOTER,
    );
  });

  it("holds production to its utilisation bounds (0.6 to 0.92), which the policy pack imports", () => {
    expect(errorOf(production((v) => (v.gpu.memoryUtilization = 0.94)))).toBe(
      "Pulumi.production.yaml: invalid stack config:\n" +
        "  - llmstack:gpu.memoryUtilization: production allows memoryUtilization 0.6 to 0.92; set it within those " +
        "bounds (got 0.94)\n" +
        FOOTER,
    );
    const staging = rawValues("staging") as Record<string, any>;
    staging.gpu.memoryUtilization = 0.5;
    expect(parseStackConfig(staging, "Pulumi.staging.yaml").gpu).toMatchObject({ memoryUtilization: 0.5 });
  });

  it("books no share for a worker that does not run (no llmstack:images.multimodalWorker)", () => {
    const values = production((v) => (v.gpu.workerMemoryFraction = 0.2));
    expect(parseStackConfig(values, "Pulumi.production.yaml").gpu).toMatchObject({ workerMemoryFraction: 0.2 });
  });

  it("accepts the same share on a GPU vLLM does not use", () => {
    const values = production((v) => {
      v.gpu.vllmDevices = ["0"];
      v.gpu.mode = "single";
      v.gpu.nvlink = false;
      v.gpu.tensorParallelSize = 1;
      v.gpu.workerMemoryFraction = 0.5;
    });
    expect(parseStackConfig(values, "Pulumi.production.yaml").gpu).toMatchObject({ workerMemoryFraction: 0.5 });
  });

  it("reports a missing required key", () => {
    expect(errorOf(production((v) => delete v.model))).toBe(
      "Pulumi.production.yaml: invalid stack config:\n" +
        "  - llmstack:model: required, but missing (expected object)\n" +
        FOOTER,
    );
  });

  it("rejects a GPU ID that is neither an index nor a UUID", () => {
    expect(errorOf(production((v) => (v.gpu.vllmDevices = ["0", "gpu1"])))).toContain(
      '  - llmstack:gpu.vllmDevices[1]: must be a GPU index such as "0" (no leading zero: "01" is GPU 1, write "1") ' +
        'or a UUID such as "GPU-5a0c6b3e-..." (got "gpu1")',
    );
  });

  it("rejects a docker host that is not unix, ssh or tcp", () => {
    expect(errorOf(production((v) => (v.dockerHost = "http://gpu-box")))).toContain(
      '  - llmstack:dockerHost: must be "unix:///var/run/docker.sock", "ssh://user@host" or "tcp://host:port" ' +
        '(user and host may not start with "-"; no control characters) (got "http://gpu-box")',
    );
  });
});

describe("a missing enum key", () => {
  it("says it is required and lists the allowed values", () => {
    const values = rawValues("production");
    delete values.environment;
    expect(() => parseStackConfig(values, "Pulumi.production.yaml")).toThrow(
      '  - llmstack:environment: required, but missing (one of "development", "staging", "production")\n',
    );
  });
});
