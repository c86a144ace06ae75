import { defineConfig } from "vitest/config";

// `npm run test:integration`: a real Docker daemon (.ci/start-dockerd.sh) and the programs that read the
// config files the stack writes (caddy, promtool, amtool, redis-server). A missing one fails the test that
// needs it, naming what to install; nothing is skipped.
export default defineConfig({
  test: {
    include: ["test/integration/**/*.test.ts"],
    isolate: true,
    // One file at a time: the tests share one daemon and build images on it.
    fileParallelism: false,
    testTimeout: 600_000,
    hookTimeout: 1_800_000,
  },
});
