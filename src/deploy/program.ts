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
import { isBlueGreen } from "../config/rolloutSchema";
import { parseStackConfig } from "../config/parse";
import type { StackConfig } from "../config/schema";
import {
  LAST_GOOD_ENV,
  LAST_GOOD_OUTPUT,
  lastGoodRecord,
  parseLastGood,
  REVISION_ENV,
  type LastGoodConfig,
} from "../plan/lastGood";
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
  /** The config this update deployed, known only once every container is up and the smoke test passed. */
  readonly [LAST_GOOD_OUTPUT]: pulumi.Output<LastGoodConfig>;
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
    ...runningConfig(loaded.config, loaded.raw.stackFile, loaded.raw.stack),
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
  if (plan.hosts !== undefined) checkDockerTls(plan, loaded.secretValue("dockerTls"));
  // A preview of a tagged image still shows the change; only an update must run exactly what was pinned.
  const unpinned = unpinnedImages(plan);
  if (unpinned.length > 0) {
    if (!pulumi.runtime.isDryRun()) throw new StackConfigError(unpinnedImagesMessage(plan, unpinned));
    pulumi.log.warn(unpinnedImagesMessage(plan, unpinned));
  }
  const stack = new LlmStack(plan.stack, { plan, secret: loaded.secret, config: loaded.config }, opts);
  const record = lastGoodRecord({
    plan,
    config: loaded.config,
    values: loaded.raw.values,
    secretsPresent: loaded.raw.secretsPresent,
    revisionHint: process.env[REVISION_ENV],
  });
  return {
    gatewayUrl: plan.gatewayUrl,
    servedModel: plan.servedModelName,
    gpuMap: plan.gpuMap,
    capacity: budgetJson(plan.capacity),
    vllmArgs: plan.vllmArgs,
    network: stack.network.name,
    smokeTest: stack.smokeTest,
    gatewayMasterKey: stack.masterKey,
    [LAST_GOOD_OUTPUT]: recordedWhenHealthy(stack, record),
    component: stack,
  };
}

/**
 * The record as an output that resolves only after the whole update succeeded, so only a good update can
 * write it. Since pulumi/pulumi#15754 (merged 2024-03) a failed update still writes each stack output whose
 * value resolved and keeps the old value of the others ("update any stack outputs that were updated, but
 * otherwise leave existing stack outputs as-is"), so a plain value would be written by a failed update too.
 * This one waits for the smoke test's result (which throws when the gateway did not answer,
 * src/deploy/smokeTest.ts) and for the ID of every container. A resource whose create fails never
 * resolves its outputs in the program (the engine answers its registration with the error): a container
 * with `wait` that did not become healthy within its waitTimeout (the provider's wait runs inside the
 * create, rule "create-covers-wait" in src/facts/dockerProvider.ts), a model download that exited non-zero
 * (src/deploy/vllm.ts). Then this value never resolves either and the previous good record stays. With the
 * smoke test disabled, "good" means every container was created and passed its own health check.
 */
function recordedWhenHealthy(stack: LlmStack, record: LastGoodConfig): pulumi.Output<LastGoodConfig> {
  const ids = [...stack.containers.values()].map((c) => c.id);
  return pulumi.all([stack.smokeTest, ...ids]).apply(() => record);
}

/**
 * The running stack's config for a blue-green rollout (src/plan/blueGreen.ts), from the last good record
 * `llmstack up` hands over in LAST_GOOD_ENV. An update without it is refused: the new vLLM could land on
 * the GPUs the running one holds. A preview goes on without the check, with a warning.
 */
function runningConfig(config: StackConfig, stackFile: string, stack: string): { running?: StackConfig } {
  if (!isBlueGreen(config)) return {};
  const handed = process.env[LAST_GOOD_ENV];
  if (handed === undefined) {
    const why =
      `${stackFile}: llmstack:rollout.strategy blue-green checks the new vLLM against the running one, whose config ` +
      `llmstack up hands over (from the stack output ${LAST_GOOD_OUTPUT}); deploy with it; run "llmstack up --stack ${stack}"`;
    if (!pulumi.runtime.isDryRun()) throw new StackConfigError(why);
    pulumi.log.warn(why);
    return {};
  }
  if (handed === "none") return {};
  const record = parseLastGood(JSON.parse(handed) as unknown);
  return { running: parseStackConfig(record.config, stackFile) };
}

/**
 * A stack with hosts: its tcp:// hosts' TLS material is checked before anything is registered, so a preview
 * already says what is missing. The preflight gate across its hosts runs before any provider is configured
 * (./fleetGate.ts).
 */
function checkDockerTls(plan: ReturnType<typeof planStack>, dockerTls: string | undefined): void {
  const tls = dockerTlsProblems(plan, dockerTls);
  if (tls.length > 0) {
    throw new StackConfigError(`${plan.stackFile}: the TLS material of its tcp:// hosts:\n${tls.map((t) => `  - ${t}`).join("\n")}`);
  }
}
