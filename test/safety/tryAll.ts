import fc from "fast-check";

/** The fuzz tests' fixed seed, so a failure is reproducible. */
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
