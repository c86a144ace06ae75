/**
 * A model not in the cache is read from the Hub (a stand-in on 127.0.0.1): resolve URLs, the redirect
 * to a CDN for LFS files (no token sent there), Range requests for a safetensors header, and one line
 * naming the model and the fix for each way it can fail.
 */
import { readFileSync } from "node:fs";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { resolveModel } from "../../src/hub";
import { ROOT } from "../helpers/root";
import { GRANTED_TOKEN, layCache, noNetwork, NOT_GRANTED_TOKEN, qwen05Header, safetensorsFile, startHub, type StandInHub } from "./standIns";

const fixture = (path: string) => readFileSync(join(ROOT, "test/fixtures/hub", path), "utf8");
const QWEN3 = "Qwen/Qwen3-30B-A3B";
// A real model the built-in catalog does not know: when nothing has it, nothing stands in.
const QWEN3_8B = "Qwen/Qwen3-8B";
const LLAMA = "meta-llama/Llama-3.1-8B";
// A made-up commit hash.
const COMMIT = "ad44e777bcd18fa416d9da3bd8f70d33ebb85d39";
const fetchFn = (url: string, init: RequestInit) => fetch(url, init);

let hub: StandInHub;
beforeAll(async () => {
  hub = await startHub();
});
afterAll(() => hub.close());
beforeEach(() => {
  hub.requests.length = 0;
  hub.repos.clear();
  hub.renamed.clear();
  hub.ignoreRange = false;
  hub.repos.set(QWEN3, {
    commit: COMMIT,
    files: { "config.json": fixture("Qwen3-30B-A3B/config.json"), "model.safetensors.index.json": fixture("Qwen3-30B-A3B/model.safetensors.index.json") },
  });
  hub.repos.set(QWEN3_8B, { commit: COMMIT, files: { "config.json": fixture("Qwen3-8B/config.json") } });
  hub.repos.set(LLAMA, { commit: COMMIT, gated: true, files: { "config.json": fixture("Llama-3.1-8B/config.json"), "model.safetensors.index.json": '{"metadata":{"total_size":16060522496},"weight_map":{}}' } });
});

const resolve = (name: string, env: Record<string, string> = {}, revision?: string) =>
  resolveModel({ name, ...(revision !== undefined ? { revision } : {}) }, { env: { HF_ENDPOINT: hub.url, ...env }, fetch: fetchFn });
const paths = () => hub.requests.map((r) => `${r.server} ${r.path}${r.range !== null ? ` ${r.range}` : ""}`);

describe("reading a model from the Hub", () => {
  it("reads Qwen3-30B-A3B's config.json and index from resolve URLs", async () => {
    const lookup = await resolve(QWEN3);
    expect(lookup).toMatchObject({
      source: "hub",
      facts: { name: QWEN3, weightBytes: 61_064_245_248, numLayers: 48 },
      detail: `${QWEN3} at main from the Hugging Face Hub (${hub.url}): config.json, model.safetensors.index.json; weights 61064245248 bytes`,
    });
    expect(paths()).toEqual([
      "hub /Qwen/Qwen3-30B-A3B/resolve/main/config.json",
      "hub /Qwen/Qwen3-30B-A3B/resolve/main/quantize_config.json",
      "hub /Qwen/Qwen3-30B-A3B/resolve/main/quant_config.json",
      "hub /Qwen/Qwen3-30B-A3B/resolve/main/hf_quant_config.json",
      "hub /Qwen/Qwen3-30B-A3B/resolve/main/model.safetensors.index.json",
    ]);
  });

  it("reads only a single file's header, with Range requests, from the CDN the Hub redirects to, without the token", async () => {
    // A header over 100,000 bytes (a long __metadata__ entry) takes the second Range request.
    const header = { ...qwen05Header(), __metadata__: { format: "pt", note: "x".repeat(120_000) } };
    hub.repos.set("Qwen/Qwen2.5-0.5B-Instruct", {
      commit: COMMIT,
      lfs: ["model.safetensors"],
      files: { "config.json": fixture("../capacity/qwen2.5-7b-instruct.config.json"), "model.safetensors": safetensorsFile(header, 4096) },
    });
    const lookup = await resolve("Qwen/Qwen2.5-0.5B-Instruct", { HF_TOKEN: GRANTED_TOKEN });
    expect(lookup.facts?.weightBytes).toBe(988_065_536);
    const headerBytes = Buffer.byteLength(JSON.stringify(header));
    expect(paths().slice(-4)).toEqual([
      "hub /Qwen/Qwen2.5-0.5B-Instruct/resolve/main/model.safetensors bytes=0-100000",
      "cdn /blob/Qwen/Qwen2.5-0.5B-Instruct/model.safetensors?signed=1 bytes=0-100000",
      "hub /Qwen/Qwen2.5-0.5B-Instruct/resolve/main/model.safetensors bytes=8-" + (headerBytes + 7),
      "cdn /blob/Qwen/Qwen2.5-0.5B-Instruct/model.safetensors?signed=1 bytes=8-" + (headerBytes + 7),
    ]);
    expect(new Set(hub.requests.filter((r) => r.server === "hub").map((r) => r.authorization))).toEqual(new Set([`Bearer ${GRANTED_TOKEN}`]));
    expect(hub.requests.filter((r) => r.server === "cdn").map((r) => r.authorization)).toEqual([null, null]);
  });

  it("reads the header from a server that ignores Range and sends the whole file", async () => {
    hub.ignoreRange = true;
    hub.repos.set("org/small", {
      commit: COMMIT,
      lfs: ["model.safetensors"],
      files: { "config.json": fixture("../capacity/qwen2.5-7b-instruct.config.json"), "model.safetensors": safetensorsFile({ w: { dtype: "BF16", shape: [1024, 512] } }, 1024 * 512 * 2) },
    });
    expect((await resolve("org/small")).facts?.weightBytes).toBe(1_048_576);
  });

  it("follows the relative redirect of a renamed repository, keeping the token", async () => {
    hub.renamed.set("Qwen/Qwen3-30B-A3B-old", QWEN3);
    const lookup = await resolve("Qwen/Qwen3-30B-A3B-old", { HF_TOKEN: GRANTED_TOKEN });
    expect(lookup.facts).toMatchObject({ name: "Qwen/Qwen3-30B-A3B-old", weightBytes: 61_064_245_248 });
    expect(hub.requests.slice(0, 2).map((r) => [r.path, r.authorization])).toEqual([
      ["/Qwen/Qwen3-30B-A3B-old/resolve/main/config.json", `Bearer ${GRANTED_TOKEN}`],
      ["/Qwen/Qwen3-30B-A3B/resolve/main/config.json", `Bearer ${GRANTED_TOKEN}`],
    ]);
  });

  it("asks the Hub for the weights a partial cache lacks, at the cached commit", async () => {
    const cache = layCache({ [QWEN3]: { commit: COMMIT, files: { "config.json": fixture("Qwen3-30B-A3B/config.json") } } });
    const lookup = await resolve(QWEN3, { HF_HUB_CACHE: cache });
    expect(lookup).toMatchObject({
      source: "cache",
      detail:
        `${QWEN3} at main (commit ${COMMIT}) from the Hugging Face cache (${cache}): config.json; ` +
        `from the Hugging Face Hub (${hub.url}): model.safetensors.index.json; weights 61064245248 bytes`,
    });
    expect(paths()).toEqual([`hub /Qwen/Qwen3-30B-A3B/resolve/${COMMIT}/model.safetensors.index.json`]);
  });

  it("percent-encodes a revision, as huggingface_hub does", async () => {
    await resolve(QWEN3, {}, "refs/pr/1");
    expect(paths()[0]).toBe("hub /Qwen/Qwen3-30B-A3B/resolve/refs%2Fpr%2F1/config.json");
  });
});

describe("one line for each way the Hub says no", () => {
  const getIt = (repo: string) =>
    `download it where there is a network with hf download ${repo} --include "*.json" (it lands in the cache), or pass the path of its config.json`;

  it("a gated model without HF_TOKEN: accept the licence and set HF_TOKEN", async () => {
    expect(await resolve(LLAMA)).toEqual({
      facts: null,
      problem:
        `${LLAMA} is gated on the Hugging Face Hub (401 for ${hub.url}/${LLAMA}/resolve/main/config.json); ` +
        `accept its licence at ${hub.url}/${LLAMA} and set HF_TOKEN to a token of that account`,
    });
  });

  it("a gated model with a token of an account without access, and with access", async () => {
    expect(await resolve(LLAMA, { HF_TOKEN: NOT_GRANTED_TOKEN })).toEqual({
      facts: null,
      problem:
        `${LLAMA} is gated on the Hugging Face Hub and HF_TOKEN's account has no access (403 for ${hub.url}/${LLAMA}/resolve/main/config.json); ` +
        `accept its licence at ${hub.url}/${LLAMA} with that account`,
    });
    expect((await resolve(LLAMA, { HF_TOKEN: GRANTED_TOKEN })).facts).toMatchObject({ name: LLAMA, weightBytes: 16_060_522_496, vocabSize: 128256 });
  });

  it("a token the Hub does not accept", async () => {
    expect(await resolve(QWEN3_8B, { HF_TOKEN: "hf_wrong" })).toEqual({
      facts: null,
      problem:
        `${QWEN3_8B}: the Hugging Face Hub refused HF_TOKEN (401 for ${hub.url}/${QWEN3_8B}/resolve/main/config.json: Invalid credentials in Authorization header); ` +
        `set HF_TOKEN to a valid token from ${hub.url}/settings/tokens, or unset it`,
    });
  });

  it("no such model: 401 without a token (it may be private), 404 with one", async () => {
    expect(await resolve("Qwen/Qwen9")).toEqual({
      facts: null,
      problem: `Qwen/Qwen9: the Hugging Face Hub has no such model (401 for ${hub.url}/Qwen/Qwen9/resolve/main/config.json); check the name, or set HF_TOKEN if it is private`,
    });
    expect(await resolve("Qwen/Qwen9", { HF_TOKEN: GRANTED_TOKEN })).toEqual({
      facts: null,
      problem: `Qwen/Qwen9: the Hugging Face Hub has no such model (404 for ${hub.url}/Qwen/Qwen9/resolve/main/config.json); check the name`,
    });
  });

  it("no such revision, and a repository without config.json", async () => {
    expect(await resolve(QWEN3_8B, {}, "v9")).toEqual({
      facts: null,
      problem: `${QWEN3_8B} has no revision "v9" on the Hugging Face Hub (404 for ${hub.url}/${QWEN3_8B}/resolve/v9/config.json); check the revision`,
    });
    hub.repos.set("org/gguf-only", { commit: COMMIT, files: { "model.gguf": "GGUF" } });
    expect(await resolve("org/gguf-only")).toEqual({
      facts: null,
      problem: "org/gguf-only has no config.json at revision main in the Hugging Face Hub, so vLLM cannot load it as a transformers model; pass the path of a config.json",
    });
  });

  it("HF_HUB_OFFLINE=1 never touches the network", async () => {
    const net = noNetwork();
    const lookup = await resolveModel({ name: QWEN3_8B }, { env: { HF_HUB_OFFLINE: "1", HF_HUB_CACHE: "/nonexistent/hub" }, fetch: net.fetch });
    expect(net.calls).toEqual([]);
    expect(lookup).toEqual({
      facts: null,
      problem: `${QWEN3_8B} is not in the Hugging Face cache (/nonexistent/hub) and HF_HUB_OFFLINE=1 keeps llmstack off the network; ${getIt(QWEN3_8B)}`,
    });
  });

  it("an unreachable Hub: the model, the address, the reason and the fix", async () => {
    const closed = createServer();
    await new Promise<void>((ok) => closed.listen(0, "127.0.0.1", () => ok()));
    const port = (closed.address() as AddressInfo).port;
    await new Promise<void>((ok) => closed.close(() => ok()));
    const lookup = await resolveModel({ name: QWEN3_8B }, { env: { HF_ENDPOINT: `http://127.0.0.1:${port}`, HOME: "/nonexistent" }, fetch: fetchFn });
    expect(lookup).toEqual({
      facts: null,
      problem:
        `${QWEN3_8B}: could not reach the Hugging Face Hub at http://127.0.0.1:${port} (connect ECONNREFUSED 127.0.0.1:${port}), ` +
        `and it is not in the Hugging Face cache (/nonexistent/.cache/huggingface/hub); ${getIt(QWEN3_8B)}`,
    });
  });

  it("a Hub that does not answer in time", async () => {
    const timeout = () => Promise.reject(Object.assign(new Error("The operation was aborted due to timeout"), { name: "TimeoutError" }));
    const lookup = await resolveModel({ name: QWEN3_8B }, { env: { HF_HUB_DOWNLOAD_TIMEOUT: "30" }, fetch: timeout });
    expect(lookup).toEqual({
      facts: null,
      problem:
        `${QWEN3_8B}: could not reach the Hugging Face Hub at https://huggingface.co (no answer within 30 s), and it is not in ` +
        `the Hugging Face cache (none: set HF_HUB_CACHE, HF_HOME or HOME); ${getIt(QWEN3_8B)}`,
    });
  });

  it("Qwen3-30B-A3B, which the catalog knows, comes from the catalog when nothing else has it, and the note says why", async () => {
    const net = noNetwork();
    const lookup = await resolveModel({ name: QWEN3 }, { env: { HF_HUB_OFFLINE: "1", HF_HUB_CACHE: "/nonexistent/hub" }, fetch: net.fetch });
    expect(net.calls).toEqual([]);
    expect(lookup).toMatchObject({
      source: "catalog",
      facts: { name: QWEN3, numLayers: 48, moe: { experts: 128, expertsPerToken: 8 } },
      detail:
        `${QWEN3} from the built-in catalog, because ${QWEN3} is not in the Hugging Face cache (/nonexistent/hub) and ` +
        `HF_HUB_OFFLINE=1 keeps llmstack off the network; ${getIt(QWEN3)}`,
    });
    // The catalog has no checkpoint size for it: the weights come from the parameters.
    expect(lookup.facts?.weightBytes).toBeUndefined();
  });

  it("the catalog stands in when the Hub says no to a model it knows, and says so", async () => {
    hub.repos.set("meta-llama/Llama-3.1-8B-Instruct", { commit: COMMIT, gated: true, files: { "config.json": "{}" } });
    expect(await resolve("meta-llama/Llama-3.1-8B-Instruct")).toMatchObject({
      source: "catalog",
      facts: { name: "meta-llama/Llama-3.1-8B-Instruct", numLayers: 32 },
      detail:
        "meta-llama/Llama-3.1-8B-Instruct from the built-in catalog, because meta-llama/Llama-3.1-8B-Instruct is gated on the Hugging Face Hub " +
        `(401 for ${hub.url}/meta-llama/Llama-3.1-8B-Instruct/resolve/main/config.json); accept its licence at ` +
        `${hub.url}/meta-llama/Llama-3.1-8B-Instruct and set HF_TOKEN to a token of that account`,
    });
  });
});
