/** Models from the Hugging Face cache and Hub: a model reference → the facts the capacity estimate needs. */
export { resolveModel, resolveModelDirectory, resolveModelFromCache, type ModelRef, type ResolveOptions } from "./resolve";
export { hubSettings, type HubSettings } from "./settings";
export type { FetchFn } from "./http";
