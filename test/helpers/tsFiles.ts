/** The TypeScript files under a directory, for the tests and the test config that read the tree. */
import { readdirSync, statSync } from "node:fs";
import { join } from "node:path";

/** Every `.ts` file under `dir` (absolute paths), skipping the directories named in `skip` at any depth. */
export function tsFilesUnder(dir: string, skip: readonly string[] = []): string[] {
  return readdirSync(dir).flatMap((f) => {
    const p = join(dir, f);
    if (statSync(p).isDirectory()) return skip.includes(f) ? [] : tsFilesUnder(p, skip);
    return p.endsWith(".ts") ? [p] : [];
  });
}
