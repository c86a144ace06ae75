#!/usr/bin/env node
// The command line runs compiled: dist/ is built by `npm run build`, which `npm ci` runs (`prepare`).
// A checkout that was never built (the temporary worktree `plan --diff` renders a revision in, which
// borrows node_modules but not dist/) runs its own TypeScript source through tsx instead.
const { existsSync } = require("node:fs");
const { join } = require("node:path");

const built = join(__dirname, "..", "dist", "cli", "main.js");
if (existsSync(built)) {
  require(built).runFromProcess();
} else {
  require("tsx/cjs");
  require("../src/cli/main.ts").runFromProcess();
}
