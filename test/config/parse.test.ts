import { describe, expect, it } from "vitest";
import { StackConfigError } from "../../src/config/errors";
import { parseStackConfig } from "../../src/config/parse";
import { stackConfigSchema } from "../../src/config/schema";
import { readStack } from "../../src/config/stackFile";
import { ROOT } from "../helpers/pulumiMocks";
import { rawValues, STACKS } from "../helpers/stacks";

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

const FOOTER = 'Fix these keys in Pulumi.production.yaml (see README "Stack config keys").';

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
      workerMemoryFraction: 0.1,
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

  it("rejects a GPU shared by vLLM and the worker beyond the memory budget", () => {
    expect(errorOf(production((v) => (v.gpu.workerMemoryFraction = 0.2)))).toBe(
      "Pulumi.production.yaml: invalid stack config:\n" +
        "  - llmstack:gpu.workerMemoryFraction: GPU 1 is shared by vLLM (memoryUtilization 0.9) and the " +
        "multimodal worker (workerMemoryFraction 0.2): together 1.1 of the GPU, more than 1.0; lower " +
        "memoryUtilization to 0.8 or less, or give the worker a GPU vLLM does not use (got 0.2)\n" +
        FOOTER,
    );
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
      '  - llmstack:gpu.vllmDevices[1]: must be a GPU index such as "0" or a UUID such as "GPU-5a0c6b3e-..." (got "gpu1")',
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
