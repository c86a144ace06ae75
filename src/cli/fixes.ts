/**
 * Every error the command line prints ends with the command that fixes it: `<message>; run "<command>"`.
 * A command's own errors carry their fix (UsageError's `fix`); a malformed command line points at the
 * command's --help; errors from the core are mapped here by their kind, with the stack, files and
 * directories the command line named. A message that already ends with its command (`run "..."`) is
 * printed as it is. Where no command fixes it, the fix is the most concrete next step
 * (docs/command-line.md, "Errors").
 */
import { existsSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import type { Command } from "commander";
import { StackConfigError } from "../config/errors";
import { STACK_NAME, stackFileName } from "../config/stackFile";
import { WriteError } from "../config/writeFile";
import { CAPTURE_NAMES, captureArgs, captureCommand } from "../gpu/captureFiles";
import { CaptureError, NvidiaSmiError, type CaptureKind } from "../gpu/errors";
import { LayoutError } from "../gpu/layout";
import { QUERY_FIELDS } from "../gpu/query";
import { ArgumentError } from "./args";
import { CommanderError, commanderMessage, commandLine, PROGRAM_ROOT, withOptions } from "./command";
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
  /** The directory the command ran in; relative paths in argv are relative to it. */
  readonly cwd: string;
}

/** A message that ends with the command to run, as every error of the command line does. */
const ENDS_WITH_FIX = /run "[^"\n]+"$/;

/** The error's message, ending with the command that fixes it where there is one. */
export function errorText(err: unknown, ctx: ErrorContext): string {
  const message = err instanceof CommanderError ? commanderMessage(err) : err instanceof Error ? err.message : String(err);
  const fix = fixFor(err, ctx);
  if (fix === null || ENDS_WITH_FIX.test(message)) return message;
  return `${message.replace(/\.$/, "")}; run "${runnable(fix)}"`;
}

/**
 * A command as `run "..."` shows it: a double-quoted word in it (`--include "*.json"`) is single-quoted
 * instead, which the shell reads the same, so the quotes around the command stay unambiguous.
 */
export function runnable(command: string): string {
  return command.replace(/"([^"'$`\\]*)"/g, "'$1'");
}

function fixFor(err: unknown, ctx: ErrorContext): string | null {
  const help = `llmstack ${ctx.command} --help`;
  if (err instanceof CommanderError) return help;
  if (err instanceof UsageError) return err.fix ?? (err instanceof ArgumentError ? help : null);
  const opts = optionsOf(ctx);
  const stack = typeof opts.stack === "string" && STACK_NAME.test(opts.stack) ? opts.stack : ctx.stack;
  if (err instanceof StackConfigError) {
    switch (err.kind) {
      case "no-stack-file":
        return stack === undefined ? null : commandLine("cp", stackFileName("development"), stackFileName(stack));
      case "no-project-file":
        return projectRootFix(err.dir, ctx, opts);
      case "plaintext":
        // Each line of the message ends with the command for its key.
        return null;
      case "config":
        // The fix is an edit; this checks it offline.
        return commandLine("llmstack", "plan", "--stack", stack ?? "<name>");
    }
  }
  const cpu = commandLine("llmstack", "configure-gpu", "cpu", "--stack", stack ?? "<name>");
  if (err instanceof LayoutError) {
    return commandLine("llmstack", "configure-gpu", err.instead ?? "auto", "--stack", stack ?? "<name>");
  }
  if (err instanceof CaptureError) return captureFix(err, ctx, opts);
  // Nothing was changed: once the disk or permission the message names is fixed, the same command again.
  if (err instanceof WriteError) return commandLine("llmstack", ctx.command, ...ctx.argv);
  if (err instanceof NvidiaSmiError) {
    // A capture from a driver whose nvidia-smi lacks a field: the query again, without it.
    const file = captureTargets(ctx, opts)?.query;
    if (err.kind === "invalid-field" && err.field !== null && file !== undefined) {
      return captureCommand("query", file, QUERY_FIELDS.filter((f) => f !== err.field));
    }
    return cpu;
  }
  return null;
}

/** The options the command line gave, read with the command's definition (commander: the last one wins). */
function optionsOf(ctx: ErrorContext): Record<string, unknown> {
  try {
    const cmd = ctx.define().exitOverride().configureOutput({ writeOut: () => undefined, writeErr: () => undefined, outputError: () => undefined });
    const end = ctx.argv.indexOf("--");
    cmd.parseOptions([...(end < 0 ? ctx.argv : ctx.argv.slice(0, end))]);
    return cmd.opts();
  } catch {
    return {};
  }
}

/**
 * Where the fix writes each capture: the name `configure-gpu --from-dir` reads (topo.txt, query.csv,
 * nvlink.txt), in the directory of the captures the command was given. Never the given file's own name: a
 * file that is not a capture at all (a wrong path) must not be overwritten. Null when the command ran
 * nvidia-smi instead of reading files.
 */
function captureTargets(ctx: ErrorContext, opts: Record<string, unknown>): Record<CaptureKind, string> | null {
  const text = (v: unknown): string | undefined => (typeof v === "string" ? v : undefined);
  let dir: string | undefined;
  if (ctx.command === "configure-gpu") dir = text(opts.fromDir);
  if (ctx.command === "gpu") {
    const given = [text(opts.topo), text(opts.query), text(opts.nvlink)].find((f) => f !== undefined);
    dir = given === undefined ? undefined : dirname(given);
  }
  if (dir === undefined) return null;
  const at = (kind: CaptureKind): string => (dir === "." ? CAPTURE_NAMES[kind] : join(dir!, CAPTURE_NAMES[kind]));
  return { topo: at("topo"), query: at("query"), nvlink: at("nvlink") };
}

/**
 * Captures taken again, on the GPU host. A file that could not be read at all is the wrong file: the same
 * command with a capture in its place. Without files, the command ran nvidia-smi, whose output llmstack
 * could not read: nothing here fixes that, so the fix is the nvidia-smi command (over ssh with --ssh) whose
 * output to look at.
 */
function captureFix(err: CaptureError, ctx: ErrorContext, opts: Record<string, unknown>): string {
  const targets = captureTargets(ctx, opts);
  if (targets !== null && err.unreadable) {
    const changes: Record<string, string> =
      ctx.command === "configure-gpu"
        ? { "from-dir": "<a directory with topo.txt, query.csv, nvlink.txt>" }
        : Object.fromEntries(err.captures.map((k) => [k, `<a saved ${CAPTURE_LABELS[k]}>`]));
    return commandLine("llmstack", ctx.command, ...withOptions(ctx.define, ctx.argv, changes));
  }
  if (targets !== null) return err.captures.map((k) => captureCommand(k, targets[k])).join(" && ");
  const ssh = typeof opts.ssh === "string" ? ["ssh", opts.ssh] : [];
  return err.captures.map((k) => commandLine(...ssh, "nvidia-smi", ...captureArgs(k))).join(" && ");
}

const CAPTURE_LABELS: Readonly<Record<CaptureKind, string>> = {
  topo: "nvidia-smi topo -m",
  query: "nvidia-smi --query-gpu",
  nvlink: "nvidia-smi nvlink --status",
};

/**
 * Into the project's directory: the nearest above `dir` with a Pulumi.yaml, else this program's own. With
 * --dir, the same command with --dir pointing there.
 */
function projectRootFix(dir: string | undefined, ctx: ErrorContext, opts: Record<string, unknown>): string | null {
  let at = resolve(ctx.cwd, dir ?? ".");
  while (!existsSync(join(at, "Pulumi.yaml")) && dirname(at) !== at) at = dirname(at);
  const root = existsSync(join(at, "Pulumi.yaml")) ? at : existsSync(join(PROGRAM_ROOT, "Pulumi.yaml")) ? resolve(PROGRAM_ROOT) : null;
  if (root === null) return null;
  if (opts.dir === undefined) return commandLine("cd", root);
  return commandLine("llmstack", ctx.command, ...withOptions(ctx.define, ctx.argv, { dir: root }));
}
