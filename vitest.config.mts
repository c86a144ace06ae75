import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    // Mock tests import the Pulumi program, which registers resources on module load.
    isolate: true,
    testTimeout: 60_000,
    hookTimeout: 120_000,
  },
});
