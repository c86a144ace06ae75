/**
 * Reading and writing a Pulumi stack or project file with the `yaml` Document API, so a rewrite keeps the
 * file's comments, key order and quoting (https://eemeli.org/yaml/#documents). Shared by the image pins
 * (config/imagePins) and the GPU section writer (gpu/stackSection).
 */
import { parseDocument, type Document } from "yaml";
import { StackConfigError } from "./errors";

/** No folding (a long device list stays on one line) and `["0", "1"]` as this project writes lists. */
export const STRINGIFY = { lineWidth: 0, flowCollectionPadding: false } as const;

/** The file parsed as one YAML document; a syntax error is one error naming the file. */
export function load(text: string, file: string): Document {
  const doc = parseDocument(text);
  const error = doc.errors[0];
  if (error !== undefined) {
    throw new StackConfigError(`${file}: not valid YAML: ${error.message.split("\n")[0]}; fix the file first, nothing was written`);
  }
  return doc;
}
