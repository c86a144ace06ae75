/**
 * The program: load the stack config, plan, deploy, and return the stack outputs.
 */
import * as pulumi from "@pulumi/pulumi";
import { loadStack } from "../config/load";
import { capacityViolationsMessage } from "../capacity";
import { StackConfigError } from "../config/errors";
import { resolveModelFromCache } from "../hub";
import { budgetJson } from "../plan/capacity";
import { unpinnedImages, unpinnedImagesMessage } from "../plan/digests";
import { missingSecrets, planStack } from "../plan/stack";
import { secretValueProblems } from "../plan/encode";
import { missingSecretsMessage, secretValuesMessage } from "./secrets";
import { dockerTlsProblems } from "./hosts";
import { LlmStack } from "./stack";

export interface StackOutputs {
  readonly gatewayUrl: string;
  readonly servedModel: string;
  readonly gpuMap: unknown;
  /** vLLM's memory budget per GPU. */
  readonly capacity: Record<string, unknown>;
  readonly vllmArgs: readonly string[];
  readonly network: pulumi.Output<string>;
  readonly smokeTest: pulumi.Output<string>;
  readonly gatewayMasterKey: pulumi.Output<string>;
  /** The stack component, for tests and for programs that compose it further. */
  readonly component: LlmStack;
}

export function deployStack(opts?: pulumi.ComponentResourceOptions): StackOutputs {
  const loaded = loadStack();
  // The model's facts from the Hugging Face cache where the program runs, else the built-in catalog: a
  // deploy never goes to the Hub for them (`llmstack plan` and `validate` do).
  const { name, revision } = loaded.config.model;
  const model = resolveModelFromCache({ name, ...(revision !== undefined ? { revision } : {}) }, process.env);
  const plan = planStack({
    project: loaded.raw.project,
    stack: loaded.raw.stack,
    stackFile: loaded.raw.stackFile,
    config: loaded.config,
    secretsPresent: loaded.raw.secretsPresent,
    model,
  });
  // Everything is checked before the first resource is registered.
  const violations = plan.capacity.result?.violations ?? [];
  if (violations.length > 0) {
    throw new StackConfigError(capacityViolationsMessage({ violations }, plan.stackFile));
  }
  const missing = missingSecrets(plan);
  if (missing.length > 0) throw new StackConfigError(missingSecretsMessage(plan, missing));
  const unfit = secretValueProblems(plan.containers, loaded.secretValue);
  if (unfit.length > 0) throw new StackConfigError(secretValuesMessage(plan, unfit));
  if (plan.hosts !== undefined) refuseFleetUpdate(plan, loaded.secretValue("dockerTls"));
  // A preview of a tagged image still shows the change; only an update must run exactly what was pinned.
  const unpinned = unpinnedImages(plan);
  if (unpinned.length > 0) {
    if (!pulumi.runtime.isDryRun()) throw new StackConfigError(unpinnedImagesMessage(plan, unpinned));
    pulumi.log.warn(unpinnedImagesMessage(plan, unpinned));
  }
  const stack = new LlmStack(plan.stack, { plan, secret: loaded.secret, config: loaded.config }, opts);
  return {
    gatewayUrl: plan.gatewayUrl,
    servedModel: plan.servedModelName,
    gpuMap: plan.gpuMap,
    capacity: budgetJson(plan.capacity),
    vllmArgs: plan.vllmArgs,
    network: stack.network.name,
    smokeTest: stack.smokeTest,
    gatewayMasterKey: stack.masterKey,
    component: stack,
  };
}

/**
 * A stack with hosts previews (every resource on its host's provider) but does not update yet: its gateway
 * still lists one vLLM, not the replicas, and no preflight runs across its hosts (docs/fleet.md). Its tcp://
 * hosts' TLS material is checked first, so a preview already says what is missing.
 */
function refuseFleetUpdate(plan: ReturnType<typeof planStack>, dockerTls: string | undefined): void {
  const tls = dockerTlsProblems(plan, dockerTls);
  if (tls.length > 0) {
    throw new StackConfigError(`${plan.stackFile}: the TLS material of its tcp:// hosts:\n${tls.map((t) => `  - ${t}`).join("\n")}`);
  }
  if (pulumi.runtime.isDryRun()) return;
  throw new StackConfigError(
    `${plan.stackFile}: a stack with llmstack:hosts can be previewed but not yet updated: its gateway does not yet list ` +
      "the model's replicas and no preflight runs across its hosts (docs/fleet.md); until then deploy each host as a " +
      `single-host stack, and see where every resource of this one would go: run "pulumi preview --stack ${plan.stack}"`,
  );
}
