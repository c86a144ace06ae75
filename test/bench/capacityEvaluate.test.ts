/**
 * The arithmetic of `npm run bench:capacity` on synthetic cases. The real start-up logs
 * (bench/capacity/cases.json) are held out: no test reads them.
 */
import { describe, expect, it } from "vitest";
import { estimateCapacity } from "../../src/capacity";
import { syntheticModel } from "../capacity/synthetic";
import { evaluate, predict, report, summarize, type CaseResult, type LogCase } from "../../bench/capacity/evaluate";

const result = (id: string, cls: CaseResult["class"], predicted: number, actual: number): CaseResult => ({
  id,
  class: cls,
  measure: "kvCacheGiB",
  predicted,
  actual,
  error: (predicted - actual) / actual,
});

describe("the summary", () => {
  // Errors: dense +10%, −20%, +2%, −1% (three within ±15%, median |error| of 1, 2, 10, 20 % = 6%);
  // the rest +50% and −5% (one of two within ±15%, median 27.5%).
  const results = [
    result("a", "dense", 11, 10),
    result("b", "dense", 8, 10),
    result("c", "dense", 10.2, 10),
    result("d", "dense", 9.9, 10),
    result("e", "moe", 15, 10),
    result("f", "sliding", 9.5, 10),
  ];

  it("counts the cases within ±15% and takes the median of |error| per group", () => {
    const s = summarize(results);
    expect(s.dense).toEqual({ cases: 4, within15: 3, medianAbsError: expect.closeTo(0.06, 12) });
    expect(s.other).toEqual({ cases: 2, within15: 1, medianAbsError: expect.closeTo(0.275, 12) });
  });

  it("counts an error of exactly 15% as within", () => {
    expect(summarize([result("x", "dense", 11.5, 10), result("y", "dense", 8.5, 10)]).dense.within15).toBe(2);
  });

  it("prints one line per case, marks the misses and ends with the two summary lines", () => {
    const lines = report(results).split("\n");
    expect(lines).toHaveLength(9);
    expect(lines[1]).toMatch(/^b +dense +kvCacheGiB +predicted +8 +actual +10 +-20\.0% +MISS$/);
    expect(lines[2]).toMatch(/\+2\.0%$/);
    expect(lines.slice(7)).toEqual([
      "dense: 3 of 4 within ±15%, median |error| 6.0%",
      "MoE/MLA/sliding/hybrid: 1 of 2 within ±15% (50%), median |error| 27.5%",
    ]);
  });
});

describe("a case through the estimate", () => {
  const model = syntheticModel;
  const logCase: LogCase = {
    id: "synthetic",
    class: "dense",
    source: { url: "https://example.invalid/", where: "synthetic" },
    model: { name: "synthetic" },
    gpu: { nvidiaSmiName: "NVIDIA RTX A6000", stated: "A6000", memoryMiB: 49140, memorySource: "synthetic" },
    tensorParallelSize: 2,
    pipelineParallelSize: 1,
    gpuMemoryUtilization: 0.5,
    maxModelLen: 4096,
    vllmVersion: "0.2.4",
    engine: "v0",
    settings: [],
    truth: { measure: "gpuBlocks", value: 96_119, line: "# GPU blocks: 96119" },
  };

  it("compares the measure the log gives: blocks of 16 tokens, tokens or GiB", () => {
    // test/capacity/accounting.test.ts works this input out by hand: 1,537,904 tokens and 23.47 GiB at v0.2.4.
    expect(predict(logCase, model)).toBe(1_537_904 / 16);
    expect(predict({ ...logCase, truth: { ...logCase.truth, measure: "kvCacheTokens" } }, model)).toBe(1_537_904);
    expect(predict({ ...logCase, truth: { ...logCase.truth, measure: "kvCacheGiB" } }, model)).toBe(23.47);
    expect(evaluate(logCase, model)).toEqual({
      id: "synthetic",
      class: "dense",
      measure: "gpuBlocks",
      predicted: 96_119,
      actual: 96_119,
      error: 0,
    });
  });

  it("passes the log's settings to the estimate, the card's name among them", () => {
    const onH100 = { ...logCase, gpu: { ...logCase.gpu, nvidiaSmiName: "NVIDIA H100 80GB HBM3" }, vllmVersion: "0.19.0", engine: "v1" as const };
    const direct = estimateCapacity({
      model,
      gpuMemoryMiB: 49140,
      gpuName: "NVIDIA H100 80GB HBM3",
      tensorParallelSize: 2,
      pipelineParallelSize: 1,
      gpuMemoryUtilization: 0.5,
      maxModelLen: 4096,
      vllmVersion: "0.19.0",
    });
    expect(predict(onH100, model)).toBe(direct.kvCacheTokens / 16);
    expect(direct.detail.nonTorchGiBPerGpu).toBe(2.04);
  });
});
