/**
 * `llmstack`: the command table. Each command is a function (argv, io) → exit code in its own file.
 */
import { printable } from "../config/printable";
import { benchCommand } from "./bench";
import { processIo, UsageError, type CliIo } from "./io";
import { capacityCommand } from "./capacity";
import { planCommand } from "./plan";
import { validateCommand } from "./validate";
import { quickstartCommand } from "./quickstart";
import { secretsCommand } from "./secrets";
import { upCommand } from "./up";
import { configureGpuCommand } from "./configureGpu";
import { gpuCommand } from "./gpu";

export type Command = (argv: string[], io: CliIo) => Promise<number>;

interface CommandEntry {
  readonly summary: string;
  readonly run: Command;
}

const COMMANDS: Record<string, CommandEntry> = {
  bench: {
    summary:
      "measure the gateway: bench --stack NAME [--url URL] [--requests N] [--concurrency C] [--prompt-tokens P] [--output-tokens O] [--json] [--compare FILE]",
    run: (argv, io) => benchCommand(argv, io),
  },
  capacity: {
    summary: "will the model fit: capacity --model NAME|config.json --gpu NAME|MiB [--tp N] [--json]",
    run: capacityCommand,
  },
  "configure-gpu": {
    summary: "write the stack's GPU section from the host: configure-gpu [auto|multi|single|cpu] --stack NAME [--from-dir DIR] [--ssh HOST]",
    run: configureGpuCommand,
  },
  gpu: {
    summary: "show the host's GPUs, NVLink and layout: gpu detect [--topo F] [--query F] [--nvlink F] [--ssh HOST] [--json]",
    run: gpuCommand,
  },
  plan: {
    summary: "render a stack offline: plan --stack NAME [--json]",
    run: planCommand,
  },
  quickstart: {
    summary: "deploy a stack for this machine on local Docker with local state: quickstart [--dry-run]",
    run: quickstartCommand,
  },
  secrets: {
    summary: "generate and store the stack's credentials: secrets init --stack NAME",
    run: secretsCommand,
  },
  validate: {
    summary: "check the host against the stack: validate --stack NAME [--json]",
    run: validateCommand,
  },
  up: {
    summary: "validate the host, then pulumi up: up --stack NAME [-- PULUMI_ARGS]",
    run: upCommand,
  },
};

export function usage(): string {
  const lines = Object.entries(COMMANDS).map(([name, c]) => `  ${name.padEnd(15)} ${c.summary}`);
  return `usage: llmstack <command> [options]\n\ncommands:\n${lines.join("\n")}\n`;
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
  const entry = COMMANDS[name];
  if (entry === undefined) {
    io.stderr(`llmstack: unknown command "${name}"; commands are ${Object.keys(COMMANDS).join(", ")}\n`);
    return 1;
  }
  try {
    return await entry.run(rest, io);
  } catch (err) {
    io.stderr(`llmstack ${name}: ${errorMessage(err)}\n`);
    return 1;
  }
}

/** Errors the user can act on print as their message; anything else keeps its stack for a bug report. */
export function errorMessage(err: unknown): string {
  if (err instanceof UsageError) return err.message;
  if (err instanceof Error && err.name === "StackConfigError") return err.message;
  if (err instanceof Error && /^ERR_PARSE_ARGS/.test((err as NodeJS.ErrnoException).code ?? "")) {
    return `${err.message}; run "llmstack --help" for the options`;
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
