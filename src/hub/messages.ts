/**
 * One line for each way a model's config.json can fail to be read, naming the model, what happened and
 * the fix. The download command is huggingface_hub's `hf download` (`huggingface-cli` stopped working in
 * v1.x: src/huggingface_hub/cli/deprecated_cli.py at v1.28.0 only prints "Use `hf` instead").
 */
import type { HubFailure } from "./http";
import type { HubSettings } from "./settings";

export interface ProblemContext {
  readonly repo: string;
  readonly revision: string;
  readonly settings: HubSettings;
}

/** `hf download` of the JSON files llmstack reads, at the revision when it is not main. */
export function downloadCommand(repo: string, revision: string): string {
  return `hf download ${repo} --include "*.json"${revision === "main" ? "" : ` --revision ${revision}`}`;
}

export function cacheWhere(settings: HubSettings): string {
  return settings.cacheDir === null
    ? "the Hugging Face cache (none: set HF_HUB_CACHE, HF_HOME or HOME)"
    : `the Hugging Face cache (${settings.cacheDir})`;
}

const getIt = (ctx: ProblemContext): string =>
  `download it where there is a network with ${downloadCommand(ctx.repo, ctx.revision)} (it lands in the cache), ` +
  "or pass the path of its config.json";

/** The model is not cached and the Hub was not asked (`reason`: why not). */
export function notCachedMessage(ctx: ProblemContext, reason: string): string {
  return `${ctx.repo} is not in ${cacheWhere(ctx.settings)} and ${reason}; ${getIt(ctx)}`;
}

/** The Hub refused config.json, or could not be reached. */
export function hubFailureMessage(ctx: ProblemContext, failure: HubFailure, url: string): string {
  const { repo, revision, settings } = ctx;
  const page = `${settings.endpoint}/${repo}`;
  if (failure.kind === "network") {
    return `${repo}: could not reach the Hugging Face Hub at ${settings.endpoint} (${failure.reason}), and it is not in ${cacheWhere(settings)}; ${getIt(ctx)}`;
  }
  const { status, errorCode, errorMessage } = failure;
  const answered = `${status} for ${url}`;
  if (status === 401 && errorMessage === "Invalid credentials in Authorization header") {
    return `${repo}: the Hugging Face Hub refused HF_TOKEN (${answered}: ${errorMessage}); set HF_TOKEN to a valid token from ${settings.endpoint}/settings/tokens, or unset it`;
  }
  if (errorCode === "RepoNotFound" || (status === 404 && errorCode === null)) {
    const hint = settings.token === null ? ", or set HF_TOKEN if it is private" : "";
    return `${repo}: the Hugging Face Hub has no such model (${answered}); check the name${hint}`;
  }
  if (errorCode === "RevisionNotFound") {
    return `${repo} has no revision "${revision}" on the Hugging Face Hub (${answered}); check the revision`;
  }
  if (status === 401 || status === 403) {
    return settings.token === null
      ? `${repo} is gated on the Hugging Face Hub (${answered}); accept its licence at ${page} and set HF_TOKEN to a token of that account`
      : `${repo} is gated on the Hugging Face Hub and HF_TOKEN's account has no access (${answered}); accept its licence at ${page} with that account`;
  }
  return `${repo}: the Hugging Face Hub answered ${answered}; try again later, or ${getIt(ctx)}`;
}

/** The repository (or the cached snapshot) has no config.json. */
export function noConfigMessage(ctx: ProblemContext, where: string): string {
  return `${ctx.repo} has no config.json at revision ${ctx.revision} in ${where}, so vLLM cannot load it as a transformers model; pass the path of a config.json`;
}
