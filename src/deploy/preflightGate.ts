/**
 * The preflight gate inside the Pulumi program: before the stack's Docker provider is configured (so before
 * any container, GPU or not, is registered), the GPU checks run on the host through the @pulumi/command
 * provider's `local.run` invoke (on the machine running Pulumi; over ssh for an `ssh://` Docker host).
 * The data volume checks (`postgres.data`, `qdrant.data`) run there too, for every stack with those stores.
 * `pulumi up` stops with the failed check's message and changes nothing; a preview that cannot reach the
 * host says it skipped them. `llmstack:preflight.enabled: false` turns the gate off, and says so.
 * https://www.pulumi.com/registry/packages/command/api-docs/local/run/
 */
import * as command from "@pulumi/command";
import * as pulumi from "@pulumi/pulumi";
import { loadStack } from "../config/load";
import { printable } from "../config/printable";
import type { StackConfig } from "../config/schema";
import type { StackPlan } from "../plan/types";
import { gateVerdict } from "../preflight/gate";
import { stackNeeds } from "../preflight/needs";
import { dataVolumeChecks, type VolumeCheck } from "../preflight/dataChecks";
import { postgresDataNeed } from "../preflight/postgresData";
import { probeCommandLine, probeScript, transportFor } from "../preflight/probe";
import { qdrantDataNeed } from "../preflight/qdrantData";
import { volumeCheckCommandLine, volumeGateError } from "../preflight/volumeRead";

/**
 * Returns an Output that resolves to the plan's Docker host once the checks pass (and rejects with the
 * failure otherwise); the stack's provider takes its host from it. `config` defaults to the loaded stack.
 */
export function preflightGate(plan: StackPlan, parent: pulumi.Resource, config?: StackConfig): pulumi.Input<string> {
  const cfg = config ?? loadStack().config;
  if (!cfg.preflight.enabled) {
    pulumi.log.warn(
      `preflight: llmstack:preflight.enabled is false in ${plan.stackFile}, so the host's GPUs are not checked before ` +
        `containers are created; run \`llmstack validate --stack ${plan.stack}\` to check them`,
      parent,
    );
    return plan.dockerHost;
  }
  const volumes = dataVolumeChecks({ postgres: postgresDataNeed(plan), qdrant: qdrantDataNeed(plan) }, plan.dockerHost).map(
    (vc) => volumeGate(plan, parent, vc),
  );
  const gpu = gpuGate(plan, parent, cfg);
  return pulumi.all([...volumes, gpu]).apply(() => plan.dockerHost);
}

/**
 * A retained data volume against the planned image (src/preflight/postgresData.ts, qdrantData.ts), for
 * every stack with that store, GPU or not; the docker CLI reaches the host with --host, so tcp:// too.
 */
function volumeGate(plan: StackPlan, parent: pulumi.Resource, vc: VolumeCheck): pulumi.Output<null> {
  return command.local.runOutput({ command: volumeCheckCommandLine(vc.script) }, { parent }).apply((r) => {
    const result = vc.check(typeof r.stdout === "string" ? r.stdout : "");
    const error = volumeGateError(plan.stackFile, plan.stack, result);
    if (error !== null) throw new Error(printable(error));
    const say = `preflight: ${result.check} ${result.status}: ${printable(result.found)}`;
    if (result.status === "warn") pulumi.log.warn(say, parent);
    else pulumi.log.info(say, parent);
    return null;
  });
}

function gpuGate(plan: StackPlan, parent: pulumi.Resource, cfg: StackConfig): pulumi.Input<string> {
  if (cfg.gpu.mode === "cpu") {
    pulumi.log.info("preflight: a cpu stack needs no GPU checks", parent);
    return plan.dockerHost;
  }
  const transport = transportFor(plan.dockerHost);
  if (transport.kind === "none") {
    pulumi.log.warn(
      `preflight: ${plan.dockerHost} is a tcp:// Docker host, so nvidia-smi cannot run on it and the GPU checks are skipped; ` +
        `use an ssh://user@host Docker host to check them`,
      parent,
    );
    return plan.dockerHost;
  }
  const needs = stackNeeds(cfg, plan);
  const script = probeScript({
    sections: ["hook", "cdi", "query", "topo", "nvlink", "apps", "stackpids"],
    dockerArgs: transport.dockerArgs,
    containerNames: needs.containerNames,
  });
  const preview = pulumi.runtime.isDryRun();
  return command.local.runOutput({ command: probeCommandLine(script, transport) }, { parent }).apply((r) => {
    // No output is a host the probe could not reach: the verdict skips in preview and stops `pulumi up`.
    const verdict = gateVerdict(needs, typeof r.stdout === "string" ? r.stdout : "", transport, preview);
    // The verdict quotes the host's own output (GPU names, process names): shown with control characters escaped.
    if (verdict.skipped !== null) {
      pulumi.log.warn(`preflight: skipped the GPU checks during preview: ${printable(verdict.skipped)}`, parent);
    } else if (verdict.error !== null) {
      throw new Error(printable(verdict.error));
    } else {
      pulumi.log.info(`preflight: ${verdict.results.map((c) => `${c.check} ${c.status}`).join(", ")}`, parent);
    }
    return plan.dockerHost;
  });
}
