/**
 * Which secrets are missing is decided once, by the planner (`isMissing`, `missingSecrets` in
 * src/plan/stack.ts). The plan table, `plan --json` and the deploy gate ask it instead of restating the
 * rule: with the rule replaced here, all three follow it.
 */
import type * as pulumi from "@pulumi/pulumi";
import { describe, expect, it, vi } from "vitest";
import { resolveSecrets } from "../../src/deploy/secrets";
import { planJson, planTable } from "../../src/plan/render";
import type { SecretSpec } from "../../src/plan/types";
import { planOf } from "../helpers/stacks";

// Hoisted above the imports by vitest: every module above sees the replaced rule.
vi.mock("../../src/plan/stack", async (importOriginal) => {
  const real = await importOriginal<typeof import("../../src/plan/stack")>();
  return {
    ...real,
    isMissing: (s: SecretSpec) => s.name === "hfToken",
    missingSecrets: () => ["hfToken"],
  };
});

describe("the missing-secrets rule has one home", () => {
  // Development generates every secret it lacks and hfToken is optional: by the real rule nothing is missing.
  const plan = planOf("development");

  it("the plan table lists what the rule says is missing", () => {
    expect(planTable(plan).split("\n")).toContain(
      "secrets missing: hfToken; run: npx llmstack secrets init --stack development",
    );
  });

  it("plan --json marks it missing", () => {
    const secrets = planJson(plan).secrets as { name: string; status: string }[];
    expect(secrets.find((s) => s.name === "hfToken")?.status).toBe("missing");
    expect(secrets.find((s) => s.name === "redisPassword")?.status).toBe("generated");
  });

  it("the deploy layer refuses it before it resolves any secret", () => {
    expect(() => resolveSecrets(plan, () => undefined as never, {} as pulumi.Resource)).toThrow(
      "Pulumi.development.yaml: the stack needs these secrets, which the stack file does not have: llmstack:hfToken.",
    );
  });
});
