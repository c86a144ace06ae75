/**
 * Files that are not what they claim: a FIFO, /dev/zero, a directory, a file far too large, a capture
 * full of terminal escape codes. Each gets one sentence naming the file (and the limit), through the
 * commands a user runs; nothing hangs, nothing eats memory, nothing drives the terminal.
 * mkfifo is coreutils' (on every Linux the tests run on); Node has no call that makes a FIFO.
 */
import { execFileSync } from "node:child_process";
import { copyFileSync, mkdirSync, mkdtempSync, symlinkSync, truncateSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { main } from "../../src/cli/main";
import { readStack } from "../../src/config/stackFile";
import { MAX_INPUT_BYTES, readInputFile } from "../../src/config/readFile";
import { fakeIo } from "../helpers/fakeIo";
import { ROOT } from "../helpers/root";

function project(): string {
  const dir = mkdtempSync(join(tmpdir(), "llmstack-awkward-"));
  copyFileSync(join(ROOT, "Pulumi.yaml"), join(dir, "Pulumi.yaml"));
  return dir;
}

async function run(dir: string, ...argv: string[]): Promise<{ code: number; out: string; err: string }> {
  const io = fakeIo(dir);
  const code = await main(argv, io);
  return { code, out: io.out(), err: io.err() };
}

describe("a FIFO", () => {
  it("as a stack file is refused without opening it for a blocking read", async () => {
    const dir = project();
    execFileSync("mkfifo", [join(dir, "Pulumi.piped.yaml")]);
    expect(() => readStack(dir, "piped")).toThrow(
      "Pulumi.piped.yaml: is a FIFO (named pipe), not a file; llmstack reads a stack file only from a regular file",
    );
    expect(await run(dir, "plan", "--stack", "piped")).toEqual({
      code: 1,
      out: "",
      err:
        "llmstack plan: Pulumi.piped.yaml: is a FIFO (named pipe), not a file; llmstack reads a stack file only from a regular file; " +
        'run "llmstack plan --stack piped"\n',
    });
    expect((await run(dir, "configure-gpu", "cpu", "--stack", "piped")).err).toBe(
      "llmstack configure-gpu: Pulumi.piped.yaml: is a FIFO (named pipe), not a file; llmstack reads a stack file only from a " +
        'regular file; run "llmstack plan --stack piped"\n',
    );
  });

  it("as a capture is refused", async () => {
    const dir = project();
    execFileSync("mkfifo", [join(dir, "topo.txt")]);
    expect((await run(dir, "gpu", "detect", "--topo", "topo.txt")).err).toBe(
      "llmstack gpu: topo.txt: is a FIFO (named pipe), not a file; llmstack reads an nvidia-smi capture only from a regular file; " +
        'run "llmstack gpu detect --topo <a saved nvidia-smi topo -m>"\n',
    );
  });
});

describe("/dev/zero, a directory and a file too large", () => {
  it("/dev/zero as a capture is refused before a byte is read", async () => {
    expect(await run(project(), "gpu", "detect", "--topo", "/dev/zero")).toEqual({
      code: 1,
      out: "",
      err:
        "llmstack gpu: /dev/zero: is a character device, not a file; llmstack reads an nvidia-smi capture only from a regular file; " +
        'run "llmstack gpu detect --topo <a saved nvidia-smi topo -m>"\n',
    });
  });

  it("/dev/zero behind a config.json name is refused too", async () => {
    const dir = project();
    symlinkSync("/dev/zero", join(dir, "config.json"));
    expect((await run(dir, "capacity", "--model", "config.json", "--gpu", "24576")).err).toBe(
      `llmstack capacity: ${join(dir, "config.json")}: is a character device, not a file; llmstack reads a model's config.json only from a regular file; ` +
        'run "llmstack capacity --model <org/name> --gpu 24576"\n',
    );
  });

  it("a directory is named", async () => {
    const dir = project();
    mkdirSync(join(dir, "captures"));
    mkdirSync(join(dir, "Pulumi.folder.yaml"));
    // A file flag's value is checked as the command line is read, so the refusal names the flag too.
    expect((await run(dir, "gpu", "detect", "--query", "captures")).err).toBe(
      'llmstack gpu: --query "captures": is a directory; give the path of a file; run "llmstack gpu --help"\n',
    );
    expect((await run(dir, "plan", "--stack", "folder")).err).toBe(
      "llmstack plan: Pulumi.folder.yaml: is a directory, not a file; llmstack reads a stack file only from a regular file; " +
        'run "llmstack plan --stack folder"\n',
    );
  });

  it("a file over 4 MiB is refused with the limit; one of exactly 4 MiB is read", async () => {
    const dir = project();
    writeFileSync(join(dir, "big.txt"), "");
    truncateSync(join(dir, "big.txt"), MAX_INPUT_BYTES + 1);
    expect((await run(dir, "gpu", "detect", "--nvlink", "big.txt")).err).toBe(
      "llmstack gpu: big.txt: is larger than 4 MiB, the most llmstack reads from an nvidia-smi capture; check that it is the right file; " +
        'run "llmstack gpu detect --nvlink <a saved nvidia-smi nvlink --status>"\n',
    );
    truncateSync(join(dir, "big.txt"), MAX_INPUT_BYTES);
    expect(readInputFile(join(dir, "big.txt"), { what: "a test file" })).toHaveLength(MAX_INPUT_BYTES);
  });

  it("a missing file is named with where it was looked for", () => {
    expect(() => readInputFile("/nonexistent/x.txt", { shown: "x.txt", what: "a test file" })).toThrow(
      "x.txt: no such file (looked in /nonexistent/x.txt)",
    );
  });
});

describe("terminal escape codes in a capture", () => {
  const ESC = "\u001b";
  // eslint-disable-next-line no-control-regex -- control characters are what must not be printed
  const CONTROL = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/;
  // A GPU name that would set the terminal's title, clear the screen and ring the bell.
  const name = `NVIDIA ${ESC}]0;owned\u0007A100${ESC}[2J\u009b31m`;

  it("are printed escaped in the table and in --json", async () => {
    const dir = project();
    writeFileSync(join(dir, "query.csv"), `index, name, memory.total [MiB]\n0, ${name}, 40960 MiB\n`);
    const table = await run(dir, "gpu", "detect", "--query", "query.csv");
    expect(table.out).toContain("NVIDIA \\u001b]0;owned\\u0007A100\\u001b[2J\\u009b31m");
    expect(table.out).not.toMatch(CONTROL);
    const json = await run(dir, "gpu", "detect", "--query", "query.csv", "--json");
    expect(JSON.parse(json.out).gpus[0].name).toBe(name);
    expect(json.out).not.toMatch(CONTROL);
  });

  it("are printed escaped in an error quoting the capture", async () => {
    const dir = project();
    writeFileSync(join(dir, "nvlink.txt"), `GPU 0: ${name}\n\t Link 0: ${ESC}[31m14 GB/s\n`);
    const { code, err } = await run(dir, "gpu", "detect", "--nvlink", "nvlink.txt");
    expect(code).toBe(1);
    expect(err).toContain('line 2 "Link 0: \\u001b[31m14 GB/s"');
    expect(err).not.toMatch(CONTROL);
  });
});
