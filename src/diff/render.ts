/**
 * Prints a PlanDiff for a terminal, as a pull-request comment (markdown), or as JSON. Values arrive with
 * secrets already masked by the plan render (`********`), so an env change shows its key and, unless
 * it is a secret, its old and new value.
 */
import type { Action, ContainerDiff, FieldChange, PlanDiff } from "./types";

/** Marks the comment for one stack, so a workflow updates it in place instead of adding another. */
export function commentMarker(stack: string): string {
  return `<!-- llmstack-plan-diff:${stack} -->`;
}

const SYMBOL: Record<Action, string> = { create: "+", update: "~", replace: "-/+", delete: "-", unchanged: "=" };

const LABEL: Record<Action, string> = {
  create: "create",
  update: "update in place",
  replace: "replace",
  delete: "delete",
  unchanged: "unchanged",
};

export const DOWNTIME_NOTE = "restart with downtime: GPU container, frees its GPUs and reloads the model";

export function formatValue(v: unknown): string {
  if (v === undefined) return "(none)";
  if (typeof v === "string") return v === "" ? '""' : v;
  if (Array.isArray(v) && v.every((x) => typeof x === "string")) {
    return v.map((x) => (x === "" || /\s/.test(x) ? JSON.stringify(x) : x)).join(" ");
  }
  return JSON.stringify(v);
}

export function formatChange(c: FieldChange): string {
  const how = c.effect === "replace" ? "forces replacement" : "in place";
  if (c.old === undefined) return `${c.field}: added ${formatValue(c.new)} (${how})`;
  if (c.new === undefined) return `${c.field}: removed ${formatValue(c.old)} (${how})`;
  return `${c.field}: ${formatValue(c.old)} → ${formatValue(c.new)} (${how})`;
}

export function summaryLine(d: PlanDiff): string {
  const n = d.counts;
  return (
    `${n.replace} to replace, ${n.update} to update in place, ${n.create} to create, ` +
    `${n.delete} to delete, ${n.unchanged} unchanged`
  );
}

function headline(d: PlanDiff): string {
  if (d.stackAdded) return `stack ${d.stack} is new since ${d.base}: every container is created`;
  if (d.stackRemoved) return `stack ${d.stack} is removed since ${d.base}: every container is deleted`;
  return `stack ${d.stack}: changes since ${d.base}`;
}

export const RERUN_NOTE = "one-shot container: runs again";

function actionText(c: ContainerDiff): string {
  if (c.downtime) return `${LABEL[c.action]} (${DOWNTIME_NOTE})`;
  return c.rerun ? `${LABEL[c.action]} (${RERUN_NOTE})` : LABEL[c.action];
}

export function diffText(d: PlanDiff): string {
  const width = Math.max(...d.containers.map((c) => c.service.length), 7);
  const lines = [headline(d), ""];
  for (const c of d.containers) {
    lines.push(`${SYMBOL[c.action].padEnd(3)} ${c.service.padEnd(width)}  ${actionText(c)}`);
    for (const ch of c.changes) lines.push(`      ${formatChange(ch)}`);
  }
  lines.push("", d.changed ? summaryLine(d) : `no changes: ${summaryLine(d)}`, "");
  return lines.join("\n");
}

const cell = (s: string): string => s.replace(/\|/g, "\\|").replace(/\n/g, " ");
const code = (s: string): string => `\`${s.replace(/`/g, "'")}\``;

export function diffMarkdown(d: PlanDiff): string {
  const out = [commentMarker(d.stack), `### Plan diff for stack \`${d.stack}\``, ""];
  out.push(d.stackAdded || d.stackRemoved ? `${headline(d)}.` : `Compared with \`${d.base}\`, rendered offline by \`llmstack plan --diff\`.`);
  out.push("", d.changed ? `**${summaryLine(d)}**` : `**No changes.** ${summaryLine(d)}`, "");
  const downtime = d.containers.filter((c) => c.downtime);
  if (downtime.length > 0) {
    out.push(
      `> [!WARNING]`,
      `> ${downtime.map((c) => code(c.service)).join(", ")}: ${DOWNTIME_NOTE}.`,
      "",
    );
  }
  out.push("| | Container | Action | Changed fields |", "|---|---|---|---|");
  for (const c of d.containers) {
    const fields = [...new Set(c.changes.map((x) => x.field))].map(code).join(", ") || "-";
    out.push(`| ${cell(SYMBOL[c.action])} | ${code(c.service)} | ${cell(actionText(c))} | ${cell(fields)} |`);
  }
  const changed = d.containers.filter((c) => c.changes.length > 0);
  if (changed.length > 0) {
    out.push("", "<details><summary>Old → new values</summary>", "");
    for (const c of changed) {
      out.push(`**${c.service}** (${LABEL[c.action]})`, "", "```text", ...c.changes.map(formatChange), "```", "");
    }
    out.push("</details>");
  }
  out.push("", "Secret values are masked (`********`); a change of a secret's value does not show offline.", "");
  return out.join("\n");
}

export function diffJson(d: PlanDiff): string {
  return `${JSON.stringify(d, null, 2)}\n`;
}
