/**
 * Where the Hugging Face cache is and how to reach the Hub, read from the environment the way
 * huggingface_hub reads it, so llmstack finds the files that `huggingface-cli download` and vLLM put
 * there. huggingface_hub v1.28.0, src/huggingface_hub/constants.py
 * (https://github.com/huggingface/huggingface_hub/blob/v1.28.0/src/huggingface_hub/constants.py):
 * - HF_HUB_CACHE, else the legacy HUGGINGFACE_HUB_CACHE, else `$HF_HOME/hub`; HF_HOME defaults to
 *   `$XDG_CACHE_HOME/huggingface`, XDG_CACHE_HOME to `~/.cache`; a leading "~" is the home directory;
 * - HF_ENDPOINT (default https://huggingface.co, trailing "/" dropped);
 * - HF_HUB_OFFLINE (or TRANSFORMERS_OFFLINE) is on for "1", "ON", "YES" or "TRUE", in any case;
 * - the token: HF_TOKEN, else the legacy HUGGING_FACE_HUB_TOKEN (src/huggingface_hub/utils/_auth.py,
 *   `_get_token_from_environment`), stripped of surrounding white space, sent as `Bearer`;
 * - each request waits DEFAULT_REQUEST_TIMEOUT = 10 s, or HF_HUB_DOWNLOAD_TIMEOUT seconds.
 * Only the environment the command was given is read, never the process's own (tests pass theirs).
 */
import { join } from "node:path";

export const DEFAULT_ENDPOINT = "https://huggingface.co";
const TRUE_VALUES = new Set(["1", "ON", "YES", "TRUE"]);
const DEFAULT_TIMEOUT_SECONDS = 10;

export interface HubSettings {
  /** The hub cache directory; null when the environment names neither it nor a home directory. */
  readonly cacheDir: string | null;
  /** The Hub's base URL, without a trailing "/". */
  readonly endpoint: string;
  readonly token: string | null;
  /** The variable that forbids the network (HF_HUB_OFFLINE or TRANSFORMERS_OFFLINE), or null. */
  readonly offlineBy: string | null;
  readonly timeoutMs: number;
}

const set = (v: string | undefined): v is string => v !== undefined && v !== "";

export function hubSettings(env: NodeJS.ProcessEnv): HubSettings {
  const home = [env.HOME, env.USERPROFILE].find(set) ?? null;
  // expanduser: "~" or "~/..." only; without a home directory the path stays as written.
  const expand = (p: string): string =>
    home !== null && (p === "~" || p.startsWith("~/")) ? join(home, p.slice(1)) : p;
  const hfHome = set(env.HF_HOME)
    ? env.HF_HOME
    : set(env.XDG_CACHE_HOME)
      ? join(env.XDG_CACHE_HOME, "huggingface")
      : home !== null
        ? join(home, ".cache", "huggingface")
        : null;
  const hubCache = [env.HF_HUB_CACHE, env.HUGGINGFACE_HUB_CACHE].find(set) ?? (hfHome === null ? null : join(hfHome, "hub"));

  const endpoint = (set(env.HF_ENDPOINT) ? env.HF_ENDPOINT : DEFAULT_ENDPOINT).replace(/\/+$/, "");
  if (!/^https?:\/\/[^/\s]+/.test(endpoint)) {
    throw new Error(
      `HF_ENDPOINT ${JSON.stringify(env.HF_ENDPOINT)} is not an http(s) URL; set it to the Hub or a mirror, ` +
        `e.g. ${DEFAULT_ENDPOINT}, or unset it`,
    );
  }
  const offlineBy = (["HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE"] as const).find((k) =>
    TRUE_VALUES.has((env[k] ?? "").trim().toUpperCase()),
  );
  const token = [env.HF_TOKEN, env.HUGGING_FACE_HUB_TOKEN].map((t) => t?.trim()).find(set) ?? null;
  const timeout = Number(env.HF_HUB_DOWNLOAD_TIMEOUT);
  return {
    cacheDir: hubCache === null ? null : expand(hubCache),
    endpoint,
    token,
    offlineBy: offlineBy ?? null,
    timeoutMs: (Number.isInteger(timeout) && timeout > 0 ? timeout : DEFAULT_TIMEOUT_SECONDS) * 1000,
  };
}
