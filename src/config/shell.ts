/**
 * The one way a value reaches a POSIX shell: as a single-quoted word. Inside single quotes the shell
 * interprets nothing (no `$`, backquote, backslash or glob), and a single quote itself is written as
 * `'\''` (close, escaped quote, reopen). POSIX.1-2017 Shell Command Language, 2.2.2 Single-Quotes:
 * https://pubs.opengroup.org/onlinepubs/9699919799/utilities/V3_chap02.html#tag_02_02_02
 */
export function shellQuote(s: string): string {
  return `'${s.replace(/'/g, `'\\''`)}'`;
}

/** A command line from words, each quoted: what `sh -c` (or ssh's remote shell) runs as exactly these argv. */
export function shellWords(words: readonly string[]): string {
  return words.map(shellQuote).join(" ");
}

/** A word as a person would type it: as it is when the shell would not split or expand it, else quoted. */
export function shellWord(s: string): string {
  return /^[\w./:@%+=,~^-]+$/.test(s) ? s : shellQuote(s);
}
