import { parseStackConfig } from "../../src/config/parse";
import type { StackConfig } from "../../src/config/schema";
import { readStack } from "../../src/config/stackFile";
import { planStack } from "../../src/plan/stack";
import type { ContainerSpec, ServiceName, StackPlan } from "../../src/plan/types";
import { ROOT } from "./root";

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

/**
 * Images for your own multimodal worker and retrieval proxy, as a stack that runs them sets them. Test values:
 * no such image is published (the checked-in stacks set none, so neither service runs there).
 */
export const APP_IMAGES = {
  multimodalWorker: "registry.example.com/acme/multimodal-worker:1.0.0",
  retrievalProxy: "registry.example.com/acme/retrieval-proxy:1.0.0",
} as const;

/** Sets your application images on raw stack values (in place), so the worker and retrieval proxy run. */
export function withAppImages(values: Record<string, unknown>): Record<string, unknown> {
  values.images = { ...(values.images as object), ...APP_IMAGES };
  return values;
}

export function planOf(stack: string): StackPlan {
  return planFromValues(rawValues(stack), stack);
}

export function container(plan: StackPlan, service: ServiceName): ContainerSpec {
  const c = plan.containers.find((x) => x.service === service);
  if (!c) throw new Error(`plan has no ${service}`);
  return c;
}
