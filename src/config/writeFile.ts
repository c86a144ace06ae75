/**
 * The one writer of files a user keeps (stack files): the new text goes to a temporary file beside the
 * target, is flushed to disk (fsync), and replaces the target with one rename, which POSIX makes atomic
 * (rename(2)). A failed write (disk full, file size limit, permissions) leaves the target as it was and
 * no temporary file behind; the error names the file. A symlinked target is written through its link,
 * and keeps its mode unless one is given.
 */
import { randomBytes } from "node:crypto";
import * as nodeFs from "node:fs";
import { basename, dirname, join } from "node:path";

/** The calls the writer makes, so a test can make one of them fail. */
export type WriteFs = Pick<
  typeof nodeFs,
  "openSync" | "writeSync" | "fsyncSync" | "fchmodSync" | "closeSync" | "renameSync" | "unlinkSync" | "statSync" | "realpathSync"
>;

export const NODE_FS: WriteFs = nodeFs;

export interface WriteOptions {
  /** The name shown in messages; the path by default. */
  readonly shown?: string;
  /** File mode; by default the target's current mode, or 0644 for a new file. */
  readonly mode?: number;
}

/** A file written in full beside its target, flushed, and not yet renamed over it. */
interface Staged {
  readonly tmp: string;
  readonly target: string;
}

/** Writes `text` to a new temporary file beside the target (following a symlink) and flushes it. */
function stage(path: string, text: string, mode: number | undefined, fs: WriteFs): Staged {
  let target = path;
  let fileMode = mode ?? 0o644;
  try {
    target = fs.realpathSync(path);
    if (mode === undefined) fileMode = fs.statSync(target).mode & 0o7777;
  } catch {
    // A new file: written where it was named, with the default mode.
  }
  const tmp = join(dirname(target), `.${basename(target)}.${randomBytes(6).toString("hex")}.tmp`);
  let fd: number | undefined;
  try {
    fd = fs.openSync(tmp, "wx", fileMode);
    // The umask may have narrowed the mode at creation; set exactly the one intended.
    fs.fchmodSync(fd, fileMode);
    const data = Buffer.from(text, "utf8");
    for (let off = 0; off < data.length; ) off += fs.writeSync(fd, data, off, data.length - off);
    fs.fsyncSync(fd);
    fs.closeSync(fd);
    return { tmp, target };
  } catch (err) {
    if (fd !== undefined) {
      try {
        fs.closeSync(fd);
      } catch {
        // Already failing; the write error is the one to report.
      }
    }
    discard(tmp, fs);
    throw err;
  }
}

function discard(tmp: string, fs: WriteFs): void {
  try {
    fs.unlinkSync(tmp);
  } catch {
    // Never created, or already gone.
  }
}

/** A file that could not be written (the OS's error in the message); nothing was changed. */
export class WriteError extends Error {
  constructor(message: string, cause: unknown) {
    super(message, { cause });
    this.name = "WriteError";
  }
}

export function writeFileAtomic(path: string, text: string, opts: WriteOptions = {}, fs: WriteFs = NODE_FS): void {
  const shown = opts.shown ?? path;
  let staged: Staged | undefined;
  try {
    staged = stage(path, text, opts.mode, fs);
    fs.renameSync(staged.tmp, staged.target);
  } catch (err) {
    if (staged !== undefined) discard(staged.tmp, fs);
    throw new WriteError(`${shown}: could not be written (${(err as Error).message}); it was left as it was`, err);
  }
}

/**
 * Several files replaced together: every one is written and flushed beside its target before any is
 * renamed, so a failed write changes none of them.
 */
export function writeFilesAtomic(
  files: readonly { readonly path: string; readonly text: string; readonly shown: string }[],
  fs: WriteFs = NODE_FS,
): void {
  const staged: Staged[] = [];
  for (const f of files) {
    try {
      staged.push(stage(f.path, f.text, undefined, fs));
    } catch (err) {
      for (const s of staged) discard(s.tmp, fs);
      throw new WriteError(`${f.shown}: could not be written (${(err as Error).message}); no file was changed`, err);
    }
  }
  for (const s of staged) fs.renameSync(s.tmp, s.target);
}
