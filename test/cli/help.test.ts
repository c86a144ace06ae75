/**
 * Every command answers --help with its usage, options and examples (commander's help for the command's
 * definition) and runs nothing; --version prints the package's version.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { main, program } from "../../src/cli/main";
import { ROOT } from "../helpers/root";
import { fakeIo } from "../helpers/fakeIo";

const COMMANDS = ["backup", "bench", "capacity", "configure-gpu", "gpu", "images", "plan", "quickstart", "restore", "rollback", "secrets", "status", "validate", "up"];

describe("llmstack --help", () => {
  it("lists exactly the commands llmstack runs, and exits 0", async () => {
    const io = fakeIo(ROOT);
    expect(await main(["--help"], io)).toBe(0);
    const text = io.out();
    const commands = text.slice(text.indexOf("Commands:\n")).split("\n").filter((l) => /^ {2}\S/.test(l));
    expect(commands.map((l) => l.trim().split(/\s+/)[0])).toEqual([...COMMANDS, "help"]);
    expect(text).toContain('Run "llmstack <command> --help" for a command\'s options and examples.\n');
    expect(io.err()).toBe("");
  });

  it("without a command prints the help to stderr and exits 1", async () => {
    const io = fakeIo(ROOT);
    expect(await main([], io)).toBe(1);
    expect(io.out()).toBe("");
    expect(io.err()).toMatch(/^Usage: llmstack <command> \[options\]\n/);
  });

  it("names the commands and the help for an unknown one, exit 1", async () => {
    const io = fakeIo(ROOT);
    expect(await main(["plna"], io)).toBe(1);
    expect(io.err()).toBe(
      "llmstack: unknown command 'plna' (did you mean plan?); the commands are backup, bench, capacity, configure-gpu, " +
        'gpu, images, plan, quickstart, restore, rollback, secrets, status, validate, up; run "llmstack --help"\n',
    );
  });
});

describe("llmstack <command> --help", () => {
  it.each(COMMANDS.flatMap((c) => [[c, "--help"], [c, "-h"]]))(
    "%s %s prints usage, options and examples, runs nothing and exits 0",
    async (cmd, flag) => {
      const io = fakeIo(ROOT);
      expect(await main([cmd, flag], io)).toBe(0);
      const text = io.out();
      const definition = program(fakeIo(ROOT)).commands.find((c) => c.name() === cmd)!;
      expect(text.startsWith(`Usage: llmstack ${cmd} ${definition.usage()}\n\n${definition.summary()}\n`)).toBe(true);
      expect(text).toContain("\nOptions:\n");
      expect(text).toContain("  -h, --help ");
      // Every option is listed with its help.
      for (const option of definition.options) expect(text).toContain(`  ${option.flags} `);
      const examples = text.slice(text.indexOf("\nExamples:\n") + "\nExamples:\n".length).trimEnd().split("\n");
      expect(examples.length).toBeGreaterThanOrEqual(1);
      for (const e of examples) expect(e).toMatch(new RegExp(`^ {2}llmstack ${cmd}( |$)`));
      expect(io.calls).toEqual([]);
      expect(io.err()).toBe("");
    },
  );

  it("help <command> prints the same help as <command> --help", async () => {
    const a = fakeIo(ROOT);
    const b = fakeIo(ROOT);
    expect(await main(["help", "configure-gpu"], a)).toBe(0);
    expect(await main(["configure-gpu", "--help"], b)).toBe(0);
    expect(a.out()).toBe(b.out());
  });

  it("prints plan's help in full, with what its exit codes mean", async () => {
    const io = fakeIo(ROOT);
    expect(await main(["plan", "--stack", "production", "--help"], io)).toBe(0);
    expect(io.out()).toBe(
      [
        "Usage: llmstack plan --stack <name> [--json] [--diff <rev> [--render-with revision|current] [--head <rev2>] [--markdown]] [--dir <dir>]",
        "",
        "render a stack offline (no Pulumi CLI, backend or Docker), or diff it against a git revision",
        "",
        "On a stack with hosts the diff is shown host by host, in the stack's order. Exit status: 0 when the",
        "stack renders (with --diff: nothing changes), 2 when --diff finds a change, 1 for anything else, a",
        "malformed command line included (2 is taken by \"the plan changes\", which CI reads).",
        "",
        "Options:",
        "  --stack <name>        the stack to render (required)",
        "  --json                the containers as @pulumi/docker inputs, secrets masked",
        "  --diff <rev>          compare with the stack at git revision <rev>",
        "  --render-with <what>  revision (default): <rev>'s own program renders <rev> (it runs); current:",
        "                        this checkout's program renders <rev>'s stack files (nothing of <rev> runs:",
        "                        use it for untrusted revisions)",
        "  --head <rev2>         compare with <rev2>'s stack files instead of the working tree (needs",
        "                        --render-with current)",
        "  --markdown            print the diff as markdown (for a pull-request comment)",
        "  --dir <dir>           the project directory (default: the current one)",
        "  -h, --help            show this help",
        "",
        "Examples:",
        "  llmstack plan --stack production",
        "  llmstack plan --stack production --json",
        "  llmstack plan --stack production --diff origin/main",
        "  llmstack plan --stack production --diff origin/main --head pr-42 --render-with current",
        "  llmstack plan --stack fleet --diff origin/main --markdown",
        "",
      ].join("\n"),
    );
  });

  it("wraps help to the terminal's width when there is one", async () => {
    const io = { ...fakeIo(ROOT), columns: 60 };
    let out = "";
    expect(await main(["validate", "--help"], { ...io, stdout: (t) => (out += t) })).toBe(0);
    // Commander wraps the descriptions; the usage line is one line, however long.
    expect(Math.max(...out.split("\n").slice(1).map((l) => l.length))).toBeLessThanOrEqual(60);
    expect(out).toContain("  --stack <name>  the stack whose host to check (required)\n");
  });

  it("leaves a --help after -- to pulumi (up passes it on)", async () => {
    const io = fakeIo(ROOT);
    // up validates first; with no stack option it must complain about --stack, not print help.
    expect(await main(["up", "--", "--help"], io)).toBe(2);
    expect(io.err()).toBe(
      'llmstack up: --stack is required: the stack whose file is Pulumi.<name>.yaml; run "llmstack up --stack production"\n',
    );
  });

  it("names the option and the command's --help on an unknown option, with the likely one", async () => {
    const io = fakeIo(ROOT);
    expect(await main(["plan", "--stak", "production"], io)).toBe(1);
    expect(io.err()).toBe(`llmstack plan: unknown option '--stak' (did you mean --stack?); run "llmstack plan --help"\n`);
  });

  it("names a missing value and an extra argument the same way", async () => {
    const missing = fakeIo(ROOT);
    expect(await main(["validate", "--stack"], missing)).toBe(2);
    expect(missing.err()).toBe(`llmstack validate: option '--stack <name>' argument missing; run "llmstack validate --help"\n`);
    const extra = fakeIo(ROOT);
    expect(await main(["secrets", "init", "now", "--stack", "production"], extra)).toBe(2);
    expect(extra.err()).toBe(
      `llmstack secrets: too many arguments for 'secrets'. Expected 1 argument but got 2; run "llmstack secrets --help"\n`,
    );
  });
});

describe("llmstack --version", () => {
  it.each(["--version", "-V"])("%s prints the package version", async (flag) => {
    const { version } = JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8")) as { version: string };
    const io = fakeIo(ROOT);
    expect(await main([flag], io)).toBe(0);
    expect(io.out()).toBe(`llmstack ${version}\n`);
  });
});
