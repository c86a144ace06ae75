/**
 * A stack file with its plain `llmstack:` values replaced: what `llmstack rollback` deploys. Everything
 * else stays as the file has it: the credentials (`secure:` ciphertexts, which only this stack's key
 * decrypts), the encryption settings beside `config:` (encryptionsalt, secretsprovider, encryptedkey) and
 * other namespaces' keys.
 */
import { isMap, type Document } from "yaml";
import { StackConfigError } from "./errors";
import { NAMESPACE, SECRET_KEYS } from "./parse";
import { load, STRINGIFY } from "./yamlDocument";

/** `text` (a stack file) with its plain `llmstack:` keys replaced by `values` (keys without namespace). */
export function withPlainValues(text: string, file: string, values: Readonly<Record<string, unknown>>): string {
  const doc: Document = load(text, file);
  if (doc.contents === null) doc.contents = doc.createNode({});
  if (!isMap(doc.contents)) throw new StackConfigError(`${file}: must be a mapping with a "config:" key; fix the file first, nothing was written`);
  let config = doc.get("config");
  if (config === undefined || config === null) {
    config = doc.createNode({});
    doc.set("config", config);
  }
  if (!isMap(config)) throw new StackConfigError(`${file}: "config" must be a mapping of keys to values; fix the file first, nothing was written`);
  for (const pair of [...config.items]) {
    const key = String((pair.key as { value?: unknown } | null)?.value ?? pair.key);
    const [ns, name] = key.includes(":") ? [key.slice(0, key.indexOf(":")), key.slice(key.indexOf(":") + 1)] : ["", key];
    if (ns === NAMESPACE && !SECRET_KEYS.includes(name)) config.delete(pair.key);
  }
  for (const [name, value] of Object.entries(values)) config.set(`${NAMESPACE}:${name}`, doc.createNode(value));
  return doc.toString(STRINGIFY);
}
