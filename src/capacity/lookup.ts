/**
 * A model's facts together with where they came from: what the command line resolves (src/hub reads
 * the Hugging Face cache and the Hub) and hands to the pure planner, so the plan can say which source
 * it used without doing any I/O itself.
 */
import { lookupModel, type ModelFacts } from "./models";

/** Where a model's facts were read. */
export type ModelSource = "cache" | "hub" | "file" | "catalog";

export interface ModelFound {
  readonly facts: ModelFacts;
  readonly source: ModelSource;
  /** One sentence for a person: which files, from where (and why the catalog, when it was used). */
  readonly detail: string;
}

export interface ModelMissing {
  readonly facts: null;
  /** One line naming the model, what went wrong and how to fix it. */
  readonly problem: string;
}

export type ModelLookup = ModelFound | ModelMissing;

/** How a plan's budget names each source. */
export const SOURCE_LABELS: Readonly<Record<ModelSource, string>> = {
  cache: "the Hugging Face cache",
  hub: "the Hugging Face Hub",
  file: "its config.json",
  catalog: "the built-in catalog",
};

/** The catalog's entry, or null: the fallback when neither the cache nor the Hub has the model. */
export function catalogFacts(name: string): ModelFacts | null {
  try {
    return lookupModel(name);
  } catch {
    return null;
  }
}

/** The catalog alone: what the pure planner uses when it is handed no lookup. */
export function catalogLookup(name: string): ModelLookup {
  const facts = catalogFacts(name);
  if (facts !== null) return { facts, source: "catalog", detail: `${facts.name} from the built-in catalog` };
  return {
    facts: null,
    problem:
      `${name} is not in the built-in catalog and its files were not read; ` +
      `check it with "llmstack capacity --model ${name}" (the Hugging Face cache, then the Hub)`,
  };
}
