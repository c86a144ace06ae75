/**
 * Showing values that a pull request controls (stack names, revisions, service names, env keys and
 * values, file paths, secret names) without letting them change what the reader sees: in a terminal,
 * and in the markdown comment a workflow posts publicly.
 *
 * Markdown rules relied on (CommonMark 0.31.2, https://spec.commonmark.org/0.31.2/, and GitHub's
 * table extension, https://github.github.com/gfm/#tables-extension-):
 * - a code span opened by N backticks ends only at a run of exactly N backticks, and nothing inside it
 *   is markdown or HTML (§6.1); a line ending inside one is the only way out of its line, so none is
 *   left in (every control character is escaped);
 * - a fenced code block opened by N backticks ends only at a line of at least N backticks (§4.5), so a
 *   fence longer than any backtick run of its content cannot be closed from inside;
 * - in a table row every unescaped `|` starts a cell, even inside a code span; `\|` is a pipe, but
 *   `\\|` is an escaped backslash and then a cell boundary, so a value holding a pipe is shown
 *   JSON-quoted with the pipe as `\u007c` instead.
 */

/**
 * Characters that move or hide text: C0 and C1 controls (line endings, tab, escape sequences), DEL,
 * the line and paragraph separators, bidirectional overrides and isolates, zero-width characters and
 * the byte-order mark.
 */
// eslint-disable-next-line no-control-regex -- matching control characters is the point
const INVISIBLE = /[\u0000-\u001f\u007f-\u009f\u00ad\u061c\u180e\u200b-\u200f\u2028-\u202e\u2060-\u2069\ufeff]/g;

const hex = (c: string): string => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`;

/** `\uXXXX` for every invisible character; everything else as it is. */
export function escapeInvisible(s: string): string {
  return s.replace(INVISIBLE, hex);
}

/** A JSON string literal with no invisible character left in it. */
export function quoted(s: string): string {
  return escapeInvisible(JSON.stringify(s));
}

/** The string itself when every character shows as itself; otherwise its quoted, escaped form. */
export function visible(s: string): string {
  INVISIBLE.lastIndex = 0;
  return INVISIBLE.test(s) ? quoted(s) : s;
}

const longestRun = (s: string, ch: string): number =>
  Math.max(0, ...[...s.matchAll(new RegExp(`\\${ch}+`, "g"))].map((m) => m[0].length));

/**
 * A markdown code span showing `s` exactly (after `visible`): delimited by one backtick more than the
 * longest run inside, padded with a space where the content starts or ends with a backtick or space
 * (CommonMark strips one space from each side). `inTable`: safe inside a table cell too.
 */
export function codeSpan(s: string, inTable = false): string {
  let body = inTable && s.includes("|") ? quoted(s).replace(/\|/g, "\\u007c") : visible(s);
  if (body === "") body = '""';
  const ticks = "`".repeat(longestRun(body, "`") + 1);
  const pad = /^[` ]|[` ]$/.test(body) && !/^ +$/.test(body) ? " " : "";
  return `${ticks}${pad}${body}${pad}${ticks}`;
}

/**
 * A fenced code block around `lines` (each already free of line endings): the fence is one backtick
 * longer than the longest backtick run inside, and at least three.
 */
export function fencedBlock(lines: readonly string[], info = "text"): string[] {
  const safe = lines.map(escapeInvisible);
  const fence = "`".repeat(Math.max(3, ...safe.map((l) => longestRun(l, "`") + 1)));
  return [`${fence}${info}`, ...safe, fence];
}
