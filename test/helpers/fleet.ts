/** The example fleet (examples/fleet/Pulumi.fleet.yaml): its directory, raw values and plan. */
import { join } from "node:path";
import { parseStackConfig } from "../../src/config/parse";
import { readStack } from "../../src/config/stackFile";
import { planStack } from "../../src/plan/stack";
import type { StackPlan } from "../../src/plan/types";
import { ROOT } from "./root";

export const FLEET_DIR = join(ROOT, "examples", "fleet");
export const FLEET_FILE = "Pulumi.fleet.yaml";

/** The example fleet's raw values (a fresh copy, for tests that edit one key). */
export function fleetValues(): Record<string, any> {
  return structuredClone(readStack(FLEET_DIR, "fleet").values) as Record<string, any>;
}

/** The plan of fleet values (the example's unless given), with the given secrets present. */
export function fleetPlan(values: Record<string, unknown> = fleetValues(), secrets: ReadonlySet<string> = new Set()): StackPlan {
  const config = parseStackConfig(values, FLEET_FILE);
  return planStack({ project: "llm-multimodal-stack", stack: "fleet", stackFile: FLEET_FILE, config, secretsPresent: secrets });
}
