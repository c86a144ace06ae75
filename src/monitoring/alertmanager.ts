/**
 * Alertmanager: groups the firing alerts and sends them to the receiver in `llmstack:monitoring.receiver`
 * (a webhook or e-mail). https://prometheus.io/docs/alerting/latest/configuration/
 */
import { stringify } from "yaml";
import type { PlanContext } from "../plan/common";
import { baseContainer, healthcheck, physicalName, secret } from "../plan/common";
import type { ContainerSpec, UploadSpec } from "../plan/types";
import { MONITORING_MEMORY_MIB, MONITORING_PORTS, MONITORING_SERVICES, PATHS, wgetProbe } from "./common";
import { ALERT_WEBHOOK_SECRET, type MonitoringConfig, type ReceiverConfig } from "../config/monitoringSchema";

export const RECEIVER_NAME = "llmstack";

function receiver(r: ReceiverConfig): Record<string, unknown> {
  switch (r.type) {
    case "none":
      // No receiver: alerts still show in Prometheus and Alertmanager's UI, nothing is sent.
      return { name: RECEIVER_NAME };
    case "webhook":
      // A secret URL stays out of this file (it is shown in the plan): Alertmanager reads it from url_file
      // at each send (since v0.26.0, CHANGELOG "Webhook Integration: Support `url_file`", #3223).
      return {
        name: RECEIVER_NAME,
        webhook_configs: [
          { ...(typeof r.url === "string" ? { url: r.url } : { url_file: PATHS.alertmanagerWebhookUrl }), send_resolved: true },
        ],
      };
    case "email":
      return {
        name: RECEIVER_NAME,
        email_configs: [
          { to: r.to, from: r.from, smarthost: r.smarthost, require_tls: r.requireTls, send_resolved: true },
        ],
      };
  }
}

export function alertmanagerConfigYaml(m: MonitoringConfig): string {
  const doc = {
    route: {
      receiver: RECEIVER_NAME,
      group_by: ["alertname", "stack"],
      group_wait: "30s",
      group_interval: "5m",
      repeat_interval: "4h",
    },
    receivers: [receiver(m.receiver)],
  };
  return stringify(doc, { lineWidth: 0 });
}

/** Whether the receiver's URL is the stack secret alertWebhookUrl. */
export function usesWebhookSecret(m: MonitoringConfig): boolean {
  return m.receiver.type === "webhook" && typeof m.receiver.url !== "string";
}

export function planAlertmanager(ctx: PlanContext, m: MonitoringConfig): ContainerSpec {
  const port = MONITORING_PORTS.alertmanager;
  const uploads: UploadSpec[] = [
    { file: PATHS.alertmanagerConfig, content: alertmanagerConfigYaml(m), permissions: "0444" },
  ];
  // Readable by its owner only: uploads belong to the user the image runs as (plan/finalize.ts).
  if (usesWebhookSecret(m)) {
    uploads.push({ file: PATHS.alertmanagerWebhookUrl, content: secret(ALERT_WEBHOOK_SECRET), permissions: "0400" });
  }
  return {
    ...baseContainer(ctx),
    service: MONITORING_SERVICES.alertmanager,
    name: physicalName(ctx, MONITORING_SERVICES.alertmanager),
    image: m.images.alertmanager,
    command: [
      `--config.file=${PATHS.alertmanagerConfig}`,
      `--storage.path=${PATHS.alertmanagerData}`,
      `--web.listen-address=:${port}`,
    ],
    env: {},
    uploads,
    healthcheck: healthcheck(wgetProbe(`http://localhost:${port}/-/ready`), 30),
    memory: MONITORING_MEMORY_MIB.alertmanager,
  };
}
