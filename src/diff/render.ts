/**
 * Prints a PlanDiff for a terminal or as JSON, and holds the sentences the markdown comment
 * (./markdown.ts) shares. Values arrive with secrets already masked by the plan render (`********`), so
 * an env change shows its key and, unless it is a secret, its old and new value. Every value a pull
 * request controls goes through `visible` (./escape.ts): a newline or an escape sequence in a value
 * cannot forge a line of the output.
 */
import { escapeInvisible, quoted, visible } from "./escape";
import type { Action, ContainerDiff, FieldChange, PlanDiff, SecretChange, VolumeDiff } from "./types";

/** How a name is shown: as it is (text) or as a code span (markdown). */
export type Show = (s: string) => string;

export const SYMBOL: Record<Action, string> = { create: "+", update: "~", replace: "-/+", delete: "-", unchanged: "=" };

/** A container that is unchanged unless a secret's value changed. */
export const MAYBE_SYMBOL = "?";

export const LABEL: Record<Action, string> = {
  create: "create",
  update: "update in place",
  replace: "replace",
  delete: "delete",
  unchanged: "unchanged",
};

export const DOWNTIME_NOTE = "restart with downtime: GPU container, frees its GPUs and reloads the model";
export const RERUN_NOTE = "one-shot container: runs again";
export const SECRETS_NOTE =
  "Secret values are never shown. Pulumi encrypts each secret with a fresh random nonce, so a secret " +
  "re-encrypted with the same value looks like a new value here.";

export function formatValue(v: unknown): string {
  if (v === undefined) return "(none)";
  if (typeof v === "string") return v === "" ? '""' : visible(v);
  if (Array.isArray(v) && v.length > 0 && v.every((x) => typeof x === "string")) {
    return v.map((x) => (x === "" || /\s/.test(x) ? quoted(x) : visible(x))).join(" ");
  }
  return escapeInvisible(JSON.stringify(v));
}

export function formatChange(c: FieldChange): string {
  const how = c.effect === "replace" ? "forces replacement" : "in place";
  const field = visible(c.field);
  if (c.old === undefined) return `${field}: added ${formatValue(c.new)} (${how})`;
  if (c.new === undefined) return `${field}: removed ${formatValue(c.old)} (${how})`;
  return `${field}: ${formatValue(c.old)} → ${formatValue(c.new)} (${how})`;
}

const plural = (n: number, one: string, many = `${one}s`): string => `${n} ${n === 1 ? one : many}`;

function volumeCounts(d: PlanDiff): string[] {
  const n = (a: VolumeDiff["action"]): number => d.volumes.filter((v) => v.action === a).length;
  return [
    n("create") && `${n("create")} to create`,
    n("delete") && `${n("delete")} to delete`,
    n("rename") && `${n("rename")} renamed`,
    n("options") && `${n("options")} with new options`,
  ].filter((x): x is string => typeof x === "string");
}

function secretCounts(d: PlanDiff): string[] {
  const n = (c: SecretChange["change"]): number => d.secrets.filter((s) => s.change === c).length;
  return [
    n("changed") && `${plural(n("changed"), "secret")} changed or re-encrypted`,
    n("added") && `${plural(n("added"), "secret")} added`,
    n("removed") && `${plural(n("removed"), "secret")} removed`,
  ].filter((x): x is string => typeof x === "string");
}

export function summaryLine(d: PlanDiff): string {
  const n = d.counts;
  const parts = [
    `${n.replace} to replace, ${n.update} to update in place, ${n.create} to create, ` +
      `${n.delete} to delete, ${n.unchanged} unchanged`,
  ];
  const volumes = volumeCounts(d);
  if (volumes.length > 0) parts.push(`volumes: ${volumes.join(", ")}`);
  if (d.network.action !== "unchanged") parts.push(`network: ${d.network.action === "replace" ? "replaced" : `${d.network.action}d`}`);
  parts.push(...secretCounts(d));
  return parts.join("; ");
}

/** The first line: which stack, compared with what, and who rendered each side. */
export function headline(d: PlanDiff, show: Show): string {
  const head = d.head !== undefined ? ` to ${show(d.head)}` : "";
  const stack = `stack ${show(d.stack)}`;
  if (d.stackAdded) return `${stack} is new since ${show(d.base)}${head}: every container is created`;
  if (d.stackRemoved) return `${stack} is removed since ${show(d.base)}${head}: every container is deleted`;
  return d.head !== undefined ? `${stack}: changes from ${show(d.base)}${head}` : `${stack}: changes since ${show(d.base)}`;
}

export function renderedBy(d: PlanDiff, show: Show): string {
  if (d.renderWith === "revision") {
    return `${show(d.base)} was rendered by its own program (its code ran), the working tree by this checkout's program`;
  }
  const files = d.head !== undefined ? `${show(d.base)} and ${show(d.head)}` : show(d.base);
  return `the stack files at ${files} were rendered by this checkout's program: nothing of the revision ran, and program changes do not show`;
}

/** What the container line says it does, with the secrets it takes. */
export function actionText(c: ContainerDiff, show: Show): string {
  const secrets = c.secrets.map(show).join(", ");
  const noun = c.secrets.length === 1 ? "secret" : "secrets";
  if (c.action === "unchanged" && c.secrets.length > 0) {
    return `replaced if the value of ${noun} ${secrets} changed (a re-encryption alone changes nothing)`;
  }
  const base = c.downtime ? `${LABEL[c.action]} (${DOWNTIME_NOTE})` : c.rerun ? `${LABEL[c.action]} (${RERUN_NOTE})` : LABEL[c.action];
  return c.secrets.length > 0 ? `${base}; takes the changed ${noun} ${secrets}` : base;
}

export function containerSymbol(c: ContainerDiff): string {
  return c.action === "unchanged" && c.secrets.length > 0 ? MAYBE_SYMBOL : SYMBOL[c.action];
}

const VOLUME_SYMBOL: Record<VolumeDiff["action"], string> = {
  create: "+",
  delete: "-",
  rename: "-/+",
  options: "~",
  unchanged: "=",
};

export const volumeSymbol = (v: VolumeDiff): string => VOLUME_SYMBOL[v.action];

/**
 * "DATA volume <key> (<physical name>)"; "DATA" for a volume whose data is meant to outlive the stack.
 * A rename names both physical names in its sentence instead.
 */
export function volumeSubject(v: VolumeDiff, show: Show): string {
  const noun = `${v.data ? "DATA volume" : "volume"} ${show(v.key)}`;
  return v.action === "rename" ? noun : `${noun} (${show((v.after ?? v.before)!.name)})`;
}

/**
 * What `pulumi up` does to one volume, in one sentence. Deleting a volume follows the options of its
 * state (the base): protected fails the update, retained is left on the host.
 */
export function volumeSentence(v: VolumeDiff, show: Show): string {
  const b = v.before;
  const a = v.after;
  const flags = (s: { protect: boolean; retainOnDelete: boolean }): string =>
    [s.protect ? "protected" : "", s.retainOnDelete ? "retained" : ""].filter(Boolean).join(", ") || "neither protected nor retained";
  switch (v.action) {
    case "create":
      return `created, empty (${flags(a!)})`;
    case "delete": {
      const parts = [
        ...(b!.protect ? ["protected: `pulumi up` will fail on the protected delete"] : []),
        ...(b!.retainOnDelete ? ["retained: the data stays on the host, orphaned"] : []),
      ];
      return `removed from the program — ${parts.join("; ") || "deleted with its contents"}`;
    }
    case "rename": {
      const old =
        v.outcome === "fails"
          ? "protected: `pulumi up` will fail on the protected replacement"
          : v.outcome === "orphaned"
            ? `retained: the data stays in ${show(b!.name)} on the host, orphaned, and the containers start on the empty volume`
            : `${show(b!.name)} is deleted with its contents`;
      return `physical name ${show(b!.name)} → ${show(a!.name)}: a new, EMPTY volume is created — ${old}`;
    }
    case "options":
    case "unchanged":
      return (
        `${flags(b!)} → ${flags(a!)}; nothing changes on the host` +
        (b!.protect && !a!.protect ? "; a later removal is no longer refused" : "") +
        (b!.retainOnDelete && !a!.retainOnDelete ? "; a later removal deletes its data" : "")
      );
  }
}

export function networkSentence(d: PlanDiff, show: Show): string | undefined {
  const n = d.network;
  if (n.action === "create") return `network ${show(n.after!)}: created`;
  if (n.action === "delete") return `network ${show(n.before!)}: deleted`;
  if (n.action === "replace") {
    return `network ${show(n.before!)} → ${show(n.after!)}: replaced, and every container on it with it`;
  }
  return undefined;
}

export function secretSentence(s: SecretChange, show: Show): string {
  const users = s.usedBy.map(show).join(", ");
  const name = `secret ${show(s.name)}`;
  if (s.change === "removed") return `${name} removed from the stack file${users ? `; used by ${users}` : ""}`;
  const what = s.change === "added" ? "added" : "changed or was re-encrypted";
  if (!users) return `${name} ${what}; no container of this plan takes it`;
  return s.change === "added"
    ? `${name} added: ${users} get it and are replaced`
    : `${name} ${what}: ${users} get the new value and are replaced if it changed`;
}

export const ENCRYPTION_NOTE =
  "the stack file's encryption settings changed (passphrase salt, secrets provider or key): every secret is re-encrypted";

export function diffText(d: PlanDiff): string {
  const width = Math.max(...d.containers.map((c) => visible(c.service).length), 7);
  const lines = [headline(d, visible), `rendered offline: ${renderedBy(d, visible)}`, ""];
  for (const c of d.containers) {
    lines.push(`${containerSymbol(c).padEnd(3)} ${visible(c.service).padEnd(width)}  ${actionText(c, visible)}`);
    for (const ch of c.changes) lines.push(`      ${formatChange(ch)}`);
  }
  if (d.volumes.length > 0 || d.volumesUnknown) lines.push("", "volumes:");
  if (d.volumesUnknown) lines.push(`    the plan at ${visible(d.base)} lists no volumes: volume changes cannot be shown`);
  for (const v of d.volumes) {
    lines.push(`${volumeSymbol(v).padEnd(3)} ${volumeSubject(v, visible)}: ${volumeSentence(v, visible)}`);
  }
  lines.push(...textTail(d));
  return lines.join("\n");
}

/** The end of the text diff, with or without hosts: the network, the secrets and the summary line. */
export function textTail(d: PlanDiff): string[] {
  const lines: string[] = [];
  const network = networkSentence(d, visible);
  if (network) lines.push("", network);
  if (d.secrets.length > 0 || d.encryptionChanged) lines.push("", "secrets (values never shown):");
  if (d.encryptionChanged) lines.push(`    ${ENCRYPTION_NOTE}`);
  for (const s of d.secrets) lines.push(`${(s.change === "added" ? "+" : s.change === "removed" ? "-" : "~").padEnd(3)} ${secretSentence(s, visible)}`);
  lines.push("", d.changed ? summaryLine(d) : `no changes: ${summaryLine(d)}`, "");
  return lines;
}

/**
 * One line per container the diff changes, saying what the next `pulumi up` does to it and which fields
 * make it: for a command that has just rewritten the stack file (configure-gpu), where the whole diff
 * would bury those lines among the unchanged containers.
 */
export function changedContainerLines(d: PlanDiff): string[] {
  const changed = d.containers.filter((c) => c.action !== "unchanged");
  if (changed.length === 0) return ["the next `pulumi up` changes no container"];
  return changed.map((c) => {
    // A re-run one-shot's own change (its PLAN_REVISION) only says that something else changed.
    const fields = c.rerun ? [] : [...new Set(c.changes.map((f) => visible(f.field)))];
    return `the next \`pulumi up\`: ${visible(c.service)} ${actionText(c, visible)}` + (fields.length ? `: ${fields.join(", ")}` : "");
  });
}

export function diffJson(d: PlanDiff): string {
  return `${JSON.stringify(d, null, 2)}\n`;
}
