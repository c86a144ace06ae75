/** Qdrant with an API key. */
import type * as pulumi from "@pulumi/pulumi";
import { ServiceComponent, type ServiceArgs } from "./service";

export class Qdrant extends ServiceComponent {
  constructor(name: string, args: ServiceArgs, opts?: pulumi.ComponentResourceOptions) {
    super("llmstack:service:Qdrant", name, args, opts);
  }
}
