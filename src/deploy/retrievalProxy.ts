/** The retrieval proxy: Qdrant, Redis and the object store behind one HTTP service. */
import type * as pulumi from "@pulumi/pulumi";
import { ServiceComponent, type ServiceArgs } from "./service";

export class RetrievalProxy extends ServiceComponent {
  constructor(name: string, args: ServiceArgs, opts?: pulumi.ComponentResourceOptions) {
    super("llmstack:service:RetrievalProxy", name, args, opts);
  }
}
