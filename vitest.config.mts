import { readdirSync, readFileSync, statSync } from "node:fs";
import { join, relative } from "node:path";
import { defineConfig } from "vitest/config";

// `npm test`: hermetic. Nothing but `npm ci`: no Docker daemon, no external program, no network.
// Whatever needs a daemon or another program lives under test/integration (`npm run test:integration`).

// The project root, which vitest resolves `include` against (its `root` is the working directory).
const ROOT = process.cwd();

// Its own walk, like test/helpers/tsFiles.ts: a config that imports the project's TypeScript is one Vite's
// native config loader refuses, and it warns on every run.
function testFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((f) => {
    const p = join(dir, f);
    if (statSync(p).isDirectory()) return f === "integration" || f === "fixtures" ? [] : testFiles(p);
    return p.endsWith(".test.ts") ? [relative(ROOT, p)] : [];
  });
}

// A file that replaces a module with vi.mock needs a module graph of its own: in a shared one, a module an
// earlier file loaded stays the real one. Every other file shares its worker's module graph with the files
// before it, so src/ and the Pulumi SDK load once per worker rather than once per file (most of a run's
// time on two cores went to loading them). Such a file leaves process-wide state as it found it: the
// options below restore spies and vi.stubEnv before each test; anything else (process.env set for a whole
// file, fake timers, listeners) it restores itself.
const OWN_MODULES = testFiles(join(ROOT, "test")).filter((f) => /\bvi\.(doMock|mock)\(/.test(readFileSync(join(ROOT, f), "utf8")));

const common = {
  // The Pulumi program reads the Hugging Face cache for the model's facts (src/hub): tests see no cache
  // and no network, never the machine's own cache.
  env: { HF_HUB_CACHE: "test/fixtures/hub/no-such-cache", HF_HUB_OFFLINE: "1" },
  // A fresh worker thread costs less CPU than a child process; nothing under test needs a process of its
  // own (no process.chdir, no process.exit).
  pool: "threads" as const,
  restoreMocks: true,
  unstubEnvs: true,
  unstubGlobals: true,
  testTimeout: 60_000,
  hookTimeout: 120_000,
};

export default defineConfig({
  test: {
    // vitest's default is one worker fewer than the cores, which on a 2-core CI machine is one: every
    // file would run after the other while the second core idles.
    maxWorkers: 2,
    projects: [
      { extends: false, test: { ...common, name: "own-modules", include: OWN_MODULES, isolate: true } },
      {
        extends: false,
        test: {
          ...common,
          name: "shared-modules",
          include: ["test/**/*.test.ts"],
          exclude: ["test/integration/**", "**/node_modules/**", ...OWN_MODULES],
          isolate: false,
        },
      },
    ],
  },
});
