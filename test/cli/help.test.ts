/**
 * Every command answers --help with its usage, options and examples (and runs nothing); --version prints
 * the package's version.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { HELP } from "../../src/cli/help";
import { main } from "../../src/cli/main";
import { ROOT } from "../helpers/pulumiMocks";
import { fakeIo } from "../helpers/fakeIo";

const COMMANDS = ["bench", "capacity", "configure-gpu", "gpu", "images", "plan", "quickstart", "secrets", "validate", "up"];

describe("llmstack <command> --help", () => {
  it("has help for exactly the commands llmstack runs", async () => {
    const io = fakeIo(ROOT);
    expect(await main(["--help"], io)).toBe(0);
    const listed = io.out().split("\n").filter((l) => /^ {2}\S/.test(l)).map((l) => l.trim().split(/\s+/)[0]);
    expect(listed).toEqual(COMMANDS);
    expect(Object.keys(HELP).sort()).toEqual([...COMMANDS].sort());
  });

  it.each(COMMANDS.flatMap((c) => [[c, "--help"], [c, "-h"]]))("%s %s prints usage, options and examples and exits 0", async (cmd, flag) => {
    const io = fakeIo(ROOT);
    expect(await main([cmd, flag], io)).toBe(0);
    const text = io.out();
    expect(text.startsWith(`usage: llmstack ${cmd} ${HELP[cmd]!.usage}\n\n${HELP[cmd]!.summary}\n\noptions:\n`)).toBe(true);
    expect(text).toContain("\nexamples:\n");
    for (const e of HELP[cmd]!.examples) expect(text).toContain(`  ${e}\n`);
    expect(io.calls).toEqual([]);
    expect(io.err()).toBe("");
  });

  it("prints plan's help in full", async () => {
    const io = fakeIo(ROOT);
    await main(["plan", "--stack", "production", "--help"], io);
    expect(io.out()).toBe(
      [
        "usage: llmstack plan --stack NAME [--json] [--diff REV [--render-with revision|current] [--head REV2] [--markdown]] [--dir DIR]",
        "",
        "render a stack offline (no Pulumi CLI, backend or Docker), or diff it against a git revision",
        "",
        "options:",
        "  --stack NAME        the stack to render (required)",
        "  --json              the containers as @pulumi/docker inputs, secrets masked",
        "  --diff REV          compare with the stack at git revision REV",
        "  --render-with WHAT  revision (default): REV's own program renders REV (it runs); current: this checkout's program renders REV's stack files (nothing of REV runs: use it for untrusted revisions)",
        "  --head REV2         compare with REV2's stack files instead of the working tree (needs --render-with current)",
        "  --markdown          print the diff as markdown (for a pull-request comment)",
        "  --dir DIR           the project directory (default: the current one)",
        "  --help, -h          show this help",
        "",
        "examples:",
        "  llmstack plan --stack production",
        "  llmstack plan --stack production --json",
        "  llmstack plan --stack production --diff origin/main",
        "  llmstack plan --stack production --diff origin/main --head pr-42 --render-with current",
        "",
      ].join("\n"),
    );
  });

  it("leaves a --help after -- to pulumi (up passes it on)", async () => {
    const io = fakeIo(ROOT);
    // up validates first; with no stack option it must complain about --stack, not print help.
    expect(await main(["up", "--", "--help"], io)).toBe(2);
    expect(io.err()).toBe("llmstack up: --stack is required, e.g. npm run up -- --stack production\n");
  });

  it("names the command's --help on an unknown option", async () => {
    const io = fakeIo(ROOT);
    expect(await main(["plan", "--stak", "production"], io)).toBe(1);
    expect(io.err()).toBe(
      `llmstack plan: Unknown option '--stak'; run "llmstack plan --help" for the options\n`,
    );
  });
});

describe("llmstack --version", () => {
  it("prints the package version", async () => {
    const { version } = JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8")) as { version: string };
    const io = fakeIo(ROOT);
    expect(await main(["--version"], io)).toBe(0);
    expect(io.out()).toBe(`llmstack ${version}\n`);
  });
});
