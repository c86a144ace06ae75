/**
 * The monitoring containers: the DCGM exporter, Prometheus, Alertmanager and Grafana. Each is a plain
 * service component; their config files arrive as uploads from the plan.
 */
import type * as pulumi from "@pulumi/pulumi";
import { ServiceComponent, type ServiceArgs } from "./service";

export class DcgmExporter extends ServiceComponent {
  constructor(name: string, args: ServiceArgs, opts?: pulumi.ComponentResourceOptions) {
    super("llmstack:service:DcgmExporter", name, args, opts);
  }
}

export class Prometheus extends ServiceComponent {
  constructor(name: string, args: ServiceArgs, opts?: pulumi.ComponentResourceOptions) {
    super("llmstack:service:Prometheus", name, args, opts);
  }
}

export class Alertmanager extends ServiceComponent {
  constructor(name: string, args: ServiceArgs, opts?: pulumi.ComponentResourceOptions) {
    super("llmstack:service:Alertmanager", name, args, opts);
  }
}

export class Grafana extends ServiceComponent {
  constructor(name: string, args: ServiceArgs, opts?: pulumi.ComponentResourceOptions) {
    super("llmstack:service:Grafana", name, args, opts);
  }
}

/** Entries for LlmStack's component table. */
export const MONITORING_COMPONENTS = {
  "dcgm-exporter": DcgmExporter,
  prometheus: Prometheus,
  alertmanager: Alertmanager,
  grafana: Grafana,
} as const;
