/**
 * The check after deploy: a one-shot container sends one chat completion through the gateway. When no
 * answer comes back the update fails with the check's own output and the tail of the gateway's and
 * vLLM's logs, read from the stack's Docker host.
 */
import * as command from "@pulumi/command";
import type * as docker from "@pulumi/docker";
import * as pulumi from "@pulumi/pulumi";
import { printable } from "../config/printable";
import { componentType } from "../config/services";
import { shellQuote, shellWords } from "../config/shell";
import { createContainer } from "./container";
import type { ServiceArgs } from "./service";

export interface SmokeTestArgs extends ServiceArgs {
  /** Containers whose log tail explains a failure. */
  readonly logsOf: readonly string[];
}

/**
 * The shell line `command.local.run` runs (through `sh -c`) to read the log tails. Every value in it is a
 * quoted word: the Docker host is whatever follows `unix://` in the stack file.
 */
export function logTailCommand(host: string, containers: readonly string[]): string {
  return containers
    .map(
      (c) =>
        `echo ${shellQuote(`--- docker logs --tail 30 ${c}`)}; ` +
        `${shellWords(["docker", "-H", host, "logs", "--tail", "30", c])} 2>&1`,
    )
    .join("; ");
}

export class SmokeTest extends pulumi.ComponentResource {
  public readonly container: docker.Container;
  /** "passed" once the check answered; the update fails otherwise. */
  public readonly result: pulumi.Output<string>;

  constructor(name: string, args: SmokeTestArgs, opts?: pulumi.ComponentResourceOptions) {
    super(componentType("smoke-test"), name, {}, opts);
    this.container = createContainer(name, args.spec, args.deps, this).container;
    const host = args.deps.plan.dockerHost;
    this.result = pulumi
      .all([this.container.exitCode, this.container.containerLogs])
      .apply(async ([code, logs]) => {
        if (code === undefined || code === null || code === 0) return "passed";
        let tail: string;
        try {
          tail = (await command.local.run({ command: logTailCommand(host, args.logsOf) })).stdout;
        } catch (err) {
          tail = `(could not read the containers' logs: ${(err as Error).message})`;
        }
        // Container logs are the services' own output: shown with their control characters escaped.
        throw new Error(
          `smoke test: the gateway did not answer a chat completion (exit code ${code}).\n` +
            `${printable((logs ?? "").trim())}\n${printable(tail)}\n` +
            `Fix the failing service and run pulumi up again; set llmstack:smokeTest.enabled false to skip this check.`,
        );
      });
    this.registerOutputs({ result: this.result });
  }
}
