/**
 * Test files share their worker's loaded modules and process (vitest.config.mts), so what one file changes
 * in the process, the next file in that worker sees. These rules keep such changes where they are put back
 * (docs/testing.md, "What a test file may leave behind"):
 * - process.env is written only through vi.stubEnv (undone before each test), except where a helper sets a
 *   variable for a whole file and restores it in afterAll;
 * - process listeners are replaced only by the helper that puts the saved ones back;
 * - nothing changes the working directory;
 * - a file that fakes timers also restores the real ones.
 */
import { readFileSync } from "node:fs";
import { join, relative } from "node:path";
import { describe, expect, it } from "vitest";
import { ROOT } from "../helpers/root";
import { tsFilesUnder } from "../helpers/tsFiles";

// This file names the patterns it looks for; it is not one of the files they are looked for in.
const FILES = tsFilesUnder(join(ROOT, "test"), ["integration", "fixtures"])
  .map((p) => ({ path: relative(ROOT, p), text: readFileSync(p, "utf8") }))
  .filter((f) => f.path !== "test/architecture/testState.test.ts");

const using = (pattern: RegExp): string[] => FILES.filter((f) => pattern.test(f.text)).map((f) => f.path).sort();

describe("what a test file leaves in the shared process", () => {
  it("writes process.env only with vi.stubEnv, but for TMPDIR in the diff tests' scratch helper, which restores it", () => {
    expect(using(/process\.env(\.\w+|\[[^\]]+\])\s*=[^=]|delete\s+process\.env/)).toEqual(["test/diff/repo.ts"]);
    const repo = FILES.find((f) => f.path === "test/diff/repo.ts")!.text;
    expect(repo).toContain("afterAll(() => {\n    if (savedTmp === undefined) delete process.env.TMPDIR;\n    else process.env.TMPDIR = savedTmp;");
  });

  it("replaces process listeners only in settleOrFailure, which puts the saved ones back", () => {
    expect(using(/process\.(on|once|off|addListener|removeListener|removeAllListeners)\(/)).toEqual(["test/helpers/pulumiMocks.ts"]);
    const helper = FILES.find((f) => f.path === "test/helpers/pulumiMocks.ts")!.text;
    expect(helper).toContain('for (const l of saved) process.on("unhandledRejection", l);');
  });

  it("never changes the working directory", () => {
    expect(using(/process\.chdir\(/)).toEqual([]);
  });

  it("restores real timers in every file that fakes them", () => {
    const faking = using(/vi\.useFakeTimers\(/);
    expect(faking).toEqual(["test/bench/bench.test.ts", "test/bench/scaling.test.ts"]);
    expect(faking.filter((f) => !FILES.find((x) => x.path === f)!.text.includes("vi.useRealTimers()"))).toEqual([]);
  });
});
