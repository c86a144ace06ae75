import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { IMAGES_DOC_FILE, imageFactsTable, providerRulesTable, regenerate } from "../../src/facts/docs";
import { allImageFacts } from "../../src/facts/images";
import { ROOT } from "../helpers/root";

describe("docs/images.md", () => {
  const doc = readFileSync(join(ROOT, IMAGES_DOC_FILE), "utf8");

  it("shows the image records and provider rules as src/facts has them (npm run docs)", () => {
    expect(doc === regenerate(doc), `${IMAGES_DOC_FILE} is stale: run npm run docs`).toBe(true);
    expect(doc).toContain(imageFactsTable());
    expect(doc).toContain(providerRulesTable());
  });

  it("has one row per recorded image, with its user", () => {
    for (const f of allImageFacts()) {
      expect(doc).toContain(`| \`${f.ref}\` | ${f.user.name} (${f.user.uid}:${f.user.gid}):`);
    }
  });
});
