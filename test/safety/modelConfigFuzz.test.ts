/**
 * Damaged and hostile model config.json files (real configs from test/fixtures/capacity, each with its
 * source in models.test.ts) give the model's facts or one clear error naming the file: never a crash,
 * never NaN, Infinity, a fraction, a negative number or a count above MAX_ARCHITECTURE_NUMBER among the
 * facts. Fixed seed; the count is printed.
 */
import fc from "fast-check";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { modelConfigFromText, type ModelFacts } from "../../src/capacity";
import { MAX_ARCHITECTURE_NUMBER } from "../../src/capacity/config";
import { tryAll } from "./fuzzing";

const DIR = join(__dirname, "..", "fixtures", "capacity");
const CONFIGS = ["qwen2.5-7b-instruct.config.json", "opt-125m.config.json", "qwen2.5-vl-7b-nested.config.json", "dialogpt-medium.config.json"].map(
  (f) => readFileSync(join(DIR, f), "utf8"),
);
const FILE = "models/x/config.json";
const RUNS = 4000;

/** Values a hostile or broken file may hold where a number belongs. */
const HOSTILE_VALUE = fc.oneof(
  fc.constantFrom<unknown>(0, -1, 1.5, MAX_ARCHITECTURE_NUMBER, MAX_ARCHITECTURE_NUMBER + 1, 1e308, -1e308, 2 ** 53, 2 ** 53 + 2, 1e21, Number.MAX_SAFE_INTEGER, null, true, "", "4096", "NaN", "Infinity", [], {}, [4096], { value: 4096 }),
  fc.integer(),
  fc.double(),
  fc.string({ maxLength: 6 }),
);

const KEYS = [
  "hidden_size", "n_embd", "d_model", "num_attention_heads", "n_head", "num_hidden_layers", "n_layer", "num_key_value_heads",
  "head_dim", "intermediate_size", "ffn_dim", "n_inner", "vocab_size", "max_position_embeddings", "n_positions", "n_ctx",
  "model_type", "architectures", "torch_dtype", "dtype", "text_config", "tie_word_embeddings", "_name_or_path", "__proto__", "constructor",
];

type Doc = Record<string, unknown>;
type Damage = (doc: Doc) => Doc;
const isDoc = (d: unknown): d is Doc => typeof d === "object" && d !== null && !Array.isArray(d);

const structural: fc.Arbitrary<Damage>[] = [
  // A key (top level or inside text_config) set to a hostile value, or deleted.
  fc.tuple(fc.constantFrom(...KEYS), HOSTILE_VALUE, fc.boolean()).map(([k, v, nested]) => (d: Doc) => {
    if (!isDoc(d)) return d;
    const target = nested && isDoc(d.text_config) ? d.text_config : d;
    target[k] = structuredClone(v);
    return d;
  }),
  fc.constantFrom(...KEYS).map((k) => (d: Doc) => {
    if (isDoc(d)) delete d[k];
    return d;
  }),
  // The whole document, or text_config, replaced by something that is not an object.
  HOSTILE_VALUE.map((v) => () => structuredClone(v) as Doc),
  HOSTILE_VALUE.map((v) => (d: Doc) => (isDoc(d) ? { ...d, text_config: structuredClone(v) } : d)),
];

const textual: fc.Arbitrary<(t: string) => string>[] = [
  fc.double({ min: 0, max: 1, noNaN: true }).map((r) => (t: string) => t.slice(0, Math.floor(r * t.length))),
  fc.tuple(fc.double({ min: 0, max: 1, noNaN: true }), fc.string({ unit: "binary", maxLength: 8 })).map(
    ([r, junk]) => (t: string) => t.slice(0, Math.floor(r * t.length)) + junk + t.slice(Math.floor(r * t.length)),
  ),
  fc.constantFrom((t: string) => t.replace(/\d+/g, "9".repeat(400)), (t: string) => t.replace(/\d+/g, "1e999"), () => "[".repeat(100_000)),
];

const damagedConfig: fc.Arbitrary<string> = fc
  .tuple(fc.constantFrom(...CONFIGS), fc.array(fc.oneof(...structural), { minLength: 1, maxLength: 4 }), fc.option(fc.oneof(...textual), { freq: 4 }))
  .map(([text, damages, textDamage]) => {
    const doc = damages.reduce((d, f) => f(d), JSON.parse(text) as Doc);
    const json = JSON.stringify(doc) ?? "undefined";
    return textDamage === null ? json : textDamage(json);
  });

const COUNTS: (keyof ModelFacts)[] = [
  "numLayers", "numAttentionHeads", "numKeyValueHeads", "headDim", "hiddenSize", "intermediateSize", "vocabSize", "maxPositionEmbeddings",
];

function problems(text: string): string[] {
  let facts: ModelFacts;
  try {
    facts = modelConfigFromText(text, FILE);
  } catch (err) {
    if (!(err instanceof Error) || err.constructor !== Error) return [`crashed with ${(err as Error)?.constructor?.name}: ${String(err)}`];
    return err.message.startsWith(FILE) ? [] : [`error names no file: ${err.message.slice(0, 200)}`];
  }
  const p = COUNTS.filter((k) => {
    const n = facts[k];
    return !(Number.isInteger(n) && (n as number) > 0 && (n as number) <= MAX_ARCHITECTURE_NUMBER);
  }).map((k) => `${k} ${String(facts[k])}`);
  if (!(Number.isFinite(facts.parameters) && facts.parameters > 0)) p.push(`parameters ${facts.parameters}`);
  if (typeof facts.name !== "string" || facts.name === "") p.push("no name");
  return p.map((x) => `accepted with ${x}`);
}

describe("damaged and hostile model config.json files", () => {
  it(`each of ${RUNS} gives the model's facts or one clear error naming the file`, () => {
    const { tried, failures } = tryAll(damagedConfig, RUNS, (text) => {
      const p = problems(text);
      return p.length === 0 ? null : `${p.join("; ")}: ${text.slice(0, 300)}`;
    });
    console.log(`fuzz: ${tried} damaged model config.json files tried, ${failures.length} mishandled`);
    expect(tried).toBe(RUNS);
    expect(failures.slice(0, 3)).toEqual([]);
  });
});

describe("model config damage the fuzzing found mishandled", () => {
  it("rejects a count too large to be exact instead of reading Infinity parameters", () => {
    const doc = { ...JSON.parse(CONFIGS[0]!), vocab_size: 1e308 };
    expect(() => modelConfigFromText(JSON.stringify(doc), FILE)).toThrow(
      `${FILE}: vocab_size is 1e+308; it must be a whole number from 1 to 16777216. ` +
        "Check that the file is the model's config.json (a Hugging Face transformers config).",
    );
  });

  it("takes a count up to 2^24 and refuses the next one up", () => {
    const at = (vocab: number) => JSON.stringify({ ...JSON.parse(CONFIGS[0]!), vocab_size: vocab });
    expect(modelConfigFromText(at(16_777_216), FILE).vocabSize).toBe(16_777_216);
    expect(() => modelConfigFromText(at(16_777_217), FILE)).toThrow(
      `${FILE}: vocab_size is 16777217; it must be a whole number from 1 to 16777216. `,
    );
  });

  it("reads a file nested a million arrays deep as a clear error, not a stack overflow", () => {
    const deep = `${"[".repeat(1_000_000)}${"]".repeat(1_000_000)}`;
    expect(() => modelConfigFromText(deep, FILE)).toThrow(`${FILE}: expected a JSON object (a model's config.json)`);
  });
});
