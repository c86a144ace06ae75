/**
 * writeFileAtomic: the new text replaces the file whole or not at all. Failures are injected through its
 * fs seam (a rename across devices, a failed fsync); the file stays byte for byte what it was, no
 * temporary file is left, and the error names the file.
 */
import * as fs from "node:fs";
import { mkdtempSync, readdirSync, readFileSync, statSync, symlinkSync, writeFileSync, lstatSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { writeFileAtomic, type WriteFs } from "../../src/config/writeFile";

const fail = (code: string, call: string): never => {
  throw Object.assign(new Error(`${code}: failed, ${call}`), { code });
};

function folder(): string {
  const dir = mkdtempSync(join(tmpdir(), "llmstack-write-"));
  writeFileSync(join(dir, "Pulumi.prod.yaml"), "config:\n  llmstack:environment: production\n", { mode: 0o640 });
  return dir;
}

describe("writeFileAtomic", () => {
  it("replaces the file and keeps its mode", () => {
    const dir = folder();
    writeFileAtomic(join(dir, "Pulumi.prod.yaml"), "new\n");
    expect(readFileSync(join(dir, "Pulumi.prod.yaml"), "utf8")).toBe("new\n");
    expect(statSync(join(dir, "Pulumi.prod.yaml")).mode & 0o777).toBe(0o640);
    expect(readdirSync(dir)).toEqual(["Pulumi.prod.yaml"]);
  });

  it("writes a new file with the mode asked for, whatever the umask", () => {
    const dir = folder();
    writeFileAtomic(join(dir, "Pulumi.local.yaml"), "x\n", { mode: 0o600 });
    expect(statSync(join(dir, "Pulumi.local.yaml")).mode & 0o777).toBe(0o600);
  });

  it("writes through a symlink, which stays a symlink", () => {
    const dir = folder();
    symlinkSync(join(dir, "Pulumi.prod.yaml"), join(dir, "Pulumi.link.yaml"));
    writeFileAtomic(join(dir, "Pulumi.link.yaml"), "through\n");
    expect(lstatSync(join(dir, "Pulumi.link.yaml")).isSymbolicLink()).toBe(true);
    expect(readFileSync(join(dir, "Pulumi.prod.yaml"), "utf8")).toBe("through\n");
  });

  it.each([
    ["fsyncSync", "EIO", "fsync"],
    ["renameSync", "EXDEV", "rename"],
    ["openSync", "EACCES", "open"],
  ] as const)("leaves the file as it was when %s fails (%s)", (call, code, name) => {
    const dir = folder();
    const before = readFileSync(join(dir, "Pulumi.prod.yaml"));
    const broken = { ...fs, [call]: () => fail(code, name) } as WriteFs;
    expect(() => writeFileAtomic(join(dir, "Pulumi.prod.yaml"), "new\n", { shown: "Pulumi.prod.yaml" }, broken)).toThrow(
      `Pulumi.prod.yaml: could not be written (${code}: failed, ${name}); it was left as it was`,
    );
    expect(readFileSync(join(dir, "Pulumi.prod.yaml")).equals(before)).toBe(true);
    expect(readdirSync(dir)).toEqual(["Pulumi.prod.yaml"]);
  });
});
