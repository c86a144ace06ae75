/**
 * The markdown comment is posted publicly as it is: values a pull request controls must stay inside
 * code spans and fences (./hostile.ts holds the hostile diff). Exact output, then a structural check
 * with CommonMark's rules for fences, code spans and table cells (test/helpers/commonmark.ts).
 */
import { describe, expect, it } from "vitest";
import { codeSpan, fencedBlock, visible } from "../../src/diff/escape";
import { commentMarker, diffMarkdown } from "../../src/diff/markdown";
import { diffText } from "../../src/diff/render";
import { fencedBlocks, linesOutsideFences, tableCells, withoutCodeSpans } from "../helpers/commonmark";
import { hostileDiff, TICKS } from "./hostile";

/** Text that would read as a verdict, a mention or markup if it escaped a code span or fence. */
const PAYLOAD = ["Approved", "@octocat", "<details open", "<summary>@", "<img", "**No changes.**", "# Approved"];

describe("markdown comment with hostile values", () => {
  const md = diffMarkdown(hostileDiff());

  it("renders exactly this", () => {
    expect(md.split("\n")).toEqual([
      "<!-- llmstack-plan-diff:production -->",
      "### Plan diff for stack `production`",
      "",
      "Compared with ````\"main\\n```\\n\\n**No changes.** Approved\\n\\n```\\n@octocat\"````, rendered offline by `llmstack plan --diff`: ````\"main\\n```\\n\\n**No changes.** Approved\\n\\n```\\n@octocat\"```` was rendered by its own program (its code ran), the working tree by this checkout's program.",
      "",
      "**1 to replace, 0 to update in place, 0 to create, 0 to delete, 0 unchanged; volumes: 1 to delete; 1 secret changed or re-encrypted**",
      "",
      "> [!CAUTION]",
      "> - DATA volume ``data`|x`` (`\"vol\\n**Approved**\"`): removed from the program — protected: `pulumi up` will fail on the protected delete; retained: the data stays on the host, orphaned.",
      "> - Secret `\"x\\n**Approved** @octocat\"` changed or was re-encrypted: ``\"svc`\\n# Approved @octocat\"`` get the new value and are replaced if it changed.",
      "",
      "> [!WARNING]",
      "> ``\"svc`\\n# Approved @octocat\"``: restart with downtime: GPU container, frees its GPUs and reloads the model.",
      "",
      "| | Container | Action | Changed fields |",
      "|---|---|---|---|",
      "| -/+ | ``\"svc`\\n# Approved @octocat\"`` | replace (restart with downtime: GPU container, frees its GPUs and reloads the model); takes the changed secret `\"x\\n**Approved** @octocat\"` | `image`, `envs[K]`, `envs[PIPE]`, `envs[TICKS]` |",
      "",
      "| | Volume | What `pulumi up` does |",
      "|---|---|---|",
      "| - | DATA volume ``\"data`\\u007cx\"`` (`\"vol\\n**Approved**\"`) | removed from the program — protected: `pulumi up` will fail on the protected delete; retained: the data stays on the host, orphaned |",
      "",
      "<details><summary>Old → new values</summary>",
      "",
      "Container ``\"svc`\\n# Approved @octocat\"`` (replace)",
      "",
      "```````````text",
      "image: img:1 → \"img:2\\n```\\n\\n**No changes.** Approved\\n\\n```\\n\" (forces replacement)",
      "envs[K]: old → <details open><summary>@octocat LGTM</summary><img src=x onerror=alert(1)> (forces replacement)",
      "envs[PIPE]: added \"a|b \\\\| c\\u202e\" (forces replacement)",
      "envs[TICKS]: ok → ``` ```` ````` `````` ``````` ```````` ````````` `````````` (forces replacement)",
      "```````````",
      "",
      "</details>",
      "",
      "Secret values are never shown. Pulumi encrypts each secret with a fresh random nonce, so a secret re-encrypted with the same value looks like a new value here.",
      "",
    ]);
  });

  it("keeps every injected text inside a code span or the fenced block", () => {
    const lines = md.split("\n");
    const blocks = fencedBlocks(md);
    // One block, opened and closed by the fences the renderer wrote (11 backticks: one more than 10).
    expect(blocks.map((b) => [b.fence, b.close === undefined ? "never closed" : lines[b.close]])).toEqual([
      ["`".repeat(11), "`".repeat(11)],
    ]);
    expect(blocks[0]!.content).toHaveLength(4);
    for (const { line } of linesOutsideFences(md)) {
      const text = withoutCodeSpans(line);
      for (const p of PAYLOAD) expect(text, `outside code: ${JSON.stringify(line)}`).not.toContain(p);
    }
  });

  it("keeps every table row at its header's cell count", () => {
    const rows = md.split("\n").filter((l) => l.startsWith("|"));
    const header = (row: string): boolean => row.startsWith("| |");
    let width = 0;
    for (const row of rows) {
      if (header(row)) width = tableCells(row).length;
      expect(tableCells(row), row).toHaveLength(width);
    }
    expect(rows.filter(header).map((r) => tableCells(r).length)).toEqual([4, 3]);
  });

  it("names the stack in the marker only with the characters a stack name may have", () => {
    expect(commentMarker("production")).toBe("<!-- llmstack-plan-diff:production -->");
    expect(commentMarker("x -->\n<script>")).toBe("<!-- llmstack-plan-diff:x_--___script_ -->");
  });
});

describe("code spans and fences sized to their content", () => {
  it.each([
    ["vllm", false, "`vllm`"],
    ["a`b", false, "``a`b``"],
    ["`x", false, "`` `x ``"],
    ["```", false, "```` ``` ````"],
    [" padded ", false, "`  padded  `"],
    ["", false, '`""`'],
    ["a\nb", false, '`"a\\nb"`'],
    ["x\u202ey", false, '`"x\\u202ey"`'],
    ["a|b", false, "`a|b`"],
    ["a|b", true, '`"a\\u007cb"`'],
    ["a\\|b", true, '`"a\\\\\\u007cb"`'],
  ])("codeSpan(%j, inTable %s) is %s", (value, inTable, expected) => {
    expect(codeSpan(value, inTable)).toBe(expected);
  });

  it.each(TICKS.map((t) => [t.length, t] as const))("a run of %i backticks gets a fence one longer", (n, ticks) => {
    const block = fencedBlock([`before ${ticks} after`, ticks]);
    expect(block).toEqual([`${"`".repeat(n + 1)}text`, `before ${ticks} after`, ticks, "`".repeat(n + 1)]);
    expect(fencedBlocks(block.join("\n"))).toEqual([
      { open: 0, close: 3, fence: "`".repeat(n + 1), content: [`before ${ticks} after`, ticks] },
    ]);
  });

  it("a fence is at least three backticks, and line endings inside a line are escaped", () => {
    expect(fencedBlock(["a `b` c", "x\ny"])).toEqual(["```text", "a `b` c", "x\\u000ay", "```"]);
  });

  it("visible leaves plain text alone and quotes text with invisible characters", () => {
    expect(visible("llm-multimodal-stack-production-vllm")).toBe("llm-multimodal-stack-production-vllm");
    expect(visible("a\u001b[31mred")).toBe('"a\\u001b[31mred"');
    expect(visible("tab\there")).toBe('"tab\\there"');
  });
});

describe("text output with hostile values", () => {
  it("prints every value on its own line, line endings and escapes shown, not obeyed", () => {
    expect(diffText(hostileDiff()).split("\n")).toEqual([
      "stack production: changes since \"main\\n```\\n\\n**No changes.** Approved\\n\\n```\\n@octocat\"",
      "rendered offline: \"main\\n```\\n\\n**No changes.** Approved\\n\\n```\\n@octocat\" was rendered by its own program (its code ran), the working tree by this checkout's program",
      "",
      "-/+ \"svc`\\n# Approved @octocat\"  replace (restart with downtime: GPU container, frees its GPUs and reloads the model); takes the changed secret \"x\\n**Approved** @octocat\"",
      "      image: img:1 → \"img:2\\n```\\n\\n**No changes.** Approved\\n\\n```\\n\" (forces replacement)",
      "      envs[K]: old → <details open><summary>@octocat LGTM</summary><img src=x onerror=alert(1)> (forces replacement)",
      "      envs[PIPE]: added \"a|b \\\\| c\\u202e\" (forces replacement)",
      "      envs[TICKS]: ok → ``` ```` ````` `````` ``````` ```````` ````````` `````````` (forces replacement)",
      "",
      "volumes:",
      "-   DATA volume data`|x (\"vol\\n**Approved**\"): removed from the program — protected: `pulumi up` will fail on the protected delete; retained: the data stays on the host, orphaned",
      "",
      "secrets (values never shown):",
      "~   secret \"x\\n**Approved** @octocat\" changed or was re-encrypted: \"svc`\\n# Approved @octocat\" get the new value and are replaced if it changed",
      "",
      "1 to replace, 0 to update in place, 0 to create, 0 to delete, 0 unchanged; volumes: 1 to delete; 1 secret changed or re-encrypted",
      "",
    ]);
  });
});
