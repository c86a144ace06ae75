/**
 * A container's `uploads`, written as the provider writes them: one tar archive per file with the
 * file's absolute path as its name, copied to "/" before the container starts. Mode: `permissions`
 * (octal), else 0744 when `executable`, else 0644. The daemon applies the archive's owner ids, so a file
 * is root-owned unless the upload gives `owner`/`group` (numeric ids: names would be looked up on the
 * machine running Pulumi, not in the image).
 */
import { readFileSync } from "node:fs";
import { tarArchive } from "./tar";

export interface UploadInput {
  readonly file: string;
  readonly content?: string;
  readonly contentBase64?: string;
  readonly source?: string;
  readonly permissions?: string;
  readonly executable?: boolean;
  readonly owner?: string;
  readonly group?: string;
}

function numericId(value: string | undefined, field: string, file: string): number {
  if (value === undefined) return 0;
  if (!/^\d+$/.test(value)) {
    throw new Error(
      `upload ${file}: ${field} "${value}" is a name; it would be resolved on the machine running Pulumi, not in the image: use the numeric id`,
    );
  }
  return Number(value);
}

/** The archive the provider sends for one upload. */
export function uploadArchive(u: UploadInput): Buffer {
  const given = [u.content, u.contentBase64, u.source].filter((v) => v !== undefined && v !== "");
  if (given.length !== 1) {
    throw new Error(
      `error with upload content: exactly one of 'content', 'content_base64', or 'source' must be set (${u.file})`,
    );
  }
  const content =
    u.content !== undefined && u.content !== ""
      ? Buffer.from(u.content, "utf8")
      : u.contentBase64
        ? Buffer.from(u.contentBase64, "base64")
        : readFileSync(u.source!);
  const mode = u.permissions ? parseInt(u.permissions, 8) : u.executable ? 0o744 : 0o644;
  if (Number.isNaN(mode)) throw new Error(`Error parsing permission: ${u.permissions}`);
  return tarArchive([
    {
      name: u.file,
      type: "file",
      mode,
      uid: numericId(u.owner, "owner", u.file),
      gid: numericId(u.group, "group", u.file),
      content,
      mtime: Math.floor(Date.now() / 1000),
    },
  ]);
}
