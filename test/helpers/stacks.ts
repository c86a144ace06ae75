import { parseStackConfig } from "../../src/config/parse";
import type { StackConfig } from "../../src/config/schema";
import { readStack } from "../../src/config/stackFile";
import { planStack } from "../../src/plan/stack";
import type { ContainerSpec, ServiceName, StackPlan } from "../../src/plan/types";
import { ROOT } from "./pulumiMocks";

export const STACKS = ["development", "staging", "production"] as const;

/** A checked-in stack's raw values, for tests that edit one key. */
export function rawValues(stack: string): Record<string, unknown> {
  return structuredClone(readStack(ROOT, stack).values);
}

export function planFromValues(
  values: Record<string, unknown>,
  stack = "production",
  secrets: ReadonlySet<string> = new Set(),
): StackPlan {
  const stackFile = `Pulumi.${stack}.yaml`;
  const config: StackConfig = parseStackConfig(values, stackFile);
  return planStack({ project: "llm-multimodal-stack", stack, stackFile, config, secretsPresent: secrets });
}

export function planOf(stack: string): StackPlan {
  return planFromValues(rawValues(stack), stack);
}

export function container(plan: StackPlan, service: ServiceName): ContainerSpec {
  const c = plan.containers.find((x) => x.service === service);
  if (!c) throw new Error(`plan has no ${service}`);
  return c;
}
