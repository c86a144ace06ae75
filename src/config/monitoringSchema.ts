/**
 * `llmstack:monitoring`: GPU and service metrics (DCGM exporter, Prometheus, Grafana) and alerts
 * (Prometheus rules routed by Alertmanager). Every object is strict so a misspelt key fails.
 *
 * This file imports nothing from ./schema.ts: that file imports this one, and a cycle would hand
 * this module half-initialised exports under CommonJS.
 */
import { z } from "zod";
import { plainUrl } from "./names";
import { imageSlots, imagesShape, type ImagesShape } from "./services";

/** Secrets the monitoring containers need; required in the stack file outside development. */
export const MONITORING_SECRET_NAMES = ["grafanaAdminPassword"] as const;
/**
 * The alert webhook's URL kept as a stack secret: a Slack or Teams webhook URL is itself the token that
 * lets anyone post, so it must not be public in the stack file, the plan or the PR comment.
 */
export const ALERT_WEBHOOK_SECRET = "alertWebhookUrl";
export type MonitoringSecretName = (typeof MONITORING_SECRET_NAMES)[number] | typeof ALERT_WEBHOOK_SECRET;


/**
 * The monitoring images as pinned today (the defaults of their table entries, src/config/services.ts); a
 * stack file may override any of them.
 */
export const DEFAULT_MONITORING_IMAGES = Object.fromEntries(
  imageSlots("monitoring").map(({ slot }) => [slot.key, slot.default]),
) as { readonly [K in keyof ImagesShape<"monitoring">]: string };

const fraction = z.number().gt(0).lt(1);

/**
 * One key per monitoring service's image, from the service table. Checked like the stack's other images:
 * the form here; outside development no floating tag (config/schema.ts).
 */
export const monitoringImagesSchema = z.strictObject(imagesShape("monitoring"));

export const alertThresholdsSchema = z.strictObject({
  /** °C a GPU may reach before the GpuTemperatureHigh alert fires (RTX 3090 slows down near 83 °C). */
  gpuTemperatureCelsius: z.number().int().gte(40).lte(110).default(83),
  /**
   * Fraction of a GPU's memory in use that raises GpuMemoryNearFull; default 0.99. It must be above the
   * largest share the plan books on one GPU (vLLM's memoryUtilization, the worker's share where they share, and
   * their CUDA contexts; src/config/gpuBookings.ts):
   * vLLM takes its share up front, so a threshold at or below it would fire all the time.
   */
  gpuMemoryUsedFraction: fraction.optional(),
  /** Fraction of vLLM's KV cache in use that raises KvCacheSaturated (requests start to queue). */
  kvCacheUsageFraction: fraction.default(0.9),
  /**
   * On a stack with hosts: requests waiting per vLLM replica, on average across the fleet, above which
   * AddVllmReplica may fire (with the KV cache or time to first token also over its threshold).
   */
  waitingRequestsPerReplica: z.number().gt(0).lte(10000).default(2),
  /**
   * On a stack with hosts: seconds of time to first token (the fleet's 90th percentile over 5 minutes)
   * above which AddVllmReplica may fire (with requests waiting).
   */
  timeToFirstTokenSeconds: z.number().gt(0).lte(600).default(2),
  /** Fraction of gateway requests that fail before GatewayErrorRateHigh fires. */
  gatewayErrorRate: fraction.default(0.05),
  /** Minutes a condition must hold before its alert fires. */
  forMinutes: z.number().int().gte(1).lte(60).default(5),
});

const email = z.email();

/** Where Alertmanager sends alerts. */
export const receiverSchema = z.discriminatedUnion("type", [
  z.strictObject({ type: z.literal("none") }),
  z.strictObject({
    type: z.literal("webhook"),
    /**
     * Where Alertmanager POSTs its JSON payload (Slack/Teams bridges, PagerDuty's Events API v2, ...): a
     * plain URL, or `{secret: alertWebhookUrl}` for the stack secret llmstack:alertWebhookUrl when the URL
     * is itself a token.
     */
    url: z.union(
      [
        z.strictObject({
          secret: z.literal(ALERT_WEBHOOK_SECRET, {
            error: `the URL's secret is llmstack:${ALERT_WEBHOOK_SECRET}; write {secret: ${ALERT_WEBHOOK_SECRET}}`,
          }),
        }),
        plainUrl(
          `keep the URL as a secret instead: url: {secret: ${ALERT_WEBHOOK_SECRET}} and ` +
            `pulumi config set --secret llmstack:${ALERT_WEBHOOK_SECRET}`,
        ),
      ],
      { error: `must be an http(s) URL or {secret: ${ALERT_WEBHOOK_SECRET}} (the URL kept as a stack secret)` },
    ),
  }),
  z.strictObject({
    type: z.literal("email"),
    to: email,
    from: email,
    /** SMTP relay as host:port; it must accept mail from the Docker host without a password. */
    smarthost: z.string().regex(/^[\w.-]+:\d{1,5}$/, { message: 'must be "host:port", e.g. "mail.example.com:587"' }),
    requireTls: z.boolean().default(true),
  }),
]);

export const monitoringSchema = z.strictObject({
  /** Run the DCGM exporter, Prometheus, Alertmanager and Grafana beside the stack. */
  enabled: z.boolean(),
  images: monitoringImagesSchema.default(monitoringImagesSchema.parse({})),
  prometheus: z
    .strictObject({
      /** Days of metrics Prometheus keeps (`--storage.tsdb.retention.time`). */
      retentionDays: z.number().int().gte(1).lte(3650).default(15),
      /** Seconds between scrapes. */
      scrapeIntervalSeconds: z.number().int().gte(1).lte(300).default(15),
    })
    .default({ retentionDays: 15, scrapeIntervalSeconds: 15 }),
  alerts: alertThresholdsSchema.default(alertThresholdsSchema.parse({})),
  receiver: receiverSchema.default({ type: "none" }),
  grafana: z
    .strictObject({
      /**
       * Serve Grafana at https://<gateway>/grafana/ through the gateway's TLS proxy. Off by default: its
       * login page is then on the gateway's address, public where the gateway is.
       */
      viaGateway: z.boolean().default(false),
    })
    .default({ viaGateway: false }),
});

export type MonitoringConfig = z.infer<typeof monitoringSchema>;
export type ReceiverConfig = z.infer<typeof receiverSchema>;
