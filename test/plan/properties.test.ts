/**
 * Invariants of the planner over generated valid stacks: whatever GPU layout, gateway and model a stack
 * file chooses, no GPU is booked beyond its memory, no host port is bound twice, names are unique, and
 * every dependency exists in an order without cycles.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { StackConfigError } from "../../src/config/errors";
import { orderByDependencies } from "../../src/deploy/stack";
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
            // A shared GPU over budget is a valid rejection; anything else would be a generator bug.
            expect(err).toBeInstanceOf(StackConfigError);
            expect((err as Error).message).toContain("llmstack:gpu.workerMemoryFraction: GPU");
            rejected++;
            return;
          }
          planned++;
          const booked = new Map<string, number>();
          for (const c of plan.containers.filter((x) => takesGpuMemory(x))) {
            const share =
              c.service === "vllm"
                ? Number(c.env.VLLM_GPU_MEMORY_UTILIZATION)
                : Number(c.env.WORKER_GPU_MEMORY_FRACTION);
            for (const id of c.deviceRequests.flatMap((d) => d.deviceIds)) {
              booked.set(id, (booked.get(id) ?? 0) + share);
            }
          }
          for (const share of booked.values()) expect(share).toBeLessThanOrEqual(1 + 1e-9);
          const ports = plan.containers.flatMap((c) => c.ports.map((p) => `${p.ip}:${p.external}`));
          expect(new Set(ports).size).toBe(ports.length);
          const names = plan.containers.map((c) => c.name);
          expect(new Set(names).size).toBe(names.length);
          expect(orderByDependencies(plan.containers)).toHaveLength(plan.containers.length);
        },
      ),
      { numRuns: 300, seed: 20261128 },
    );
    console.log(`planner properties: ${planned} stacks planned, ${rejected} rejected for an over-budget shared GPU`);
    expect(planned).toBeGreaterThan(100);
  });
});
