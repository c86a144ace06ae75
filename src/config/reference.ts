/**
 * The configuration reference, generated from the zod schema so it cannot drift: a JSON Schema of
 * `Pulumi.<stack>.yaml` for editors (YAML completion and checking) and the markdown reference in
 * docs/configuration.md. `npm run docs` writes both; a test fails when either is stale.
 */
import { z } from "zod";
import { NAMESPACE, SECRET_KEYS } from "./parse";
import { stackConfigSchema } from "./schema";

type Json = { [key: string]: unknown };

export const CONFIG_REFERENCE_FILE = "docs/configuration.md";
export const STACK_JSON_SCHEMA_FILE = "schema/pulumi-stack.schema.json";

/** The stack config schema as JSON Schema, input side (keys with defaults are optional). */
function configJsonSchema(): Json {
  return z.toJSONSchema(stackConfigSchema, { io: "input", unrepresentable: "any" }) as Json;
}

const secureValue: Json = {
  type: "object",
  description: "A Pulumi secret: set it with `pulumi config set --secret`, never by hand.",
  properties: { secure: { type: "string" } },
  required: ["secure"],
  additionalProperties: false,
};

/** JSON Schema of a whole stack file: `config:` with `llmstack:<key>` entries and the secret keys. */
export function stackFileJsonSchema(): Json {
  const cfg = configJsonSchema();
  const props = (cfg.properties ?? {}) as Record<string, Json>;
  const config: Record<string, Json> = {};
  for (const [key, schema] of Object.entries(props)) config[`${NAMESPACE}:${key}`] = schema;
  for (const key of SECRET_KEYS) config[`${NAMESPACE}:${key}`] = secureValue;
  return {
    $schema: "https://json-schema.org/draft/2020-12/schema",
    title: "Pulumi.<stack>.yaml of llm-multimodal-stack",
    type: "object",
    properties: {
      secretsprovider: { type: "string" },
      encryptionsalt: { type: "string" },
      config: {
        type: "object",
        properties: config,
        // Other namespaces (docker:, pulumi:) belong to providers and Pulumi itself.
        patternProperties: { [`^(?!${NAMESPACE}:)[\\w.-]+:`]: {} },
        additionalProperties: false,
      },
    },
  };
}

interface Row {
  readonly key: string;
  readonly type: string;
  readonly required: boolean;
  readonly default?: unknown;
  readonly allowed: string;
  readonly description: string;
}

function typeOf(s: Json): string {
  if (s.const !== undefined) return JSON.stringify(s.const);
  if (Array.isArray(s.enum)) return "enum";
  if (s.type === "array") return `list of ${typeOf((s.items ?? {}) as Json)}`;
  if (Array.isArray(s.anyOf)) return (s.anyOf as Json[]).map(typeOf).join(" or ");
  if (typeof s.type === "string") return s.type;
  return "any";
}

function allowedOf(s: Json): string {
  const parts: string[] = [];
  if (Array.isArray(s.enum)) parts.push((s.enum as unknown[]).map((v) => JSON.stringify(v)).join(", "));
  if (s.exclusiveMinimum !== undefined) parts.push(`> ${String(s.exclusiveMinimum)}`);
  if (s.minimum !== undefined) parts.push(`≥ ${String(s.minimum)}`);
  if (s.exclusiveMaximum !== undefined) parts.push(`< ${String(s.exclusiveMaximum)}`);
  if (s.maximum !== undefined && s.maximum !== Number.MAX_SAFE_INTEGER) parts.push(`≤ ${String(s.maximum)}`);
  if (s.minLength !== undefined && s.minLength !== 1) parts.push(`at least ${String(s.minLength)} characters`);
  if (s.minItems !== undefined) parts.push(`at least ${String(s.minItems)} item(s)`);
  if (typeof s.pattern === "string") parts.push(`matches \`${s.pattern}\``);
  if (s.format !== undefined) parts.push(String(s.format));
  if (s.type === "array" && s.items) {
    const inner = allowedOf(s.items as Json);
    if (inner) parts.push(`each ${inner}`);
  }
  return parts.join("; ");
}

/** Flattens one top-level key into rows; unions of objects (modes) become one group of rows per variant. */
function rowsOf(key: string, s: Json, required: boolean, out: Row[]): void {
  const variants = Array.isArray(s.anyOf) ? (s.anyOf as Json[]) : [];
  if (variants.length > 0 && variants.every((v) => v.type === "object")) {
    for (const v of variants) {
      const props = (v.properties ?? {}) as Record<string, Json>;
      const tag = Object.entries(props).find(([, p]) => p.const !== undefined);
      const label = tag ? `${key} (${tag[0]}: ${String(tag[1].const)})` : key;
      rowsOf(label, { ...v, description: s.description ?? v.description }, required, out);
    }
    return;
  }
  const items = s.items as Json | undefined;
  const objects = (v: Json | undefined): boolean =>
    (v?.type === "object" && v.properties !== undefined) ||
    (Array.isArray(v?.anyOf) && (v.anyOf as Json[]).every((x) => x.type === "object"));
  if (s.type === "array" && objects(items)) {
    // A list of objects (llmstack:hosts), or of several shapes of object (model.placement): the list, then
    // each key of an entry as `key[].name`.
    out.push({ key, type: "list of object", required, allowed: allowedOf({ ...s, items: {} }), description: String(s.description ?? "") });
    rowsOf(`${key}[]`, { ...items!, description: undefined }, true, out);
    return;
  }
  if (s.type === "object" && s.properties) {
    const req = new Set((s.required ?? []) as string[]);
    if (s.description) out.push({ key, type: "object", required, allowed: "", description: String(s.description) });
    for (const [name, p] of Object.entries(s.properties as Record<string, Json>)) {
      rowsOf(`${key}.${name}`, p, req.has(name), out);
    }
    return;
  }
  out.push({
    key,
    type: typeOf(s),
    required: required && s.default === undefined,
    ...(s.default !== undefined ? { default: s.default } : {}),
    allowed: allowedOf(s),
    description: String(s.description ?? ""),
  });
}

const cell = (t: string): string => t.replaceAll("|", "\\|").replaceAll("\n", " ");

/** docs/configuration.md: every key a stack file may hold, from the schema. */
export function configReferenceMarkdown(): string {
  const cfg = configJsonSchema();
  const props = (cfg.properties ?? {}) as Record<string, Json>;
  const required = new Set((cfg.required ?? []) as string[]);
  const sections = Object.entries(props).map(([name, s]) => {
    const rows: Row[] = [];
    rowsOf(`${NAMESPACE}:${name}`, s, required.has(name), rows);
    const table = rows.map(
      (r) =>
        `| \`${cell(r.key)}\` | ${cell(r.type)} | ${r.required ? "yes" : "no"} | ${r.default === undefined ? "" : `\`${cell(JSON.stringify(r.default))}\``} | ${cell(r.allowed)} | ${cell(r.description)} |`,
    );
    return [
      `## \`${NAMESPACE}:${name}\``,
      "",
      "| key | type | required | default | allowed | description |",
      "| --- | --- | --- | --- | --- | --- |",
      ...table,
      "",
    ].join("\n");
  });
  return [
    "# Configuration reference",
    "",
    "<!-- Generated from src/config/schema.ts by `npm run docs`; do not edit by hand. -->",
    "",
    "Keys of `Pulumi.<stack>.yaml` under `config:`. Project defaults for any of them live in `Pulumi.yaml`",
    "(`config: llmstack:<key>: value:`); a stack file overrides them. Every object is strict: an unknown",
    `key is an error. Editors get completion from \`${STACK_JSON_SCHEMA_FILE}\` (for the YAML language`,
    "server: `# yaml-language-server: $schema=schema/pulumi-stack.schema.json` at the top of a stack file).",
    "",
    ...sections,
    "## Secrets",
    "",
    "Credentials are top-level secret keys, set with `npx llmstack secrets init --stack <name>` or",
    "`pulumi config set --secret llmstack:<key> --stack <name>`; the stack file holds only ciphertext",
    "(`secure:`).",
    "",
    ...SECRET_KEYS.map((k) => `- \`${NAMESPACE}:${k}\``),
    "",
  ].join("\n");
}
