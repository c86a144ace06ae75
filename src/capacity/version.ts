/**
 * vLLM release numbers: the parser every release rule compares with. The release a stack runs comes
 * from its vLLM image's tag (src/facts/vllmRelease.ts).
 * Its own module so estimate.ts and accounting.ts both import it without importing each other.
 */

/** [major, minor, patch]. */
export type Version = readonly [number, number, number];

/** [major, minor, patch] of "0.21.0", "v0.6.4.post1", "0.20.2rc1.dev9"; a clear error otherwise. */
export function parseVllmVersion(v: string): [number, number, number] {
  const m = /^v?(\d+)\.(\d+)(?:\.(\d+))?/.exec(v.trim());
  if (m === null) {
    throw new Error(`vLLM version "${v}" is not a version number; write it as major.minor.patch, the way vLLM's image tags do`);
  }
  return [Number(m[1]), Number(m[2]), Number(m[3] ?? 0)];
}

/** Whether `v` is `release` ("0.7.1") or later. */
export function atLeastVersion(v: Version, release: string): boolean {
  const r = parseVllmVersion(release);
  for (let i = 0; i < 3; i++) {
    if (v[i] !== r[i]) return (v[i] as number) > (r[i] as number);
  }
  return true;
}
