/**
 * The command line's shape comes from commander (v14: the line that still runs on Node 20; v15 needs
 * Node 22). Each command defines its options and arguments, with their help and examples, in its own
 * file (`defineCommand`), and reads its argv with that definition (`parseCommand`): `--help` prints
 * commander's help for it, and a malformed command line (an unknown option, a missing value, an extra
 * argument) is a CommanderError that main prints as one line. Values are read as strings here and
 * checked by the strict readers of ./args.ts, which say what a flag allows.
 */
import { join } from "node:path";
import { Command, CommanderError } from "commander";
import { shellWord } from "../config/shell";
import type { CliIo } from "./io";

/** This program's own project directory (from src/cli and dist/cli alike): its Pulumi.yaml, package.json. */
export const PROGRAM_ROOT = join(__dirname, "..", "..");

/** The width help text wraps at when the output is not a terminal (the project's line width). */
export const HELP_WIDTH = 100;

export interface CommandText {
  /** One line: what the command is for; `llmstack --help` lists it. */
  readonly summary: string;
  /** What follows `llmstack <command>` in the usage line; default "[options]". */
  readonly usage?: string;
  /** Paragraphs after the summary: what the exit codes mean, what runs where. */
  readonly details?: string;
  /** Command lines to copy, shown under "Examples:". */
  readonly examples: readonly string[];
}

/** A command's definition: `.option()` and `.argument()` calls follow, each with its help. */
export function defineCommand(name: string, text: CommandText): Command {
  const cmd = new Command(name)
    .summary(text.summary)
    .description(text.details === undefined ? text.summary : `${text.summary}\n\n${text.details}`)
    .helpOption("-h, --help", "show this help")
    .addHelpText("after", `\nExamples:\n${text.examples.map((e) => `  ${e}`).join("\n")}`);
  if (text.usage !== undefined) cmd.usage(text.usage);
  return cmd;
}

/**
 * Output through the CLI's io (never the process's streams), no colour, errors thrown rather than the
 * process exited: main decides what is printed and the exit code.
 */
export function attach(cmd: Command, io: CliIo): Command {
  return cmd.exitOverride().configureOutput({
    writeOut: (t) => io.stdout(t),
    writeErr: (t) => io.stderr(t),
    outputError: () => undefined,
    getOutHelpWidth: () => io.columns ?? HELP_WIDTH,
    getErrHelpWidth: () => io.columns ?? HELP_WIDTH,
    getOutHasColors: () => false,
    getErrHasColors: () => false,
  });
}

export interface Parsed<O> {
  /** Option values by commander's names: `--dry-run` → `dryRun`; absent flags are undefined. */
  readonly opts: O;
  /** The arguments that are not options, those after "--" included. */
  readonly args: string[];
}

/**
 * Reads `argv` (what follows `llmstack <command>`) with the command's definition. `--help` prints the
 * help and throws a CommanderError with exit code 0; a malformed command line throws one with its code.
 */
export function parseCommand<O>(define: () => Command, argv: readonly string[], io: CliIo): Parsed<O> {
  const cmd = attach(define(), io);
  // Under a parent named llmstack, so the usage line reads "llmstack <command> ...".
  new Command("llmstack").addCommand(cmd);
  cmd.parse([...argv], { from: "user" });
  return { opts: cmd.opts<O & Record<string, unknown>>(), args: [...cmd.args] };
}

/** commander's message as one line: no "error: " prefix, its suggestion kept, no closing period. */
export function commanderMessage(err: CommanderError): string {
  return err.message
    .replace(/^error: /, "")
    .replace(/\n\(Did you mean (.*)\?\)$/s, " (did you mean $1?)")
    .replace(/\.$/, "")
    .replace(/\s*\n\s*/g, " ");
}

/** Help or the version was printed: not an error. */
export function isHelpShown(err: unknown): boolean {
  return err instanceof CommanderError && err.exitCode === 0;
}

/**
 * A command line to print as a fix: words a shell would split or expand are single-quoted, so it can
 * be copied as it is; a placeholder for the reader to fill in (`<name>`) is left as it is.
 */
export function commandLine(...words: readonly string[]): string {
  return words.map((w) => (/^<[\w ,./-]+>$/.test(w) ? w : shellWord(w))).join(" ");
}

/**
 * `argv` (what follows `llmstack <command>`) with options changed, as a command line to run again: each
 * option in `changes` gets the new value in its place (`--util 0.6` or `--util=0.6`), is dropped (null), or
 * is added at the end when argv lacks it. Keys are long option names without the dashes ("max-model-len").
 * What follows "--" stays as it is.
 */
export function withOptions(define: () => Command, argv: readonly string[], changes: Readonly<Record<string, string | null>>): string[] {
  const takesValue = new Set(define().options.filter((o) => o.required || o.optional).map((o) => o.long));
  const out: string[] = [];
  const done = new Set<string>();
  let i = 0;
  for (; i < argv.length && argv[i] !== "--"; i++) {
    const token = argv[i]!;
    const eq = token.indexOf("=");
    const flag = token.startsWith("--") ? (eq < 0 ? token : token.slice(0, eq)) : null;
    const name = flag?.slice(2);
    const valueFollows = flag !== null && eq < 0 && takesValue.has(flag);
    if (name === undefined || !Object.hasOwn(changes, name)) {
      out.push(token);
      continue;
    }
    if (valueFollows) i++;
    const value = changes[name];
    // An option given twice (commander keeps the last) is written once.
    if (value !== null && value !== undefined && !done.has(name)) out.push(flag!, value);
    done.add(name);
  }
  for (const [name, value] of Object.entries(changes)) {
    if (!done.has(name) && value !== null) out.push(`--${name}`, value);
  }
  return [...out, ...argv.slice(i)];
}

export { CommanderError };
