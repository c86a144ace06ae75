/**
 * The diff of a stack with hosts, shown host by host (docs/fleet.md, "Diff per host"): a heading per host
 * in the stack's order (a host added or removed says so), then what changes on it, containers first and
 * then volumes, and the names of its unchanged containers on one line. A replica is named beside its
 * service (`vllm gpu-a-1`). The markdown keeps every value a pull request controls in a code span or a
 * fence, as ./markdown.ts does.
 */
import { fencedBlock, visible } from "./escape";
import { cautions, cellCode, code, commentMarker, diffMarkdown, intro, sentence } from "./markdown";
import {
  actionText,
  containerSymbol,
  diffText,
  DOWNTIME_NOTE,
  formatChange,
  formatValue,
  headline,
  LABEL,
  networkSentence,
  renderedBy,
  SECRETS_NOTE,
  summaryLine,
  textTail,
  volumeSentence,
  volumeSubject,
  volumeSymbol,
  type Show,
} from "./render";
import type { ContainerDiff, HostDiff, PlanDiff, VolumeDiff } from "./types";

/** The service, and the replica for a vLLM container of a stack with hosts. */
export function containerLabel(c: ContainerDiff, show: Show): string {
  return c.replica !== undefined ? `${show(c.service)} ${show(c.replica)}` : show(c.service);
}

/** A container shown on a line of its own: it changes, or takes a secret that changed. */
const shown = (c: ContainerDiff): boolean => c.action !== "unchanged" || c.secrets.length > 0;

interface HostGroup {
  /** Absent for the containers of a single-host side (a stack that starts or stops listing hosts). */
  readonly host?: HostDiff;
  readonly containers: readonly ContainerDiff[];
  readonly volumes: readonly VolumeDiff[];
}

function groups(d: PlanDiff): HostGroup[] {
  const out: HostGroup[] = (d.hosts ?? []).map((h) => ({
    host: h,
    containers: d.containers.filter((c) => c.host === h.name),
    volumes: d.volumes.filter((v) => v.host === h.name),
  }));
  const names = new Set((d.hosts ?? []).map((h) => h.name));
  const containers = d.containers.filter((c) => c.host === undefined || !names.has(c.host));
  const volumes = d.volumes.filter((v) => v.host === undefined || !names.has(v.host));
  if (containers.length > 0 || volumes.length > 0) out.push({ containers, volumes });
  return out;
}

/** "host gpu-a (ssh://…)" and, after a colon, what happened to the host itself or "no changes". */
function hostHeading(g: HostGroup, show: Show, value: (v: unknown) => string): string {
  const h = g.host;
  if (h === undefined) return "containers of the single host (llmstack:dockerHost)";
  const head = `host ${show(h.name)} (${show(h.endpoint)})`;
  if (h.action === "create") return `${head}: added to the stack`;
  if (h.action === "delete") return `${head}: removed from the stack`;
  if (h.action === "update") {
    return `${head}: ${h.changes.map((c) => `${show(c.field)} ${value(c.old)} → ${value(c.new)}`).join("; ")}`;
  }
  return g.containers.some(shown) || g.volumes.length > 0 ? head : `${head}: no changes`;
}

export function diffTextByHost(d: PlanDiff): string {
  if (d.hosts === undefined) return diffText(d);
  const width = Math.max(...d.containers.map((c) => containerLabel(c, visible).length), 7);
  const lines = [headline(d, visible), `rendered offline: ${renderedBy(d, visible)}`];
  for (const g of groups(d)) {
    lines.push("", hostHeading(g, visible, formatValue));
    for (const c of g.containers.filter(shown)) {
      lines.push(`${containerSymbol(c).padEnd(3)} ${containerLabel(c, visible).padEnd(width)}  ${actionText(c, visible)}`);
      for (const ch of c.changes) lines.push(`      ${formatChange(ch)}`);
    }
    for (const v of g.volumes) {
      lines.push(`${volumeSymbol(v).padEnd(3)} ${volumeSubject(v, visible)}: ${volumeSentence(v, visible)}`);
    }
    const same = g.containers.filter((c) => !shown(c));
    if (same.length > 0) lines.push(`    unchanged: ${same.map((c) => containerLabel(c, visible)).join(", ")}`);
  }
  if (d.volumesUnknown) lines.push("", `the plan at ${visible(d.base)} lists no volumes: volume changes cannot be shown`);
  lines.push(...textTail(d));
  return lines.join("\n");
}

const codeValue = (v: unknown): string => code(formatValue(v));

export function diffMarkdownByHost(d: PlanDiff): string {
  if (d.hosts === undefined) return diffMarkdown(d);
  const out = [commentMarker(d.stack), `### Plan diff for stack ${code(d.stack)}`, "", intro(d)];
  out.push("", d.changed ? `**${summaryLine(d)}**` : `**No changes.** ${summaryLine(d)}`, "");
  out.push(...cautions(d));
  const downtime = d.containers.filter((c) => c.downtime);
  if (downtime.length > 0) {
    out.push("> [!WARNING]", `> ${downtime.map((c) => containerLabel(c, code)).join(", ")}: ${DOWNTIME_NOTE}.`, "");
  }
  for (const g of groups(d)) {
    const heading = hostHeading(g, code, codeValue);
    out.push(`#### ${heading.charAt(0).toUpperCase()}${heading.slice(1)}`, "");
    const changed = g.containers.filter(shown);
    if (changed.length > 0) {
      out.push("| | Container | Action | Changed fields |", "|---|---|---|---|");
      for (const c of changed) {
        const fields = [...new Set(c.changes.map((x) => x.field))].map(cellCode).join(", ") || "-";
        out.push(`| ${containerSymbol(c)} | ${containerLabel(c, cellCode)} | ${actionText(c, cellCode)} | ${fields} |`);
      }
      out.push("");
    }
    if (g.volumes.length > 0) {
      out.push("| | Volume | What `pulumi up` does |", "|---|---|---|");
      for (const v of g.volumes) out.push(`| ${volumeSymbol(v)} | ${volumeSubject(v, cellCode)} | ${volumeSentence(v, cellCode)} |`);
      out.push("");
    }
    const same = g.containers.filter((c) => !shown(c));
    if (same.length > 0) out.push(`Unchanged: ${same.map((c) => containerLabel(c, code)).join(", ")}.`, "");
  }
  if (d.volumesUnknown) out.push(`The plan at ${code(d.base)} lists no volumes: volume changes cannot be shown.`, "");
  const network = networkSentence(d, code);
  if (network) out.push(sentence(network), "");
  const withChanges = d.containers.filter((c) => c.changes.length > 0);
  if (withChanges.length > 0) {
    out.push("<details><summary>Old → new values</summary>", "");
    for (const c of withChanges) {
      const where = c.host !== undefined ? ` on ${code(c.host)}` : "";
      out.push(`Container ${containerLabel(c, code)}${where} (${LABEL[c.action]})`, "", ...fencedBlock(c.changes.map(formatChange)), "");
    }
    out.push("</details>", "");
  }
  out.push(SECRETS_NOTE, "");
  return out.join("\n");
}
