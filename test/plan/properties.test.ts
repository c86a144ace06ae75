/**
 * Invariants of the planner over generated valid stacks: whatever GPU layout, gateway and model a stack
 * file chooses, no GPU is booked beyond its memory, no host port is bound twice, names are unique, and
 * every dependency exists in an order without cycles.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { StackConfigError } from "../../src/config/errors";
import { CUDA_CONTEXT_MIB, CUDA_RESERVED_MIB } from "../../src/config/gpuBookings";
import { orderByDependencies } from "../../src/plan/order";
import { takesGpuMemory } from "../../src/monitoring/dcgm";
import { planFromValues, rawValues } from "../helpers/stacks";

const gpuSection = fc.oneof(
  fc.constant({ mode: "cpu" }),
  fc
    .record({
      total: fc.integer({ min: 1, max: 8 }),
      tpExp: fc.integer({ min: 0, max: 3 }),
      pp: fc.constantFrom(1, 2),
      util: fc.double({ min: 0.05, max: 0.95, noNaN: true }),
      fraction: fc.double({ min: 0.01, max: 1, noNaN: true }),
      workerOffset: fc.nat(),
      memoryMiB: fc.constantFrom(8192, 12288, 24576, 40960, 81920),
      nvlink: fc.boolean(),
      cardClass: fc.constantFrom("consumer", "datacenter"),
    })
    .map((g) => {
      const tp = Math.min(2 ** g.tpExp, g.total);
      const n = Math.min(tp * g.pp, g.total);
      const pp = n % tp === 0 ? n / tp : 1;
      const vllm = Array.from({ length: tp * pp }, (_, i) => String(i));
      const worker = String(g.workerOffset % g.total);
      return {
        mode: vllm.length >= 2 ? "multi" : "single",
        vllmDevices: vllm,
        workerDevices: [worker],
        nvlink: vllm.length >= 2 ? g.nvlink : false,
        cardClass: g.cardClass,
        tensorParallelSize: tp,
        pipelineParallelSize: pp,
        memoryUtilization: Math.round(g.util * 100) / 100,
        workerMemoryFraction: Math.round(g.fraction * 100) / 100 || 0.01,
        memoryMiB: g.memoryMiB,
      };
    }),
);

const gateway = fc.oneof(
  fc.record({ bindAddress: fc.constant("127.0.0.1"), port: fc.integer({ min: 1024, max: 65535 }) }),
  fc.record({
    bindAddress: fc.constant("0.0.0.0"),
    port: fc.integer({ min: 1024, max: 65535 }),
    tls: fc.constant({ mode: "internal" }),
  }),
);

describe("planner invariants over generated stacks", () => {
  it("books no GPU beyond its memory, binds no port twice, names every container once, orders dependencies", () => {
    let planned = 0;
    let rejected = 0;
    fc.assert(
      fc.property(
        gpuSection,
        gateway,
        fc.constantFrom("development", "staging", "production"),
        fc.boolean(),
        (gpu, gw, stack, monitoring) => {
          const values = rawValues(stack) as Record<string, unknown>;
          values.gpu = gpu;
          values.gateway = gw;
          values.monitoring = { enabled: monitoring };
          let plan;
          try {
            plan = planFromValues(values, stack);
          } catch (err) {
            // A GPU over budget, or production's utilisation bounds, are valid rejections; anything else
            // would be a generator bug.
            expect(err).toBeInstanceOf(StackConfigError);
            expect((err as Error).message).toMatch(
              /llmstack:gpu\.(workerMemoryFraction: GPU|memoryUtilization: GPU|memoryUtilization: production allows)/,
            );
            rejected++;
            return;
          }
          planned++;
          // Independently of the budget module: on every GPU vLLM uses, each process's share of what CUDA
          // can allocate plus one CUDA context each fits, or vLLM could not start beside the others.
          const usable = (gpu as { memoryMiB: number }).memoryMiB - CUDA_RESERVED_MIB;
          const booked = new Map<string, { mib: number; vllm: boolean }>();
          for (const c of plan.containers.filter((x) => takesGpuMemory(x))) {
            const argv = [...(c.entrypoints ?? []), ...c.command];
            const share =
              c.service === "vllm"
                ? Number(argv[argv.indexOf("--gpu-memory-utilization") + 1])
                : Number(c.env.WORKER_GPU_MEMORY_FRACTION);
            expect(share).toBeGreaterThan(0);
            for (const id of c.deviceRequests.flatMap((d) => d.deviceIds)) {
              const cur = booked.get(id) ?? { mib: 0, vllm: false };
              booked.set(id, { mib: cur.mib + share * usable + CUDA_CONTEXT_MIB, vllm: cur.vllm || c.service === "vllm" });
            }
          }
          for (const b of booked.values()) if (b.vllm) expect(b.mib).toBeLessThanOrEqual(usable + 1e-6);
          const ports = plan.containers.flatMap((c) => c.ports.map((p) => `${p.ip}:${p.external}`));
          expect(new Set(ports).size).toBe(ports.length);
          const names = plan.containers.map((c) => c.name);
          expect(new Set(names).size).toBe(names.length);
          expect(orderByDependencies(plan.containers)).toHaveLength(plan.containers.length);
        },
      ),
      { numRuns: 300, seed: 20261128 },
    );
    console.log(`planner properties: ${planned} stacks planned, ${rejected} rejected for the GPU budget or bounds`);
    expect(planned).toBeGreaterThan(100);
  });
});
