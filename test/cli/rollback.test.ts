/**
 * `llmstack rollback` with a fake Pulumi CLI: it reads the record, shows the plan --diff to it, asks, and
 * deploys a stack file of its own with `pulumi up --config-file`, leaving the user's stack file as it is.
 */
import { cpSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import { rollbackDir } from "../../src/cli/lastGood";
import { main } from "../../src/cli/main";
import { rollbackCommand, type Confirm } from "../../src/cli/rollback";
import { parseStackConfig } from "../../src/config/parse";
import type { ExecResult } from "../../src/exec";
import { configSha256, LAST_GOOD_ENV, lastGoodRecord, REVISION_ENV, type LastGoodConfig } from "../../src/plan/lastGood";
import { fakeIo, type ExecCall } from "../helpers/fakeIo";
import { ROOT } from "../helpers/root";
import { planFromValues, rawValues } from "../helpers/stacks";

const FILE = "Pulumi.development.yaml";
const COMMIT = "0123456789abcdef0123456789abcdef01234567";
const SECURE = "v1:c2VjcmV0LWNpcGhlcnRleHQ=";

/** A project whose development stack file has an encrypted hfToken and its passphrase salt. */
function project(): string {
  const dir = mkdtempSync(join(tmpdir(), "llmstack-rollback-"));
  cpSync(join(ROOT, "Pulumi.yaml"), join(dir, "Pulumi.yaml"));
  const text = readFileSync(join(ROOT, FILE), "utf8");
  writeFileSync(join(dir, FILE), `encryptionsalt: v1:c2FsdA==:v1:aXY=:Y2lwaGVy\n${text}  llmstack:hfToken:\n    secure: ${SECURE}\n`);
  return dir;
}

/** The record of an update that ran vLLM at 0.7 of each GPU (the stack file now says 0.8). */
function record(): LastGoodConfig {
  const values = rawValues("development");
  (values.gpu as Record<string, unknown>).memoryUtilization = 0.7;
  const config = parseStackConfig(values, FILE);
  return lastGoodRecord({
    plan: planFromValues(values, "development", new Set(["hfToken"])),
    config,
    values,
    secretsPresent: new Set(["hfToken"]),
    revisionHint: JSON.stringify({ configSha256: configSha256(config), stackFile: FILE, stackFileSha256: "a".repeat(64), commit: COMMIT }),
  });
}

const ok = (stdout = ""): ExecResult => ({ code: 0, stdout, stderr: "" });

function pulumi(output: ExecResult, up: ExecResult = ok()) {
  return (c: ExecCall): ExecResult => {
    if (c.file !== "pulumi") return { code: 127, stdout: "", stderr: "not found" };
    if (c.args[0] === "stack") return output;
    if (c.args[0] === "up") return up;
    return ok("v3.248.0\n");
  };
}

const yes: Confirm = async () => true;

describe("llmstack rollback", () => {
  it("shows the diff to the last good config, then deploys it from its own stack file with the recorded revision", async () => {
    const dir = project();
    const before = readFileSync(join(dir, FILE), "utf8");
    const rec = record();
    const io = fakeIo(dir, pulumi(ok(JSON.stringify(rec))), { PATH: "/usr/bin" });
    let asked = "";
    expect(await rollbackCommand(["--stack", "development"], io, async (q) => ((asked = q), true))).toBe(0);

    expect(io.calls.filter((c) => c.args[0] === "stack")).toEqual([
      { file: "pulumi", args: ["stack", "output", "lastGoodConfig", "--stack", "development", "--json"], opts: { cwd: dir } },
    ]);
    const out = io.out();
    expect(out).toContain("stack development: changes from Pulumi.development.yaml to the last good config (commit 0123456789ab)\n");
    expect(out).toContain("      command --gpu-memory-utilization: 0.8 → 0.7 (forces replacement)\n");
    expect(asked).toBe("Deploy the last good config of stack development (commit 0123456789ab) with pulumi up? [y/N] ");

    const deployed = join(rollbackDir(dir, "development"), FILE);
    expect(io.calls.filter((c) => c.args[0] === "up")).toEqual([
      {
        file: "pulumi",
        args: ["up", "--stack", "development", "--config-file", deployed, "--yes"],
        opts: { cwd: dir, passthrough: true, env: { PATH: "/usr/bin", [REVISION_ENV]: JSON.stringify(rec.revision), [LAST_GOOD_ENV]: JSON.stringify(rec) } },
      },
    ]);
    // The stack file deployed: the recorded plain values, the user's credential and salt as they were.
    const doc = parse(readFileSync(deployed, "utf8")) as { encryptionsalt: string; config: Record<string, unknown> };
    expect(doc.encryptionsalt).toBe("v1:c2FsdA==:v1:aXY=:Y2lwaGVy");
    expect(doc.config["llmstack:hfToken"]).toEqual({ secure: SECURE });
    const plain = Object.fromEntries(
      Object.entries(doc.config).filter(([k]) => k !== "llmstack:hfToken").map(([k, v]) => [k.replace(/^llmstack:/, ""), v]),
    );
    expect(plain).toEqual(rec.config);
    // The user's file is untouched, and the command says how to bring it in line.
    expect(readFileSync(join(dir, FILE), "utf8")).toBe(before);
    expect(out.endsWith(
      "Rolled back stack development to commit 0123456789ab.\n" +
        "Pulumi.development.yaml still holds the config that failed, so the next llmstack up deploys that again; bring " +
        `it back in line: take it from the commit that deployed it; run "git checkout ${COMMIT} -- Pulumi.development.yaml"\n`,
    )).toBe(true);
  });

  it("without a commit in the record, says to copy the deployed file over the stack file", async () => {
    const dir = project();
    const rec = { ...record(), revision: { configSha256: record().revision.configSha256, stackFile: FILE } };
    const io = fakeIo(dir, pulumi(ok(JSON.stringify(rec))));
    expect(await rollbackCommand(["--stack", "development", "--yes"], io, async () => null)).toBe(0);
    expect(io.out()).toContain(
      `bring it back in line: copy the deployed one over it (that drops its comments); run "cp .llmstack/rollback/development/${FILE} ${FILE}"\n`,
    );
  });

  it("refuses without a terminal to ask on unless --yes is given, and deploys nothing", async () => {
    const io = fakeIo(project(), pulumi(ok(JSON.stringify(record()))));
    await expect(rollbackCommand(["--stack", "development"], io, async () => null)).rejects.toThrow(
      "rollback asks before it deploys, and there is no terminal to ask on; review the diff above and confirm with --yes",
    );
    expect(io.calls.some((c) => c.args[0] === "up")).toBe(false);
  });

  it("deploys nothing when the answer is no", async () => {
    const io = fakeIo(project(), pulumi(ok(JSON.stringify(record()))));
    expect(await rollbackCommand(["--stack", "development"], io, async () => false)).toBe(1);
    expect(io.err()).toBe(
      `rollback: not confirmed, nothing was deployed; the last good config is in .llmstack/rollback/development/${FILE}\n`,
    );
    expect(io.calls.some((c) => c.args[0] === "up")).toBe(false);
  });

  it("says when the rollback's pulumi up fails, ending with rollback again", async () => {
    const dir = project();
    const io = fakeIo(dir, pulumi(ok(JSON.stringify(record())), { code: 255, stdout: "", stderr: "" }));
    expect(await rollbackCommand(["--stack", "development"], io, yes)).toBe(1);
    expect(io.err()).toBe(
      `rollback: pulumi up --stack development --config-file .llmstack/rollback/development/${FILE} failed (exit 255); ` +
        'fix what its output above says; run "llmstack rollback --stack development"\n',
    );
  });

  it("is listed by llmstack --help", async () => {
    const io = fakeIo(ROOT);
    expect(await main(["--help"], io)).toBe(0);
    expect(io.out()).toContain("rollback ");
  });
});
