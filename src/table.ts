/**
 * Text tables for a terminal, drawn by cli-table3 (https://github.com/cli-table/cli-table3, 0.6.5):
 * columns aligned by display width (a wide character counts two, an escape sequence none), no borders,
 * two spaces between columns, no trailing spaces. Cells are made printable first: a control character
 * from a capture or a stack file shows as text, and a newline cannot split a row.
 */
import Table from "cli-table3";
import { printable } from "./config/printable";

const NO_BORDERS = {
  top: "", "top-mid": "", "top-left": "", "top-right": "",
  bottom: "", "bottom-mid": "", "bottom-left": "", "bottom-right": "",
  left: "", "left-mid": "", mid: "", "mid-mid": "", right: "", "right-mid": "",
  middle: "  ",
};

const cell = (text: string): string => printable(text).replace(/\n/g, "\\u000a").replace(/\t/g, "\\u0009");

/** One line per row (the head first, when given), each row's cells aligned under the others'. */
export function tableLines(rows: readonly (readonly string[])[], head?: readonly string[]): string[] {
  if (rows.length === 0 && head === undefined) return [];
  const table = new Table({
    ...(head !== undefined ? { head: head.map(cell) } : {}),
    chars: NO_BORDERS,
    style: { head: [], border: [], "padding-left": 0, "padding-right": 0, compact: true },
  });
  table.push(...rows.map((r) => r.map(cell)));
  return table.toString().split("\n").map((l) => l.trimEnd());
}
