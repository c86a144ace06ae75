/**
 * Caddy in front of LiteLLM when the gateway is published beyond loopback, so the master key never
 * crosses the network in clear. LiteLLM is then not published at all; Caddy is.
 * https://caddyserver.com/docs/caddyfile/directives/tls
 */
import { ACME_HTTP_PORT, type TlsConfig } from "../config/schema";
import { MONITORING_PORTS } from "../monitoring/common";
import { GRAFANA_SUB_PATH, grafanaViaGateway } from "../monitoring/grafana";
import {
  baseContainer,
  healthcheck,
  INTERNAL_PORTS,
  join,
  MEMORY_LIMITS_MIB,
  physicalName,
  secret,
  type PlanContext,
  type Planners,
} from "./common";
import type { ContainerSpec, PortSpec, UploadSpec } from "./types";

export const CADDYFILE = "/etc/caddy/Caddyfile";
export const TLS_DATA_VOLUME = "tls-data";
/** A plain-HTTP listener inside the container for Docker's health check; never published. */
const HEALTH_PORT = 8081;

export function caddyfile(tls: TlsConfig, grafana = false): string {
  // Caddy issues certificates for the names in the site address; `tls internal` signs them with its own
  // CA. A client that sends no SNI (a bare IP) gets the first name's certificate (default_sni).
  const site =
    tls.mode === "acme"
      ? tls.domain
      : tls.mode === "internal"
        ? tls.hosts.map((h) => (h.includes(":") ? `[${h}]:443` : `${h}:443`)).join(", ")
        : tls.domain
          ? `${tls.domain}:443`
          : ":443";
  const tlsLine =
    tls.mode === "internal"
      ? "tls internal"
      : tls.mode === "acme"
        ? `tls ${tls.email}`
        : "tls /etc/caddy/tls/cert.pem /etc/caddy/tls/key.pem";
  return [
    "{",
    "\tadmin off",
    ...(tls.mode === "acme" ? [] : ["\tauto_https disable_redirects"]),
    ...(tls.mode === "internal" ? [`\tdefault_sni ${tls.hosts[0]}`] : []),
    "}",
    "",
    `${site} {`,
    `\t${tlsLine}`,
    // Caddy orders the routes: the path-matched one before the catch-all.
    ...(grafana ? [`\treverse_proxy ${GRAFANA_SUB_PATH}* grafana:${MONITORING_PORTS.grafana}`] : []),
    `\treverse_proxy litellm:${INTERNAL_PORTS.litellm}`,
    "}",
    "",
    `:${HEALTH_PORT} {`,
    "\trespond /healthz 200",
    "}",
    "",
  ].join("\n");
}

export function planGatewayTls(ctx: PlanContext, tls: TlsConfig): ContainerSpec {
  const { gateway } = ctx.config;
  const ports: PortSpec[] = [{ internal: 443, external: gateway.port, ip: gateway.bindAddress, protocol: "tcp" }];
  if (tls.mode === "acme") {
    ports.push({ internal: 80, external: ACME_HTTP_PORT, ip: gateway.bindAddress, protocol: "tcp" });
  }
  const grafana = grafanaViaGateway(ctx);
  const uploads: UploadSpec[] = [{ file: CADDYFILE, content: caddyfile(tls, grafana), permissions: "0444" }];
  if (tls.mode === "certificate") {
    uploads.push(
      { file: "/etc/caddy/tls/cert.pem", content: join(secret("tlsCertificate")), permissions: "0444" },
      { file: "/etc/caddy/tls/key.pem", content: join(secret("tlsPrivateKey")), permissions: "0400" },
    );
  }
  return {
    ...baseContainer(ctx),
    service: "gateway-tls",
    name: physicalName(ctx, "gateway-tls"),
    image: ctx.config.images.tlsProxy,
    command: ["caddy", "run", "--config", CADDYFILE, "--adapter", "caddyfile"],
    env: {},
    ports,
    uploads,
    volumes: [{ volume: TLS_DATA_VOLUME, containerPath: "/data" }],
    healthcheck: healthcheck(["CMD", "wget", "-q", "-O", "/dev/null", `http://127.0.0.1:${HEALTH_PORT}/healthz`], 30),
    memory: MEMORY_LIMITS_MIB.tlsProxy,
    waitTimeout: 120,
    dependsOn: ["litellm"],
  };
}

/** The services this file plans (src/plan/services.ts): the TLS proxy runs only with `llmstack:gateway.tls`. */
export const GATEWAY_TLS_PLANNERS = {
  "gateway-tls": (ctx) => (ctx.config.gateway.tls ? planGatewayTls(ctx, ctx.config.gateway.tls) : undefined),
} satisfies Planners;
