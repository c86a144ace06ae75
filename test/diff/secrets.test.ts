/**
 * A secret whose stack-file ciphertext changed shows in the diff ("changed or was re-encrypted"), with
 * the containers that take it, and neither value is ever printed.
 */
import { randomBytes } from "node:crypto";
import { describe, expect, it } from "vitest";
import { diffPlans } from "../../src/diff/compute";
import { diffMarkdown } from "../../src/diff/markdown";
import { diffJson, diffText } from "../../src/diff/render";
import { diffSecrets, readStackSecrets, secretUsers } from "../../src/diff/secrets";
import type { PlanDoc } from "../../src/diff/types";
import { planJson } from "../../src/plan/render";
import { pulumiCiphertext } from "../helpers/pulumiSecrets";
import { planFromValues, rawValues, withAppImages } from "../helpers/stacks";

const KEY = randomBytes(32);

function stackFile(secrets: Record<string, string>, salt = "v1:c2FsdHNhbHQ=:v1:AAAA:BBBB"): string {
  return [
    `encryptionsalt: ${salt}`,
    "config:",
    "  llmstack:environment: production",
    ...Object.entries(secrets).map(([k, v]) => `  llmstack:${k}:\n    secure: ${v}`),
    "",
  ].join("\n");
}

/** Production with your worker and retrieval proxy images: every container that takes the stores' secrets. */
const production = planFromValues(withAppImages(rawValues("production")));
const users = secretUsers(production);
const PG_USERS = ["postgres", "litellm", "multimodal-worker", "retrieval-proxy"];

describe("secrets compared by their stack-file ciphertexts", () => {
  const pg = pulumiCiphertext("correct horse", KEY);
  const redis = pulumiCiphertext("battery staple", KEY);

  it("the same password re-encrypted (a fresh nonce) is reported, with every container that takes it", () => {
    const again = pulumiCiphertext("correct horse", KEY);
    expect(again).not.toBe(pg);
    const r = diffSecrets(
      readStackSecrets(stackFile({ postgresPassword: pg, redisPassword: redis }), "a"),
      readStackSecrets(stackFile({ postgresPassword: again, redisPassword: redis }), "b"),
      users,
    );
    expect(r).toEqual({
      secrets: [{ name: "postgresPassword", change: "changed", usedBy: PG_USERS }],
      encryptionChanged: false,
    });
  });

  it("added, removed, nested under another key, plain-text credentials; identical files: nothing", () => {
    const before = readStackSecrets(
      [
        "config:",
        `  llmstack:postgresPassword:\n    secure: ${pg}`,
        "  llmstack:redisPassword: hunter2",
        `  llmstack:monitoring:\n    enabled: true\n    receiver:\n      url:\n        secure: ${pulumiCiphertext("https://hooks.example/1", KEY)}`,
        "",
      ].join("\n"),
      "a",
    );
    const after = readStackSecrets(
      [
        "config:",
        "  llmstack:redisPassword: hunter3",
        `  llmstack:qdrantApiKey:\n    secure: ${redis}`,
        `  llmstack:monitoring:\n    enabled: true\n    receiver:\n      url:\n        secure: ${pulumiCiphertext("https://hooks.example/1", KEY)}`,
        "",
      ].join("\n"),
      "b",
    );
    expect(diffSecrets(before, after, users).secrets).toEqual([
      { name: "monitoring.receiver.url", change: "changed", usedBy: [] },
      { name: "postgresPassword", change: "removed", usedBy: PG_USERS },
      { name: "qdrantApiKey", change: "added", usedBy: ["qdrant", "multimodal-worker", "retrieval-proxy"] },
      { name: "redisPassword", change: "changed", usedBy: ["redis", "multimodal-worker", "retrieval-proxy"] },
    ]);
    expect(diffSecrets(before, before, users)).toEqual({ secrets: [], encryptionChanged: false });
  });

  it("a new passphrase salt is reported: every secret was re-encrypted", () => {
    const r = diffSecrets(
      readStackSecrets(stackFile({ postgresPassword: pg }, "v1:AAAA"), "a"),
      readStackSecrets(stackFile({ postgresPassword: pulumiCiphertext("correct horse", KEY) }, "v1:BBBB"), "b"),
      users,
    );
    expect(r.encryptionChanged).toBe(true);
    expect(r.secrets.map((s) => s.name)).toEqual(["postgresPassword"]);
  });

  it("a stack file that is not YAML is named in the error", () => {
    expect(() => readStackSecrets("config: [", "Pulumi.production.yaml at main")).toThrow(
      /^Pulumi\.production\.yaml at main: not valid YAML: /,
    );
    expect(readStackSecrets(null, "x")).toBeNull();
  });
});

describe("a changed secret in the rendered diff", () => {
  const plan = planJson(production) as unknown as PlanDoc;
  const oldCipher = pulumiCiphertext("correct horse", KEY);
  const newCipher = pulumiCiphertext("correct horse battery", KEY);
  const { secrets, encryptionChanged } = diffSecrets(
    readStackSecrets(stackFile({ postgresPassword: oldCipher }), "a"),
    readStackSecrets(stackFile({ postgresPassword: newCipher }), "b"),
    users,
  );
  const d = diffPlans({ stack: "production", base: "main", before: plan, after: plan, secrets, encryptionChanged });

  it("is a change: the plans are identical, the secret is not", () => {
    expect(d.changed).toBe(true);
    expect(d.counts.unchanged).toBe(plan.containers.length);
    expect(d.containers.filter((c) => c.secrets.length > 0).map((c) => [c.service, c.action, c.secrets])).toEqual(
      PG_USERS.map((s) => [s, "unchanged", ["postgresPassword"]]),
    );
  });

  it("text: the secret line, the containers it may replace, the summary", () => {
    const lines = diffText(d).split("\n");
    expect(lines.filter((l) => l.includes("postgresPassword"))).toEqual([
      "?   postgres           replaced if the value of secret postgresPassword changed (a re-encryption alone changes nothing)",
      "?   litellm            replaced if the value of secret postgresPassword changed (a re-encryption alone changes nothing)",
      "?   multimodal-worker  replaced if the value of secret postgresPassword changed (a re-encryption alone changes nothing)",
      "?   retrieval-proxy    replaced if the value of secret postgresPassword changed (a re-encryption alone changes nothing)",
      "~   secret postgresPassword changed or was re-encrypted: postgres, litellm, multimodal-worker, retrieval-proxy " +
        "get the new value and are replaced if it changed",
    ]);
    expect(lines.at(-2)).toBe(
      `0 to replace, 0 to update in place, 0 to create, 0 to delete, ${plan.containers.length} unchanged; ` +
        "1 secret changed or re-encrypted",
    );
  });

  it("markdown: a caution and the table rows", () => {
    const md = diffMarkdown(d);
    expect(md).toContain(
      "> [!CAUTION]\n> - Secret `postgresPassword` changed or was re-encrypted: `postgres`, `litellm`, `multimodal-worker`, " +
        "`retrieval-proxy` get the new value and are replaced if it changed.\n",
    );
    expect(md).toContain(
      "| ? | `postgres` | replaced if the value of secret `postgresPassword` changed (a re-encryption alone changes nothing) | - |",
    );
    expect(md).not.toContain("**No changes.**");
  });

  it("JSON: the change and its users, never a value", () => {
    const json = JSON.parse(diffJson(d)) as typeof d;
    expect(json.secrets).toEqual([{ name: "postgresPassword", change: "changed", usedBy: PG_USERS }]);
    for (const out of [diffJson(d), diffText(d), diffMarkdown(d)]) {
      for (const cipher of [oldCipher, newCipher]) {
        expect(out).not.toContain(cipher);
        expect(out).not.toContain(cipher.split(":")[2]!);
      }
      expect(out).not.toContain("correct horse");
    }
  });
});
