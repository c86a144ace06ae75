import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { callingPulumi, failureReason, shownPulumi } from "../../src/cli/pulumiCli";
import { fakeIo } from "../helpers/fakeIo";
import { ROOT } from "../helpers/root";

describe("the Pulumi CLI seam", () => {
  it("takes install.sh's own error line out of the SDK's CommandError", () => {
    // A real failed install, offline: install.sh's curl progress and retries, then its own red "error:" line.
    const { message } = JSON.parse(readFileSync(join(ROOT, "test/fixtures/pulumi/install-sh-offline.json"), "utf8")) as { message: string };
    expect(failureReason(new Error(message))).toBe("error: failed to download https://github.com/pulumi/pulumi/releases/download/v3.248.0/");
  });

  it("falls back to the error's first line, without the CommandError's code line", () => {
    expect(failureReason(new Error("Timed out downloading https://get.pulumi.com/install.sh"))).toBe(
      "Timed out downloading https://get.pulumi.com/install.sh",
    );
    // execa's message when the program itself is missing (execa 5.1.1 lib/error.js: "failed with ENOENT", then
    // the spawn error), inside the SDK's CommandError.
    const execa = "Command failed with ENOENT: /bin/sh /tmp/tmp-1-x --no-edit-path\nspawn /bin/sh ENOENT";
    expect(failureReason(new Error(`code: -2\n stdout: \n stderr: ${execa}\n err?: Error: ${execa}\n`))).toBe(
      "Command failed with ENOENT: /bin/sh /tmp/tmp-1-x --no-edit-path",
    );
  });

  it("shows the installed CLI relative to the project, and any other path whole", () => {
    expect(shownPulumi("/p", "/p/.llmstack/pulumi/bin/pulumi")).toBe(".llmstack/pulumi/bin/pulumi");
    expect(shownPulumi("/p", "/opt/pulumi/bin/pulumi")).toBe("/opt/pulumi/bin/pulumi");
    expect(shownPulumi("/p", "pulumi")).toBe("pulumi");
  });

  it("sends only pulumi calls to the installed CLI, with its folder first on PATH", async () => {
    const io = fakeIo("/p", () => ({ code: 0, stdout: "", stderr: "" }), { PATH: "/usr/bin" });
    const pio = callingPulumi(io, "/p/.llmstack/pulumi/bin/pulumi");
    await pio.exec("pulumi", ["version"]);
    await pio.exec("pulumi", ["up"], { env: {}, passthrough: true });
    await pio.exec("docker", ["ps"]);
    expect(io.calls).toEqual([
      { file: "/p/.llmstack/pulumi/bin/pulumi", args: ["version"], opts: { env: { PATH: "/p/.llmstack/pulumi/bin:/usr/bin" } } },
      { file: "/p/.llmstack/pulumi/bin/pulumi", args: ["up"], opts: { env: { PATH: "/p/.llmstack/pulumi/bin" }, passthrough: true } },
      { file: "docker", args: ["ps"], opts: undefined },
    ]);
    expect(callingPulumi(io, "pulumi")).toBe(io);
  });
});
