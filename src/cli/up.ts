/**
 * `llmstack up --stack NAME [-- PULUMI_ARGS...]` (`npm run up -- --stack NAME`): checks the host with
 * `validate` first, and runs `pulumi up --stack NAME` only when no check fails. Staging and production
 * stop before that while an image has no digest.
 */
import { parseArgs } from "node:util";
import { unpinnedImages, unpinnedImagesMessage } from "../plan/digests";
import { requireStack } from "./args";
import { type CliIo } from "./io";
import { callingPulumi, locatePulumi, missingPulumi } from "./pulumiCli";
import { renderStack } from "./renderStack";
import { validateCommand } from "./validate";

export async function upCommand(argv: string[], io: CliIo): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    options: { stack: { type: "string" } },
    allowPositionals: true,
    strict: true,
  });
  requireStack(values.stack, "npm run up -- --stack production");
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
    io.stderr(`up: the host failed a check above, so pulumi up was not run; fix it and run this again.\n`);
    return checked;
  }
  if (pulumi === null) {
    io.stderr(`up: ${missingPulumi()}\n`);
    return 1;
  }
  const r = await pio.exec("pulumi", ["up", "--stack", values.stack, ...positionals], { cwd: io.cwd, passthrough: true });
  return r.code === 0 ? 0 : 1;
}
