/** The multimodal worker (GPU): waits for vLLM's health itself, then starts. */
import type * as pulumi from "@pulumi/pulumi";
import { ServiceComponent, type ServiceArgs } from "./service";

export class MultimodalWorker extends ServiceComponent {
  constructor(name: string, args: ServiceArgs, opts?: pulumi.ComponentResourceOptions) {
    super("llmstack:service:MultimodalWorker", name, args, opts);
  }
}
