import { cpSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { main } from "../../src/cli/main";
import { PULUMI_CLI_VERSION } from "../../src/cli/pulumiCli";
import { localStackFile } from "../../src/cli/quickstart";
import type { ExecCall } from "../helpers/fakeIo";
import { unpinnedImages, unpinnedImagesMessage } from "../../src/plan/digests";
import { fakeIo } from "../helpers/fakeIo";
import { planOf } from "../helpers/stacks";
import { ROOT } from "../helpers/root";

describe("llmstack up", () => {
  it("does not run pulumi up when the host fails a check", async () => {
    // No docker, no nvidia-smi, no pulumi: the daemon check fails. (Development may run tagged images.)
    const io = fakeIo(ROOT);
    expect(await main(["up", "--stack", "development"], io)).toBe(1);
    expect(io.err()).toContain(
      'up: the host failed a check above, so pulumi up was not run; fix it as its line says; run "llmstack up --stack development"\n',
    );
    expect(io.calls.some((c) => c.file === "pulumi" && c.args[0] === "up")).toBe(false);
  });

  it.each(["staging", "production"])("refuses %s with an image that has no digest, before contacting the host", async (stack) => {
    const io = fakeIo(ROOT);
    expect(await main(["up", "--stack", stack], io)).toBe(1);
    expect(io.err()).toBe(`up: ${unpinnedImagesMessage(planOf(stack), unpinnedImages(planOf(stack)))}\n`);
    expect(io.err()).toMatch(new RegExp(`; run "npx llmstack images pin --stack ${stack}"\n$`));
    expect(io.calls).toEqual([]);
  });

  it("requires --stack, a usage error (exit 2)", async () => {
    const io = fakeIo(ROOT);
    expect(await main(["up"], io)).toBe(2);
    expect(io.err()).toBe(
      'llmstack up: --stack is required: the stack whose file is Pulumi.<name>.yaml; run "llmstack up --stack production"\n',
    );
  });
});

/**
 * A CPU stack on a tcp:// Docker host whose daemon answers and has every image: validate passes (the host
 * probe is skipped over tcp://, with a warning), so `up` goes on to pulumi.
 */
function readyHost(): string {
  const dir = mkdtempSync(join(tmpdir(), "llmstack-up-"));
  cpSync(join(ROOT, "Pulumi.yaml"), join(dir, "Pulumi.yaml"));
  const file = localStackFile({ mode: "cpu" }, "a test").replace("unix:///var/run/docker.sock", "tcp://127.0.0.1:2375");
  writeFileSync(join(dir, "Pulumi.local.yaml"), file);
  return dir;
}

function docker(c: ExecCall): { code: number; stdout: string; stderr: string } | null {
  if (c.file !== "docker") return null;
  if (c.args.includes("version")) return { code: 0, stdout: '{"Server":{"Version":"28.2.2","ApiVersion":"1.50"}}', stderr: "" };
  if (c.args.includes("image")) return { code: 0, stdout: "sha256:0123\n", stderr: "" };
  return { code: 0, stdout: "", stderr: "" };
}

describe("the Pulumi CLI llmstack up runs", () => {
  it("is the one quickstart installed in .llmstack/pulumi when PATH has none, for validate and for pulumi up", async () => {
    const dir = readyHost();
    const cli = join(dir, ".llmstack", "pulumi", "bin", "pulumi");
    const io = fakeIo(
      dir,
      (c) => docker(c) ?? (c.file === cli ? { code: 0, stdout: `v${PULUMI_CLI_VERSION}\n`, stderr: "" } : { code: 127, stdout: "", stderr: "not found" }),
      { PATH: "/usr/bin" },
    );
    expect(await main(["up", "--stack", "local", "--", "--yes"], io)).toBe(0);
    expect(io.out()).toContain(`PASS  pulumi.cli     Pulumi CLI v${PULUMI_CLI_VERSION} is installed (npm run up uses it)\n`);
    const up = io.calls.filter((c) => c.args[0] === "up");
    expect(up).toEqual([
      { file: cli, args: ["up", "--stack", "local", "--yes"], opts: { cwd: dir, passthrough: true, env: { PATH: `${join(dir, ".llmstack", "pulumi", "bin")}:/usr/bin` } } },
    ]);
  });

  it("says when pulumi up fails, ending with up again (pulumi printed why; what it created stays in the state)", async () => {
    const dir = readyHost();
    const pulumi = (c: ExecCall) =>
      c.file !== "pulumi" ? { code: 127, stdout: "", stderr: "not found" } : { code: c.args[0] === "up" ? 255 : 0, stdout: "v3.248.0\n", stderr: "" };
    const io = fakeIo(dir, (c) => docker(c) ?? pulumi(c));
    expect(await main(["up", "--stack", "local"], io)).toBe(1);
    expect(io.err()).toBe(
      'up: pulumi up --stack local failed (exit 255); fix what its output above says; run "llmstack up --stack local"\n',
    );
  });

  it("says what to install when there is none, after validate, and does not run pulumi up", async () => {
    const dir = readyHost();
    const io = fakeIo(dir, (c) => docker(c) ?? { code: 127, stdout: "", stderr: "not found" });
    expect(await main(["up", "--stack", "local"], io)).toBe(1);
    expect(io.out()).toContain("Pulumi.local.yaml: the host can run this stack (7 checks, none failed)\n");
    expect(io.err()).toBe(
      "up: the Pulumi CLI is neither on PATH nor in .llmstack/pulumi, so pulumi up was not run; install it " +
        "(https://www.pulumi.com/docs/iac/download-install/), open a new shell and run up again; " +
        'run "curl -fsSL https://get.pulumi.com | sh"\n',
    );
    expect(io.calls.some((c) => c.args[0] === "up")).toBe(false);
  });
});
