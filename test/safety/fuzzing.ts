/** What the fuzzers share: the fixed seed and a run that counts every case and collects every failure. */
import fc from "fast-check";

export const SEED = 20240613;

/**
 * Runs every generated case (fixed seed) and collects what went wrong instead of stopping at the first
 * failure, so the printed count is always the full run and the failures show every kind at once.
 */
export function tryAll<T>(
  arb: fc.Arbitrary<T>,
  runs: number,
  check: (v: T) => string | null,
  seed = SEED,
): { tried: number; failures: string[] } {
  let tried = 0;
  const failures: string[] = [];
  fc.assert(
    fc.property(arb, (v) => {
      tried++;
      const problem = check(v);
      if (problem !== null) failures.push(problem);
    }),
    { seed, numRuns: runs },
  );
  return { tried, failures };
}

/** "kind: n, ..." over the failures' text before the first colon, for the printed summary. */
export function byKind(failures: readonly string[]): string {
  const counts = new Map<string, number>();
  for (const f of failures) {
    const kind = f.split(":")[0]!.replace(/(\d[\d.e+]*|Infinity|NaN)/g, "#");
    counts.set(kind, (counts.get(kind) ?? 0) + 1);
  }
  return [...counts].map(([k, n]) => `${k}: ${n}`).join(", ");
}
