/** Caddy, the TLS front of the gateway when it is published beyond loopback. */
import type * as pulumi from "@pulumi/pulumi";
import { ServiceComponent, type ServiceArgs } from "./service";

export class GatewayTls extends ServiceComponent {
  constructor(name: string, args: ServiceArgs, opts?: pulumi.ComponentResourceOptions) {
    super("llmstack:service:GatewayTls", name, args, opts);
  }
}
