/** The last good record: which revision it keeps, how it is read back, and the stack file rollback writes. */
import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import { withPlainValues } from "../../src/config/plainValues";
import { parseStackConfig } from "../../src/config/parse";
import { configSha256, lastGoodRecord, parseLastGood, revisionName } from "../../src/plan/lastGood";
import { planFromValues, rawValues } from "../helpers/stacks";

const FILE = "Pulumi.development.yaml";
const COMMIT = "0123456789abcdef0123456789abcdef01234567";

function recordWith(hint: unknown) {
  const values = rawValues("development");
  return lastGoodRecord({
    plan: planFromValues(values, "development"),
    config: parseStackConfig(values, FILE),
    values,
    secretsPresent: new Set(["postgresPassword", "hfToken"]),
    revisionHint: JSON.stringify(hint),
  });
}

describe("lastGoodRecord", () => {
  const configHash = configSha256(parseStackConfig(rawValues("development"), FILE));

  it("keeps the stack file hash and commit that up hands over when they describe this config", () => {
    const hint = { configSha256: configHash, stackFile: FILE, stackFileSha256: "b".repeat(64), commit: COMMIT };
    expect(recordWith(hint).revision).toEqual(hint);
    expect(revisionName(recordWith(hint).revision)).toBe("commit 0123456789ab");
    expect(recordWith(hint).secrets).toEqual(["hfToken", "postgresPassword"]);
  });

  it("drops a hint made for another config or another file: it cannot vouch for this one", () => {
    const other = { configSha256: "c".repeat(64), stackFile: FILE, commit: COMMIT };
    expect(recordWith(other).revision).toEqual({ configSha256: configHash, stackFile: FILE });
    expect(recordWith({ ...other, configSha256: configHash, stackFile: "Pulumi.staging.yaml" }).revision).toEqual({ configSha256: configHash, stackFile: FILE });
    expect(revisionName(recordWith(other).revision)).toBe(`config sha256 ${configHash.slice(0, 12)}`);
  });

  it("reads back what it wrote, and refuses anything else with what is wrong", () => {
    const rec = recordWith(null);
    expect(parseLastGood(JSON.parse(JSON.stringify(rec)))).toEqual(rec);
    expect(() => parseLastGood({ ...rec, version: 2 })).toThrow(/version/);
    expect(() => parseLastGood("[secret]")).toThrow();
  });
});

describe("withPlainValues", () => {
  it("replaces the plain llmstack: values and keeps credentials, encryption settings and other namespaces", () => {
    const text =
      "encryptionsalt: v1:abc\nconfig:\n  # the host\n  llmstack:dockerHost: unix:///var/run/docker.sock\n" +
      "  llmstack:newKey: 1\n  llmstack:postgresPassword:\n    secure: v1:xyz\n  docker:host: x\n";
    const out = parse(withPlainValues(text, FILE, { dockerHost: "ssh://gpu@box", gpu: { mode: "cpu" } })) as Record<string, unknown>;
    expect(out).toEqual({
      encryptionsalt: "v1:abc",
      config: {
        "llmstack:postgresPassword": { secure: "v1:xyz" },
        "docker:host": "x",
        "llmstack:dockerHost": "ssh://gpu@box",
        "llmstack:gpu": { mode: "cpu" },
      },
    });
  });

  it("writes a config: section into a file without one", () => {
    expect(parse(withPlainValues("", FILE, { environment: "development" }))).toEqual({ config: { "llmstack:environment": "development" } });
  });
});
