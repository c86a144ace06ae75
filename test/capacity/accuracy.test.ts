/**
 * Predicted KV cache tokens against what vLLM itself logged at start-up, in real public issues
 * (test/fixtures/capacity/vllm-startup-logs.json lists each log's URL and settings). The model is not
 * tuned per case: every case goes through the same constants in src/capacity/estimate.ts.
 */
import { describe, expect, it } from "vitest";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { estimateCapacity, lookupGpu, lookupModel } from "../../src/capacity";

interface LogCase {
  readonly id: string;
  readonly url: string;
  readonly vllmVersion: string;
  readonly model: string;
  readonly gpu: string;
  readonly tensorParallelSize: number;
  readonly gpuMemoryUtilization: number;
  readonly maxModelLen: number;
  readonly measure: "kvCacheTokens" | "kvCacheGiB";
  readonly kvCacheTokens?: number;
  readonly kvCacheGiB?: number;
  readonly assert: boolean;
}

const logs = JSON.parse(
  readFileSync(join(__dirname, "../fixtures/capacity/vllm-startup-logs.json"), "utf8"),
) as { cases: LogCase[] };

function predict(c: LogCase): number {
  const r = estimateCapacity({
    model: lookupModel(c.model),
    gpuMemoryMiB: lookupGpu(c.gpu).memoryMiB,
    tensorParallelSize: c.tensorParallelSize,
    pipelineParallelSize: 1,
    gpuMemoryUtilization: c.gpuMemoryUtilization,
    maxModelLen: c.maxModelLen,
    vllmVersion: c.vllmVersion,
  });
  return c.measure === "kvCacheGiB" ? r.kvCacheGiBPerGpu : r.kvCacheTokens;
}

const logged = (c: LogCase) => (c.measure === "kvCacheGiB" ? c.kvCacheGiB : c.kvCacheTokens) as number;
const errorOf = (c: LogCase) => (predict(c) - logged(c)) / logged(c);

describe("KV cache tokens against real vLLM start-up logs", () => {
  it("the fixture holds several logs, each with its source", () => {
    expect(logs.cases.length).toBeGreaterThanOrEqual(5);
    for (const c of logs.cases) {
      expect(c.url).toMatch(/^https:\/\/github\.com\/vllm-project\/vllm\/(issues|pull)\/\d+$/);
      expect(typeof logged(c)).toBe("number");
    }
  });

  it.each(logs.cases.filter((c) => c.assert))("$id is within ±15%", (c) => {
    const err = errorOf(c);
    console.log(
      `${c.id}: predicted ${predict(c)}, vLLM logged ${logged(c)} (${c.measure}), error ${(err * 100).toFixed(1)}% (${c.url})`,
    );
    expect(Math.abs(err)).toBeLessThanOrEqual(0.15);
  });

  it("the 2 × RTX 4090 log whose own numbers disagree is reported, not asserted", () => {
    const c = logs.cases.find((x) => x.id === "2x4090-r1-distill-qwen-14b-tp2");
    expect(c?.assert).toBe(false);
    const predicted = predict(c!);
    // The worker line in that issue reserved 8.69 GiB: at 98,304 B per token that is 94,921 tokens,
    // 5,932 whole blocks = 94,912; the engine's error message said 81,536.
    const workerTokens = Math.floor((8.69 * 1024 ** 3) / (98304 * 16)) * 16;
    console.log(
      `${c!.id}: predicted ${predicted}; against the worker's own 8.69 GiB line (${workerTokens} tokens) ` +
        `${(((predicted - workerTokens) / workerTokens) * 100).toFixed(1)}%, against the engine's ${c!.kvCacheTokens} ` +
        `${(errorOf(c!) * 100).toFixed(1)}% (${c!.url})`,
    );
    expect(workerTokens).toBe(94912);
    expect(Math.abs((predicted - workerTokens) / workerTokens)).toBeLessThanOrEqual(0.15);
  });

  it("the Llama 2 70B TP 4 log of vLLM 0.2.5, whose NCCL memory is not modelled, is reported, not asserted", () => {
    const c = logs.cases.find((x) => x.id === "4xa100-80gb-llama2-70b-tp4-v0.2.5");
    expect(c?.assert).toBe(false);
    console.log(`${c!.id}: predicted ${predict(c!)}, vLLM logged ${logged(c!)}, error ${(errorOf(c!) * 100).toFixed(1)}% (not asserted, ${c!.url})`);
    expect(errorOf(c!)).toBeGreaterThan(0.15);
  });
});
