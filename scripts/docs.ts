// `npm run docs`: writes the configuration reference and the stack file's JSON Schema from the zod schema,
// and the generated tables of docs/images.md from the image records and provider rules in src/facts.
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import {
  CONFIG_REFERENCE_FILE,
  configReferenceMarkdown,
  STACK_JSON_SCHEMA_FILE,
  stackFileJsonSchema,
} from "../src/config/reference";
import { IMAGES_DOC_FILE, regenerate } from "../src/facts/docs";

const root = join(__dirname, "..");
const files: [string, string][] = [
  [CONFIG_REFERENCE_FILE, configReferenceMarkdown()],
  [STACK_JSON_SCHEMA_FILE, `${JSON.stringify(stackFileJsonSchema(), null, 2)}\n`],
  [IMAGES_DOC_FILE, regenerate(readFileSync(join(root, IMAGES_DOC_FILE), "utf8"))],
];
for (const [file, text] of files) {
  mkdirSync(dirname(join(root, file)), { recursive: true });
  writeFileSync(join(root, file), text);
  console.log(`wrote ${file}`);
}
