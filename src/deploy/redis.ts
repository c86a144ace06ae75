/** Redis 7 with a password from a delivered config file. */
import type * as pulumi from "@pulumi/pulumi";
import { ServiceComponent, type ServiceArgs } from "./service";

export class Redis extends ServiceComponent {
  constructor(name: string, args: ServiceArgs, opts?: pulumi.ComponentResourceOptions) {
    super("llmstack:service:Redis", name, args, opts);
  }
}
