/**
 * `llmstack up --stack NAME [-- PULUMI_ARGS...]` (`npm run up -- --stack NAME`): checks the host with
 * `validate` first, and runs `pulumi up --stack NAME` only when no check fails. Staging and production
 * stop before that while an image has no digest.
 */
import { unpinnedImages, unpinnedImagesMessage } from "../plan/digests";
import { parseStackConfig } from "../config/parse";
import { isBlueGreen } from "../config/rolloutSchema";
import { readStack } from "../config/stackFile";
import { LAST_GOOD_ENV, REVISION_ENV } from "../plan/lastGood";
import { requireStack } from "./args";
import { defineCommand, parseCommand } from "./command";
import { type CliIo } from "./io";
import { readLastGood, stackFileRevision } from "./lastGood";
import { callingPulumi, locatePulumi, missingPulumi } from "./pulumiCli";
import { renderStack } from "./renderStack";
import { validateCommand } from "./validate";
import { replacedVllmFailure } from "./vllmFailure";

export const upCli = () =>
  defineCommand("up", {
    summary: "validate the host, then run pulumi up when no check fails",
    usage: "--stack <name> [-- <pulumi-args>...]",
    details: "Exit status: 0 when pulumi up succeeds, 1 when a check or pulumi up fails, 2 for a malformed command line.",
    examples: ["llmstack up --stack production", "llmstack up --stack staging -- --yes"],
  })
    .option("--stack <name>", "the stack to deploy (required)")
    .argument("[pulumi-args...]", 'passed to pulumi up as they are; put them after "--"');

export async function upCommand(argv: string[], io: CliIo): Promise<number> {
  const { opts: values, args: positionals } = parseCommand<{ stack?: string }>(upCli, argv, io);
  requireStack(values.stack, "llmstack up --stack production");
  // Refused before the host is contacted, as pulumi up itself would refuse it (src/deploy/program.ts).
  const plan = renderStack(io.cwd, values.stack);
  const unpinned = unpinnedImages(plan);
  if (unpinned.length > 0) {
    io.stderr(`up: ${unpinnedImagesMessage(plan, unpinned)}\n`);
    return 1;
  }
  // The CLI on PATH, else the one quickstart installed: validate checks it and pulumi up runs it.
  const pulumi = await locatePulumi(io);
  const pio = pulumi === null ? io : callingPulumi(io, pulumi);
  const checked = await validateCommand(["--stack", values.stack], pio);
  if (checked !== 0) {
    io.stderr(`up: the host failed a check above, so pulumi up was not run; fix it as its line says; run "llmstack up --stack ${values.stack}"\n`);
    return checked;
  }
  if (pulumi === null) {
    io.stderr(`up: ${missingPulumi()}\n`);
    return 1;
  }
  // Where the config comes from (the stack file's hash, its commit), for the record of a good update.
  const revision = JSON.stringify(await stackFileRevision(io, values.stack));
  const r = await pio.exec("pulumi", ["up", "--stack", values.stack, ...positionals], {
    cwd: io.cwd,
    passthrough: true,
    env: { ...io.env, [REVISION_ENV]: revision, ...(await lastGoodEnv(pio, values.stack)) },
  });
  if (r.code !== 0) {
    const vllm = await replacedVllmFailure(pio, plan);
    if (vllm !== null) {
      io.stderr(`up: ${vllm}\n`);
      return 1;
    }
    // Pulumi printed why; what it created stays in the stack's state, so up again goes on from there.
    io.stderr(`up: pulumi up --stack ${values.stack} failed (exit ${r.code}); fix what its output above says; run "llmstack up --stack ${values.stack}"\n`);
    return 1;
  }
  return 0;
}

/**
 * A blue-green rollout checks the new vLLM against the running one: the program gets the stack's last
 * good record ("none" before the first good update). Other stacks get nothing.
 */
export async function lastGoodEnv(io: CliIo, stack: string): Promise<Record<string, string>> {
  const raw = readStack(io.cwd, stack);
  if (!isBlueGreen(parseStackConfig(raw.values, raw.stackFile))) return {};
  const record = await readLastGood(io, stack);
  return { [LAST_GOOD_ENV]: record === null ? "none" : JSON.stringify(record) };
}
