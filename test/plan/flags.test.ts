import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { VLLM_FLAGS, vllmArgv } from "../../src/plan/flags";

/** `vllm serve`'s flags at a known vLLM commit; the file's header names its source. */
const KNOWN = new Set(
  readFileSync(join(__dirname, "..", "fixtures", "vllm", "vllm-flags.txt"), "utf8")
    .split("\n")
    .filter((l) => l.startsWith("--")),
);

describe("the vLLM flag table", () => {
  it("spells every flag as vllm serve accepts it", () => {
    const unknown = Object.values(VLLM_FLAGS).filter((f) => !KNOWN.has(f));
    expect(unknown).toEqual([]);
  });

  it("builds argv in the table's order, with switches bare and unset flags left out", () => {
    expect(vllmArgv({ dtype: "bfloat16", model: "m", disableCustomAllReduce: true, revision: undefined, port: 8000 })).toEqual([
      "--model", "m", "--port", "8000", "--dtype", "bfloat16", "--disable-custom-all-reduce",
    ]);
    expect(vllmArgv({ disableCustomAllReduce: false })).toEqual([]);
  });
});
