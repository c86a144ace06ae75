/**
 * The GPU budget (src/config/gpuBookings.ts): the numbers for each checked-in stack, the restart case,
 * one GPU under two names, and the utilisation bounds the schema and the policy pack share.
 */
import { describe, expect, it } from "vitest";
import { productionUtilisationFindings, type ContainerInputs } from "../../policy/rules";
import { StackConfigError } from "../../src/config/errors";
import {
  bookingLine,
  CUDA_CONTEXT_MIB,
  CUDA_RESERVED_MIB,
  gpuBookings,
  problemText,
  sectionTenants,
  type HostGpu,
} from "../../src/config/gpuBookings";
import { parseStackConfig } from "../../src/config/parse";
import type { GpuModeConfig } from "../../src/config/schema";
import { DEFAULT_GPU_MEMORY_THRESHOLD } from "../../src/monitoring/rules";
import { rawValues, STACKS, withAppImages } from "../helpers/stacks";

// The reference rig's UUIDs (test/fixtures/nvidia-smi, the club-3090 captures).
const UUIDS = ["GPU-1aff65f8-8897-eaee-29e4-6871ef7491a0", "GPU-fef3f583-99bd-ac7f-c761-eddb679067e0"] as const;
const RIG: HostGpu[] = [
  { index: 0, uuid: UUIDS[0], memoryMiB: 24576 },
  { index: 1, uuid: UUIDS[1], memoryMiB: 24576 },
];

function gpuOf(stack: string, edit: (g: Record<string, unknown>) => void = () => undefined): GpuModeConfig {
  const values = rawValues(stack);
  edit(values.gpu as Record<string, unknown>);
  const gpu = parseStackConfig(values, `Pulumi.${stack}.yaml`).gpu;
  if (gpu.mode === "cpu") throw new Error("expected a GPU stack");
  return gpu;
}

/** Parses the stack with the multimodal worker running (its image set) after editing its GPU section. */
function rejection(stack: string, edit: (g: Record<string, unknown>) => void): string[] {
  const values = withAppImages(rawValues(stack));
  edit(values.gpu as Record<string, unknown>);
  try {
    parseStackConfig(values, `Pulumi.${stack}.yaml`);
  } catch (err) {
    expect(err).toBeInstanceOf(StackConfigError);
    return (err as Error).message.split("\n").slice(1, -1);
  }
  throw new Error("expected the stack to be rejected");
}

describe("the recorded facts", () => {
  it("keeps 440 MiB for the driver and 512 MiB per CUDA context", () => {
    expect([CUDA_RESERVED_MIB, CUDA_CONTEXT_MIB]).toEqual([440, 512]);
  });
});

describe("the checked-in stacks", () => {
  // Each 3090 reports memory.total 24576 MiB; CUDA can allocate 24576 - 440 = 24136 MiB.
  it.each([
    [
      "development",
      [
        "GPU 0: vLLM 0.8 of 24136 MiB and 1 CUDA context of 512 MiB = 19821 MiB of 24136 MiB",
        "GPU 1: vLLM 0.8 + the multimodal worker 0.1 of 24136 MiB and 2 CUDA contexts of 512 MiB = 22746 MiB of 24136 MiB",
      ],
      [0.821, 0.942],
    ],
    [
      "staging",
      [
        "GPU 0: vLLM 0.85 of 24136 MiB and 1 CUDA context of 512 MiB = 21028 MiB of 24136 MiB",
        "GPU 1: vLLM 0.85 + the multimodal worker 0.04 of 24136 MiB and 2 CUDA contexts of 512 MiB = 22505 MiB of 24136 MiB",
      ],
      [0.871, 0.932],
    ],
    [
      "production",
      [
        "GPU 0: vLLM 0.9 of 24136 MiB and 1 CUDA context of 512 MiB = 22234 MiB of 24136 MiB",
        "GPU 1: vLLM 0.9 + the multimodal worker 0.04 of 24136 MiB and 2 CUDA contexts of 512 MiB = 23712 MiB of 24136 MiB",
      ],
      [0.921, 0.982],
    ],
  ])("%s books each GPU within what CUDA can allocate", (stack, lines, fractions) => {
    expect(STACKS).toContain(stack);
    const gpu = gpuOf(stack);
    const b = gpuBookings(sectionTenants(gpu, true), { memoryMiB: gpu.memoryMiB });
    expect(b.problems).toEqual([]);
    expect(b.gpus.map(bookingLine)).toEqual(lines);
    expect(b.gpus.map((g) => g.bookedFraction)).toEqual(fractions);
    // GpuMemoryNearFull's default stays above what the stack books, so it fires only when something grows.
    expect(Math.max(...fractions)).toBeLessThan(DEFAULT_GPU_MEMORY_THRESHOLD);
  });

  it("production's GPU 1 leaves the worker at most 0.05: 0.05 fits, 0.06 does not", () => {
    const at = (w: number) => gpuBookings(sectionTenants({ ...gpuOf("production"), workerMemoryFraction: w }, true), { memoryMiB: 24576 });
    expect(at(0.05).problems).toEqual([]);
    expect(at(0.06).problems.map((p) => p.fix)).toEqual([
      "lower workerMemoryFraction to 0.05 or less, or memoryUtilization to 0.89 or less, or give the multimodal worker a GPU vLLM does not use",
    ]);
  });

  it("a disabled worker books nothing", () => {
    const gpu = gpuOf("production");
    expect(gpuBookings(sectionTenants(gpu, false), { memoryMiB: 24576 }).gpus.map(bookingLine)).toEqual([
      "GPU 0: vLLM 0.9 of 24136 MiB and 1 CUDA context of 512 MiB = 22234 MiB of 24136 MiB",
      "GPU 1: vLLM 0.9 of 24136 MiB and 1 CUDA context of 512 MiB = 22234 MiB of 24136 MiB",
    ]);
  });
});

describe("the restart case", () => {
  const shares = { vllmDevices: ["0", "1"], workerDevices: ["1"], memoryUtilization: 0.9, workerMemoryFraction: 0.1 };

  it("0.9 + 0.1 on one GPU: vLLM could not start again beside the running worker", () => {
    expect(gpuBookings(sectionTenants(shares, true), { memoryMiB: 24576 }).problems).toEqual([
      {
        key: "workerMemoryFraction",
        message:
          "GPU 1 is shared by vLLM (memoryUtilization 0.9) and the multimodal worker (workerMemoryFraction 0.1): " +
          "0.9 + 0.1 of the 24136 MiB CUDA can allocate (memory.total 24576 MiB less 440 MiB the driver keeps) plus a " +
          "512 MiB CUDA context per process come to 25160 MiB, 1024 MiB more than there is; vLLM starts only when its " +
          "whole share is free, so it could not start again while the multimodal worker holds its share",
        fix:
          "lower workerMemoryFraction to 0.05 or less, or memoryUtilization to 0.85 or less, or give the multimodal " +
          "worker a GPU vLLM does not use",
      },
    ]);
  });

  it("without the GPU's memory the contexts still need room: shares of exactly 1 fail, below 1 pass", () => {
    expect(gpuBookings(sectionTenants(shares, true)).problems.map(problemText)).toEqual([
      "GPU 1 is shared by vLLM (memoryUtilization 0.9) and the multimodal worker (workerMemoryFraction 0.1): 0.9 + 0.1 " +
        "= 1 of its memory leaves nothing for a 512 MiB CUDA context per process; vLLM starts only when its whole " +
        "share is free, so it could not start again while the multimodal worker holds its share; lower " +
        "memoryUtilization or workerMemoryFraction, or give the multimodal worker a GPU vLLM does not use",
    ]);
    expect(gpuBookings(sectionTenants({ ...shares, workerMemoryFraction: 0.09 }, true)).problems).toEqual([]);
  });

  it("a GPU the worker has to itself books no start-up check, whatever its share", () => {
    const alone = { ...shares, vllmDevices: ["0"], workerMemoryFraction: 1 };
    expect(gpuBookings(sectionTenants(alone, true), { memoryMiB: 24576 }).problems).toEqual([]);
  });
});

describe("one GPU under two names", () => {
  it("the stack file may not mix indices and UUIDs: vLLM on 0, 1 at 0.95 and the worker on GPU 1's UUID at 1.0", () => {
    expect(
      rejection("development", (g) => Object.assign(g, { memoryUtilization: 0.95, workerMemoryFraction: 1, workerDevices: [UUIDS[1]] })),
    ).toEqual([
      `  - llmstack:gpu.workerDevices: names GPU "${UUIDS[1]}" by UUID while vllmDevices names GPU "0" by index; the ` +
        "stack file cannot tell whether they are one GPU, so neither the memory budget nor the check for a GPU listed " +
        "twice could hold; name every GPU the same way, all by index or all by UUID (llmstack configure-gpu auto writes " +
        `UUIDs when nvidia-smi gives them) (got ["${UUIDS[1]}"])`,
    ]);
  });

  it("with the host's GPUs the UUID resolves to GPU 1, and the budget fails there", () => {
    const tenants = sectionTenants(
      { vllmDevices: ["0", "1"], workerDevices: [UUIDS[1]], memoryUtilization: 0.95, workerMemoryFraction: 1 },
      true,
    );
    const b = gpuBookings(tenants, { memoryMiB: null, host: RIG });
    expect(b.gpus.map((g) => [g.gpu, g.names])).toEqual([
      ["0", ["0"]],
      ["1", ["1", UUIDS[1]]],
    ]);
    expect(b.problems.map(problemText)).toEqual([
      "GPU 1 is shared by vLLM (memoryUtilization 0.95) and the multimodal worker (workerMemoryFraction 1): 0.95 + 1 of " +
        "the 24136 MiB CUDA can allocate (memory.total 24576 MiB less 440 MiB the driver keeps) plus a 512 MiB CUDA " +
        "context per process come to 48089 MiB, 23953 MiB more than there is; vLLM starts only when its whole share is " +
        "free, so it could not start again while the multimodal worker holds its share; give the multimodal worker a " +
        "GPU vLLM does not use",
    ]);
  });

  it('"01" is refused in the stack file; the budget also reads it as GPU 1, so ["1", "01"] lists one GPU twice', () => {
    expect(rejection("development", (g) => Object.assign(g, { vllmDevices: ["1", "01"] }))).toEqual([
      '  - llmstack:gpu.vllmDevices[1]: must be a GPU index such as "0" (no leading zero: "01" is GPU 1, write "1") or ' +
        'a UUID such as "GPU-5a0c6b3e-..." (got "01")',
    ]);
    const tenants = sectionTenants({ vllmDevices: ["1", "01"], workerDevices: ["0"], memoryUtilization: 0.8, workerMemoryFraction: 0.1 }, true);
    expect(gpuBookings(tenants).problems.map(problemText)).toEqual(['lists GPU 1 twice, as "1" and "01"; list each GPU once']);
  });

  it("a UUID written twice in different letter case is one GPU listed twice, in the stack file and on the host", () => {
    const upper = UUIDS[0].toUpperCase();
    expect(rejection("development", (g) => Object.assign(g, { vllmDevices: [UUIDS[0], upper], workerDevices: [UUIDS[1]] }))).toEqual([
      `  - llmstack:gpu.vllmDevices: lists GPU ${UUIDS[0]} twice, as "${UUIDS[0]}" and "${upper}"; list each GPU once ` +
        `(got ["${UUIDS[0]}","${upper}"])`,
    ]);
    const tenants = sectionTenants({ vllmDevices: [UUIDS[0], upper], workerDevices: [UUIDS[1]], memoryUtilization: 0.8, workerMemoryFraction: 0.1 }, true);
    expect(gpuBookings(tenants, { host: RIG }).problems.map(problemText)).toEqual([
      `lists GPU 0 twice, as "${UUIDS[0]}" and "${upper}"; list each GPU once`,
    ]);
  });

  it("the same index twice keeps its short message", () => {
    expect(rejection("development", (g) => Object.assign(g, { vllmDevices: ["0", "0"] }))).toContain(
      '  - llmstack:gpu.vllmDevices: lists GPU 0 twice; list each GPU once (got ["0","0"])',
    );
  });
});

describe("utilisation bounds: one table for the schema and the policy pack", () => {
  const vllm = (u: number): ContainerInputs => ({ name: "p-vllm", command: ["--gpu-memory-utilization", String(u)] });

  it.each([0.5, 0.59, 0.6, 0.75, 0.9, 0.92, 0.93, 0.94, 0.95])("production at %s: the schema and the policy agree", (u) => {
    // The worker on its own GPU, so only the bounds decide.
    const values = rawValues("production") as Record<string, any>;
    Object.assign(values.gpu, { memoryUtilization: u, vllmDevices: ["0"], mode: "single", nvlink: false, tensorParallelSize: 1 });
    let schemaAccepts = true;
    try {
      parseStackConfig(values, "Pulumi.production.yaml");
    } catch {
      schemaAccepts = false;
    }
    expect(productionUtilisationFindings(vllm(u), "production").length === 0).toBe(schemaAccepts);
    expect(schemaAccepts).toBe(u >= 0.6 && u <= 0.92);
  });
});
