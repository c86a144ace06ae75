/**
 * The installed command line runs compiled JavaScript: `npm run build` (which `npm ci` runs as the
 * `prepare` script) compiles src/cli/main.ts and what it imports to dist/ with tsconfig.build.json, and
 * bin/llmstack.js runs dist/cli/main.js. The build runs in a copy of the project whose src/ is removed
 * afterwards, so the bin cannot have fallen back to the TypeScript source.
 */
import { execFileSync } from "node:child_process";
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync, symlinkSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { ROOT } from "../helpers/root";

/** A busy two-core machine compiles the CLI in about 20 s; this is a ceiling, not an expectation. */
const BUILD_TIMEOUT_MS = 300_000;

const pkg = JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8")) as { version: string };

describe("the built command line", () => {
  it(
    "bin/llmstack.js runs dist/cli/main.js: --version prints the version, with src/ gone",
    () => {
      const dir = mkdtempSync(join(tmpdir(), "llmstack-build-"));
      try {
        for (const f of ["package.json", "tsconfig.json", "tsconfig.build.json", "bin", "src"]) {
          cpSync(join(ROOT, f), join(dir, f), { recursive: true });
        }
        symlinkSync(join(ROOT, "node_modules"), join(dir, "node_modules"), "dir");
        execFileSync("npm", ["run", "--silent", "build"], { cwd: dir, encoding: "utf8", stdio: "pipe" });
        rmSync(join(dir, "src"), { recursive: true });

        expect(existsSync(join(dir, "dist", "cli", "main.js"))).toBe(true);
        // Only the command line: the Pulumi program (src/index.ts) runs from source under Pulumi.
        expect(existsSync(join(dir, "dist", "index.js"))).toBe(false);
        expect(existsSync(join(dir, "dist", "deploy"))).toBe(false);
        const out = execFileSync(process.execPath, ["bin/llmstack.js", "--version"], { cwd: dir, encoding: "utf8" });
        expect(out).toBe(`llmstack ${pkg.version}\n`);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    },
    BUILD_TIMEOUT_MS,
  );
});
