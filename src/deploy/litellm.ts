/** LiteLLM, the OpenAI-compatible gateway: the only container published on the host. */
import type * as pulumi from "@pulumi/pulumi";
import { ServiceComponent, type ServiceArgs } from "./service";

export class Litellm extends ServiceComponent {
  constructor(name: string, args: ServiceArgs, opts?: pulumi.ComponentResourceOptions) {
    super("llmstack:service:Litellm", name, args, opts);
  }
}
