import { chmodSync, cpSync, mkdtempSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { generateSecret } from "../../src/cli/secrets";
import { main } from "../../src/cli/main";
import { fakeIo } from "../helpers/fakeIo";
import { ROOT } from "../helpers/root";

function project(): string {
  const dir = mkdtempSync(join(tmpdir(), "llmstack-secrets-"));
  for (const f of ["Pulumi.yaml", "Pulumi.production.yaml"]) cpSync(join(ROOT, f), join(dir, f));
  return dir;
}

describe("llmstack secrets init", () => {
  it("stores each missing secret through stdin with pulumi config set --secret", async () => {
    const dir = project();
    const io = fakeIo(dir, () => ({ code: 0, stdout: "", stderr: "" }));
    expect(await main(["secrets", "init", "--stack", "production"], io)).toBe(0);
    const sets = io.calls.filter((c) => c.args[0] === "config");
    expect(sets.map((c) => c.args)).toEqual(
      ["postgresPassword", "redisPassword", "qdrantApiKey", "objectStoreSecretKey", "litellmMasterKey", "litellmSaltKey", "vllmApiKey", "grafanaAdminPassword"].map(
        (n) => ["config", "set", "--secret", "--stack", "production", `llmstack:${n}`],
      ),
    );
    for (const c of sets) expect(c.opts?.input).toMatch(c.args[5] === "llmstack:litellmMasterKey" ? /^sk-[0-9a-f]{48}$/ : /^[0-9a-f]{48}$/);
    expect(new Set(sets.map((c) => c.opts?.input)).size).toBe(8);
  });

  it("says what protects the values: the secrets provider, or nothing with an empty passphrase", async () => {
    const dir = project();
    const io = fakeIo(dir, () => ({ code: 0, stdout: "", stderr: "" }), { PULUMI_CONFIG_PASSPHRASE: "a long passphrase" });
    expect(await main(["secrets", "init", "--stack", "production"], io)).toBe(0);
    expect(io.out().split("\n").at(-2)).toBe(
      "Commit Pulumi.production.yaml: the values are encrypted by the stack's secrets provider, so only someone with its " +
        "passphrase or key can read them; keep that safe.",
    );
    const open = project();
    chmodSync(join(open, "Pulumi.production.yaml"), 0o644);
    const empty = fakeIo(open, () => ({ code: 0, stdout: "", stderr: "" }), { PULUMI_CONFIG_PASSPHRASE: "" });
    expect(await main(["secrets", "init", "--stack", "production"], empty)).toBe(0);
    expect(empty.out().split("\n").at(-2)).toBe(
      "Pulumi.production.yaml holds the secrets encrypted with an empty passphrase: anyone who can read the file can read them. " +
        "It is now readable only by you (mode 600); do not commit it or copy it where others can read it.",
    );
    expect(statSync(join(open, "Pulumi.production.yaml")).mode & 0o777).toBe(0o600);
  });

  it("never replaces a secret the stack file already has", async () => {
    const dir = project();
    writeFileSync(
      join(dir, "Pulumi.production.yaml"),
      `${readFileSync(join(dir, "Pulumi.production.yaml"), "utf8")}  llmstack:postgresPassword:\n    secure: v1:abc\n`,
    );
    const io = fakeIo(dir, () => ({ code: 0, stdout: "", stderr: "" }));
    expect(await main(["secrets", "init", "--stack", "production"], io)).toBe(0);
    expect(io.calls.map((c) => c.args[5]).filter(Boolean)).not.toContain("llmstack:postgresPassword");
    expect(io.calls.filter((c) => c.args[0] === "config")).toHaveLength(7);
  });

  it("stores development's credentials too, so they outlive a destroy like its data volumes", async () => {
    const dir = mkdtempSync(join(tmpdir(), "llmstack-secrets-"));
    for (const f of ["Pulumi.yaml", "Pulumi.development.yaml"]) cpSync(join(ROOT, f), join(dir, f));
    const io = fakeIo(dir, () => ({ code: 0, stdout: "", stderr: "" }));
    expect(await main(["secrets", "init", "--stack", "development"], io)).toBe(0);
    expect(io.calls.filter((c) => c.args[0] === "config").map((c) => c.args[5])).toEqual(
      ["postgresPassword", "redisPassword", "qdrantApiKey", "objectStoreSecretKey", "litellmMasterKey", "litellmSaltKey", "vllmApiKey"].map(
        (n) => `llmstack:${n}`,
      ),
    );
  });

  it("says how to install Pulumi when it is missing", async () => {
    const io = fakeIo(project());
    expect(await main(["secrets", "init", "--stack", "production"], io)).toBe(1);
    expect(io.err()).toBe(
      "llmstack secrets: secrets init stores the secrets with the Pulumi CLI, which is not installed: install it " +
        "(https://www.pulumi.com/docs/iac/download-install/), open a new shell and run this again; " +
        'run "curl -fsSL https://get.pulumi.com | sh"\n',
    );
  });

  it("generates hex secrets and an sk- master key", () => {
    const bytes = Buffer.from("00ff".repeat(12), "hex");
    expect(generateSecret("postgresPassword", bytes)).toBe("00ff".repeat(12));
    expect(generateSecret("litellmMasterKey", bytes)).toBe(`sk-${"00ff".repeat(12)}`);
  });
});
