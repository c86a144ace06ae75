/**
 * The one reader of files a user names (stack files, nvidia-smi captures, a model's config.json, a bench
 * result). It reads only regular files, and at most MAX_INPUT_BYTES of one: a FIFO would block forever,
 * /dev/zero never ends, and a directory gives a bare EISDIR. Each refusal is one sentence naming the file.
 * The file is checked with stat before it is opened (a device is never opened), opened non-blocking, and
 * checked again on the open descriptor, so a file swapped for a FIFO in between cannot hang the read.
 */
import { closeSync, constants, fstatSync, openSync, readSync, statSync, type Stats } from "node:fs";

/** 4 MiB: far above any stack file, capture (an 8-GPU `nvidia-smi topo -m` is ~2 KB) or config.json. */
export const MAX_INPUT_BYTES = 4 * 1024 * 1024;

export interface ReadInputOptions {
  /** What the file is, for messages: "a stack file", "an nvidia-smi capture". */
  readonly what: string;
  /** The name shown in messages (as the user wrote it); the path by default. */
  readonly shown?: string;
  readonly maxBytes?: number;
}

function kindOf(st: Stats): string {
  if (st.isDirectory()) return "a directory";
  if (st.isFIFO()) return "a FIFO (named pipe)";
  if (st.isCharacterDevice()) return "a character device";
  if (st.isBlockDevice()) return "a block device";
  if (st.isSocket()) return "a socket";
  return "not a regular file";
}

function sizeText(bytes: number): string {
  return bytes % (1024 * 1024) === 0 ? `${bytes / (1024 * 1024)} MiB` : `${bytes} bytes`;
}

/** Reads a regular file of at most `maxBytes` as UTF-8; anything else is one Error naming the file. */
export function readInputFile(path: string, opts: ReadInputOptions): string {
  const shown = opts.shown ?? path;
  const max = opts.maxBytes ?? MAX_INPUT_BYTES;
  const notAFile = (st: Stats): Error =>
    new Error(`${shown}: is ${kindOf(st)}, not a file; llmstack reads ${opts.what} only from a regular file`);
  const tooBig = (): Error =>
    new Error(
      `${shown}: is larger than ${sizeText(max)}, the most llmstack reads from ${opts.what}; check that it is the right file`,
    );
  const failed = (err: unknown): Error => {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === "ENOENT") return new Error(`${shown}: no such file${shown === path ? "" : ` (looked in ${path})`}`);
    if (code === "EACCES") return new Error(`${shown}: permission denied; llmstack cannot read it`);
    return new Error(`${shown}: cannot be read (${(err as Error).message})`);
  };

  let st: Stats;
  try {
    st = statSync(path);
  } catch (err) {
    throw failed(err);
  }
  if (!st.isFile()) throw notAFile(st);
  if (st.size > max) throw tooBig();

  let fd: number;
  try {
    fd = openSync(path, constants.O_RDONLY | constants.O_NONBLOCK | constants.O_NOCTTY);
  } catch (err) {
    throw failed(err);
  }
  try {
    const opened = fstatSync(fd);
    if (!opened.isFile()) throw notAFile(opened);
    // One byte over the limit tells a file that grew past it from one that is exactly at it.
    const buf = Buffer.alloc(Math.min(max, Math.max(opened.size, 64 * 1024)) + 1);
    let total = 0;
    let chunk: Buffer = buf;
    for (;;) {
      if (total === chunk.length) {
        if (total > max) throw tooBig();
        const grown = Buffer.alloc(Math.min(max + 1, chunk.length * 2));
        chunk.copy(grown);
        chunk = grown;
      }
      const n = readSync(fd, chunk, total, chunk.length - total, null);
      if (n === 0) break;
      total += n;
      if (total > max) throw tooBig();
    }
    return chunk.toString("utf8", 0, total);
  } finally {
    closeSync(fd);
  }
}
