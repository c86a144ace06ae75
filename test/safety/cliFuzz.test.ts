/**
 * Bad command lines harm nothing: every command, each flag given a generated bad value (huge, negative,
 * NaN, not a number, empty, option-like, with control characters, a missing file), or an unknown flag,
 * exits 2 (plan: 1, its 2 means "the plan changes") with one line that names the flag, prints no stack trace and no raw control character, and
 * runs no program (nothing is created, changed or deleted). The commands run in a copy of the project,
 * so a command that wrongly went ahead could not touch the checked-in stack files.
 */
import fc from "fast-check";
import { cpSync, mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { main, usageExitCode } from "../../src/cli/main";
import { fakeIo } from "../helpers/fakeIo";
import { ROOT } from "../helpers/root";
import { byKind, SEED } from "./fuzzing";

const CLI_RUNS = 3_000;
/** A ceiling for a busy machine, not an expectation: the count above takes seconds on two idle cores. */
const FUZZ_TIMEOUT_MS = 300_000;

type Kind =
  | "int" | "fraction" | "choice" | "bool" | "stack" | "text" | "file" | "dir" | "ssh" | "url" | "envName" | "rev" | "gpu";

interface CommandSpec {
  /** A valid command line; each case changes one flag of it. */
  readonly argv: readonly string[];
  readonly flags: Readonly<Record<string, Kind>>;
}

const COMMANDS: Readonly<Record<string, CommandSpec>> = {
  capacity: {
    argv: ["capacity", "--model", "Qwen/Qwen2.5-7B-Instruct", "--gpu", "RTX 3090"],
    flags: {
      model: "text", revision: "rev", gpu: "gpu", gpus: "int", tp: "int", pp: "int", util: "fraction", "max-model-len": "int",
      dtype: "choice", quantization: "choice", "kv-cache-dtype": "choice", "vllm-version": "text",
      "max-num-seqs": "int", "max-num-batched-tokens": "int", "enforce-eager": "bool", json: "bool",
    },
  },
  bench: {
    argv: ["bench", "--stack", "staging"],
    flags: {
      stack: "stack", url: "url", model: "text", requests: "int", concurrency: "int", "prompt-tokens": "int",
      "output-tokens": "int", "api-key-env": "envName", "timeout-seconds": "int", compare: "file", dir: "dir", json: "bool",
    },
  },
  plan: {
    argv: ["plan", "--stack", "production"],
    flags: { stack: "stack", dir: "dir", diff: "rev", json: "bool", markdown: "bool", head: "rev", "render-with": "choice" },
  },
  validate: { argv: ["validate", "--stack", "production"], flags: { stack: "stack", dir: "dir", json: "bool" } },
  status: { argv: ["status", "--stack", "production"], flags: { stack: "stack", dir: "dir", json: "bool", watch: "int" } },
  gpu: { argv: ["gpu", "detect"], flags: { topo: "file", query: "file", nvlink: "file", ssh: "ssh", json: "bool" } },
  "configure-gpu": { argv: ["configure-gpu", "auto", "--stack", "production"], flags: { stack: "stack", "from-dir": "dir", ssh: "ssh" } },
  secrets: { argv: ["secrets", "init", "--stack", "production"], flags: { stack: "stack", "dry-run": "bool" } },
  up: { argv: ["up", "--stack", "production"], flags: { stack: "stack" } },
  quickstart: { argv: ["quickstart"], flags: { "dry-run": "bool" } },
};

const CONTROL = fc.constantFrom("\n", "\r", "\t", "\x00", "\x07", "\x1b[2J", "\x7f", "\x9b");
const withControl = (base: string): fc.Arbitrary<string> => CONTROL.map((c) => `${base}${c}`);
const optionLike = fc.constantFrom("--json", "-x", "--", "-1", "--help");
const word = fc.stringMatching(/^[a-z]{1,8}$/);

const HUGE = fc.oneof(
  fc.constantFrom("1e23", "99999999999999999999", `1${"0".repeat(40)}`, "Infinity", "1e308"),
  fc.bigInt({ min: 10n ** 17n, max: 10n ** 40n }).map(String),
);
const NOT_A_WHOLE_NUMBER = fc.oneof(
  fc.constantFrom("NaN", "abc", "1.5", "0x10", " 7", "7 ", "+7", "1_000", "0", "-0", "٣", "7px", ".", "1e3"),
  fc.integer({ min: -1_000_000, max: -1 }).map(String),
  fc.double({ noNaN: true }).filter((x) => !Number.isInteger(x)).map(String),
);

/** Values a flag of each kind must refuse (never checked against the code under test). */
const BAD: Readonly<Record<Kind, fc.Arbitrary<string>>> = {
  int: fc.oneof(HUGE, NOT_A_WHOLE_NUMBER, fc.constant(""), optionLike, withControl("4")),
  fraction: fc.oneof(
    fc.constantFrom("1.5", "0", "-0.5", "NaN", "1e-300", "Infinity", ".", "0x1", "abc", "2"),
    fc.double({ min: 1.0001, max: 1e9, noNaN: true }).map(String),
    fc.constant(""),
    optionLike,
    withControl("0.9"),
  ),
  choice: fc.oneof(fc.constantFrom("FP16", "int4", "q4", "auto ", "none\n", "Float16"), fc.constant(""), optionLike, withControl("auto")),
  bool: fc.oneof(fc.constantFrom("yes", "true", "1", "no"), word),
  stack: fc.oneof(fc.constant(""), optionLike, withControl("production"), fc.constantFrom("a/b", "../production", "prod uction", "prod$x")),
  text: fc.oneof(fc.constant(""), optionLike, withControl("Qwen/Qwen2.5-7B-Instruct")),
  file: fc.oneof(fc.constant(""), optionLike, withControl("x.txt"), word.map((w) => `no-such-dir/${w}.txt`), fc.constant(".")),
  dir: fc.oneof(fc.constant(""), optionLike, withControl("."), word.map((w) => `no-such-dir/${w}`), fc.constant("Pulumi.yaml")),
  ssh: fc.oneof(
    fc.constant(""),
    fc.constantFrom("-oProxyCommand=touch /tmp/x", "-F/etc/passwd", "user@-host", "a b", "host;id", "user@host:22", "$(id)"),
    withControl("gpu-box"),
  ),
  url: fc.oneof(fc.constant(""), fc.constantFrom("ftp://x", "http://", "localhost:4000", "http://a b"), optionLike, withControl("http://localhost:4000")),
  envName: fc.oneof(fc.constant(""), fc.constantFrom("1KEY", "A-B", "A B", "$KEY"), optionLike, withControl("KEY")),
  rev: fc.oneof(fc.constant(""), optionLike, withControl("origin/main")),
  gpu: fc.oneof(HUGE, NOT_A_WHOLE_NUMBER, fc.constantFrom("512", "RTX 9999", "24576.5"), fc.constant(""), optionLike, withControl("RTX 3090")),
};

interface CliCase {
  readonly command: string;
  /** The flag the error must name. */
  readonly flag: string;
  readonly argv: readonly string[];
}

/** The command line with `--flag` set to a bad value, as `--flag=V` or `--flag V`. */
function badValue(command: string): fc.Arbitrary<CliCase> {
  const spec = COMMANDS[command]!;
  return fc.constantFrom(...Object.keys(spec.flags)).chain((flag) =>
    fc.tuple(BAD[spec.flags[flag]!], fc.boolean()).map(([value, joined]) => {
      // Drop the base's own setting of the flag, then add the bad one.
      const argv: string[] = [];
      for (let i = 0; i < spec.argv.length; i++) {
        if (spec.argv[i] === `--${flag}`) i++;
        else argv.push(spec.argv[i]!);
      }
      const bool = spec.flags[flag] === "bool";
      const form = bool || joined || value === "" || value.startsWith("-") ? [`--${flag}=${value}`] : [`--${flag}`, value];
      return { command, flag: `--${flag}`, argv: [...argv, ...form] };
    }),
  );
}

function unknownFlag(command: string): fc.Arbitrary<CliCase> {
  const spec = COMMANDS[command]!;
  return fc
    .oneof(word.map((w) => `--x${w}`), fc.constantFrom("--stak", "--JSON", "--gpu-count", "-q", "--Stack"))
    .filter((f) => !Object.keys(spec.flags).includes(f.replace(/^-+/, "")))
    .map((flag) => ({ command, flag, argv: [...spec.argv, flag] }));
}

const cliCase: fc.Arbitrary<CliCase> = fc
  .constantFrom(...Object.keys(COMMANDS))
  .chain((command) => fc.oneof({ arbitrary: badValue(command), weight: 5 }, { arbitrary: unknownFlag(command), weight: 1 }));

/** A copy of the project to run in: a command that wrongly went ahead could only touch the copy. */
function project(): string {
  const dir = mkdtempSync(join(tmpdir(), "llmstack-clifuzz-"));
  for (const f of ["Pulumi.yaml", "Pulumi.development.yaml", "Pulumi.staging.yaml", "Pulumi.production.yaml"]) {
    cpSync(join(ROOT, f), join(dir, f));
  }
  return dir;
}

describe("bad command lines", () => {
  it(`each of ${CLI_RUNS} exits 2 (plan: 1) with one line naming the flag, and runs nothing`, async () => {
    const dir = project();
    const cases = fc.sample(cliCase, { seed: SEED, numRuns: CLI_RUNS });
    const kinds = new Map<string, number>();
    const failures: string[] = [];
    for (const c of cases) {
      kinds.set(c.command, (kinds.get(c.command) ?? 0) + 1);
      const io = fakeIo(dir);
      let code: number;
      try {
        code = await main([...c.argv], io);
      } catch (err) {
        failures.push(`${c.command}: threw ${String(err)}: ${JSON.stringify(c.argv)}`);
        continue;
      }
      const err = io.err();
      const problems = [
        ...(code !== usageExitCode(c.command) ? [`exit ${code}`] : []),
        ...(io.calls.length > 0 ? [`ran ${io.calls.map((x) => x.file).join(", ")}`] : []),
        ...(io.out() !== "" ? ["printed to stdout"] : []),
        ...(!err.startsWith(`llmstack ${c.command}: `) ? ["no error line"] : []),
        ...(!err.includes(c.flag) ? [`names no ${c.flag}`] : []),
        ...(/\n\s+at /.test(err) ? ["a stack trace"] : []),
        // eslint-disable-next-line no-control-regex -- finding control characters is the point
        ...(/[\x00-\x09\x0b-\x1f\x7f-\x9f]/.test(err) ? ["a raw control character"] : []),
      ];
      if (problems.length > 0) failures.push(`${c.command} ${c.flag}: ${problems.join(", ")}: ${JSON.stringify(c.argv)} → ${JSON.stringify(err)}`);
    }
    console.log(
      `fuzz: ${cases.length} bad command lines tried, ${failures.length} mishandled ` +
        `(${[...kinds].sort().map(([k, n]) => `${k}: ${n}`).join(", ")})` +
        (failures.length > 0 ? `; mishandled: ${byKind(failures)}` : ""),
    );
    expect(cases).toHaveLength(CLI_RUNS);
    expect(failures.slice(0, 5)).toEqual([]);
  }, FUZZ_TIMEOUT_MS);

  it("a valid command line is not mishandled by the harness: the base of each command gets past its flags", async () => {
    const dir = project();
    const codes: Record<string, number> = {};
    for (const [name, spec] of Object.entries(COMMANDS)) {
      const io = fakeIo(dir);
      codes[name] = await main([...spec.argv], io);
    }
    // 0: done offline; 1: stopped later for a reason that is not the command line (no Pulumi, no key, no
    // nvidia-smi, no Docker), never 2.
    expect(codes).toEqual({
      capacity: 0,
      bench: 1,
      plan: 0,
      validate: 1,
      status: 1,
      gpu: 1,
      "configure-gpu": 1,
      secrets: 1,
      up: 1,
      quickstart: 1,
    });
  });
});
