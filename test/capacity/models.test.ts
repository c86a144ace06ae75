import { describe, expect, it } from "vitest";
import { join } from "node:path";
import { readFileSync } from "node:fs";
import { lookupModel, readModelConfig, parseModelConfig, MODEL_CATALOG } from "../../src/capacity";

const fixtures = join(__dirname, "../fixtures/capacity");
const expectedParams = JSON.parse(readFileSync(join(fixtures, "parameters.json"), "utf8")) as Record<string, number | string>;

describe("model catalog", () => {
  it.each(Object.entries(expectedParams).filter(([k]) => k !== "_source"))(
    "%s has the parameter count models.json computed",
    (name, params) => {
      expect(lookupModel(name).parameters).toBe(params);
    },
  );

  it("holds the models the stack serves", () => {
    expect(MODEL_CATALOG.map((m) => m.name)).toEqual([
      "meta-llama/Llama-2-7b-hf",
      "meta-llama/Llama-2-70b-hf",
      "meta-llama/Meta-Llama-3-8B",
      "meta-llama/Llama-3.1-8B-Instruct",
      "meta-llama/Llama-3.1-70B-Instruct",
      "mistralai/Mistral-7B-Instruct-v0.3",
      "Qwen/Qwen2.5-0.5B-Instruct",
      "Qwen/Qwen2.5-1.5B-Instruct",
      "Qwen/Qwen2.5-7B-Instruct",
      "Qwen/Qwen2.5-VL-7B-Instruct",
      "deepseek-ai/DeepSeek-R1-Distill-Qwen-14B",
      "microsoft/DialoGPT-medium",
      "facebook/opt-125m",
      "Qwen/Qwen3-30B-A3B",
      "mistralai/Mixtral-8x7B-v0.1",
      "deepseek-ai/DeepSeek-V2-Lite",
      "openai/gpt-oss-20b",
      "openai/gpt-oss-120b",
      "google/gemma-2-9b",
      "mistralai/Mistral-7B-Instruct-v0.1",
    ]);
  });

  it("looks names up case-insensitively", () => {
    expect(lookupModel("qwen/qwen2.5-7b-instruct").name).toBe("Qwen/Qwen2.5-7B-Instruct");
  });

  it("names the known models when a name is unknown", () => {
    expect(() => lookupModel("Qwen/Qwen9")).toThrow(
      'unknown model "Qwen/Qwen9"; the catalog knows meta-llama/Llama-2-7b-hf, meta-llama/Llama-2-70b-hf, ' +
        "meta-llama/Meta-Llama-3-8B, meta-llama/Llama-3.1-8B-Instruct, " +
        "meta-llama/Llama-3.1-70B-Instruct, mistralai/Mistral-7B-Instruct-v0.3, Qwen/Qwen2.5-0.5B-Instruct, " +
        "Qwen/Qwen2.5-1.5B-Instruct, Qwen/Qwen2.5-7B-Instruct, Qwen/Qwen2.5-VL-7B-Instruct, " +
        "deepseek-ai/DeepSeek-R1-Distill-Qwen-14B, microsoft/DialoGPT-medium, facebook/opt-125m, " +
        "Qwen/Qwen3-30B-A3B, mistralai/Mixtral-8x7B-v0.1, deepseek-ai/DeepSeek-V2-Lite, openai/gpt-oss-20b, " +
        "openai/gpt-oss-120b, google/gemma-2-9b, mistralai/Mistral-7B-Instruct-v0.1. " +
        "Pass the path of the model's config.json instead to read its facts from the file.",
    );
  });
});

describe("readModelConfig", () => {
  it("reads a Qwen2 config the same as the catalog entry", () => {
    const path = join(fixtures, "qwen2.5-7b-instruct.config.json");
    expect(readModelConfig(path)).toEqual({ ...lookupModel("Qwen/Qwen2.5-7B-Instruct"), name: path });
  });

  it("maps GPT-2 keys (n_head, n_layer, n_embd, n_positions) and MHA without num_key_value_heads", () => {
    const path = join(fixtures, "dialogpt-medium.config.json");
    const facts = readModelConfig(path);
    expect({ ...facts, name: "" }).toEqual({ ...lookupModel("microsoft/DialoGPT-medium"), name: "" });
    expect([facts.numAttentionHeads, facts.numKeyValueHeads, facts.headDim, facts.numLayers]).toEqual([16, 16, 64, 24]);
    expect(facts.maxPositionEmbeddings).toBe(1024);
  });

  it("reads OPT's ffn_dim and derives head_dim = hidden / heads", () => {
    const facts = readModelConfig(join(fixtures, "opt-125m.config.json"));
    expect([facts.intermediateSize, facts.headDim, facts.numKeyValueHeads, facts.parameters]).toEqual([
      3072, 64, 12, 125239296,
    ]);
  });

  it("reads text_config nested keys of multimodal configs", () => {
    const facts = readModelConfig(join(fixtures, "qwen2.5-vl-7b-nested.config.json"));
    expect([facts.numLayers, facts.numKeyValueHeads, facts.maxPositionEmbeddings, facts.parameters]).toEqual([
      28, 4, 128000, 7615616512,
    ]);
  });

  it("names the file and key when a fact is missing", () => {
    expect(() => parseModelConfig({ hidden_size: 4096, num_attention_heads: 32 }, "models/x/config.json")).toThrow(
      "models/x/config.json: num_hidden_layers / n_layer is missing; it must be a whole number from 1 to 16777216. " +
        "Check that the file is the model's config.json (a Hugging Face transformers config).",
    );
  });

  it("reports a missing file and bad JSON with the path", () => {
    expect(() => readModelConfig("/nonexistent/config.json")).toThrow(
      "/nonexistent/config.json: no such file",
    );
    expect(() => readModelConfig(join(fixtures, "parameters.json"))).toThrow(
      `${join(fixtures, "parameters.json")}: hidden_size / n_embd / d_model is missing; it must be a whole number from 1 to 16777216.`,
    );
  });
});
