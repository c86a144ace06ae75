/**
 * `llmstack status --stack NAME [--json] [--watch [SECONDS]]`: each planned container's state, health,
 * restarts, uptime and whether it runs the plan's image; the GPU memory each process holds, by container;
 * the gateway's models and the time of one 1-token request. Exit 0 only when all is healthy and as planned.
 */
import { gatherStatus } from "../status/gather";
import { EXIT_DOWN, EXIT_DRIFT, exitCodeOf, problemsOf, statusJson, statusText } from "../status/report";
import { httpUrlArg, intArg, pathArg, requireStack } from "./args";
import { defineCommand, parseCommand } from "./command";
import type { CliIo } from "./io";
import { renderStack } from "./renderStack";

/** Seconds between rounds of --watch without a value. */
export const WATCH_SECONDS = 10;

export const statusCli = () =>
  defineCommand("status", {
    summary: "show each container's state, health, uptime and image against the plan, GPU memory and the gateway",
    usage: "--stack <name> [--json] [--watch [seconds]] [--gateway-url <url>] [--dir <dir>]",
    details:
      `Exit status: 0 when every container runs, is healthy and runs the plan's image; ${EXIT_DOWN} when one is ` +
      `missing, stopped or unhealthy, or the gateway fails; ${EXIT_DRIFT} when all run but an image drifted from the ` +
      "plan; 2 for a malformed command line. Each problem line ends with the command that fixes it. The gateway " +
      "is asked with the key in LITELLM_MASTER_KEY; without it, that part is skipped. A gateway on the loopback of an " +
      "ssh:// or remote tcp:// host is reached through a tunnel: open it and pass its URL with --gateway-url.",
    examples: [
      "llmstack status --stack production",
      "llmstack status --stack production --json",
      "llmstack status --stack staging --watch 30",
      "llmstack status --stack development --gateway-url http://127.0.0.1:4000",
    ],
  })
    .option("--stack <name>", "the stack whose containers to show (required)")
    .option("--json", "print the status as JSON")
    .option("--watch [seconds]", `show it again every so many seconds until interrupted (default ${WATCH_SECONDS})`)
    .option("--gateway-url <url>", "the gateway's base URL as this machine reaches it, e.g. through an ssh tunnel (default: the stack's)")
    .option("--dir <dir>", "the project directory (default: the current one)");

export interface StatusClock {
  /** Milliseconds since the epoch. */
  readonly now: () => number;
  /** Waits between --watch rounds; resolves false to stop watching. */
  readonly sleep: (ms: number) => Promise<boolean>;
}

const realClock: StatusClock = {
  now: () => Date.now(),
  sleep: (ms) => new Promise((resolve) => setTimeout(() => resolve(true), ms)),
};

export async function statusCommand(argv: string[], io: CliIo, clock: StatusClock = realClock): Promise<number> {
  const { opts } = parseCommand<{ stack?: string; json?: boolean; watch?: string | true; gatewayUrl?: string; dir?: string }>(statusCli, argv, io);
  requireStack(opts.stack, "llmstack status --stack production");
  const watch = opts.watch === undefined ? undefined : opts.watch === true ? WATCH_SECONDS : intArg("watch", opts.watch, WATCH_SECONDS, 1, 86_400);
  const gatewayUrl = httpUrlArg("gateway-url", opts.gatewayUrl);
  const plan = renderStack(pathArg("dir", opts.dir, io.cwd, "directory") ?? io.cwd, opts.stack);
  const apiKey = io.env.LITELLM_MASTER_KEY;
  const deps = {
    exec: io.exec,
    now: clock.now,
    ...(io.fetch ? { fetch: io.fetch } : {}),
    ...(apiKey ? { apiKey } : {}),
    ...(gatewayUrl ? { gatewayUrl } : {}),
  };
  for (;;) {
    const status = await gatherStatus(plan, deps);
    const code = exitCodeOf(problemsOf(status));
    if (opts.json) io.stdout(`${JSON.stringify(statusJson(status), null, watch === undefined ? 2 : undefined)}\n`);
    else io.stdout(`${watch === undefined ? "" : `${new Date(status.at).toISOString()}\n`}${statusText(status)}`);
    if (watch === undefined || !(await clock.sleep(watch * 1000))) return code;
    if (!opts.json) io.stdout("\n");
  }
}
