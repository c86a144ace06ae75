/** Editing a stack's raw values by path, for the fuzzers' mutations. */

export type Raw = Record<string, unknown>;
export type Path = readonly (string | number)[];

export interface Mutation {
  readonly kind: string;
  readonly path: Path;
  /** Edits the config in place. */
  readonly apply: (cfg: Raw) => void;
}

export function get(obj: unknown, path: Path): unknown {
  let cur = obj;
  for (const p of path) {
    if (cur === null || typeof cur !== "object") return undefined;
    cur = (cur as Record<string | number, unknown>)[p];
  }
  return cur;
}

/** Sets a value, creating (or replacing non-object) parents on the way. */
export function set(obj: Raw, path: Path, value: unknown): void {
  let cur: Record<string | number, unknown> = obj;
  for (const p of path.slice(0, -1)) {
    const next = cur[p];
    if (next === null || typeof next !== "object") cur[p] = {};
    cur = cur[p] as Record<string | number, unknown>;
  }
  cur[path[path.length - 1]!] = value;
}

export function del(obj: Raw, path: Path): void {
  const parent = get(obj, path.slice(0, -1));
  if (parent !== null && typeof parent === "object") delete (parent as Record<string | number, unknown>)[path[path.length - 1]!];
}
