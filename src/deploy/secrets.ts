/**
 * Resolves the plan's secret references into secret Outputs: from the stack file, or (development
 * only) generated once with @pulumi/random and kept in the stack's state.
 */
import * as pulumi from "@pulumi/pulumi";
import * as random from "@pulumi/random";
import { StackConfigError } from "../config/errors";
import type { SecretName } from "../config/schema";
import { secretRefs } from "../plan/encode";
import { textToString } from "../plan/render";
import { missingSecrets } from "../plan/stack";
import type { StackPlan, Text } from "../plan/types";

export type SecretValues = ReadonlyMap<SecretName, pulumi.Output<string>>;

export function missingSecretsMessage(plan: StackPlan, missing: readonly string[]): string {
  return (
    `${plan.stackFile}: the stack needs these secrets, which the stack file does not have: ` +
    `${missing.map((m) => `llmstack:${m}`).join(", ")}. They open data that outlives the stack, so ` +
    `${plan.environment} keeps them in the stack file: run "npx llmstack secrets init --stack ${plan.stack}" once ` +
    `(it generates and stores them with "pulumi config set --secret"), then run pulumi up again.`
  );
}

/** The secrets whose values cannot go where the stack puts them; each problem names the key, never the value. */
export function secretValuesMessage(plan: StackPlan, problems: readonly string[]): string {
  return (
    `${plan.stackFile}: these secrets cannot be used where the stack puts them:\n` +
    problems.map((p) => `  - ${p}`).join("\n") +
    `\nStore a value without that for each, with "pulumi config set --secret --stack ${plan.stack} llmstack:<name>", ` +
    `then run pulumi up again.`
  );
}

export function resolveSecrets(
  plan: StackPlan,
  fromConfig: (name: string) => pulumi.Output<string>,
  parent: pulumi.Resource,
): SecretValues {
  const missing = missingSecrets(plan);
  if (missing.length > 0) throw new StackConfigError(missingSecretsMessage(plan, missing));
  const values = new Map<SecretName, pulumi.Output<string>>();
  for (const s of plan.secrets) {
    if (!s.present) continue;
    if (s.source === "config") {
      values.set(s.name, fromConfig(s.name));
      continue;
    }
    const generated = new random.RandomPassword(
      `${plan.stack}-${s.name}`,
      { length: 40, special: false },
      { parent, protect: false },
    ).result;
    // LiteLLM only accepts master keys that start with "sk-".
    values.set(s.name, s.name === "litellmMasterKey" ? pulumi.secret(pulumi.interpolate`sk-${generated}`) : generated);
  }
  return values;
}

/** Text → Output<string>, each secret encoded for its place by the render's `textToString`; secret when any part is. */
export function resolveText(text: Text, secrets: SecretValues): pulumi.Output<string> {
  const names = [...new Set(secretRefs(text).map((r) => r.secret))];
  if (names.length === 0) return pulumi.output(textToString(text, () => ""));
  const outputs = names.map((name) => {
    const v = secrets.get(name);
    if (v === undefined) throw new Error(`secret ${name} was referenced but not resolved`);
    return v;
  });
  return pulumi.secret(
    pulumi.all(outputs).apply((values) => textToString(text, (ref) => values[names.indexOf(ref.secret)]!)),
  );
}
