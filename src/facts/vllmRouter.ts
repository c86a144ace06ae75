/**
 * vLLM's router (github.com/vllm-project/router, image vllm/vllm-router) at the pinned release: the command
 * line its image runs, the flags the plan passes, the endpoint its health check calls and how it treats the
 * Authorization header. The image record (user, entrypoint, programs) is in ./imageRecords.ts.
 *
 * The image has no ENTRYPOINT: its CMD runs the Rust binary `vllm-router` (Dockerfile.router copies
 * target/release/vllm-router to /usr/local/bin). The Python package's `vllm-router` console script
 * (py_src/vllm_router/launch_router.py) takes other flags and is not what the image runs.
 */

/** The release the stack pins (Pulumi.yaml's llmstack:images.vllmRouter). */
export const VLLM_ROUTER_RELEASE = {
  tag: "v0.1.16",
  source:
    "the release pipeline publishes to PyPI only from a v* tag whose version matches pyproject.toml " +
    "(.buildkite/release-pipeline.yml), and vllm-router 0.1.16 is on PyPI (https://pypi.org/project/vllm-router/0.1.16/); " +
    "release images are pushed as vllm/vllm-router:v${VERSION} (.buildkite/scripts/publish-release-images.sh, read at " +
    "e0c942d4492332113a920c233cc71f20adbfdf6e). Nightly tags are not pinned: cleanup-nightly-router-builds.sh deletes all " +
    "but the newest 14. Docker Hub's tag list could not be read from here; `llmstack validate` checks the image can be pulled",
} as const;

/** The Rust binary's flags the plan passes (src/main.rs CliArgs, clap derive: `snake_case` field → `--kebab-case`). */
export const VLLM_ROUTER_FLAGS = {
  /** Default 127.0.0.1: the container must bind every interface for LiteLLM to reach it. */
  host: "--host",
  /** Default 30000 in the binary; the image's CMD passes 8080. */
  port: "--port",
  /** `num_args = 0..`: every worker URL follows the one flag. */
  workerUrls: "--worker-urls",
  /** One of random, round_robin, cache_aware, power_of_two, consistent_hash, ...; default cache_aware. */
  policy: "--policy",
  /** Seconds the router waits at start for its workers to answer their health endpoint (default 600). */
  workerStartupTimeoutSecs: "--worker-startup-timeout-secs",
} as const;

export const VLLM_ROUTER_FLAGS_SOURCE =
  "vllm-project/router src/main.rs (CliArgs, read at 03e9af5c1982f7568d79021d80d812edecb2d702): host default " +
  '"127.0.0.1", port default 30000, worker_urls num_args 0.., policy value_parser [random, round_robin, cache_aware, ' +
  "power_of_two, consistent_hash, sticky_least_loaded, rendezvous_hash] default cache_aware, worker_startup_timeout_secs " +
  'default 600, health_check_endpoint default "/health" (the path it calls on each worker)';

/** The policy that routes by the longest cached prefix (an approximate radix tree per worker). */
export const CACHE_AWARE_POLICY = "cache_aware";

/** The port the image's CMD listens on and its Dockerfile EXPOSEs. */
export const VLLM_ROUTER_IMAGE_PORT = 8080;

/**
 * The router's own liveness endpoint: a public route (no API key validation is configured) answered by the
 * router itself, without calling a worker.
 */
export const VLLM_ROUTER_LIVENESS_PATH = "/liveness";

export const VLLM_ROUTER_HTTP_SOURCE =
  "vllm-project/router src/server.rs (read at 00edc4e9e20222e7e6b36be8f86cf8f8d0cb0a83): public_routes /liveness, " +
  "/readiness, /health, /v1/models; protected /v1/chat/completions, /v1/completions; authorize_request passes every " +
  "request while api_key_validation_urls is empty. The router is created (and waits for its workers) before the " +
  "listener is bound, so nothing answers until the workers are up or the startup timeout ends";

/**
 * What the router does with the caller's headers: it copies them onto the request to the worker (except
 * Content-Type and Content-Length), so LiteLLM's `Authorization: Bearer <vLLM API key>` reaches vLLM, and the
 * key never needs to be on the router's command line.
 */
export const VLLM_ROUTER_FORWARDS_AUTHORIZATION = {
  forwards: true,
  source:
    "vllm-project/router src/routers/header_utils.rs copy_request_headers (read at " +
    "08a12e32dd4a2eca4f44abf235babdf6fee8b021) and src/routers/http/router.rs, which adds every copied header but " +
    "content-type and content-length to the worker request; vLLM's /health, which the router's health checks call, " +
    "needs no API key",
} as const;
