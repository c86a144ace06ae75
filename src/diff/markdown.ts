/**
 * The plan diff as a pull-request comment. A workflow posts it publicly as it is, so every value a
 * pull request controls is shown in a code span or a fenced block sized to it (./escape.ts): no value
 * can close a fence, start a heading, write bold text, open HTML, mention someone or fake a summary.
 * Only this file's own words are markdown.
 */
import { codeSpan, fencedBlock } from "./escape";
import {
  actionText,
  containerSymbol,
  DOWNTIME_NOTE,
  ENCRYPTION_NOTE,
  formatChange,
  headline,
  LABEL,
  networkSentence,
  renderedBy,
  SECRETS_NOTE,
  secretSentence,
  summaryLine,
  volumeSentence,
  volumeSubject,
  volumeSymbol,
} from "./render";
import type { PlanDiff } from "./types";

/**
 * Marks the comment for one stack, so a workflow updates it in place instead of adding another. Stack
 * names are letters, digits, `-`, `_` and `.` (src/config/stackFile.ts); any other character is
 * replaced, so the name cannot end the HTML comment.
 */
export function commentMarker(stack: string): string {
  return `<!-- llmstack-plan-diff:${stack.replace(/[^\w.-]/g, "_")} -->`;
}

export const code = (s: string): string => codeSpan(s);
export const cellCode = (s: string): string => codeSpan(s, true);
export const sentence = (s: string): string => `${s.charAt(0).toUpperCase()}${s.slice(1)}.`;

/** The sentence under the heading: what was compared, and who rendered each side. */
export function intro(d: PlanDiff): string {
  const compared =
    d.stackAdded || d.stackRemoved
      ? `${sentence(headline(d, code))} Rendered`
      : `Compared with ${code(d.base)}${d.head !== undefined ? ` up to ${code(d.head)}` : ""}, rendered`;
  return `${compared} offline by \`llmstack plan --diff\`: ${renderedBy(d, code)}.`;
}

/** Changes that lose data, fail the update or swap credentials: first, where nobody misses them. */
export function cautions(d: PlanDiff): string[] {
  const items = [
    ...d.volumes
      .filter((v) => v.data && (v.action === "delete" || v.action === "rename"))
      .map((v) => `${volumeSubject(v, code)}${v.host !== undefined ? ` on host ${code(v.host)}` : ""}: ${volumeSentence(v, code)}.`),
    ...(d.encryptionChanged ? [sentence(ENCRYPTION_NOTE)] : []),
    ...d.secrets.map((s) => sentence(secretSentence(s, code))),
  ];
  return items.length > 0 ? ["> [!CAUTION]", ...items.map((i) => `> - ${i}`), ""] : [];
}

export function diffMarkdown(d: PlanDiff): string {
  const out = [commentMarker(d.stack), `### Plan diff for stack ${code(d.stack)}`, "", intro(d)];
  out.push("", d.changed ? `**${summaryLine(d)}**` : `**No changes.** ${summaryLine(d)}`, "");
  out.push(...cautions(d));
  const downtime = d.containers.filter((c) => c.downtime);
  if (downtime.length > 0) {
    out.push("> [!WARNING]", `> ${downtime.map((c) => code(c.service)).join(", ")}: ${DOWNTIME_NOTE}.`, "");
  }
  out.push("| | Container | Action | Changed fields |", "|---|---|---|---|");
  for (const c of d.containers) {
    const fields = [...new Set(c.changes.map((x) => x.field))].map(cellCode).join(", ") || "-";
    out.push(`| ${containerSymbol(c)} | ${cellCode(c.service)} | ${actionText(c, cellCode)} | ${fields} |`);
  }
  if (d.volumes.length > 0) {
    out.push("", "| | Volume | What `pulumi up` does |", "|---|---|---|");
    for (const v of d.volumes) {
      out.push(`| ${volumeSymbol(v)} | ${volumeSubject(v, cellCode)} | ${volumeSentence(v, cellCode)} |`);
    }
  }
  if (d.volumesUnknown) out.push("", `The plan at ${code(d.base)} lists no volumes: volume changes cannot be shown.`);
  const network = networkSentence(d, code);
  if (network) out.push("", sentence(network));
  const changed = d.containers.filter((c) => c.changes.length > 0);
  if (changed.length > 0) {
    out.push("", "<details><summary>Old → new values</summary>", "");
    for (const c of changed) {
      out.push(`Container ${code(c.service)} (${LABEL[c.action]})`, "", ...fencedBlock(c.changes.map(formatChange)), "");
    }
    out.push("</details>");
  }
  out.push("", SECRETS_NOTE, "");
  return out.join("\n");
}
