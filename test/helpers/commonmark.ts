/**
 * Just enough of CommonMark 0.31.2 (https://spec.commonmark.org/0.31.2/) and GitHub's table extension
 * to check where a rendered comment's code ends: fenced code blocks (§4.5), code spans (§6.1) and table
 * cells (https://github.github.com/gfm/#tables-extension-). Block-level only for top-level lines and
 * blockquote/list prefixes the diff comment uses; stricter than a real parser where they differ (a code
 * span is looked for on its own line only), so a value that escapes in a real parser escapes here too.
 */

export interface FencedBlock {
  /** Line index of the opening fence. */
  readonly open: number;
  /** Line index of the closing fence; undefined when the block runs to the end of the document. */
  readonly close: number | undefined;
  /** The opening fence's characters, e.g. "````". */
  readonly fence: string;
  readonly content: readonly string[];
}

const OPENING = /^ {0,3}(`{3,}|~{3,})(.*)$/;

/** The fenced code blocks of a document, per §4.5. */
export function fencedBlocks(md: string): FencedBlock[] {
  const lines = md.split("\n");
  const blocks: FencedBlock[] = [];
  for (let i = 0; i < lines.length; i++) {
    const m = OPENING.exec(lines[i]!);
    if (!m) continue;
    const fence = m[1]!;
    // A backtick fence's info string may not contain a backtick.
    if (fence[0] === "`" && m[2]!.includes("`")) continue;
    const closing = new RegExp(`^ {0,3}${fence[0] === "`" ? "`" : "~"}{${fence.length},}[ \\t]*$`);
    let j = i + 1;
    while (j < lines.length && !closing.test(lines[j]!)) j++;
    blocks.push({ open: i, close: j < lines.length ? j : undefined, fence, content: lines.slice(i + 1, j) });
    i = j;
  }
  return blocks;
}

/** The lines outside every fenced code block, with their indices. */
export function linesOutsideFences(md: string): { index: number; line: string }[] {
  const lines = md.split("\n");
  const inside = new Set<number>();
  for (const b of fencedBlocks(md)) {
    for (let i = b.open; i <= (b.close ?? lines.length - 1); i++) inside.add(i);
  }
  return lines.map((line, index) => ({ index, line })).filter((l) => !inside.has(l.index));
}

/**
 * A line with its code spans cut out (§6.1): a backtick string opens a span that ends at the next
 * backtick string of the same length; one with no partner is literal text. Backslash-escaped
 * backticks outside spans are literal.
 */
export function withoutCodeSpans(line: string): string {
  let out = "";
  let i = 0;
  while (i < line.length) {
    if (line[i] === "\\" && i + 1 < line.length) {
      out += line.slice(i, i + 2);
      i += 2;
      continue;
    }
    if (line[i] !== "`") {
      out += line[i];
      i++;
      continue;
    }
    let n = 0;
    while (line[i + n] === "`") n++;
    const closer = new RegExp(`(?<!\`)\`{${n}}(?!\`)`, "g");
    closer.lastIndex = i + n;
    const m = closer.exec(line);
    if (m) {
      i = m.index + n;
    } else {
      out += line.slice(i, i + n);
      i += n;
    }
  }
  return out;
}

/** A table row's cells: split at every `|` not escaped by a backslash (backslash pairs are one escape). */
export function tableCells(row: string): string[] {
  const cells: string[] = [];
  let cell = "";
  for (let i = 0; i < row.length; i++) {
    if (row[i] === "\\" && i + 1 < row.length) {
      cell += row.slice(i, i + 2);
      i++;
    } else if (row[i] === "|") {
      cells.push(cell);
      cell = "";
    } else {
      cell += row[i];
    }
  }
  cells.push(cell);
  // A row's leading and trailing pipes bound the cells; they do not add empty ones.
  return cells.slice(row.trimStart().startsWith("|") ? 1 : 0, row.trimEnd().endsWith("|") ? -1 : undefined);
}
