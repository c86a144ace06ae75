/**
 * Numbers and names on the command line are read strictly: a value a flag cannot take is one line that
 * names the flag and what it allows, and the command exits 2 (a usage error) without doing anything.
 */
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { main } from "../../src/cli/main";
import { fakeIo } from "../helpers/fakeIo";
import { ROOT } from "../helpers/root";

async function run(argv: string[]): Promise<{ code: number; out: string; err: string; calls: number }> {
  const io = fakeIo(ROOT);
  const code = await main(argv, io);
  return { code, out: io.out(), err: io.err(), calls: io.calls.length };
}

const QWEN = ["capacity", "--model", "Qwen/Qwen2.5-7B-Instruct"];

describe("capacity's numbers", () => {
  it.each([
    ["1e23", "--gpu"],
    ["100000000000000000000000", "--gpu"],
    ["24576.5", "--gpu"],
    ["512", "--gpu"],
  ])("--gpu %s is no memory size: exit 2, naming the flag and the range", async (value) => {
    expect(await run([...QWEN, "--gpu", value])).toEqual({
      code: 2,
      out: "",
      err:
        `llmstack capacity: --gpu "${value}": a memory size must be whole MiB from 1024 to 1048576 ` +
        '(nvidia-smi --query-gpu=memory.total --format=csv), or give a GPU name such as "RTX 3090"; run "llmstack capacity --help"\n',
      calls: 0,
    });
  });

  it.each([
    ["--tp", "1e1", "must be a whole number from 1 to 64"],
    ["--gpus", "0x10", "must be a whole number from 1 to 4096"],
    ["--max-model-len", "99999999999999999999", "must be a whole number from 1 to 1048576"],
    ["--max-num-seqs", "NaN", "must be a whole number from 1 to 16777216"],
    ["--util", "1e-300", "must be a decimal number above 0 and at most 1, such as 0.9"],
    ["--util", "Infinity", "must be a decimal number above 0 and at most 1, such as 0.9"],
    ["--util", "", "must be a decimal number above 0 and at most 1, such as 0.9"],
  ])("%s %j: exit 2 with what the flag allows", async (flag, value, allowed) => {
    expect(await run([...QWEN, "--gpu", "RTX 3090", flag, value])).toEqual({
      code: 2,
      out: "",
      err: `llmstack capacity: ${flag} ${JSON.stringify(value)}: ${allowed}; run "llmstack capacity --help"\n`,
      calls: 0,
    });
  });

  it("refuses a config.json whose numbers would make the budget Infinity GiB", async () => {
    const dir = mkdtempSync(join(tmpdir(), "llmstack-absurd-"));
    const config = JSON.parse(readFileSync(join(ROOT, "test/fixtures/capacity/qwen2.5-7b-instruct.config.json"), "utf8"));
    writeFileSync(join(dir, "config.json"), JSON.stringify({ ...config, vocab_size: 1e308 }));
    const io = fakeIo(dir);
    expect(await main(["capacity", "--model", "config.json", "--gpu", "RTX 3090", "--json"], io)).toBe(1);
    expect(io.out()).toBe("");
    expect(io.err()).toBe(
      `llmstack capacity: ${join(dir, "config.json")}: vocab_size is 1e+308; it must be a whole number from 1 to 16777216. ` +
        "Check that the file is the model's config.json (a Hugging Face transformers config); " +
        `run "llmstack capacity --model <org/name> --gpu 'RTX 3090' --json"\n`,
    );
  });
});

describe("every command", () => {
  it("an unknown flag is a usage error, exit 2", async () => {
    const r = await run(["validate", "--stack", "production", "--bogus"]);
    expect([r.code, r.calls]).toEqual([2, 0]);
    expect(r.err).toBe(`llmstack validate: unknown option '--bogus'; run "llmstack validate --help"\n`);
  });

  it("a control character in a value is shown escaped, never sent to the terminal", async () => {
    const r = await run(["validate", "--stack", "prod\x1b[31muction"]);
    expect(r).toEqual({
      code: 2,
      out: "",
      err:
        'llmstack validate: --stack "prod\\u001b[31muction": contains a control character; give a stack name such as "production"; ' +
        'run "llmstack validate --help"\n',
      calls: 0,
    });
  });

  it("plan keeps 2 for a plan that changes: its malformed command line exits 1", async () => {
    expect(await run(["plan", "--stack", "production", "--diff=-x"])).toEqual({
      code: 1,
      out: "",
      err:
        'llmstack plan: --diff "-x": starts with "-", so it reads as an option; give a git branch, tag or commit such as ' +
        'origin/main; run "llmstack plan --help"\n',
      calls: 0,
    });
  });

  it("--ssh may not read as an ssh option", async () => {
    expect(await run(["gpu", "detect", "--ssh=-oProxyCommand=touch /tmp/x"])).toEqual({
      code: 2,
      out: "",
      err:
        'llmstack gpu: --ssh "-oProxyCommand=touch /tmp/x": starts with "-", so it reads as an option; give an ssh ' +
        'destination such as admin@gpu-box; run "llmstack gpu --help"\n',
      calls: 0,
    });
  });

  it("--dir must be a directory", async () => {
    expect(await run(["validate", "--stack", "production", "--dir", "nowhere"])).toEqual({
      code: 2,
      out: "",
      err: `llmstack validate: --dir "nowhere": no such directory (looked for ${join(ROOT, "nowhere")}); run "llmstack validate --help"\n`,
      calls: 0,
    });
  });
});
