/**
 * What vLLM's OpenAI-compatible server serves to Prometheus at the pinned release (v0.21.0): the path, whether
 * `--api-key` guards it, and the names of the metrics the alerts and dashboards use. Written once here, with
 * the source of each; tests hold the monitoring plan against them.
 *
 * The v0.21.0 tree could not be brought here whole (the repository snapshot is over the size limit), so the
 * code was read at the commits the source index holds, and the release's own documentation at the tag.
 */

/** One fact and where it was read. */
export interface VllmMetricsSource {
  readonly fact: string;
  readonly source: string;
}

export const VLLM_METRICS = {
  /** Where the server serves its Prometheus metrics (the same port as the API). */
  path: "/metrics",
  /**
   * The path prefixes `--api-key` (or VLLM_API_KEY) guards: AuthenticationMiddleware checks the bearer
   * token only for a path that starts with one of them (GUARDED_PREFIX), so /metrics and /health answer
   * without the key.
   */
  guardedPrefixes: ["/v1", "/v2", "/inference", "/cohere"],
  /** Gauge, 0 to 1: the fraction of the KV cache's blocks in use (one series per engine). */
  kvCacheUsage: "vllm:kv_cache_usage_perc",
  /** Gauge: requests queued, waiting for a place in the running batch. */
  requestsWaiting: "vllm:num_requests_waiting",
  /** Gauge: requests in the running batch. */
  requestsRunning: "vllm:num_requests_running",
  /** Histogram (seconds): time from a request's arrival to its first output token. */
  timeToFirstToken: "vllm:time_to_first_token_seconds",
} as const;

export const VLLM_METRICS_SOURCES: readonly VllmMetricsSource[] = [
  {
    fact: "--api-key guards only /v1, /v2, /inference and /cohere; /metrics is served without the key",
    source:
      "vllm-project/vllm docs/usage/security.md at v0.21.0 (the key is checked only for endpoints under those " +
      "path prefixes); vllm/entrypoints/openai/api_server.py build_app adds AuthenticationMiddleware when " +
      "--api-key or VLLM_API_KEY is set (read at 0001948bc76939369ca855c90b36d81256477e85), and " +
      "vllm/entrypoints/serve/utils/server_utils.py defines GUARDED_PREFIX = (\"/v1\", \"/v2\", \"/inference\", " +
      "\"/cohere\") and skips the check for any other path (read at 0753ceeb9cb7d7e39564ebebfe031d179e0c9924)",
  },
  {
    fact: "the KV cache gauge is vllm:kv_cache_usage_perc; vllm:gpu_cache_usage_perc is its old name",
    source:
      "vllm/v1/metrics/loggers.py: vllm:gpu_cache_usage_perc was deprecated in 0.9 (\"DEPRECATED: Use " +
      "vllm:kv_cache_usage_perc instead\", read at 005a810bc40faa25b8870fbc8559c3462581eee3) and later " +
      "releases register vllm:kv_cache_usage_perc alone; docs/design/metrics.md lists vllm:kv_cache_usage_perc " +
      "(Gauge, fraction of used KV cache blocks, 0-1)",
  },
  {
    fact: "vllm:num_requests_waiting and vllm:num_requests_running are gauges, vllm:time_to_first_token_seconds a histogram",
    source:
      "vllm/v1/metrics/loggers.py PrometheusStatLogger (read at 005a810bc40faa25b8870fbc8559c3462581eee3); " +
      "docs.vllm.ai usage/metrics (Production Metrics)",
  },
];

/** Whether vLLM's `--api-key` guards a path (so a scraper would have to send the key). */
export function guardedByApiKey(path: string): boolean {
  return VLLM_METRICS.guardedPrefixes.some((p) => path.startsWith(p));
}
