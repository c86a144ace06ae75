/**
 * `backup` and `restore` of a stack's data stores into and out of a local directory: every check first
 * (the stores run, the directory is new; the manifest fits the stack and its files), then the steps.
 * Remote destinations (s3://) are copied to and from a local directory by the command (./s3.ts).
 */
import { createHash } from "node:crypto";
import { createReadStream, existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { join, relative, sep } from "node:path";
import type { StackPlan } from "../plan/types";
import { credentials, inspectStore, runStep, withStopped, type DockerDeps, type Running } from "./docker";
import { BackupError } from "./errors";
import { checkManifest, MANIFEST_FILE, MANIFEST_FORMAT, parseManifest, versionOf, type Manifest, type StoreEntry } from "./manifest";
import { STORES, storeSteps, type StoreName, type StoreStep } from "./steps";

export interface RunDeps extends DockerDeps {
  /** Milliseconds since the epoch. */
  readonly now: () => number;
  /** Progress lines. */
  readonly log: (line: string) => void;
}

/** A stamp for one-shot container names: the time, to the second. */
const stampOf = (ms: number): string => new Date(ms).toISOString().replace(/[-:]/g, "").replace(/\..*$/, "").toLowerCase();

export async function sha256File(path: string): Promise<string> {
  const hash = createHash("sha256");
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
  return hash.digest("hex");
}

function filesUnder(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? filesUnder(join(dir, e.name)) : e.isFile() ? [join(dir, e.name)] : [],
  );
}

/** Waits for every step, then fails with the first failure (in store order), so none is left running. */
async function settle<T>(runs: readonly Promise<T>[]): Promise<T[]> {
  const results = await Promise.allSettled(runs);
  const failed = results.find((r): r is PromiseRejectedResult => r.status === "rejected");
  if (failed !== undefined) throw failed.reason;
  return results.map((r) => (r as PromiseFulfilledResult<T>).value);
}

function logOutput(deps: RunDeps, step: StoreStep, printed: string): void {
  for (const line of printed.trim().split("\n").filter((l) => l.trim() !== "")) deps.log(`  ${step.store}: ${line}`);
}

/** Every store container of the plan, running; refuses a stack whose stores are not all up. */
async function runningStores(plan: StackPlan, steps: readonly StoreStep[], deps: DockerDeps): Promise<Map<StoreName, Running>> {
  const out = new Map<StoreName, Running>();
  for (const step of steps) {
    const r = await inspectStore(deps, step.host, step.target);
    if (r === null || !r.running) {
      throw new BackupError(
        `the ${step.store} container ${step.target} is ${r === null ? "missing" : "not running"} on ${step.host}; ` +
          `${step.action} needs every data store of the stack running, and nothing was changed`,
        `llmstack up --stack ${plan.stack}`,
      );
    }
    out.set(step.store, r);
  }
  return out;
}

/** Backs up every store into `dir` (which must not hold a backup yet) and writes the manifest last. */
export async function backupStack(plan: StackPlan, dir: string, deps: RunDeps): Promise<Manifest> {
  if (existsSync(join(dir, MANIFEST_FILE)) || STORES.some((s) => existsSync(join(dir, s)))) {
    throw new BackupError(
      `${dir} already holds a backup (${MANIFEST_FILE} or a store's directory); a backup never overwrites another`,
      `llmstack backup --stack ${plan.stack} --to <a new directory>`,
    );
  }
  const steps = storeSteps(plan, "backup");
  const running = await runningStores(plan, steps, deps);
  const values = new Map<StoreName, Record<string, string>>();
  for (const step of steps) values.set(step.store, await credentials(deps, step, running.get(step.store)!));
  const time = new Date(deps.now()).toISOString();
  const stamp = stampOf(deps.now());
  // The stores are independent, so their steps run side by side; each one's output is logged when it ends.
  const entries = await settle(
    steps.map(async (step): Promise<[StoreName, StoreEntry]> => {
      const local = join(dir, step.store);
      mkdirSync(local, { recursive: true });
      deps.log(`${step.store}: ${step.artefact} from ${step.target}`);
      logOutput(deps, step, await runStep(deps, step, values.get(step.store)!, local, stamp));
      const files = [];
      for (const path of filesUnder(local).sort()) {
        files.push({ file: relative(dir, path).split(sep).join("/"), size: statSync(path).size, sha256: await sha256File(path) });
      }
      const image = running.get(step.store)!.image;
      return [step.store, { image, version: versionOf(image), artefact: step.artefact, files }];
    }),
  );
  const stores = Object.fromEntries(STORES.map((s) => [s, entries.find(([name]) => name === s)![1]]));
  const manifest: Manifest = { format: MANIFEST_FORMAT, stack: plan.stack, time, stores: stores as Record<StoreName, StoreEntry> };
  writeFileSync(join(dir, MANIFEST_FILE), `${JSON.stringify(manifest, null, 2)}\n`);
  return manifest;
}

/** Reads and checks `dir`'s manifest against the plan and the files; nothing on the host is touched. */
export async function checkBackup(plan: StackPlan, dir: string, shownAs: string = dir): Promise<Manifest> {
  const path = join(dir, MANIFEST_FILE);
  if (!existsSync(path)) {
    throw new BackupError(`${shownAs}/${MANIFEST_FILE}: no such file; a backup's directory holds the manifest llmstack backup wrote`, `ls ${shownAs}`);
  }
  const manifest = parseManifest(readFileSync(path, "utf8"), `${shownAs}/${MANIFEST_FILE}`);
  await checkManifest(plan, manifest, shownAs, async (file) => {
    const full = join(dir, ...file.split("/"));
    if (!existsSync(full) || !statSync(full).isFile()) return null;
    return { size: statSync(full).size, sha256: await sha256File(full) };
  });
  return manifest;
}

/** What a restore replaces, for the question asked before it starts. */
export function restoreQuestion(plan: StackPlan, manifest: Manifest): string {
  return (
    `Restore the backup of ${manifest.stack} taken ${manifest.time} into the stack ${plan.stack}? It replaces the ` +
    "Postgres database, the Redis data (Redis is stopped meanwhile), every Qdrant collection in the backup and " +
    "every object in the backup's buckets. [y/N] "
  );
}

/** Checks that every store runs, then restores each one from `dir` (already checked by checkBackup). */
export async function restoreStack(plan: StackPlan, dir: string, deps: RunDeps): Promise<void> {
  const steps = storeSteps(plan, "restore");
  const running = await runningStores(plan, steps, deps);
  const values = new Map<StoreName, Record<string, string>>();
  for (const step of steps) values.set(step.store, await credentials(deps, step, running.get(step.store)!));
  const stamp = stampOf(deps.now());
  await settle(
    steps.map(async (step) => {
      deps.log(`${step.store}: restoring ${step.artefact} into ${step.target}`);
      // A store with nothing to back up has an empty directory, which some copies do not keep.
      mkdirSync(join(dir, step.store), { recursive: true });
      logOutput(deps, step, await withStopped(deps, step, () => runStep(deps, step, values.get(step.store)!, join(dir, step.store), stamp)));
    }),
  );
}
