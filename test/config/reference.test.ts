/**
 * The configuration reference and the stack file's JSON Schema are generated from the zod schema
 * (`npm run docs`); the checked-in copies must be what the generator writes now.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import {
  CONFIG_REFERENCE_FILE,
  configReferenceMarkdown,
  STACK_JSON_SCHEMA_FILE,
  stackFileJsonSchema,
} from "../../src/config/reference";
import { ROOT } from "../helpers/root";

const read = (file: string): string => readFileSync(join(ROOT, file), "utf8");

describe("generated configuration docs", () => {
  it(`${CONFIG_REFERENCE_FILE} is current (npm run docs)`, () => {
    expect(read(CONFIG_REFERENCE_FILE) === configReferenceMarkdown(), `${CONFIG_REFERENCE_FILE} is stale: run npm run docs`).toBe(true);
  });

  it(`${STACK_JSON_SCHEMA_FILE} is current (npm run docs)`, () => {
    expect(read(STACK_JSON_SCHEMA_FILE) === `${JSON.stringify(stackFileJsonSchema(), null, 2)}\n`, `${STACK_JSON_SCHEMA_FILE} is stale: run npm run docs`).toBe(true);
  });

  it("the JSON Schema names every key of every checked-in stack file", () => {
    const schema = stackFileJsonSchema() as { properties: { config: { properties: Record<string, unknown> } } };
    const known = new Set(Object.keys(schema.properties.config.properties));
    for (const stack of ["development", "staging", "production"]) {
      const doc = parse(read(`Pulumi.${stack}.yaml`)) as { config: Record<string, unknown> };
      for (const key of Object.keys(doc.config)) expect([stack, key, known.has(key)]).toEqual([stack, key, true]);
    }
  });

  it("documents every top-level key and the secrets", () => {
    const md = configReferenceMarkdown();
    for (const key of ["environment", "dockerHost", "gpu", "model", "vllm", "images", "gateway", "services", "monitoring", "preflight"]) {
      expect(md).toContain(`## \`llmstack:${key}\``);
    }
    expect(md).toContain("- `llmstack:postgresPassword`");
    expect(md).toContain("| `llmstack:gpu (mode: multi).memoryUtilization` | number | yes |");
  });
});
