/**
 * `llmstack plan --stack NAME [--json]`: renders a stack offline, from its stack file alone: no Pulumi
 * CLI, backend or Docker. With `--diff REV [--head REV2] [--render-with revision|current] [--markdown]`
 * it compares with a git revision (./diff.ts).
 */
import { parseArgs } from "node:util";
import { planJson, planTable } from "../plan/render";
import { planDiffCommand } from "./diff";
import { ArgumentError, pathArg, requireStack, textArg } from "./args";
import { type CliIo } from "./io";
import { renderStackResolved } from "./renderStack";

export async function planCommand(argv: string[], io: CliIo): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: {
      stack: { type: "string" },
      json: { type: "boolean", default: false },
      dir: { type: "string" },
      diff: { type: "string" },
      markdown: { type: "boolean", default: false },
      head: { type: "string" },
      "render-with": { type: "string" },
    },
    strict: true,
  });
  requireStack(values.stack, "llmstack plan --stack production");
  const dir = pathArg("dir", values.dir, io.cwd, "directory") ?? io.cwd;
  if (values.diff !== undefined) textArg("diff", values.diff, "a git branch, tag or commit such as origin/main");
  if (values.head !== undefined) textArg("head", values.head, "a git branch, tag or commit such as HEAD");
  if (values.markdown && values.diff === undefined) {
    throw new ArgumentError("--markdown prints a diff; add --diff REV, e.g. llmstack plan --stack production --diff origin/main --markdown");
  }
  for (const option of ["head", "render-with"] as const) {
    if (values[option] !== undefined && values.diff === undefined) {
      throw new ArgumentError(`--${option} belongs to a diff; add --diff REV, e.g. llmstack plan --stack production --diff origin/main --${option} ...`);
    }
  }
  if (values.diff !== undefined) {
    if (values.markdown && values.json) throw new ArgumentError("--markdown and --json print the diff two ways; pick one");
    const format = values.markdown ? "markdown" : values.json ? "json" : "text";
    const renderWith = values["render-with"] ?? "revision";
    if (renderWith !== "revision" && renderWith !== "current") {
      throw new ArgumentError(
        `--render-with "${renderWith}": use current (this checkout's program renders the revision's stack files; ` +
          "nothing of the revision runs) or revision (the revision's own program renders it: it runs)",
      );
    }
    if (values.head !== undefined && renderWith !== "current") {
      throw new ArgumentError(
        "--head reads that revision's stack files only, never its program; add --render-with current",
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
