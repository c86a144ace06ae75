/**
 * A stack's plan from its files alone (Pulumi.yaml and Pulumi.<stack>.yaml in `dir`): no Pulumi CLI,
 * backend or Docker. Shared by `plan`, `plan --diff` and the other commands that show or act on a plan.
 */
import { parseStackConfig } from "../config/parse";
import { readStack } from "../config/stackFile";
import { planStack } from "../plan/stack";
import type { StackPlan } from "../plan/types";

export function renderStack(dir: string, stack: string): StackPlan {
  const raw = readStack(dir, stack);
  const config = parseStackConfig(raw.values, raw.stackFile);
  return planStack({
    project: raw.project,
    stack: raw.stack,
    stackFile: raw.stackFile,
    config,
    secretsPresent: raw.secretsPresent,
  });
}
