import { defineConfig } from "vitest/config";

// `npm test`: hermetic. Nothing but `npm ci`: no Docker daemon, no external program, no network.
// Whatever needs a daemon or another program lives under test/integration (`npm run test:integration`).
export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    exclude: ["test/integration/**", "**/node_modules/**"],
    // Mock tests import the Pulumi program, which registers resources on module load.
    isolate: true,
    // vitest's default is one worker fewer than the cores, which on a 2-core CI machine is one: every
    // file would run after the other while the second core idles.
    maxWorkers: 2,
    // A fresh worker thread per file (isolate) costs less CPU than a fresh child process; nothing under
    // test needs a process of its own (no process.chdir, no process.exit).
    pool: "threads",
    // The Pulumi program reads the Hugging Face cache for the model's facts (src/hub): tests see no cache
    // and no network, never the machine's own cache.
    env: { HF_HUB_CACHE: "test/fixtures/hub/no-such-cache", HF_HUB_OFFLINE: "1" },
    testTimeout: 60_000,
    hookTimeout: 120_000,
  },
});
