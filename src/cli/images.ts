/**
 * `llmstack images pin [--stack NAME] [--dry-run]`: resolves each image tag to the digest it names now
 * (./registry.ts) and writes `repo:tag@sha256:<digest>` back where the reference is set: Pulumi.yaml's
 * `llmstack:images`, or with --stack the images that stack runs, its monitoring images included. Staging
 * and production need this before `pulumi up` (src/plan/digests.ts). Run it where the registries can be
 * reached; every image must resolve, or nothing is written. Files are replaced together through
 * src/config/writeFile.ts, so a failed write leaves every one as it was.
 */
import { existsSync, readFileSync } from "node:fs";
import { basename, join } from "node:path";
import { parseImage } from "../config/images";
import { writeFilesAtomic, type WriteFs } from "../config/writeFile";
import { imageSlots, writePins, type FileRole, type ImageSlot } from "../config/imagePins";
import { parseStackConfig } from "../config/parse";
import { noProjectFile, readStack } from "../config/stackFile";
import { ArgumentError } from "./args";
import { commandLine, defineCommand, parseCommand } from "./command";
import { type CliIo } from "./io";
import { dockerConfigCredentials, RegistryError, resolveDigest, type RegistryDeps } from "./registry";

export interface ImagesDeps {
  readonly fetch?: typeof fetch;
  /** The registry API's base URL for a host; `https://<host>` unless a test points it elsewhere. */
  readonly baseUrl?: (apiHost: string) => string;
  /** The file calls of the writer; a test makes one fail. */
  readonly fs?: WriteFs;
}

const PROJECT_FILE = "Pulumi.yaml";

export const imagesCli = () =>
  defineCommand("images", {
    summary: "pin each image tag to the digest it names now, as staging and production require",
    usage: "pin [--stack <name>] [--dry-run] [--dir <dir>]",
    details:
      "pin resolves each image's tag through its registry and writes repo:tag@sha256:<digest> where the image is " +
      "set. Run it where the registries can be reached; every image must resolve, or nothing is written. Exit " +
      "status: 0 when every image is pinned, 1 when one could not be resolved, 2 for a malformed command line.",
    examples: ["llmstack images pin --stack production", "llmstack images pin --stack staging --dry-run"],
  })
    .argument("[action]", 'what to do: "pin" (the only action)')
    .option("--stack <name>", "also the images that stack runs: its own llmstack:images and its monitoring images (default: Pulumi.yaml's only)")
    .option("--dry-run", "resolve and print, write nothing")
    .option("--dir <dir>", "the project directory (default: the current one)");

export async function imagesCommand(argv: string[], io: CliIo, deps: ImagesDeps = {}): Promise<number> {
  const { opts: values, args } = parseCommand<{ stack?: string; dryRun?: boolean; dir?: string }>(imagesCli, argv, io);
  if (args[0] !== "pin") {
    throw new ArgumentError('the only action is "pin"', "llmstack images pin --stack production");
  }
  const dir = values.dir ?? io.cwd;
  const paths: Record<FileRole, string> = { project: join(dir, PROJECT_FILE), stack: "" };
  if (!existsSync(paths.project)) {
    throw noProjectFile(dir);
  }
  let stack: { text: string; file: string; monitoringEnabled: boolean } | undefined;
  if (values.stack !== undefined) {
    // The stack must be valid before anything is fetched or written.
    const raw = readStack(dir, values.stack);
    const config = parseStackConfig(raw.values, raw.stackFile);
    paths.stack = join(dir, raw.stackFile);
    stack = {
      text: readFileSync(paths.stack, "utf8"),
      file: raw.stackFile,
      monitoringEnabled: config.monitoring?.enabled === true,
    };
  }
  const texts: Record<FileRole, string> = {
    project: readFileSync(paths.project, "utf8"),
    stack: stack?.text ?? "",
  };
  const slots = imageSlots({ project: { text: texts.project, file: PROJECT_FILE }, stack });

  const registry: RegistryDeps = {
    fetch: deps.fetch ?? fetch,
    baseUrl: deps.baseUrl ?? ((host) => `https://${host}`),
    credentials: dockerConfigCredentials(io.env),
  };
  const pinned = new Map<string, string | RegistryError>();
  for (const slot of slots) {
    const tagged = withoutDigest(slot.ref);
    if (pinned.has(tagged)) continue;
    try {
      pinned.set(tagged, `${tagged}@${await resolveDigest(tagged, registry)}`);
    } catch (err) {
      if (!(err instanceof RegistryError)) throw err;
      pinned.set(tagged, err);
    }
  }
  const failures = slots.flatMap((s) => {
    const result = pinned.get(withoutDigest(s.ref));
    return result instanceof RegistryError ? [`  - ${s.key}: ${result.message}\n`] : [];
  });
  if (failures.length > 0) {
    const again = commandLine(
      "llmstack", "images", "pin",
      ...(values.stack !== undefined ? ["--stack", values.stack] : []),
      ...(values.dir !== undefined ? ["--dir", values.dir] : []),
    );
    io.stderr(
      `images pin: ${failures.length} image(s) could not be resolved, so nothing was written:\n${failures.join("")}` +
        `fix each as its line says, then pin again; run "${again}"\n`,
    );
    return 1;
  }

  const changes = slots.map((slot) => ({ slot, ref: pinned.get(withoutDigest(slot.ref)) as string }));
  for (const { slot, ref } of changes) io.stdout(`${report(slot, ref)}\n`);
  const next: Partial<Record<FileRole, string>> = {};
  for (const role of ["project", "stack"] as const) {
    const pins = changes.filter((c) => c.slot.file === role).map((c) => ({ path: c.slot.path, ref: c.ref }));
    if (pins.length === 0) continue;
    const file = role === "project" ? PROJECT_FILE : stack!.file;
    const text = writePins(texts[role], file, pins);
    if (text !== texts[role]) next[role] = text;
  }
  const written = Object.keys(next) as FileRole[];
  if (written.length === 0) {
    io.stdout("every image is pinned to the digest its tag names now; nothing to write\n");
    return 0;
  }
  const names = written.map((r) => basename(paths[r])).join(", ");
  if (values.dryRun) {
    io.stdout(`--dry-run: ${names} not written\n`);
    return 0;
  }
  writeFilesAtomic(
    written.map((r) => ({ path: paths[r], text: next[r]!, shown: basename(paths[r]) })),
    deps.fs,
  );
  io.stdout(`wrote ${names}; review the change (git diff) and commit it\n`);
  return 0;
}

function withoutDigest(ref: string): string {
  const { repository, tag } = parseImage(ref);
  return tag === null ? repository : `${repository}:${tag}`;
}

function report(slot: ImageSlot, ref: string): string {
  if (slot.ref === ref) return `${slot.key}: ${ref} (already pinned)`;
  const old = parseImage(slot.ref).digest;
  return `${slot.key}: ${slot.ref} -> ${ref}${old !== null ? ` (was ${old})` : ""}`;
}

