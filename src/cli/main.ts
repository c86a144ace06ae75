/**
 * `llmstack`: the command table. Each command is a function (argv, io) → exit code in its own file.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { ArgumentError, EXIT_USAGE } from "./args";
import { printable } from "../config/printable";
import { benchCommand } from "./bench";
import { commandHelp, HELP } from "./help";
import { processIo, UsageError, type CliIo } from "./io";
import { capacityCommand } from "./capacity";
import { planCommand } from "./plan";
import { validateCommand } from "./validate";
import { quickstartCommand } from "./quickstart";
import { secretsCommand } from "./secrets";
import { upCommand } from "./up";
import { configureGpuCommand } from "./configureGpu";
import { gpuCommand } from "./gpu";
import { imagesCommand } from "./images";

export type Command = (argv: string[], io: CliIo) => Promise<number>;

interface CommandEntry {
  readonly summary: string;
  readonly run: Command;
}

const RUN: Record<string, Command> = {
  bench: (argv, io) => benchCommand(argv, io),
  capacity: capacityCommand,
  "configure-gpu": configureGpuCommand,
  gpu: gpuCommand,
  images: (argv, io) => imagesCommand(argv, io),
  plan: planCommand,
  quickstart: quickstartCommand,
  secrets: secretsCommand,
  validate: validateCommand,
  up: upCommand,
};

const COMMANDS: Record<string, CommandEntry> = Object.fromEntries(
  Object.entries(RUN).map(([name, run]) => [name, { summary: HELP[name]!.summary, run }]),
);

/** The package's version, as `llmstack --version` prints it. */
export function version(): string {
  return (JSON.parse(readFileSync(join(__dirname, "..", "..", "package.json"), "utf8")) as { version: string }).version;
}

export function usage(): string {
  const lines = Object.entries(COMMANDS).map(([name, c]) => `  ${name.padEnd(15)} ${c.summary}`);
  return (
    `usage: llmstack <command> [options]\n\ncommands:\n${lines.join("\n")}\n\n` +
    `"llmstack <command> --help" shows a command's options and examples; "llmstack --version" the version.\n`
  );
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
  if (name === undefined || name === "--help" || name === "-h" || name === "help") {
    io.stdout(usage());
    return name === undefined ? 1 : 0;
  }
  if (name === "--version" || name === "-V") {
    io.stdout(`llmstack ${version()}\n`);
    return 0;
  }
  const entry = COMMANDS[name];
  if (entry === undefined) {
    io.stderr(`llmstack: unknown command "${name}"; commands are ${Object.keys(COMMANDS).join(", ")}; run "llmstack --help"\n`);
    return 1;
  }
  // Options end at "--" (`up` passes what follows to pulumi).
  const own = rest.includes("--") ? rest.slice(0, rest.indexOf("--")) : rest;
  if (own.includes("--help") || own.includes("-h")) {
    const help = HELP[name];
    io.stdout(help ? commandHelp(name, help) : `usage: llmstack ${name}\n`);
    return 0;
  }
  try {
    return await entry.run(rest, io);
  } catch (err) {
    io.stderr(`llmstack ${name}: ${printable(errorMessage(err, name))}\n`);
    return isArgumentError(err) ? usageExitCode(name) : 1;
  }
}

/**
 * The exit code of a malformed command line: 2, except for `plan`, whose 2 means "the plan changes"
 * (`plan --diff`, which CI reads); its errors, the command line's included, exit 1.
 */
export function usageExitCode(command: string): number {
  return command === "plan" ? 1 : EXIT_USAGE;
}

/** A malformed command line (an unknown flag, a value a flag cannot take): exit 2, like getopt tools. */
function isArgumentError(err: unknown): boolean {
  return err instanceof ArgumentError || (err instanceof Error && /^ERR_PARSE_ARGS/.test((err as NodeJS.ErrnoException).code ?? ""));
}

/** Errors the user can act on print as their message; anything else keeps its stack for a bug report. */
export function errorMessage(err: unknown, command = "<command>"): string {
  if (err instanceof UsageError) return err.message;
  if (err instanceof Error && err.name === "StackConfigError") return err.message;
  if (err instanceof Error && /^ERR_PARSE_ARGS/.test((err as NodeJS.ErrnoException).code ?? "")) {
    return `${err.message}; run "llmstack ${command} --help" for the options`;
  }
  if (err instanceof Error) return err.message;
  return String(err);
}

export function addCommand(name: string, entry: CommandEntry): void {
  COMMANDS[name] = entry;
}

export function runFromProcess(): void {
  main(process.argv.slice(2), processIo()).then(
    (code) => {
      process.exitCode = code;
    },
    (err: unknown) => {
      process.stderr.write(`llmstack: ${printable(errorMessage(err))}\n`);
      process.exitCode = 1;
    },
  );
}
