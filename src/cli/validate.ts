/**
 * `llmstack validate --stack NAME [--json]`: checks the stack's Docker host against the stack file and
 * prints one line per check (pass / warn / fail, what was found, the fix). On a stack with hosts it checks
 * every host, each replica's GPUs and port, and that the gateway host reaches every replica, grouped per
 * host (src/preflight/fleetRun.ts). Exit code 0 only when nothing fails.
 */
import { parseStackConfig } from "../config/parse";
import { readStack } from "../config/stackFile";
import { planStack } from "../plan/stack";
import { fleetNeeds, type FleetNeeds } from "../preflight/fleetNeeds";
import { formatFleetResults, runFleetPreflight } from "../preflight/fleetRun";
import { stackNeeds } from "../preflight/needs";
import { failed, formatResults, runPreflight } from "../preflight/run";
import { pathArg, requireStack } from "./args";
import { defineCommand, parseCommand } from "./command";
import { type CliIo } from "./io";
import { modelOf } from "./renderStack";

export const validateCli = () =>
  defineCommand("validate", {
    summary: "check the stack's Docker host against the stack file; exit 0 only when no check fails",
    usage: "--stack <name> [--json] [--dir <dir>]",
    details:
      "A stack with llmstack:hosts gets every host checked, each replica's GPUs and port, and the gateway host's " +
      "connection to each replica, grouped per host (docs/fleet.md).\n" +
      "Exit status: 0 when no check fails, 1 when one does, 2 for a malformed command line.",
    examples: [
      "llmstack validate --stack production",
      "llmstack validate --stack staging --json",
      "llmstack validate --stack fleet --dir examples/fleet",
    ],
  })
    .option("--stack <name>", "the stack whose host to check (required)")
    .option("--json", "print the checks as JSON")
    .option("--dir <dir>", "the project directory (default: the current one)");

export async function validateCommand(argv: string[], io: CliIo): Promise<number> {
  const { opts: values } = parseCommand<{ stack?: string; json?: boolean; dir?: string }>(validateCli, argv, io);
  requireStack(values.stack, "llmstack validate --stack production");
  const raw = readStack(pathArg("dir", values.dir, io.cwd, "directory") ?? io.cwd, values.stack);
  const config = parseStackConfig(raw.values, raw.stackFile);
  const model = await modelOf(config, io);
  const plan = planStack({ project: raw.project, stack: raw.stack, stackFile: raw.stackFile, config, secretsPresent: raw.secretsPresent, model });
  if (plan.hosts !== undefined) return validateFleet(fleetNeeds(config, plan), raw.stack, values.json === true, io);
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
        : `${raw.stackFile}: ${bad.length} check(s) failed: ${bad.map((b) => b.check).join(", ")}; fix each as its ` +
            `line says; run "llmstack validate --stack ${raw.stack}"\n`,
    );
  }
  return bad.length === 0 ? 0 : 1;
}

/** A stack with hosts: every host's checks, each replica's, grouped per host. */
async function validateFleet(needs: FleetNeeds, stack: string, json: boolean, io: CliIo): Promise<number> {
  const groups = await runFleetPreflight(needs, io.exec, io.env);
  const bad = groups.flatMap((g) => failed(g.results).map((r) => (g.host === null ? r.check : `${g.host} ${r.check}`)));
  const count = groups.reduce((n, g) => n + g.results.length, 0);
  if (json) {
    const hosts = groups.filter((g) => g.host !== null).map((g) => ({ name: g.host, endpoint: g.endpoint, roles: g.roles, checks: g.results }));
    const local = groups.filter((g) => g.host === null).flatMap((g) => g.results);
    io.stdout(`${JSON.stringify({ stack, ok: bad.length === 0, hosts, checks: local }, null, 2)}\n`);
  } else {
    io.stdout(`${formatFleetResults(groups)}\n`);
    io.stdout(
      bad.length === 0
        ? `${needs.stackFile}: the hosts can run this stack (${count} checks on ${needs.hosts.length} hosts, none failed)\n`
        : `${needs.stackFile}: ${bad.length} check(s) failed: ${bad.join(", ")}; fix each as its line says; run ` +
            `"llmstack validate --stack ${stack}"\n`,
    );
  }
  return bad.length === 0 ? 0 : 1;
}
