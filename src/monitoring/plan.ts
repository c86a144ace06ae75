/**
 * planMonitoring: the monitoring containers, their volumes and secrets, appended to the StackPlan when
 * `llmstack:monitoring.enabled` is true. Pure, like the rest of the planner.
 */
import { physicalName, protectData, type PlanContext } from "../plan/common";
import type { ContainerSpec, SecretSpec, VolumeSpec } from "../plan/types";
import { planAlertmanager, usesWebhookSecret } from "./alertmanager";
import { monitoringOf, MONITORING_VOLUMES, type MonitoringFleet } from "./common";
import { planDcgmExporter } from "./dcgm";
import { planFleetDcgmExporters } from "./fleet";
import { planGrafana } from "./grafana";
import { planPrometheus } from "./prometheus";
import { ALERT_WEBHOOK_SECRET, MONITORING_SECRET_NAMES, type MonitoringConfig } from "../config/monitoringSchema";
import type { ServicesIn } from "../config/services";

export interface MonitoringPlan {
  readonly containers: ContainerSpec[];
  readonly volumes: VolumeSpec[];
  readonly secrets: SecretSpec[];
}

export interface MonitoringPlanInput {
  /** Secret keys that have a value in the stack file. */
  readonly secretsPresent: ReadonlySet<string>;
  /** Where missing secrets come from in this environment (generated only in development). */
  readonly secretSource: SecretSpec["source"];
  /** A stack with hosts: its hosts and replicas (./fleet.ts); undefined on a single host. */
  readonly fleet?: MonitoringFleet;
}

/**
 * Plans one monitoring service: its container (one per GPU host for the DCGM exporter on a stack with
 * hosts), or undefined when this stack does not run it.
 */
export type MonitoringPlanner = (
  ctx: PlanContext,
  m: MonitoringConfig,
  fleet: MonitoringFleet | undefined,
) => ContainerSpec | readonly ContainerSpec[] | undefined;

/**
 * The planner of each service of the table's "monitoring" group (src/config/services.ts), in the order
 * the plan lists them; the type makes every monitoring service have one.
 */
export const MONITORING_PLANNERS = {
  // Only on a host with GPUs; on a stack with hosts, one on each GPU host.
  "dcgm-exporter": (ctx, m, fleet) => (fleet ? planFleetDcgmExporters(ctx, m, fleet) : planDcgmExporter(ctx, m)),
  alertmanager: planAlertmanager,
  prometheus: planPrometheus,
  grafana: planGrafana,
} satisfies { readonly [S in ServicesIn<"monitoring">]: MonitoringPlanner };

export function planMonitoring(ctx: PlanContext, input: MonitoringPlanInput): MonitoringPlan {
  const m = monitoringOf(ctx);
  if (!m) return { containers: [], volumes: [], secrets: [] };
  const planners: readonly MonitoringPlanner[] = Object.values(MONITORING_PLANNERS);
  const containers = planners.flatMap((plan) => plan(ctx, m, input.fleet) ?? []);
  const volume = (key: string, retainOnDelete: boolean): VolumeSpec => ({
    key,
    name: physicalName(ctx, key),
    retainOnDelete,
    // Metrics history and Grafana's state are data like the rest: protected where the stack's data is.
    protect: retainOnDelete && protectData(ctx.config),
  });
  return {
    containers,
    volumes: [
      volume(MONITORING_VOLUMES.prometheusData, true),
      volume(MONITORING_VOLUMES.grafanaData, true),
      volume(MONITORING_VOLUMES.litellmMetrics, false),
    ],
    secrets: [
      ...MONITORING_SECRET_NAMES.map(
        (name): SecretSpec => ({
          name,
          source: input.secretsPresent.has(name) ? "config" : input.secretSource,
          present: input.secretsPresent.has(name) || input.secretSource === "generated",
          optional: false,
        }),
      ),
      // A URL cannot be generated: it always comes from the stack file.
      ...(usesWebhookSecret(m)
        ? [{ name: ALERT_WEBHOOK_SECRET, source: "config", present: input.secretsPresent.has(ALERT_WEBHOOK_SECRET), optional: false } as const]
        : []),
    ],
  };
}
