/**
 * LiteLLM's router settings at the pinned release (ghcr.io/berriai/litellm:v1.84.0): each config.yaml key the
 * gateway sets for a model with several deployments, the section LiteLLM reads it from, and where that was
 * read. Which section a key belongs to has moved between LiteLLM releases (most router keys may also be given
 * in `litellm_settings`, and `router_settings` wins), so the plan's config is held to this table
 * (test/facts/litellmRouter.test.ts), not to memory.
 *
 * The tag commit itself (v1.84.0, e1fc955464bf493c15aef08f98e0e22bdf24d4cf) could not be read here; the docs
 * were read at the stored commits named in each source, from the same release series.
 */

/** The config.yaml sections LiteLLM's proxy reads. */
export type LitellmSection = "router_settings" | "general_settings" | "litellm_settings";

export interface LitellmSettingFact {
  readonly section: LitellmSection;
  /** What LiteLLM does with it, in its docs' words where they say it. */
  readonly meaning: string;
  readonly source: string;
}

const CONFIG_SETTINGS =
  "BerriAI/litellm docs/my-website/docs/proxy/config_settings.md (read at 00670428e1ec49f6f79eee1e58df7be472b719ab)";
const HEALTH_CHECK_ROUTING =
  "BerriAI/litellm docs/my-website/docs/proxy/health_check_routing.md (read at bb4df6fa38f61f96fdd2251090b71aa7f244b15b), " +
  "https://docs.litellm.ai/docs/proxy/health_check_routing";

const COOLDOWN_HANDLERS =
  "BerriAI/litellm litellm/router_utils/cooldown_handlers.py (read at 1fa201c73311632f2204e3056a9b8702b07548fe): " +
  "_is_cooldown_required, _should_cooldown_deployment, _is_allowed_fails_set_on_router; litellm/__init__.py allowed_fails: int = 3";

/**
 * When LiteLLM's router rests (cools down) a deployment after a failed call, as its code does it: what the
 * gateway's replicas can expect when one fails, and why the gateway does not set allowed_fails.
 */
export const LITELLM_COOLDOWN = {
  /** A failed call whose error text has this (nothing answered: connection refused, no route) never rests it. */
  neverForError: "APIConnectionError",
  /** The 4xx statuses that may rest it; any other 4xx never does (the request was at fault). 5xx always may. */
  statuses4xx: [401, 404, 408, 429],
  /**
   * With allowed_fails unset or at litellm.allowed_fails (3) and no allowed_fails_policy: a deployment of a
   * model_name with several deployments rests after a 429, or when more than half of its calls this minute
   * failed; any deployment rests after a status LiteLLM does not retry (401, 404).
   */
  failureRatio: 0.5,
  /** allowed_fails at this value is the same as unset (Router.allowed_fails defaults to litellm.allowed_fails). */
  defaultAllowedFails: 3,
  /** How long it rests: router_settings.cooldown_time (seconds). */
  restSetting: "cooldown_time",
  source: COOLDOWN_HANDLERS,
} as const;

export const LITELLM_ROUTER_SETTINGS = {
  routing_strategy: {
    section: "router_settings",
    meaning:
      'how a deployment of a model_name is picked; "simple-shuffle" (the default, "RECOMMENDED for best performance") picks at random',
    source: `${CONFIG_SETTINGS}, router_settings - Reference`,
  },
  num_retries: {
    section: "router_settings",
    meaning: "Number of retries for a request. Defaults to 3; a retry goes to the model_name again, so another deployment may answer",
    source: `${CONFIG_SETTINGS}, router_settings - Reference`,
  },
  allowed_fails: {
    section: "router_settings",
    meaning:
      'documented as "The number of failures allowed before cooling down a model (a deployment) within a minute"; in ' +
      "the code, at LiteLLM's default (3) it changes nothing, and any other value replaces the failure-ratio rule with " +
      "that count (LITELLM_COOLDOWN); the gateway leaves it unset",
    source: `${CONFIG_SETTINGS}, router_settings - Reference; ${COOLDOWN_HANDLERS}`,
  },
  cooldown_time: {
    section: "router_settings",
    meaning: "The duration (in seconds) to cooldown a model if it exceeds the allowed failures; default 5",
    source: `${CONFIG_SETTINGS}, router_settings - Reference; ${HEALTH_CHECK_ROUTING}, Configuration reference`,
  },
  background_health_checks: {
    section: "general_settings",
    meaning: "If true, enables background health checks (off by default); must be true for health check routing to work",
    source: `${CONFIG_SETTINGS}, general_settings - Reference; ${HEALTH_CHECK_ROUTING}, Configuration reference`,
  },
  health_check_interval: {
    section: "general_settings",
    meaning: "Seconds between full health check cycles; default 300",
    source: `${CONFIG_SETTINGS}, general_settings - Reference; ${HEALTH_CHECK_ROUTING}, Configuration reference`,
  },
  enable_health_check_routing: {
    section: "general_settings",
    meaning:
      "Route away from deployments that fail health checks (default false): a failed deployment is excluded until the next " +
      "check clears it; when every deployment is excluded, all are tried (the safety net)",
    source:
      `${HEALTH_CHECK_ROUTING}, Setup (Step 2) and Configuration reference ("Where: general_settings"); litellm/router.py ` +
      "Router.__init__ takes enable_health_check_routing: bool = False",
  },
  redis_host: {
    section: "router_settings",
    meaning:
      "The host address for the Redis server. Only set this if you have multiple instances of LiteLLM Proxy and want current " +
      "tpm/rpm tracking to be shared across them",
    source: `${CONFIG_SETTINGS}, router_settings - Reference (redis_host, redis_port, redis_password)`,
  },
} as const satisfies Readonly<Record<string, LitellmSettingFact>>;

export type LitellmRouterSetting = keyof typeof LITELLM_ROUTER_SETTINGS;

/**
 * A deployment's `model_info.id`: LiteLLM's own id for one entry of `model_list` (config_settings.md's
 * model_list block: `model_info: id: string`); the health check output and cooldowns name deployments by it.
 */
export const LITELLM_DEPLOYMENT_ID_SOURCE = `${CONFIG_SETTINGS}, model_list (model_info.id)`;

/** The section of a setting, for the planner that writes it. */
export function litellmSection(setting: LitellmRouterSetting): LitellmSection {
  return LITELLM_ROUTER_SETTINGS[setting].section;
}
