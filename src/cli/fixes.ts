/**
 * Every error the command line prints ends with the command that fixes it: `<message>; run "<command>"`.
 * A command's own errors carry their fix (UsageError's `fix`); a malformed command line points at the
 * command's --help; errors from the core are mapped here by their kind, with the stack the command line
 * named. A message that already ends with its command (`run "..."`) is printed as it is.
 */
import type { Command } from "commander";
import { StackConfigError } from "../config/errors";
import { STACK_NAME, stackFileName } from "../config/stackFile";
import { LayoutError } from "../gpu/layout";
import { ArgumentError } from "./args";
import { CommanderError, commanderMessage, commandLine } from "./command";
import { UsageError } from "./io";

export interface ErrorContext {
  /** The command that failed: `plan`, `configure-gpu`, ... */
  readonly command: string;
  /** Its arguments, as given. */
  readonly argv: readonly string[];
  /** Its definition, to read --stack from argv the way the command did. */
  readonly define: () => Command;
  /** The stack the command acts on without --stack (quickstart's). */
  readonly stack?: string;
}

/** A message that ends with the command to run, as every error of the command line does. */
const ENDS_WITH_FIX = /run "[^"\n]+"$/;

/** The error's message, ending with the command that fixes it where there is one. */
export function errorText(err: unknown, ctx: ErrorContext): string {
  const message = err instanceof CommanderError ? commanderMessage(err) : err instanceof Error ? err.message : String(err);
  const fix = fixFor(err, ctx);
  if (fix === null || ENDS_WITH_FIX.test(message)) return message;
  return `${message.replace(/\.$/, "")}; run "${fix}"`;
}

function fixFor(err: unknown, ctx: ErrorContext): string | null {
  const help = `llmstack ${ctx.command} --help`;
  if (err instanceof CommanderError) return help;
  if (err instanceof UsageError) return err.fix ?? (err instanceof ArgumentError ? help : null);
  const stack = stackOf(ctx);
  if (err instanceof StackConfigError) {
    switch (err.kind) {
      case "no-stack-file":
        return stack === undefined ? null : commandLine("cp", stackFileName("development"), stackFileName(stack));
      case "no-project-file":
        return null;
      case "plaintext":
        return null;
      case "config":
        // The fix is an edit; this checks it offline.
        return commandLine("llmstack", "plan", "--stack", stack ?? "<name>");
    }
  }
  if (err instanceof LayoutError) {
    return commandLine("llmstack", "configure-gpu", err.instead ?? "auto", "--stack", stack ?? "<name>");
  }
  return null;
}

/** The --stack the command line gave (commander's reading: the last one wins), or the command's own. */
function stackOf(ctx: ErrorContext): string | undefined {
  let given: unknown;
  try {
    const cmd = ctx.define().exitOverride().configureOutput({ writeOut: () => undefined, writeErr: () => undefined, outputError: () => undefined });
    const end = ctx.argv.indexOf("--");
    cmd.parseOptions([...(end < 0 ? ctx.argv : ctx.argv.slice(0, end))]);
    given = cmd.opts().stack;
  } catch {
    given = undefined;
  }
  return typeof given === "string" && STACK_NAME.test(given) ? given : ctx.stack;
}
