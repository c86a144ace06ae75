/**
 * Real nvidia-smi captures (test/fixtures/safety, each with its source in the sibling .json) damaged beyond
 * what the parsers repair: truncation, junk and binary bytes, swapped columns, non-numeric or absurd
 * numbers, lost and repeated lines. Some damage leaves a capture readable; the parsers may then read it.
 */
import fc from "fast-check";
import { readFileSync } from "node:fs";
import { join } from "node:path";

const DIR = join(__dirname, "..", "fixtures", "safety");
const read = (f: string): string => readFileSync(join(DIR, f), "utf8");

export const CAPTURES = {
  query: ["query-2xa100-pcie-units.csv", "query-2x3090-noheader.csv"].map(read),
  table: ["smi-2xa100-pcie-40gb.txt", "smi-2x3090-driver610-kmd.txt"].map(read),
  topo: [
    "topo-2x3090-nvlink-nv4.txt",
    "topo-8xa100-p4d-nv12.txt",
    "topo-8x4090-sys-nic.txt",
    "topo-3xa6000-partial-nvlink.txt",
    "topo-1x5090-single-nic.txt",
  ].map(read),
  nvlink: ["nvlink-2x3090-club3090.txt", "nvlink-3xa6000-one-inactive.txt", "nvlink-2xa100-pcie-none.txt"].map(read),
} as const;

/** The header-less query capture's fields, from its source command (see its .json). */
export const NOHEADER_FIELDS = ["index", "name", "driver_version"] as const;

type Damage = (text: string) => string;

const at = (text: string, ratio: number): number => Math.floor(ratio * (text.length + 1));
const ratio = fc.double({ min: 0, max: 1, noNaN: true, maxExcluded: true });

/** Junk a damaged paste or a bad terminal leaves behind. */
const JUNK = fc.oneof(
  fc.string({ minLength: 1, maxLength: 8 }),
  fc.string({ unit: "binary", minLength: 1, maxLength: 8 }),
  fc.constantFrom("\0", "\uFFFD", "\x1b[0m", ",", ", ,", "\t", "\n", "|", "GPU0", "NV", "X", "MiB", ".", "..", "-", "[N/A]"),
);

/** Replacements for a number: non-numeric, signed, fractional, hex, exponent, or far too long. */
const BAD_NUMBER = fc.oneof(
  fc.constantFrom("abc", "N/A", "12.5", "1e5", "-1", "0x10", "", " ", "∞", "NaN", "1.2.3", "."),
  fc.integer({ min: 20, max: 400 }).map((n) => "9".repeat(n)),
);

const damages: fc.Arbitrary<Damage>[] = [
  ratio.map((r) => (t: string) => t.slice(0, at(t, r))),
  fc.tuple(ratio, JUNK).map(([r, j]) => (t: string) => t.slice(0, at(t, r)) + j + t.slice(at(t, r))),
  fc.tuple(ratio, ratio).map(([a, b]) => (t: string) => t.slice(0, at(t, Math.min(a, b))) + t.slice(at(t, Math.max(a, b)))),
  fc.tuple(ratio, ratio).map(([a, b]) => (t: string) => {
    const [i, j] = [at(t, Math.min(a, b)), at(t, Math.max(a, b))];
    return t.slice(0, j) + t.slice(i, j) + t.slice(j);
  }),
  fc.tuple(ratio, JUNK).map(([r, j]) => (t: string) => t.slice(0, at(t, r)) + j + t.slice(at(t, r) + 1)),
  // Swapped columns: two comma/whitespace-separated cells trade places on every line, or on one.
  fc.tuple(fc.nat(12), fc.nat(12), fc.option(fc.nat(20))).map(([a, b, only]) => (t: string) =>
    t
      .split("\n")
      .map((line, n) => {
        if (only !== null && n !== only) return line;
        const sep = line.includes(",") ? "," : /\t/.test(line) ? "\t" : " ";
        const cells = line.split(sep);
        if (a >= cells.length || b >= cells.length) return line;
        [cells[a], cells[b]] = [cells[b]!, cells[a]!];
        return cells.join(sep);
      })
      .join("\n"),
  ),
  // A number (memory, index, link count, speed) replaced by something that is not one.
  fc.tuple(fc.nat(60), BAD_NUMBER).map(([k, bad]) => (t: string) => {
    let n = 0;
    return t.replace(/\d+(\.\d+)?/g, (m) => (n++ === k ? bad : m));
  }),
  fc.tuple(fc.nat(30), fc.boolean()).map(([k, dup]) => (t: string) => {
    const lines = t.split("\n");
    if (lines.length === 0) return t;
    const i = k % lines.length;
    return [...lines.slice(0, i), ...(dup ? [lines[i]!, lines[i]!] : []), ...lines.slice(i + 1)].join("\n");
  }),
  fc.shuffledSubarray([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]).map((order) => (t: string) => {
    const lines = t.split("\n");
    return order.flatMap((i) => (i < lines.length ? [lines[i]!] : [])).concat(lines.slice(10)).join("\n");
  }),
  fc.constantFrom<Damage>(
    () => "",
    () => "\n\n  \t\n",
    (t) => t.replace(/\n/g, "\r\n"),
    (t) => t.replace(/\t/g, "  "),
    (t) => t.replace(/ +/g, ""),
    (t) => t.toLowerCase(),
    (t) => t.repeat(3),
    (t) => t.split("").reverse().join(""),
  ),
  fc.uint8Array({ minLength: 0, maxLength: 300 }).map((bytes) => () => Buffer.from(bytes).toString("latin1")),
];

const DAMAGE = fc.oneof(...damages);

/** One capture damaged one to four times. */
export function damaged(captures: readonly string[]): fc.Arbitrary<string> {
  return fc
    .tuple(fc.constantFrom(...captures), fc.array(DAMAGE, { minLength: 1, maxLength: 4 }))
    .map(([text, ds]) => ds.reduce((t, d) => d(t), text));
}
