/**
 * The Hugging Face cache, read as huggingface_hub lays it out (v1.28.0,
 * src/huggingface_hub/file_download.py: `repo_folder_name`, `try_to_load_from_cache`):
 *   <cache>/models--<org>--<name>/refs/<revision>          a file holding the commit hash
 *   <cache>/models--<org>--<name>/snapshots/<commit>/<file>  the file (a link into ../../blobs)
 *   <cache>/models--<org>--<name>/.no_exist/<commit>/<file>  an empty file: known not to exist
 * A revision without a refs/ file is taken as a commit hash. Nothing here writes to the cache.
 */
import { readFileSync, statSync } from "node:fs";
import { join } from "node:path";

export interface Snapshot {
  /** snapshots/<commit> of the model. */
  readonly dir: string;
  readonly commit: string;
  /** models--<org>--<name>, for .no_exist. */
  readonly repoDir: string;
}

export type CachedFile =
  | { readonly state: "present"; readonly path: string }
  /** huggingface_hub recorded that the repository has no such file at this commit. */
  | { readonly state: "absent" }
  | { readonly state: "unknown" };

const isFile = (p: string): boolean => statSync(p, { throwIfNoEntry: false })?.isFile() === true;
const isDir = (p: string): boolean => statSync(p, { throwIfNoEntry: false })?.isDirectory() === true;

/** `models--org--name`: the repository ID with "/" turned into "--" (REPO_ID_SEPARATOR). */
export function repoFolderName(repo: string): string {
  return ["models", ...repo.split("/")].join("--");
}

/** The cached snapshot of `repo` at `revision` (a branch, tag or commit), or null when there is none. */
export function findSnapshot(cacheDir: string, repo: string, revision: string): Snapshot | null {
  const repoDir = join(cacheDir, repoFolderName(repo));
  if (!isDir(repoDir)) return null;
  const ref = join(repoDir, "refs", revision);
  // huggingface_hub writes the hash without a newline; a hand-edited ref may have one.
  const commit = isFile(ref) ? readFileSync(ref, "utf8").trim() : revision;
  // A ref holds a commit hash; anything that could step out of snapshots/ is no snapshot.
  if (!/^[\w.-]+$/.test(commit) || commit.includes("..")) return null;
  const dir = join(repoDir, "snapshots", commit);
  return isDir(dir) ? { dir, commit, repoDir } : null;
}

export function cachedFile(snapshot: Snapshot, filename: string): CachedFile {
  if (isFile(join(snapshot.repoDir, ".no_exist", snapshot.commit, filename))) return { state: "absent" };
  const path = join(snapshot.dir, filename);
  return isFile(path) ? { state: "present", path } : { state: "unknown" };
}
