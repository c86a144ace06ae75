/**
 * `capacity --model org/name`, `plan` and the program read a model's facts from the Hugging Face cache,
 * then the Hub (a stand-in on 127.0.0.1), and say where they came from.
 */
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { main } from "../../src/cli/main";
import { renderStackResolved } from "../../src/cli/renderStack";
import { budgetJson } from "../../src/plan/capacity";
import { stackNeeds } from "../../src/preflight/needs";
import { parseStackConfig } from "../../src/config/parse";
import { readStack } from "../../src/config/stackFile";
import { fakeIo } from "../helpers/fakeIo";
import { ROOT, runProgram } from "../helpers/pulumiMocks";
import { rawValues } from "../helpers/stacks";
import { layCache, qwen05Header, safetensorsFile, startHub, type StandInHub } from "../hub/standIns";

const fixture = (path: string) => readFileSync(join(ROOT, "test/fixtures/hub", path), "utf8");
const QWEN3 = "Qwen/Qwen3-30B-A3B";
// A real model the built-in catalog does not know: when nothing has it, nothing stands in.
const QWEN3_8B = "Qwen/Qwen3-8B";
const COMMIT = "ad44e777bcd18fa416d9da3bd8f70d33ebb85d39"; // made up
const qwen3Cache = () =>
  layCache({
    [QWEN3]: {
      commit: COMMIT,
      files: { "config.json": fixture("Qwen3-30B-A3B/config.json"), "model.safetensors.index.json": fixture("Qwen3-30B-A3B/model.safetensors.index.json") },
    },
  });

describe("llmstack capacity --model org/name", () => {
  it("with Qwen3-30B-A3B's files in the cache, gives the budget for 2 × RTX 3090 from its exact weight bytes", async () => {
    const cache = qwen3Cache();
    const io = fakeIo(ROOT, undefined, { HF_HUB_CACHE: cache });
    const code = await main(["capacity", "--model", QWEN3, "--gpu", "NVIDIA GeForce RTX 3090", "--gpus", "2"], io);
    const out = io.out().split("\n");
    expect(out.slice(0, 3)).toEqual([
      `${QWEN3} on 2 × RTX 3090 (TP 2, PP 1), utilisation 0.9, max model length 32768, vLLM 0.21.0`,
      "  per GPU: 21.21 GiB of 23.57 GiB usable",
      // 61,064,245,248 bytes (the index's metadata.total_size) ÷ 2 GPUs = 28.44 GiB each: more than 21.21.
      "    weights          28.44 GiB",
    ]);
    expect(out.slice(3, 8).map((l) => l.replace(/[\d.]+/g, "N"))).toEqual([
      "    runtime overhead N GiB (activations N, non-torch N, CUDA graphs N)",
      "    KV cache         N GiB",
      "  KV cache: N tokens (N bytes per token per GPU)",
      "  max concurrency at N tokens: Nx",
      "  decode speed upper bound (bandwidth ÷ weight bytes per token, one stream): N tokens/s",
    ]);
    expect(code).toBe(1);
    expect(io.err().split("\n").filter((l) => l.startsWith("error [")).map((l) => l.slice(0, l.indexOf("]") + 1))).toEqual(["error [no-kv-memory]"]);
    expect(io.err().endsWith(
      `note: model facts: ${QWEN3} at main (commit ${COMMIT}) from the Hugging Face cache (${cache}): ` +
        "config.json, model.safetensors.index.json; weights 61064245248 bytes\n",
    )).toBe(true);
  });

  describe("from the Hub", () => {
    let hub: StandInHub;
    beforeAll(async () => {
      hub = await startHub();
      hub.repos.set(QWEN3, {
        commit: COMMIT,
        files: { "config.json": fixture("Qwen3-30B-A3B/config.json"), "model.safetensors.index.json": fixture("Qwen3-30B-A3B/model.safetensors.index.json") },
      });
    });
    afterAll(() => hub.close());

    it("reads the model over the network the command is given, at --revision", async () => {
      const io = { ...fakeIo(ROOT, undefined, { HF_ENDPOINT: hub.url }), fetch: (url: string, init: RequestInit) => fetch(url, init) };
      expect(await main(["capacity", "--model", QWEN3, "--revision", COMMIT, "--gpu", "H200", "--json"], io)).toBe(0);
      expect((JSON.parse(io.out()) as { weightsGiBPerGpu: number }).weightsGiBPerGpu).toBe(56.87);
      expect(io.err()).toBe(
        `note: model facts: ${QWEN3} at ${COMMIT} from the Hugging Face Hub (${hub.url}): config.json, model.safetensors.index.json; weights 61064245248 bytes\n`,
      );
      expect(hub.requests[0]!.path).toBe(`/${QWEN3}/resolve/${COMMIT}/config.json`);
    });
  });

  it("reads a model directory: config.json beside model.safetensors", async () => {
    const dir = mkdtempSync(join(tmpdir(), "llmstack-modeldir-"));
    copyFileSync(join(ROOT, "test/fixtures/capacity/qwen2.5-7b-instruct.config.json"), join(dir, "config.json"));
    writeFileSync(join(dir, "model.safetensors"), safetensorsFile(qwen05Header(), 16));
    const io = fakeIo(ROOT);
    expect(await main(["capacity", "--model", dir, "--gpu", "RTX 3090", "--json"], io)).toBe(0);
    expect((JSON.parse(io.out()) as { weightsGiBPerGpu: number }).weightsGiBPerGpu).toBe(0.92);
    expect(io.err()).toBe(`note: model facts: ${dir}: config.json, model.safetensors header; weights 988065536 bytes\n`);
  });

  it.each([
    [["--model", "not a repo"], 2, '--model "not a repo": not a config.json path, a model directory or a Hugging Face repository ID such as Qwen/Qwen3-30B-A3B'],
    [["--model", "test", "--revision", "main"], 2, "--revision belongs to a Hugging Face repository ID, not a local path"],
    [["--model", QWEN3, "--revision", "a..b"], 2, '--revision "a..b": a git revision may not contain ".."'],
    [
      ["--model", "org/unknown"],
      1,
      'org/unknown is not in the Hugging Face cache (none: set HF_HUB_CACHE, HF_HOME or HOME) and the Hub was not asked (this command was given no network access); ' +
        'download it where there is a network with hf download org/unknown --include "*.json" (it lands in the cache), or pass the path of its config.json; ' +
        `run "hf download org/unknown --include '*.json'"`,
    ],
  ])("%j: exit %i with one line", async (args, exit, message) => {
    const io = fakeIo(ROOT);
    expect(await main(["capacity", ...args, "--gpu", "RTX 3090"], io)).toBe(exit);
    expect([io.out(), io.err()]).toEqual(["", `llmstack capacity: ${message}${exit === 2 ? '; run "llmstack capacity --help"' : ""}\n`]);
  });
});

/** A copy of the project whose production stack serves `model`. */
function projectWith(model: string): string {
  const dir = mkdtempSync(join(tmpdir(), "llmstack-project-"));
  mkdirSync(dir, { recursive: true });
  copyFileSync(join(ROOT, "Pulumi.yaml"), join(dir, "Pulumi.yaml"));
  const stack = readFileSync(join(ROOT, "Pulumi.production.yaml"), "utf8");
  writeFileSync(join(dir, "Pulumi.production.yaml"), stack.replace("name: Qwen/Qwen2.5-7B-Instruct", `name: ${model}`));
  return dir;
}

describe("the stack's model: plan, validate's host checks and the program", () => {
  it("plan reads the model from the cache before the catalog and gives its budget", async () => {
    const plan = await renderStackResolved(projectWith(QWEN3), "production", fakeIo(ROOT, undefined, { HF_HUB_CACHE: qwen3Cache() }));
    expect(budgetJson(plan.capacity)).toMatchObject({
      status: "checked",
      note: `${QWEN3} on RTX 3090, vLLM 0.21.0 (model facts from the Hugging Face cache)`,
      weightsGiBPerGpu: 28.44,
    });
  });

  it("plan says what is missing, and the fix, when nothing has the model", async () => {
    const plan = await renderStackResolved(projectWith(QWEN3_8B), "production", fakeIo(ROOT, undefined, { HF_HUB_OFFLINE: "1", HF_HUB_CACHE: "/nonexistent/hub" }));
    expect(budgetJson(plan.capacity)).toEqual({
      status: "unknown",
      note:
        `${QWEN3_8B} is not in the Hugging Face cache (/nonexistent/hub) and HF_HUB_OFFLINE=1 keeps llmstack off the network; ` +
        `download it where there is a network with hf download ${QWEN3_8B} --include "*.json" (it lands in the cache), or pass the path of its config.json`,
    });
  });

  it("the host checks count the checkpoint's exact bytes of weights on disk", async () => {
    const dir = projectWith(QWEN3);
    const plan = await renderStackResolved(dir, "production", fakeIo(ROOT, undefined, { HF_HUB_CACHE: qwen3Cache() }));
    const raw = readStack(dir, "production");
    expect(stackNeeds(parseStackConfig(raw.values, raw.stackFile), plan).modelBytes).toBe(61_064_245_248);
  });

  it("the program reads the cache where it runs and refuses a model that cannot fit, before any resource", async () => {
    vi.stubEnv("HF_HUB_CACHE", qwen3Cache());
    const values = rawValues("production") as Record<string, any>;
    const run = await runProgram("production", { "llmstack:model": { ...values.model, name: QWEN3 } });
    expect(run.error?.message.split("\n")[0]).toBe("Pulumi.production.yaml: the model does not fit the GPUs as configured:");
    expect(run.registrations).toEqual([]);
  });
});
