/**
 * A stack as the safety tests run it: a checked-in stack file, config overrides and the secrets the
 * stack file holds. Gives its plan (pure) and its stack outputs (the real entry point under mocks).
 */
import * as pulumi from "@pulumi/pulumi";
import { vi } from "vitest";
import type { StackPlan } from "../../src/plan/types";
import { configFor, mockResourceState } from "../helpers/pulumiMocks";
import { IDLE_REFERENCE_HOST_PROBE } from "../preflight/probeOutput";
import { planFromValues, rawValues } from "../helpers/stacks";
import { resolveOutput, settle } from "./walker";

export interface Scenario {
  readonly label: string;
  readonly stack: string;
  /** Pulumi config entries (`llmstack:gateway`) that replace the stack file's. */
  readonly overrides: Record<string, unknown>;
  /** Secrets the stack file holds (`postgresPassword` → value). */
  readonly secrets: Record<string, string>;
}

export function scenarioPlan(s: Scenario): StackPlan {
  const values = rawValues(s.stack);
  for (const [k, v] of Object.entries(s.overrides)) values[k.replace(/^llmstack:/, "")] = v;
  return planFromValues(values, s.stack, new Set(Object.keys(s.secrets)));
}

/**
 * Runs src/index.ts (the program Pulumi runs) under mocks and resolves each of its exports, so an output
 * added there is walked too. Secret outputs come back in the mock runtime's secret wrapper.
 */
export async function stackOutputs(s: Scenario): Promise<Record<string, unknown>> {
  pulumi.runtime.setMocks(
    {
      newResource: mockResourceState,
      call(args: pulumi.runtime.MockCallArgs) {
        if (args.token === "command:local:run") return { stdout: IDLE_REFERENCE_HOST_PROBE, stderr: "" };
        return args.inputs;
      },
    },
    "llm-multimodal-stack",
    s.stack,
    false,
  );
  const { config, secretKeys } = configFor(s.stack, s.overrides, s.secrets);
  pulumi.runtime.setAllConfig(config, secretKeys);
  vi.resetModules();
  const entry = (await import("../../src/index")) as Record<string, unknown>;
  const exported = Object.fromEntries(Object.entries(entry).filter(([k]) => k !== "default" && k !== "__esModule"));
  const resolved = (await resolveOutput(exported)) as Record<string, unknown>;
  await settle();
  return resolved;
}
