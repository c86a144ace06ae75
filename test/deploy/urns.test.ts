/**
 * Resource identities (type token and name; Pulumi derives each URN from them and the parent's) are
 * pinned per stack. A rename, a new type token or a moved parent replaces the resource in `pulumi up`,
 * and a protected production volume then refuses the delete: such a change must carry `aliases`
 * (CONTRIBUTING.md, "Renames") and update the fixture on purpose.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { ROOT, runProgram } from "../helpers/pulumiMocks";
import { STACKS } from "../helpers/stacks";

export const URN_FIXTURES = join(ROOT, "test", "fixtures", "urns");

describe.each(STACKS)("the %s stack's resource identities", (stack) => {
  it("are the pinned ones", async () => {
    const run = await runProgram(stack);
    expect(run.error).toBeUndefined();
    const ids = run.registrations.map((r) => `${r.type}::${r.name}`).sort();
    const pinned = JSON.parse(readFileSync(join(URN_FIXTURES, `${stack}.json`), "utf8")) as string[];
    expect(ids).toEqual(pinned);
  });
});
