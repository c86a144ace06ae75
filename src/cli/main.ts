/**
 * `llmstack`: the command table. Each command is a function (argv, io) → exit code in its own file, with
 * its commander definition (options, help, examples) beside it; `llmstack --help` lists them.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { Command } from "commander";
import { printable } from "../config/printable";
import { ArgumentError, EXIT_USAGE } from "./args";
import { backupCli, backupCommand } from "./backup";
import { benchCli, benchCommand } from "./bench";
import { capacityCli, capacityCommand } from "./capacity";
import { attach, CommanderError, commanderMessage, isHelpShown } from "./command";
import { configureGpuCli, configureGpuCommand } from "./configureGpu";
import { errorText } from "./fixes";
import { gpuCli, gpuCommand } from "./gpu";
import { imagesCli, imagesCommand } from "./images";
import { processIo, type CliIo } from "./io";
import { planCli, planCommand } from "./plan";
import { LOCAL_STACK, quickstartCli, quickstartCommand } from "./quickstart";
import { restoreCli, restoreCommand } from "./restore";
import { rollbackCli, rollbackCommand } from "./rollback";
import { secretsCli, secretsCommand } from "./secrets";
import { statusCli, statusCommand } from "./status";
import { upCli, upCommand } from "./up";
import { validateCli, validateCommand } from "./validate";

interface CommandEntry {
  /** The command's definition: options, arguments, help and examples. */
  readonly define: () => Command;
  readonly run: (argv: string[], io: CliIo) => Promise<number>;
  /** The stack a command acts on without --stack, for the fix an error names. */
  readonly stack?: string;
}

const COMMANDS: Readonly<Record<string, CommandEntry>> = {
  backup: { define: backupCli, run: backupCommand },
  bench: { define: benchCli, run: (argv, io) => benchCommand(argv, io) },
  capacity: { define: capacityCli, run: capacityCommand },
  "configure-gpu": { define: configureGpuCli, run: (argv, io) => configureGpuCommand(argv, io) },
  gpu: { define: gpuCli, run: gpuCommand },
  images: { define: imagesCli, run: (argv, io) => imagesCommand(argv, io) },
  plan: { define: planCli, run: planCommand },
  quickstart: { define: quickstartCli, run: quickstartCommand, stack: LOCAL_STACK },
  restore: { define: restoreCli, run: restoreCommand },
  rollback: { define: rollbackCli, run: (argv, io) => rollbackCommand(argv, io) },
  secrets: { define: secretsCli, run: (argv, io) => secretsCommand(argv, io) },
  status: { define: statusCli, run: (argv, io) => statusCommand(argv, io) },
  validate: { define: validateCli, run: validateCommand },
  up: { define: upCli, run: upCommand },
};

/** The package's version, as `llmstack --version` prints it (from src/cli or dist/cli alike). */
export function version(): string {
  return (JSON.parse(readFileSync(join(__dirname, "..", "..", "package.json"), "utf8")) as { version: string }).version;
}

/** `llmstack` itself: the command list, --help, --version and `help <command>`. */
export function program(io: CliIo): Command {
  const root = attach(
    new Command("llmstack")
      .description("Put the LLM serving stack on a Docker host, and check, plan and measure it.")
      .usage("<command> [options]")
      .version(`llmstack ${version()}`, "-V, --version", "print the version")
      .helpOption("-h, --help", "show this help")
      .helpCommand("help [command]", "show a command's help")
      .addHelpText(
        "after",
        '\nRun "llmstack <command> --help" for a command\'s options and examples.\n' +
          "Exit status: 0 on success, 1 on failure, 2 for a malformed command line (plan: 1, as its 2 means " +
'"the plan changes"; status: 3 when an image drifted from the plan).',
      ),
    io,
  );
  for (const entry of Object.values(COMMANDS)) root.addCommand(attach(entry.define(), io));
  return root;
}

/**
 * What a command prints passes through `printable`: captures, stack files and host output can hold terminal
 * escape codes. A write that starts with a carriage return (a progress line redrawn in place) keeps it.
 */
export function terminalSafe(io: CliIo): CliIo {
  const safe = (write: (t: string) => void) => (t: string) =>
    write(t.startsWith("\r") ? `\r${printable(t.slice(1))}` : printable(t));
  return { ...io, stdout: safe(io.stdout), stderr: safe(io.stderr) };
}

export async function main(argv: string[], rawIo: CliIo): Promise<number> {
  const io = terminalSafe(rawIo);
  const [name, ...rest] = argv;
  const entry = name !== undefined && Object.hasOwn(COMMANDS, name) ? COMMANDS[name] : undefined;
  if (name === undefined || entry === undefined) return root(argv, io);
  try {
    return await entry.run(rest, io);
  } catch (err) {
    if (isHelpShown(err)) return 0;
    const usage = err instanceof CommanderError || err instanceof ArgumentError;
    io.stderr(`llmstack ${name}: ${printable(errorText(err, { command: name, argv: rest, define: entry.define, stack: entry.stack, cwd: io.cwd }))}\n`);
    return usage ? usageExitCode(name) : 1;
  }
}

/** No command, or one llmstack does not have: commander prints the help, the version or the error. */
function root(argv: string[], io: CliIo): number {
  try {
    program(io).parse(argv, { from: "user" });
    return 0;
  } catch (err) {
    if (isHelpShown(err)) return 0;
    if (!(err instanceof CommanderError)) throw err;
    // No command at all: commander printed the help to stderr.
    if (err.code === "commander.help") return 1;
    const names = err.code === "commander.unknownCommand" ? `; the commands are ${Object.keys(COMMANDS).join(", ")}` : "";
    io.stderr(`llmstack: ${printable(commanderMessage(err))}${names}; run "llmstack --help"\n`);
    return 1;
  }
}

/**
 * The exit code of a malformed command line: 2, except for `plan`, whose 2 means "the plan changes"
 * (`plan --diff`, which CI reads); its errors, the command line's included, exit 1.
 */
export function usageExitCode(command: string): number {
  return command === "plan" ? 1 : EXIT_USAGE;
}

export function runFromProcess(): void {
  main(process.argv.slice(2), processIo()).then(
    (code) => {
      process.exitCode = code;
    },
    (err: unknown) => {
      process.stderr.write(`llmstack: ${printable(err instanceof Error ? err.message : String(err))}\n`);
      process.exitCode = 1;
    },
  );
}
