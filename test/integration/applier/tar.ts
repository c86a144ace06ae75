/**
 * A minimal tar writer (POSIX ustar, with a PAX header for names longer than ustar holds). It serves
 * two callers: uploads, which the Docker provider sends to the daemon as a one-file tar archive
 * (terraform-provider-docker `internal/provider/resource_docker_container_funcs.go`, the `upload`
 * block: `tar.Header{Name: file, Mode: mode, Size: len(content)}` copied to "/"), and the stand-in
 * images' root filesystems, which `docker import` reads as a tar stream.
 */

export interface TarEntry {
  /** Path inside the archive; a leading "/" is kept as the provider keeps it. */
  readonly name: string;
  readonly type: "file" | "dir" | "symlink";
  /** Permission bits, e.g. 0o644. */
  readonly mode: number;
  readonly uid?: number;
  readonly gid?: number;
  readonly content?: Buffer;
  readonly linkname?: string;
  /** Seconds since the epoch; fixed by default so equal inputs give equal archives. */
  readonly mtime?: number;
}

const BLOCK = 512;

function octal(n: number, width: number): string {
  return n.toString(8).padStart(width - 1, "0") + "\0";
}

function header(fields: {
  name: string;
  prefix?: string;
  mode: number;
  uid: number;
  gid: number;
  size: number;
  mtime: number;
  typeflag: string;
  linkname?: string;
}): Buffer {
  const h = Buffer.alloc(BLOCK, 0);
  h.write(fields.name, 0, 100, "utf8");
  h.write(octal(fields.mode & 0o7777, 8), 100, 8, "ascii");
  h.write(octal(fields.uid, 8), 108, 8, "ascii");
  h.write(octal(fields.gid, 8), 116, 8, "ascii");
  h.write(octal(fields.size, 12), 124, 12, "ascii");
  h.write(octal(fields.mtime, 12), 136, 12, "ascii");
  h.write("        ", 148, 8, "ascii");
  h.write(fields.typeflag, 156, 1, "ascii");
  if (fields.linkname) h.write(fields.linkname, 157, 100, "utf8");
  h.write("ustar\0", 257, 6, "ascii");
  h.write("00", 263, 2, "ascii");
  if (fields.prefix) h.write(fields.prefix, 345, 155, "utf8");
  let sum = 0;
  for (const b of h) sum += b;
  h.write(octal(sum, 7) + " ", 148, 8, "ascii");
  return h;
}

function padding(size: number): Buffer {
  const rest = size % BLOCK;
  return Buffer.alloc(rest === 0 ? 0 : BLOCK - rest, 0);
}

/** A PAX extended header record: "<len> <key>=<value>\n", where len counts the whole record. */
function paxRecord(key: string, value: string): string {
  const body = ` ${key}=${value}\n`;
  let len = Buffer.byteLength(body) + 1;
  while (String(len).length + Buffer.byteLength(body) !== len)
    len = String(len).length + Buffer.byteLength(body);
  return `${len}${body}`;
}

/** Splits a long name into ustar's prefix and name fields, or null when it does not fit. */
function splitName(name: string): { prefix: string; name: string } | null {
  if (Buffer.byteLength(name) <= 100) return { prefix: "", name };
  for (let i = name.indexOf("/"); i >= 0; i = name.indexOf("/", i + 1)) {
    const prefix = name.slice(0, i);
    const rest = name.slice(i + 1);
    if (Buffer.byteLength(prefix) <= 155 && Buffer.byteLength(rest) <= 100 && rest !== "")
      return { prefix, name: rest };
  }
  return null;
}

/** The archive's blocks for one entry. */
export function tarEntry(e: TarEntry): Buffer[] {
  const content = e.type === "file" ? (e.content ?? Buffer.alloc(0)) : Buffer.alloc(0);
  const typeflag = e.type === "file" ? "0" : e.type === "dir" ? "5" : "2";
  const name = e.type === "dir" && !e.name.endsWith("/") ? `${e.name}/` : e.name;
  const common = { mode: e.mode, uid: e.uid ?? 0, gid: e.gid ?? 0, mtime: e.mtime ?? 0 };
  const out: Buffer[] = [];
  let split = splitName(name);
  let linkname = e.linkname;
  if (split === null || (linkname !== undefined && Buffer.byteLength(linkname) > 100)) {
    let pax = split === null ? paxRecord("path", name) : "";
    if (linkname !== undefined && Buffer.byteLength(linkname) > 100) {
      pax += paxRecord("linkpath", linkname);
      linkname = linkname.slice(0, 100);
    }
    const body = Buffer.from(pax, "utf8");
    out.push(
      header({ ...common, name: "PaxHeader", size: body.length, typeflag: "x" }),
      body,
      padding(body.length),
    );
    split = split ?? { prefix: "", name: name.slice(-100) };
  }
  out.push(header({ ...common, ...split, size: content.length, typeflag, linkname }));
  if (content.length > 0) out.push(content, padding(content.length));
  return out;
}

/** The two zero blocks that end an archive. */
export const TAR_END = Buffer.alloc(2 * BLOCK, 0);

/** A whole archive in memory. */
export function tarArchive(entries: readonly TarEntry[]): Buffer {
  return Buffer.concat([...entries.flatMap(tarEntry), TAR_END]);
}
