/**
 * Root filesystems for the stand-in images, made from this machine's files: each program with the
 * shared libraries `ldd` lists for it (and for every shared object in a copied tree), plus generated
 * files. The result is a tar stream `docker import` reads; nothing is staged on disk, and the owners
 * and modes are exactly what the spec says. An image is rebuilt only when the hash of its content
 * changes (kept in a label), so a second run imports nothing.
 */
import { execFile } from "node:child_process";
import { createHash } from "node:crypto";
import {
  closeSync,
  lstatSync,
  openSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  readSync,
  realpathSync,
} from "node:fs";
import { basename, dirname, join, posix, resolve } from "node:path";
import { Readable } from "node:stream";
import type Dockerode from "dockerode";
import { TAR_END, tarEntry, type TarEntry } from "../applier/tar";

export interface ImageUser {
  readonly name: string;
  readonly uid: number;
  readonly gid: number;
  readonly home: string;
  readonly shell: string;
}

export interface RootfsSpec {
  /** Files copied from this machine to the same path (ELF files bring their libraries). */
  readonly hostFiles?: readonly string[];
  /** Files copied from this machine to another path: image path → host path. */
  readonly placed?: Readonly<Record<string, string>>;
  /** Directories copied whole, minus names matching `exclude`. */
  readonly trees?: readonly { readonly dir: string; readonly exclude?: RegExp }[];
  /** Generated files. */
  readonly files?: readonly {
    readonly path: string;
    readonly content: string | Buffer;
    readonly mode: number;
    readonly uid?: number;
    readonly gid?: number;
  }[];
  readonly dirs?: readonly {
    readonly path: string;
    readonly mode: number;
    readonly uid?: number;
    readonly gid?: number;
  }[];
  /** Symbolic links: path → target. */
  readonly links?: Readonly<Record<string, string>>;
  readonly users: readonly ImageUser[];
  /** Image config applied at import: ENTRYPOINT, CMD, ENV, WORKDIR, USER, VOLUME, STOPSIGNAL lines. */
  readonly changes: readonly string[];
}

interface Item {
  readonly entry: Omit<TarEntry, "content">;
  /** Host file holding the content, read when hashed and when written. */
  readonly source?: string;
  readonly content?: Buffer;
}

function isElf(file: string): boolean {
  const head = Buffer.alloc(4);
  const fd = openSync(file, "r");
  try {
    return (
      readSync(fd, head, 0, 4, 0) === 4 &&
      head[0] === 0x7f &&
      head.toString("latin1", 1, 4) === "ELF"
    );
  } finally {
    closeSync(fd);
  }
}

/** Library paths `ldd` resolves for the given files (static ones and non-ELF files list none). */
async function libraries(files: readonly string[]): Promise<string[]> {
  const elf = files.filter((f) => isElf(f));
  // ldd runs the loader once per file; a few at a time keeps a first build short.
  const chunks: string[][] = [];
  for (let i = 0; i < elf.length; i += 16) chunks.push(elf.slice(i, i + 16));
  const outputs = await Promise.all(
    chunks.map(
      (chunk) =>
        new Promise<string>((resolve) => {
          // ldd exits 1 when one of several files is static; its stdout still lists the others.
          execFile("ldd", chunk, { encoding: "utf8", maxBuffer: 1 << 24 }, (_err, stdout) =>
            resolve(stdout),
          );
        }),
    ),
  );
  const libs = new Set<string>();
  for (const line of outputs.join("\n").split("\n")) {
    const m = /=>\s+(\/\S+)\s+\(/.exec(line) ?? /^\s+(\/\S+)\s+\(/.exec(line);
    if (m) libs.add(m[1]!);
    if (/=>\s+not found/.test(line))
      throw new Error(`ldd: a library is missing on this machine: ${line.trim()}`);
  }
  return [...libs];
}

/** sha256 of a host file, remembered for the process (the Node binary is in several images). */
const fileHashes = new Map<string, string>();
function fileHash(path: string): string {
  let h = fileHashes.get(path);
  if (h === undefined) {
    h = createHash("sha256").update(readFileSync(path)).digest("hex");
    fileHashes.set(path, h);
  }
  return h;
}

export class Rootfs {
  private readonly items = new Map<string, Item>();

  private rel(path: string): string {
    return posix.normalize(path).replace(/^\/+/, "");
  }

  private ensureParents(path: string): void {
    for (let d = posix.dirname(this.rel(path)); d !== "." && d !== ""; d = posix.dirname(d)) {
      if (!this.items.has(d)) this.items.set(d, { entry: { name: d, type: "dir", mode: 0o755 } });
    }
  }

  dir(path: string, mode: number, uid = 0, gid = 0): void {
    this.ensureParents(path);
    this.items.set(this.rel(path), {
      entry: { name: this.rel(path), type: "dir", mode, uid, gid },
    });
  }

  file(path: string, content: string | Buffer, mode: number, uid = 0, gid = 0): void {
    this.ensureParents(path);
    const buf = typeof content === "string" ? Buffer.from(content, "utf8") : content;
    this.items.set(this.rel(path), {
      entry: { name: this.rel(path), type: "file", mode, uid, gid },
      content: buf,
    });
  }

  link(path: string, target: string): void {
    this.ensureParents(path);
    this.items.set(this.rel(path), {
      entry: { name: this.rel(path), type: "symlink", mode: 0o777, linkname: target },
    });
  }

  /**
   * Copies a host path to the same path, following symlinks (each link is kept as a link and its target
   * copied too). Directories of the host that are links (/lib → usr/lib) are copied as links.
   */
  host(path: string): void {
    const canonical = join(realpathSync(dirname(path)), basename(path));
    if (this.items.has(this.rel(canonical))) return;
    for (const top of ["/bin", "/sbin", "/lib", "/lib64"]) {
      if (
        path.startsWith(`${top}/`) &&
        lstatSync(top).isSymbolicLink() &&
        !this.items.has(top.slice(1))
      ) {
        this.link(top, readlinkSync(top));
      }
    }
    const st = lstatSync(canonical);
    if (st.isSymbolicLink()) {
      const target = readlinkSync(canonical);
      this.link(canonical, target);
      this.host(resolve(dirname(canonical), target));
      return;
    }
    if (st.isDirectory()) {
      this.dir(canonical, st.mode & 0o7777);
      return;
    }
    this.placeHost(canonical, canonical);
  }

  /** Copies host file `source` to `path` in the image, keeping its mode. */
  placeHost(path: string, source: string): void {
    this.ensureParents(path);
    const st = lstatSync(source);
    this.items.set(this.rel(path), {
      entry: { name: this.rel(path), type: "file", mode: st.mode & 0o7777 },
      source,
    });
  }

  tree(dir: string, exclude?: RegExp): void {
    for (const name of readdirSync(dir)) {
      if (exclude?.test(name)) continue;
      const path = join(dir, name);
      const st = lstatSync(path);
      if (st.isDirectory()) {
        this.dir(path, st.mode & 0o7777);
        this.tree(path, exclude);
      } else this.host(path);
    }
  }

  /** Adds the libraries of every ELF file in the image (until none is missing). */
  async closeLibraries(): Promise<void> {
    let pending = [...this.items.values()].flatMap((i) => (i.source ? [i.source] : []));
    const seen = new Set<string>();
    while (pending.length > 0) {
      const libs = await libraries(pending.filter((p) => !seen.has(p)));
      pending.forEach((p) => seen.add(p));
      pending = [];
      for (const lib of libs) {
        if (seen.has(lib)) continue;
        this.host(lib);
        pending.push(realpathSync(lib));
      }
    }
  }

  private sorted(): Item[] {
    return [...this.items.entries()]
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
      .map(([, i]) => i);
  }

  /**
   * sha256 over every entry's metadata and content. Taken before the libraries are added: they follow
   * from the programs on this machine, and reading them on every run would cost more than it tells.
   */
  hash(extra: string): string {
    const h = createHash("sha256").update(extra);
    for (const i of this.sorted()) {
      h.update(JSON.stringify(i.entry));
      if (i.source) h.update(fileHash(i.source));
      if (i.content) h.update(i.content);
    }
    return h.digest("hex");
  }

  stream(): Readable {
    const items = this.sorted();
    return Readable.from(
      (function* () {
        for (const i of items) {
          const content = i.source ? readFileSync(i.source) : i.content;
          yield* tarEntry({ ...i.entry, ...(content ? { content } : {}) });
        }
        yield TAR_END;
      })(),
    );
  }
}

export function buildRootfs(spec: RootfsSpec): Rootfs {
  const fs = new Rootfs();
  fs.dir("/tmp", 0o1777);
  fs.dir("/root", 0o700);
  const groups = new Map<number, string>([[0, "root"]]);
  for (const u of spec.users) if (!groups.has(u.gid)) groups.set(u.gid, u.name);
  const users = [{ name: "root", uid: 0, gid: 0, home: "/root", shell: "/bin/sh" }, ...spec.users];
  fs.file(
    "/etc/passwd",
    users.map((u) => `${u.name}:x:${u.uid}:${u.gid}::${u.home}:${u.shell}\n`).join(""),
    0o644,
  );
  fs.file("/etc/group", [...groups].map(([gid, name]) => `${name}:x:${gid}:\n`).join(""), 0o644);
  fs.file("/etc/nsswitch.conf", "passwd: files\ngroup: files\nhosts: files dns\n", 0o644);
  for (const f of spec.hostFiles ?? []) fs.host(f);
  for (const [path, source] of Object.entries(spec.placed ?? {}))
    fs.placeHost(path, realpathSync(source));
  for (const t of spec.trees ?? []) fs.tree(t.dir, t.exclude);
  for (const d of spec.dirs ?? []) fs.dir(d.path, d.mode, d.uid, d.gid);
  for (const f of spec.files ?? []) fs.file(f.path, f.content, f.mode, f.uid, f.gid);
  for (const [path, target] of Object.entries(spec.links ?? {})) fs.link(path, target);
  return fs;
}

const HASH_LABEL = "org.llmstack.standin.hash";

/** Imports `spec` as `reference` unless the daemon already has it at the same content hash. */
export async function importStandin(
  docker: Dockerode,
  reference: string,
  spec: RootfsSpec,
): Promise<"built" | "cached"> {
  const fs = buildRootfs(spec);
  const hash = fs.hash(JSON.stringify(spec.changes));
  const existing = await docker
    .getImage(reference)
    .inspect()
    .catch(() => undefined);
  if (existing?.Config?.Labels?.[HASH_LABEL] === hash) return "cached";
  await fs.closeLibraries();
  const colon = reference.lastIndexOf(":");
  const progress = await docker.importImage(fs.stream(), {
    repo: reference.slice(0, colon),
    tag: reference.slice(colon + 1),
    changes: [...spec.changes, `LABEL ${HASH_LABEL}=${hash}`],
  });
  const text = await new Promise<string>((res, rej) => {
    let out = "";
    progress.on("data", (d: Buffer) => (out += d.toString()));
    progress.on("end", () => res(out));
    progress.on("error", rej);
  });
  if (text.includes('"error"')) throw new Error(`docker import of ${reference} failed: ${text}`);
  const built = await docker.getImage(reference).inspect();
  if (built.Config?.Labels?.[HASH_LABEL] !== hash)
    throw new Error(`docker import of ${reference} did not take the label: ${text}`);
  return "built";
}
