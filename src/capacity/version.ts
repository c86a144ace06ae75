/**
 * vLLM release numbers: the version the stack pins and the parser every release rule compares with.
 * Its own module so estimate.ts and accounting.ts both import it without importing each other.
 */

/** The vLLM version the stack pins; `vllmVersion` models others. */
export const PINNED_VLLM_VERSION = "0.21.0";

/** [major, minor, patch]. */
export type Version = readonly [number, number, number];

/** [major, minor, patch] of "0.21.0", "v0.6.4.post1", "0.20.2rc1.dev9"; a clear error otherwise. */
export function parseVllmVersion(v: string): [number, number, number] {
  const m = /^v?(\d+)\.(\d+)(?:\.(\d+))?/.exec(v.trim());
  if (m === null) {
    throw new Error(`vLLM version "${v}" is not a version number; write it like ${PINNED_VLLM_VERSION}`);
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
