/**
 * The stack output lastGoodConfig under Pulumi mocks: what an update records, and that the stack file
 * rollback writes from a record makes the program deploy exactly that config and plan again.
 */
import { cpSync, mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { writeLastGood } from "../../src/cli/lastGood";
import { parseStackConfig } from "../../src/config/parse";
import { configSha256, planSha256, type LastGoodConfig } from "../../src/plan/lastGood";
import { runProgram, TEST_SECRETS } from "../helpers/pulumiMocks";
import { ROOT } from "../helpers/root";
import { planFromValues, rawValues } from "../helpers/stacks";

const FILE = "Pulumi.development.yaml";

function project(): string {
  const dir = mkdtempSync(join(tmpdir(), "llmstack-lastgood-"));
  for (const f of ["Pulumi.yaml", FILE]) cpSync(join(ROOT, f), join(dir, f));
  return dir;
}

describe("the stack output lastGoodConfig", () => {
  it("records the plain config as the program read it, the credentials by name only, and the config and plan hashes", async () => {
    const run = await runProgram("development");
    expect(run.error).toBeUndefined();
    const values = rawValues("development");
    const secrets = Object.keys(TEST_SECRETS).sort();
    const plan = planFromValues(values, "development", new Set(secrets));
    expect(run.outputs.lastGoodConfig).toEqual({
      version: 1,
      stack: "development",
      revision: { configSha256: configSha256(parseStackConfig(values, FILE)), stackFile: FILE },
      planSha256: planSha256(plan),
      config: values,
      secrets,
    });
    // No credential's value is in it.
    const text = JSON.stringify(run.outputs.lastGoodConfig);
    for (const value of Object.values(TEST_SECRETS)) expect(text).not.toContain(value);
  });

  it("rollback's stack file makes the program deploy the recorded config and plan again", async () => {
    // The last good update ran vLLM at 0.7 of each GPU; the stack file now says 0.8 (the checked-in value).
    const gpu = { ...(rawValues("development").gpu as Record<string, unknown>), memoryUtilization: 0.7 };
    const good = await runProgram("development", { "llmstack:gpu": gpu });
    expect(good.error).toBeUndefined();
    const record = good.outputs.lastGoodConfig as LastGoodConfig;
    expect((record.config.gpu as { memoryUtilization: number }).memoryUtilization).toBe(0.7);

    const files = writeLastGood(project(), record);
    const again = await runProgram("development", {}, TEST_SECRETS, false, files.dir);
    expect(again.error).toBeUndefined();
    const reapplied = again.outputs.lastGoodConfig as LastGoodConfig;
    expect(reapplied.config).toEqual(record.config);
    expect(reapplied.revision.configSha256).toBe(record.revision.configSha256);
    expect(reapplied.planSha256).toBe(record.planSha256);
    // The same vLLM container, argument for argument.
    const vllm = (run: typeof good) => run.byName("development-vllm-container").inputs.command;
    expect(vllm(again)).toEqual(vllm(good));
    expect(vllm(again)).toEqual(expect.arrayContaining(["--gpu-memory-utilization", "0.7"]));
  });
});
