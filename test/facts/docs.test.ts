import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { DOC_PATH, imageFactsTable, providerRulesTable, regenerate } from "../../src/facts/docs";
import { allImageFacts } from "../../src/facts/images";

describe("docs/images.md", () => {
  const doc = readFileSync(DOC_PATH, "utf8");

  it("shows the image records and provider rules as src/facts has them (regenerate: npx tsx src/facts/docs.ts)", () => {
    expect(doc).toBe(regenerate(doc));
    expect(doc).toContain(imageFactsTable());
    expect(doc).toContain(providerRulesTable());
  });

  it("has one row per recorded image, with its user", () => {
    for (const f of allImageFacts()) {
      expect(doc).toContain(`| \`${f.ref}\` | ${f.user.name} (${f.user.uid}:${f.user.gid}):`);
    }
  });
});
