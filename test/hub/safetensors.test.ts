/**
 * A safetensors checkpoint's weight bytes from its header alone: Σ elements × bits ÷ 8
 * (safetensors v0.7.0 `Dtype::bitsize`).
 */
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { MODEL_CATALOG } from "../../src/capacity";
import { headerLength, localSafetensorsBytes, tensorBytes } from "../../src/hub/safetensors";
import { qwen05Header, safetensorsFile } from "./standIns";

describe("safetensors headers", () => {
  it("Qwen2.5-0.5B-Instruct's tensors: 988,065,536 bytes, twice the catalog's parameter count", () => {
    const json = Buffer.from(JSON.stringify(qwen05Header()));
    const catalog = MODEL_CATALOG.find((m) => m.name === "Qwen/Qwen2.5-0.5B-Instruct")!;
    expect(tensorBytes(json, "x")).toBe(988_065_536);
    expect(tensorBytes(json, "x")).toBe(catalog.parameters * 2);
  });

  it("counts sub-byte and 8-byte dtypes by their bits: F4 packs two to a byte", () => {
    const header = { a: { dtype: "F4", shape: [32, 64], data_offsets: [0, 1024] }, b: { dtype: "F8_E4M3", shape: [10] }, c: { dtype: "I64", shape: [3] }, d: { dtype: "F32", shape: [] } };
    expect(tensorBytes(Buffer.from(JSON.stringify(header)), "x")).toBe(1024 + 10 + 24 + 4);
  });

  it("reads only the header of a local file", () => {
    const dir = mkdtempSync(join(tmpdir(), "llmstack-st-"));
    writeFileSync(join(dir, "model.safetensors"), safetensorsFile({ w: { dtype: "BF16", shape: [4, 4], data_offsets: [0, 32] } }, 32));
    expect(localSafetensorsBytes(join(dir, "model.safetensors"))).toBe(32);
  });

  it("refuses a header length beyond huggingface_hub's 25,000,000-byte limit, and an unknown dtype", () => {
    const n = Buffer.alloc(8);
    n.writeBigUInt64LE(25_000_001n);
    expect(() => headerLength(n, "m.safetensors")).toThrow(
      "m.safetensors is not a safetensors file llmstack can read: its header length is 25000001 bytes (at most 25000000); check that the file is complete",
    );
    expect(() => tensorBytes(Buffer.from('{"w":{"dtype":"Q4","shape":[2]}}'), "m.safetensors")).toThrow(
      'm.safetensors: tensor "w" has dtype "Q4" and shape [2]; llmstack knows the dtypes BOOL, F4, F6_E2M3, F6_E3M2, U8, I8, ' +
        "F8_E5M2, F8_E4M3, F8_E8M0, F8_E4M3FNUZ, F8_E5M2FNUZ, I16, U16, F16, BF16, I32, U32, F32, C64, F64, I64, U64 with whole-number shapes",
    );
  });
});
