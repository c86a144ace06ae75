/**
 * A model in the local Hugging Face cache is read from there, without the network: config.json, the
 * quantization config and the exact weight bytes, at the commit refs/<revision> names.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { resolveModel, resolveModelFromCache } from "../../src/hub";
import { ROOT } from "../helpers/root";
import { layCache, noNetwork, qwen05Header, safetensorsFile } from "./standIns";

const FIXTURES = join(ROOT, "test/fixtures/hub");
const fixture = (path: string) => readFileSync(join(FIXTURES, path), "utf8");
const QWEN3 = "Qwen/Qwen3-30B-A3B";
// A real model the built-in catalog does not know: when the cache lacks it, nothing stands in.
const QWEN3_8B = "Qwen/Qwen3-8B";
// Commit hashes here are made up for the tests.
const COMMIT = "ad44e777bcd18fa416d9da3bd8f70d33ebb85d39";
const qwen3Files = {
  "config.json": fixture("Qwen3-30B-A3B/config.json"),
  "model.safetensors.index.json": fixture("Qwen3-30B-A3B/model.safetensors.index.json"),
};

describe("the Hugging Face cache", () => {
  it("reads Qwen3-30B-A3B from refs/main → snapshots/<commit> without touching the network", async () => {
    const cache = layCache({ [QWEN3]: { commit: COMMIT, files: qwen3Files } });
    const net = noNetwork();
    const lookup = await resolveModel({ name: QWEN3 }, { env: { HF_HUB_CACHE: cache }, fetch: net.fetch });
    expect(net.calls).toEqual([]);
    expect(lookup).toMatchObject({
      source: "cache",
      detail:
        `${QWEN3} at main (commit ${COMMIT}) from the Hugging Face cache (${cache}): ` +
        "config.json, model.safetensors.index.json; weights 61064245248 bytes",
    });
    expect(lookup.facts).toMatchObject({
      name: QWEN3,
      weightBytes: 61_064_245_248,
      numLayers: 48,
      numAttentionHeads: 32,
      numKeyValueHeads: 4,
      headDim: 128,
      hiddenSize: 2048,
      vocabSize: 151936,
      maxPositionEmbeddings: 40960,
      dtype: "bfloat16",
    });
  });

  it("finds the cache under $HF_HOME/hub and a revision given as a commit hash", async () => {
    const cache = layCache({ [QWEN3]: { commit: COMMIT, files: qwen3Files, refs: {} } });
    const hfHome = join(cache, "..");
    const lookup = await resolveModel({ name: QWEN3, revision: COMMIT }, { env: { HF_HOME: hfHome, HF_HUB_CACHE: cache } });
    expect(lookup.facts?.weightBytes).toBe(61_064_245_248);
  });

  it("sums a single model.safetensors header when there is no index", async () => {
    const cache = layCache({
      "Qwen/Qwen2.5-0.5B-Instruct": {
        commit: COMMIT,
        files: { "config.json": fixture("../capacity/qwen2.5-7b-instruct.config.json"), "model.safetensors": safetensorsFile(qwen05Header(), 64) },
        noExist: ["model.safetensors.index.json"],
      },
    });
    const net = noNetwork();
    const lookup = await resolveModel({ name: "Qwen/Qwen2.5-0.5B-Instruct" }, { env: { HF_HUB_CACHE: cache }, fetch: net.fetch });
    expect(net.calls).toEqual([]);
    expect(lookup.facts?.weightBytes).toBe(988_065_536);
    expect(lookup).toMatchObject({
      detail: `Qwen/Qwen2.5-0.5B-Instruct at main (commit ${COMMIT}) from the Hugging Face cache (${cache}): config.json, model.safetensors header; weights 988065536 bytes`,
    });
  });

  it("takes .no_exist as the answer: no weights file, no request to the Hub, the parameters instead", async () => {
    const cache = layCache({
      [QWEN3]: { commit: COMMIT, files: { "config.json": qwen3Files["config.json"] }, noExist: ["model.safetensors.index.json", "model.safetensors"] },
    });
    const net = noNetwork();
    const lookup = await resolveModel({ name: QWEN3 }, { env: { HF_HUB_CACHE: cache }, fetch: net.fetch });
    expect(net.calls).toEqual([]);
    expect(lookup.facts?.weightBytes).toBeUndefined();
    expect(lookup).toMatchObject({
      detail:
        `${QWEN3} at main (commit ${COMMIT}) from the Hugging Face cache (${cache}): config.json; no exact weight size ` +
        "(there is no model.safetensors.index.json; there is no model.safetensors), so the weights are estimated from the parameter count",
    });
  });

  it("folds a GPTQ checkpoint's quantize_config.json into the config it reads", async () => {
    const config = JSON.parse(qwen3Files["config.json"]) as Record<string, unknown>;
    const cache = layCache({
      "org/gptq": {
        commit: COMMIT,
        files: { "config.json": JSON.stringify(config), "quantize_config.json": '{"bits": 4, "group_size": 128, "desc_act": false}' },
        noExist: ["model.safetensors.index.json", "model.safetensors"],
      },
    });
    const lookup = await resolveModel({ name: "org/gptq" }, { env: { HF_HUB_CACHE: cache } });
    expect(lookup).toMatchObject({
      source: "cache",
      detail:
        `org/gptq at main (commit ${COMMIT}) from the Hugging Face cache (${cache}): config.json, quantize_config.json; no exact weight size ` +
        "(there is no model.safetensors.index.json; there is no model.safetensors), so the weights are estimated from the parameter count",
    });
  });

  it("says which file is broken", async () => {
    const cache = layCache({ [QWEN3]: { commit: COMMIT, files: { ...qwen3Files, "model.safetensors.index.json": '{"metadata": {"total_size": "61 GB"}}' } } });
    const lookup = await resolveModel({ name: QWEN3 }, { env: { HF_HUB_CACHE: cache } });
    const snapshot = join(cache, "models--Qwen--Qwen3-30B-A3B", "snapshots", COMMIT);
    expect(lookup).toEqual({
      facts: null,
      problem: `${snapshot}/model.safetensors.index.json: metadata.total_size is "61 GB"; it must be the weights' size in bytes, a whole number above 0`,
    });
  });
});

describe("the Pulumi program's lookup: the cache, then the catalog, never the network", () => {
  it("reads a cached model", () => {
    const cache = layCache({ [QWEN3]: { commit: COMMIT, files: qwen3Files } });
    expect(resolveModelFromCache({ name: QWEN3 }, { HF_HUB_CACHE: cache })).toMatchObject({ source: "cache", facts: { weightBytes: 61_064_245_248 } });
  });

  it("says which weight files a partial snapshot lacks", () => {
    const cache = layCache({ [QWEN3]: { commit: COMMIT, files: { "config.json": qwen3Files["config.json"] } } });
    expect(resolveModelFromCache({ name: QWEN3 }, { HF_HUB_CACHE: cache })).toMatchObject({
      source: "cache",
      detail:
        `${QWEN3} at main (commit ${COMMIT}) from the Hugging Face cache (${cache}): config.json; no exact weight size ` +
        "(model.safetensors.index.json is not cached and the Pulumi program reads only the cache, never the network; " +
        "model.safetensors is not cached and the Pulumi program reads only the cache, never the network), " +
        "so the weights are estimated from the parameter count",
    });
  });

  it("takes a ref that does not hold a commit hash as no snapshot", () => {
    const cache = layCache({
      [QWEN3_8B]: { commit: COMMIT, files: { "config.json": fixture("Qwen3-8B/config.json") }, refs: { main: `../../models--Qwen--Qwen3-8B/snapshots/${COMMIT}` } },
    });
    expect(resolveModelFromCache({ name: QWEN3_8B }, { HF_HUB_CACHE: cache })).toEqual({
      facts: null,
      problem:
        `${QWEN3_8B} is not in the Hugging Face cache (${cache}) and the Pulumi program reads only the cache, never the network; ` +
        `download it where there is a network with hf download ${QWEN3_8B} --include "*.json" (it lands in the cache), ` +
        "or pass the path of its config.json",
    });
  });

  it("falls back to the catalog, saying why, and names the fix for a model it does not know", () => {
    const env = { HF_HUB_CACHE: "/nonexistent/hub" };
    expect(resolveModelFromCache({ name: "Qwen/Qwen2.5-7B-Instruct" }, env)).toMatchObject({
      source: "catalog",
      detail:
        "Qwen/Qwen2.5-7B-Instruct from the built-in catalog, because Qwen/Qwen2.5-7B-Instruct is not in the Hugging Face cache " +
        "(/nonexistent/hub) and the Pulumi program reads only the cache, never the network; download it where there is a network with " +
        'hf download Qwen/Qwen2.5-7B-Instruct --include "*.json" (it lands in the cache), or pass the path of its config.json',
    });
    expect(resolveModelFromCache({ name: QWEN3_8B, revision: "v2" }, env)).toEqual({
      facts: null,
      problem:
        `${QWEN3_8B} is not in the Hugging Face cache (/nonexistent/hub) and the Pulumi program reads only the cache, never the network; ` +
        `download it where there is a network with hf download ${QWEN3_8B} --include "*.json" --revision v2 (it lands in the cache), ` +
        "or pass the path of its config.json",
    });
  });
});
