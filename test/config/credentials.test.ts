/**
 * A credential in a stack file must be encrypted (`secure:`): in plain text anyone who can read the file,
 * the repository or a fork has it. The offline render, the CLI and the program (`pulumi up`, where Pulumi
 * hands every value decrypted and only its list of secret keys tells them apart) all refuse it.
 */
import { cpSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { main } from "../../src/cli/main";
import { StackConfigError } from "../../src/config/errors";
import { fromEntries, readStack } from "../../src/config/stackFile";
import { fakeIo } from "../helpers/fakeIo";
import { ROOT, runProgram, TEST_SECRETS } from "../helpers/pulumiMocks";

function project(stack: string, extra: string, projectExtra = ""): string {
  const dir = mkdtempSync(join(tmpdir(), "llmstack-cred-"));
  cpSync(join(ROOT, "Pulumi.yaml"), join(dir, "Pulumi.yaml"));
  if (projectExtra) writeFileSync(join(dir, "Pulumi.yaml"), `${readFileSync(join(dir, "Pulumi.yaml"), "utf8")}${projectExtra}`);
  writeFileSync(join(dir, `Pulumi.${stack}.yaml`), `${readFileSync(join(ROOT, `Pulumi.${stack}.yaml`), "utf8")}${extra}`);
  return dir;
}

const REDIS_FIX =
  "  - llmstack:redisPassword: store it encrypted (pulumi asks for the value), or delete the line and generate a new " +
  'one with "npx llmstack secrets init --stack staging"; run "pulumi config set --secret llmstack:redisPassword --stack staging"';

describe("a credential in plain text in a stack file", () => {
  it("is refused by the offline reader, with the file, the key and the command that fixes it", () => {
    const dir = project("staging", "  llmstack:redisPassword: hunter2\n");
    expect(() => readStack(dir, "staging")).toThrow(StackConfigError);
    expect(() => readStack(dir, "staging")).toThrow(
      "Pulumi.staging.yaml: a credential is stored in plain text, where anyone who can read the file has it; " +
        `store it encrypted:\n${REDIS_FIX}`,
    );
  });

  it("lists every plain credential at once; one that cannot be generated gets only the pulumi command", () => {
    const dir = project(
      "production",
      "  llmstack:hfToken: hf_abc\n  llmstack:litellmMasterKey: sk-1\n  llmstack:postgresPassword:\n    secure: v1:abc\n",
    );
    expect(() => readStack(dir, "production")).toThrow(
      "Pulumi.production.yaml: credentials are stored in plain text, where anyone who can read the file has them; " +
        "store each encrypted:\n" +
        "  - llmstack:hfToken: store it encrypted (pulumi asks for the value); " +
        'run "pulumi config set --secret llmstack:hfToken --stack production"\n' +
        "  - llmstack:litellmMasterKey: store it encrypted (pulumi asks for the value), or delete the line and generate " +
        'a new one with "npx llmstack secrets init --stack production"; ' +
        'run "pulumi config set --secret llmstack:litellmMasterKey --stack production"',
    );
  });

  it("is refused in Pulumi.yaml's project defaults, which Pulumi cannot encrypt", () => {
    const dir = project("development", "", "  llmstack:vllmApiKey:\n    value: abc123\n");
    expect(() => readStack(dir, "development")).toThrow(
      "Pulumi.yaml: a credential is stored in plain text, where anyone who can read the file has it; store it encrypted:\n" +
        "  - llmstack:vllmApiKey: remove it from Pulumi.yaml (project defaults cannot be encrypted) and store it " +
        "encrypted in the stack file (pulumi asks for the value); " +
        'run "pulumi config set --secret llmstack:vllmApiKey --stack development"',
    );
  });

  it("makes `llmstack plan` exit 1 with the same message, printing nothing else", async () => {
    const io = fakeIo(project("staging", "  llmstack:redisPassword: hunter2\n"));
    expect(await main(["plan", "--stack", "staging"], io)).toBe(1);
    expect(io.out()).toBe("");
    expect(io.err()).toBe(
      "llmstack plan: Pulumi.staging.yaml: a credential is stored in plain text, where anyone who can read the " +
        `file has it; store it encrypted:\n${REDIS_FIX}\n`,
    );
  });

  it("is accepted once encrypted, and counted as present", () => {
    const raw = readStack(project("staging", "  llmstack:redisPassword:\n    secure: v1:abc\n"), "staging");
    expect([...raw.secretsPresent]).toEqual(["redisPassword"]);
    expect(raw.values.redisPassword).toBeUndefined();
  });

  it("an empty value is no credential and is left alone", () => {
    const raw = readStack(project("development", '  llmstack:hfToken: ""\n'), "development");
    expect([...raw.secretsPresent]).toEqual([]);
  });
});

describe("under Pulumi, which hands the program decrypted values", () => {
  it("tells plain from encrypted by the stack's secret keys", () => {
    const entries = { "llmstack:environment": "development", "llmstack:redisPassword": "hunter2", "llmstack:vllmApiKey": "x" };
    const secretKeys = new Set(["llmstack:vllmApiKey"]);
    expect(() => fromEntries("p", "dev", "Pulumi.dev.yaml", {}, entries, (k) => secretKeys.has(k))).toThrow(
      "Pulumi.dev.yaml: a credential is stored in plain text, where anyone who can read the file has it; store it encrypted:\n" +
        "  - llmstack:redisPassword: store it encrypted (pulumi asks for the value), or delete the line and generate a new one " +
        'with "npx llmstack secrets init --stack dev"; run "pulumi config set --secret llmstack:redisPassword --stack dev"',
    );
    secretKeys.add("llmstack:redisPassword");
    const raw = fromEntries("p", "dev", "Pulumi.dev.yaml", {}, entries, (k) => secretKeys.has(k));
    expect([...raw.secretsPresent].sort()).toEqual(["redisPassword", "vllmApiKey"]);
  });

  it("the program refuses a plain credential before registering anything", async () => {
    const { redisPassword: _plain, ...encrypted } = TEST_SECRETS;
    const run = await runProgram("staging", { "llmstack:redisPassword": "hunter2" }, encrypted);
    expect(run.error).toBeInstanceOf(StackConfigError);
    expect(run.error!.message).toBe(
      "Pulumi.staging.yaml: a credential is stored in plain text, where anyone who can read the file has it; " +
        `store it encrypted:\n${REDIS_FIX}`,
    );
    expect(run.registrations).toEqual([]);
  });
});
