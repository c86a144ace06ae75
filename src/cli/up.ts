/**
 * `llmstack up --stack NAME [-- PULUMI_ARGS...]` (`npm run up -- --stack NAME`): checks the host with
 * `validate` first, and runs `pulumi up --stack NAME` only when no check fails.
 */
import { parseArgs } from "node:util";
import { requireStack } from "./args";
import { type CliIo } from "./io";
import { validateCommand } from "./validate";

export async function upCommand(argv: string[], io: CliIo): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    options: { stack: { type: "string" } },
    allowPositionals: true,
    strict: true,
  });
  requireStack(values.stack, "npm run up -- --stack production");
  const checked = await validateCommand(["--stack", values.stack], io);
  if (checked !== 0) {
    io.stderr(`up: the host failed a check above, so pulumi up was not run; fix it and run this again.\n`);
    return checked;
  }
  const r = await io.exec("pulumi", ["up", "--stack", values.stack, ...positionals], { cwd: io.cwd, passthrough: true });
  return r.code === 0 ? 0 : 1;
}
