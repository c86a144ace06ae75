/**
 * Grafana with a provisioned Prometheus data source and the llmstack dashboards:
 * https://grafana.com/docs/grafana/latest/administration/provisioning/
 * The admin password is a stack secret, passed in the environment (GF_SECURITY_ADMIN_PASSWORD,
 * https://grafana.com/docs/grafana/latest/setup-grafana/configure-grafana/#override-configuration-with-environment-variables),
 * never in argv. Grafana only honours it when it creates its database, i.e. on the first start with an
 * empty data volume; later changes go through `grafana cli admin reset-admin-password`.
 */
import { stringify } from "yaml";
import type { PlanContext } from "../plan/common";
import { baseContainer, healthcheck, physicalName, secret } from "../plan/common";
import type { ContainerSpec, UploadSpec } from "../plan/types";
import {
  MONITORING_MEMORY_MIB,
  MONITORING_PORTS,
  MONITORING_SERVICES,
  MONITORING_VOLUMES,
  PATHS,
  stackGpus,
  wgetProbe,
  type MonitoringFleet,
} from "./common";
import {
  dashboardJson,
  DATASOURCE_UID,
  GPU_DASHBOARD,
  LITELLM_DASHBOARD,
  VLLM_DASHBOARD,
  type DashboardSpec,
} from "./dashboards";
import { FLEET_GPU_DASHBOARD, FLEET_VLLM_DASHBOARD } from "./fleetDashboards";
import type { MonitoringConfig } from "../config/monitoringSchema";

export function grafanaDatasourcesYaml(): string {
  return stringify({
    apiVersion: 1,
    datasources: [
      {
        name: "Prometheus",
        uid: DATASOURCE_UID,
        type: "prometheus",
        access: "proxy",
        url: `http://${MONITORING_SERVICES.prometheus}:${MONITORING_PORTS.prometheus}`,
        isDefault: true,
        editable: false,
      },
    ],
  });
}

export function grafanaDashboardProvidersYaml(): string {
  return stringify({
    apiVersion: 1,
    providers: [
      {
        name: "llmstack",
        folder: "llmstack",
        type: "file",
        disableDeletion: true,
        allowUiUpdates: false,
        options: { path: PATHS.grafanaDashboards },
      },
    ],
  });
}

/**
 * The dashboards this stack gets: the GPU one only where there are GPUs; on a stack with hosts, the GPU
 * and vLLM ones by host and replica (./fleetDashboards.ts).
 */
export function dashboardsFor(ctx: PlanContext, fleet?: MonitoringFleet): DashboardSpec[] {
  if (fleet) return [FLEET_GPU_DASHBOARD, FLEET_VLLM_DASHBOARD, LITELLM_DASHBOARD];
  return [...(stackGpus(ctx).length > 0 ? [GPU_DASHBOARD] : []), VLLM_DASHBOARD, LITELLM_DASHBOARD];
}

/** The path Grafana is served under by the gateway's TLS proxy. */
export const GRAFANA_SUB_PATH = "/grafana";

/**
 * Whether the gateway's TLS proxy serves Grafana under /grafana/: only when the stack file asks
 * (`monitoring.grafana.viaGateway`), since its login page then shares the gateway's public address.
 */
export function grafanaViaGateway(ctx: PlanContext): boolean {
  const m = ctx.config.monitoring;
  return m?.enabled === true && m.grafana.viaGateway && ctx.config.gateway.tls !== undefined;
}

/**
 * Grafana is never published on its own port: only the gateway is. By default it is reached at its
 * address on the stack network (an SSH tunnel to it); with `viaGateway`, Caddy serves it under /grafana/.
 */
export function planGrafana(ctx: PlanContext, m: MonitoringConfig, fleet?: MonitoringFleet): ContainerSpec {
  const port = MONITORING_PORTS.grafana;
  const behindGateway = grafanaViaGateway(ctx);
  const dashboards: UploadSpec[] = dashboardsFor(ctx, fleet).map((d) => ({
    file: `${PATHS.grafanaDashboards}/${d.uid}.json`,
    content: `${JSON.stringify(dashboardJson(d), null, 2)}\n`,
    permissions: "0444",
  }));
  return {
    ...baseContainer(ctx),
    service: MONITORING_SERVICES.grafana,
    name: physicalName(ctx, MONITORING_SERVICES.grafana),
    image: m.images.grafana,
    command: [],
    env: {
      GF_SECURITY_ADMIN_USER: "admin",
      GF_SECURITY_ADMIN_PASSWORD: secret("grafanaAdminPassword", "grafana"),
      GF_USERS_ALLOW_SIGN_UP: "false",
      GF_ANALYTICS_REPORTING_ENABLED: "false",
      GF_SERVER_HTTP_PORT: String(port),
      ...(behindGateway
        ? {
            GF_SERVER_ROOT_URL: `%(protocol)s://%(domain)s${GRAFANA_SUB_PATH}/`,
            GF_SERVER_SERVE_FROM_SUB_PATH: "true",
          }
        : {}),
    },
    ports: [],
    volumes: [{ volume: MONITORING_VOLUMES.grafanaData, containerPath: PATHS.grafanaData }],
    uploads: [
      { file: PATHS.grafanaDatasources, content: grafanaDatasourcesYaml(), permissions: "0444" },
      { file: PATHS.grafanaDashboardProviders, content: grafanaDashboardProvidersYaml(), permissions: "0444" },
      ...dashboards,
    ],
    healthcheck: healthcheck(wgetProbe(`http://localhost:${port}/api/health`), 60),
    memory: MONITORING_MEMORY_MIB.grafana,
    dependsOn: [MONITORING_SERVICES.prometheus],
  };
}
