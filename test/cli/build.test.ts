/**
 * The installed command line runs compiled JavaScript: `npm run build` (which `npm ci` runs as the
 * `prepare` script) compiles src/cli/main.ts and what it imports to dist/ with tsconfig.build.json, and
 * bin/llmstack.js runs dist/cli/main.js. Compiling takes half a minute, so the build itself, in a copy
 * of the project whose src/ is then removed, runs in `npm run test:integration`
 * (test/integration/build.test.ts); here the wiring is checked.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { ROOT } from "../helpers/root";

const pkg = JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8")) as {
  version: string;
  bin: Record<string, string>;
  scripts: Record<string, string>;
};

describe("the built command line", () => {
  it("npm ci builds it: prepare runs the build, which compiles with tsconfig.build.json", () => {
    expect(pkg.scripts.prepare).toBe("npm run build");
    expect(pkg.scripts.build).toBe("tsc -p tsconfig.build.json");
    expect(pkg.bin).toEqual({ llmstack: "bin/llmstack.js" });
    expect(readFileSync(join(ROOT, ".gitignore"), "utf8").split("\n")).toContain("dist/");
  });
});
