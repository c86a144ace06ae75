/**
 * A stack's plan from its files alone (Pulumi.yaml and Pulumi.<stack>.yaml in `dir`): no Pulumi CLI,
 * backend or Docker. Shared by `plan`, `plan --diff` and the other commands that show or act on a plan.
 */
import type { ModelLookup } from "../capacity";
import { parseStackConfig } from "../config/parse";
import type { StackConfig } from "../config/schema";
import { readStack } from "../config/stackFile";
import { resolveModel } from "../hub";
import { planStack } from "../plan/stack";
import type { StackPlan } from "../plan/types";
import type { CliIo } from "./io";

function read(dir: string, stack: string): { raw: ReturnType<typeof readStack>; config: StackConfig } {
  const raw = readStack(dir, stack);
  return { raw, config: parseStackConfig(raw.values, raw.stackFile) };
}

function render({ raw, config }: ReturnType<typeof read>, model?: ModelLookup): StackPlan {
  return planStack({
    project: raw.project,
    stack: raw.stack,
    stackFile: raw.stackFile,
    config,
    secretsPresent: raw.secretsPresent,
    ...(model !== undefined ? { model } : {}),
  });
}

/** The plan, its model's facts from the built-in catalog: nothing is read but the stack files. */
export function renderStack(dir: string, stack: string): StackPlan {
  return render(read(dir, stack));
}

/**
 * The plan, its model's facts from the Hugging Face cache, then the Hub, then the catalog (`plan`). The
 * stack file is read and checked first, so a bad one fails before anything goes to the network.
 */
export async function renderStackResolved(dir: string, stack: string, io: CliIo): Promise<StackPlan> {
  const stackFiles = read(dir, stack);
  return render(stackFiles, await modelOf(stackFiles.config, io));
}

/** The stack's model (model.name at model.revision): the Hugging Face cache, then the Hub, then the catalog. */
export function modelOf(config: StackConfig, io: CliIo): Promise<ModelLookup> {
  const { name, revision } = config.model;
  return resolveModel({ name, ...(revision !== undefined ? { revision } : {}) }, { env: io.env, fetch: io.fetch });
}
