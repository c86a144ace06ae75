/**
 * Alertmanager: groups the firing alerts and sends them to the receiver in `llmstack:monitoring.receiver`
 * (a webhook or e-mail). https://prometheus.io/docs/alerting/latest/configuration/
 */
import { stringify } from "yaml";
import type { PlanContext } from "../plan/common";
import { baseContainer, healthcheck, physicalName } from "../plan/common";
import type { ContainerSpec } from "../plan/types";
import { MONITORING_MEMORY_MIB, MONITORING_PORTS, MONITORING_SERVICES, PATHS, wgetProbe } from "./common";
import type { MonitoringConfig, ReceiverConfig } from "./schema";

export const RECEIVER_NAME = "llmstack";

function receiver(r: ReceiverConfig): Record<string, unknown> {
  switch (r.type) {
    case "none":
      // No receiver: alerts still show in Prometheus and Alertmanager's UI, nothing is sent.
      return { name: RECEIVER_NAME };
    case "webhook":
      return { name: RECEIVER_NAME, webhook_configs: [{ url: r.url, send_resolved: true }] };
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

export function planAlertmanager(ctx: PlanContext, m: MonitoringConfig): ContainerSpec {
  const port = MONITORING_PORTS.alertmanager;
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
    uploads: [{ file: PATHS.alertmanagerConfig, content: alertmanagerConfigYaml(m), permissions: "0444" }],
    healthcheck: healthcheck(wgetProbe(`http://localhost:${port}/-/ready`), 30),
    memory: MONITORING_MEMORY_MIB.alertmanager,
  };
}
