/**
 * `llmstack validate --stack NAME [--json]`: checks the stack's Docker host against the stack file and
 * prints one line per check (pass / warn / fail, what was found, the fix). Exit code 0 only when nothing fails.
 */
import { parseArgs } from "node:util";
import { parseStackConfig } from "../config/parse";
import { readStack } from "../config/stackFile";
import { planStack } from "../plan/stack";
import { stackNeeds } from "../preflight/needs";
import { failed, formatResults, runPreflight } from "../preflight/run";
import { pathArg, requireStack } from "./args";
import { type CliIo } from "./io";
import { modelOf } from "./renderStack";

export async function validateCommand(argv: string[], io: CliIo): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: {
      stack: { type: "string" },
      json: { type: "boolean", default: false },
      dir: { type: "string" },
    },
    strict: true,
  });
  requireStack(values.stack, "llmstack validate --stack production");
  const raw = readStack(pathArg("dir", values.dir, io.cwd, "directory") ?? io.cwd, values.stack);
  const config = parseStackConfig(raw.values, raw.stackFile);
  const model = await modelOf(config, io);
  const plan = planStack({ project: raw.project, stack: raw.stack, stackFile: raw.stackFile, config, secretsPresent: raw.secretsPresent, model });
  const needs = stackNeeds(config, plan);
  const results = await runPreflight(needs, io.exec, io.env);
  const bad = failed(results);
  if (values.json) {
    io.stdout(`${JSON.stringify({ stack: raw.stack, dockerHost: needs.dockerHost, ok: bad.length === 0, checks: results }, null, 2)}\n`);
  } else {
    io.stdout(`${formatResults(results)}\n`);
    io.stdout(
      bad.length === 0
        ? `${raw.stackFile}: the host can run this stack (${results.length} checks, none failed)\n`
        : `${raw.stackFile}: ${bad.length} check(s) failed: ${bad.map((b) => b.check).join(", ")}\n`,
    );
  }
  return bad.length === 0 ? 0 : 1;
}
