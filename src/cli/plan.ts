/**
 * `llmstack plan --stack NAME [--json]`: renders a stack offline, from its stack file alone: no Pulumi
 * CLI, backend or Docker. With `--diff REV [--head REV2] [--render-with revision|current] [--markdown]`
 * it compares with a git revision (./diff.ts).
 */
import { planJson, planTable } from "../plan/render";
import { planDiffCommand } from "./diff";
import { ArgumentError, pathArg, requireStack, shownArg, textArg } from "./args";
import { commandLine, defineCommand, parseCommand } from "./command";
import { type CliIo } from "./io";
import { renderStackResolved } from "./renderStack";

export const planCli = () =>
  defineCommand("plan", {
    summary: "render a stack offline (no Pulumi CLI, backend or Docker), or diff it against a git revision",
    usage: "--stack <name> [--json] [--diff <rev> [--render-with revision|current] [--head <rev2>] [--markdown]] [--dir <dir>]",
    details:
      "On a stack with hosts the diff is shown host by host, in the stack's order. " +
      "Exit status: 0 when the stack renders (with --diff: nothing changes), 2 when --diff finds a change, " +
      "1 for anything else, a malformed command line included (2 is taken by \"the plan changes\", which CI reads).",
    examples: [
      "llmstack plan --stack production",
      "llmstack plan --stack production --json",
      "llmstack plan --stack production --diff origin/main",
      "llmstack plan --stack production --diff origin/main --head pr-42 --render-with current",
      "llmstack plan --stack fleet --diff origin/main --markdown",
    ],
  })
    .option("--stack <name>", "the stack to render (required)")
    .option("--json", "the containers as @pulumi/docker inputs, secrets masked")
    .option("--diff <rev>", "compare with the stack at git revision <rev>")
    .option(
      "--render-with <what>",
      "revision (default): <rev>'s own program renders <rev> (it runs); current: this checkout's program renders " +
        "<rev>'s stack files (nothing of <rev> runs: use it for untrusted revisions)",
    )
    .option("--head <rev2>", "compare with <rev2>'s stack files instead of the working tree (needs --render-with current)")
    .option("--markdown", "print the diff as markdown (for a pull-request comment)")
    .option("--dir <dir>", "the project directory (default: the current one)");

interface PlanOptions {
  stack?: string;
  json?: boolean;
  dir?: string;
  diff?: string;
  markdown?: boolean;
  head?: string;
  renderWith?: string;
}

export async function planCommand(argv: string[], io: CliIo): Promise<number> {
  const { opts: values } = parseCommand<PlanOptions>(planCli, argv, io);
  requireStack(values.stack, "llmstack plan --stack production");
  const stack = values.stack;
  const dir = pathArg("dir", values.dir, io.cwd, "directory") ?? io.cwd;
  if (values.diff !== undefined) textArg("diff", values.diff, "a git branch, tag or commit such as origin/main");
  if (values.head !== undefined) textArg("head", values.head, "a git branch, tag or commit such as HEAD");
  const fix = (...more: string[]): string => commandLine("llmstack", "plan", "--stack", stack, ...more);
  if (values.markdown && values.diff === undefined) {
    throw new ArgumentError("--markdown prints a diff; add --diff <rev>", fix("--diff", "origin/main", "--markdown"));
  }
  if (values.diff === undefined && (values.head !== undefined || values.renderWith !== undefined)) {
    // --head passed textArg above; a --render-with value is not echoed, it may be anything.
    const head = values.head !== undefined ? ["--head", values.head] : [];
    throw new ArgumentError(
      `${head.length > 0 ? "--head" : "--render-with"} belongs to a diff; add --diff <rev>`,
      fix("--diff", "origin/main", ...head, "--render-with", "current"),
    );
  }
  if (values.diff !== undefined) {
    const diff = ["--diff", values.diff];
    if (values.markdown && values.json) {
      throw new ArgumentError("--markdown and --json print the diff two ways; pick one", fix(...diff, "--markdown"));
    }
    const format = values.markdown ? "markdown" : values.json ? "json" : "text";
    const renderWith = values.renderWith ?? "revision";
    if (renderWith !== "revision" && renderWith !== "current") {
      throw new ArgumentError(
        `--render-with ${shownArg(renderWith)}: use current (this checkout's program renders the revision's stack files; ` +
          "nothing of the revision runs) or revision (the revision's own program renders it: it runs)",
        fix(...diff, "--render-with", "current"),
      );
    }
    if (values.head !== undefined && renderWith !== "current") {
      throw new ArgumentError(
        "--head reads that revision's stack files only, never its program; add --render-with current",
        fix(...diff, "--head", values.head, "--render-with", "current"),
      );
    }
    return planDiffCommand(
      {
        stack: values.stack,
        rev: values.diff,
        ...(values.head !== undefined ? { head: values.head } : {}),
        dir,
        format,
        renderWith,
      },
      io,
    );
  }
  const plan = await renderStackResolved(dir, values.stack, io);
  io.stdout(values.json ? `${JSON.stringify(planJson(plan), null, 2)}\n` : planTable(plan));
  return 0;
}
