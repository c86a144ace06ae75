/**
 * The shell lines the deploy layer runs through `command.local.run` (`sh -c`), run by a real sh with a
 * stand-in `docker` on PATH that records its arguments: a Docker host or container name that tries to
 * break out of its quotes reaches docker as one argument, and the command it hides never runs.
 */
import { spawnSync } from "node:child_process";
import { chmodSync, existsSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { logTailCommand } from "../../src/deploy/smokeTest";
import { probeCommandLine, probeScript, transportFor } from "../../src/preflight/probe";

function sandbox(): { dir: string; marker: string; run: (line: string) => string[][] } {
  const found = spawnSync("sh", ["-c", "command -v sh"], { encoding: "utf8" });
  if (found.status !== 0) throw new Error("sh is not installed");
  const dir = mkdtempSync(join(tmpdir(), "llmstack-shell-"));
  const marker = join(dir, "pwned");
  const log = join(dir, "docker.log");
  // One line per call: the arguments, each followed by a NUL byte.
  writeFileSync(join(dir, "docker"), `#!/bin/sh\nfor a in "$@"; do printf '%s\\0' "$a"; done >> "${log}"\necho >> "${log}"\n`);
  chmodSync(join(dir, "docker"), 0o755);
  const run = (line: string): string[][] => {
    const r = spawnSync("sh", ["-c", line], { cwd: dir, encoding: "utf8", env: { PATH: `${dir}:${process.env.PATH}` } });
    expect(r.error).toBeUndefined();
    if (!existsSync(log)) return [];
    return readFileSync(log, "utf8")
      .split("\n")
      .filter((l) => l !== "")
      .map((l) => l.split("\0").slice(0, -1));
  };
  return { dir, marker, run };
}

const hostile = (marker: string): string[] => [
  `unix:///run/docker.sock'$(touch ${marker})'`,
  `unix:///x'; touch ${marker}; echo '`,
  `unix:///x\`touch ${marker}\``,
  `unix:///x"$(touch ${marker})"`,
];

describe("shell lines with hostile values, run by sh", () => {
  it("the smoke test's log tail passes the host and names to docker as single arguments", () => {
    const { marker, run } = sandbox();
    const hosts = hostile(marker);
    const name = `stack-litellm$(touch ${marker})`;
    for (const host of hosts) run(logTailCommand(host, [name]));
    expect(existsSync(marker)).toBe(false);
    expect(run("true")).toEqual(hosts.map((h) => ["-H", h, "logs", "--tail", "30", name]));
  });

  it("the preflight probe passes the host and container names to docker as single arguments", () => {
    const { marker, run } = sandbox();
    const hosts = hostile(marker);
    for (const host of hosts) {
      const script = probeScript({ sections: ["stackpids"], dockerArgs: transportFor(host).dockerArgs, containerNames: [host] });
      run(probeCommandLine(script, transportFor(host)));
    }
    expect(existsSync(marker)).toBe(false);
    expect(run("true")).toEqual(hosts.map((h) => ["--host", h, "top", h, "-eo", "pid"]));
  });
});
