/**
 * `llmstack configure-gpu [auto|multi|single|cpu] --stack NAME [--from-dir DIR] [--ssh HOST]`: detects the
 * host's GPUs (or reads captures from DIR: topo.txt, query.csv, nvlink.txt) and rewrites the `llmstack:gpu`
 * key of `Pulumi.<NAME>.yaml`, keeping everything else. The change is a diff to review, not a deploy: it
 * prints what changed and which containers the next `pulumi up` replaces because of it, from the diff of
 * the stack's plans before and after (src/diff/compute.ts), the same one `plan --diff` prints.
 */
import { existsSync } from "node:fs";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { z } from "zod";
import { readInputFile } from "../config/readFile";
import { NODE_FS, writeFileAtomic, type WriteFs } from "../config/writeFile";
import { gpuSchema, stackConfigSchema } from "../config/schema";
import { readStack } from "../config/stackFile";
import { diffPlans } from "../diff/compute";
import { changedContainerLines } from "../diff/render";
import type { PlanDoc } from "../diff/types";
import { captureFilesInDir, readCaptureFiles } from "../gpu/captureFiles";
import { detectFromCaptures } from "../gpu/detect";
import { chooseLayout, REQUESTED_MODES, sectionFor, type GpuSection, type RequestedMode } from "../gpu/layout";
import { detectByRunning } from "../gpu/run";
import { GPU_KEY, readStackGpu, writeStackGpu, type KeyChange } from "../gpu/stackSection";
import type { Detection } from "../gpu/types";
import { planJson } from "../plan/render";
import { ArgumentError, pathArg, requireStack, sshArg } from "./args";
import { UsageError, type CliIo } from "./io";
import { renderStack } from "./renderStack";

/** `fs` is where the stack file is written (tests pass one that fails). */
export async function configureGpuCommand(argv: string[], io: CliIo, fs: WriteFs = NODE_FS): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    options: {
      stack: { type: "string" },
      "from-dir": { type: "string" },
      ssh: { type: "string" },
    },
    allowPositionals: true,
    strict: true,
  });
  const mode = (positionals[0] ?? "auto") as RequestedMode;
  if (!REQUESTED_MODES.includes(mode) || positionals.length > 1) {
    throw new ArgumentError(
      `configure-gpu: mode ${JSON.stringify(positionals.join(" "))} is not one of ${REQUESTED_MODES.join(", ")}; e.g. llmstack configure-gpu auto --stack production`,
    );
  }
  requireStack(values.stack, "llmstack configure-gpu auto --stack production");
  if (values["from-dir"] !== undefined && values.ssh !== undefined) {
    throw new ArgumentError("configure-gpu: --from-dir reads captures here, --ssh runs nvidia-smi on HOST; give one or the other");
  }
  pathArg("from-dir", values["from-dir"], io.cwd, "directory");
  sshArg(values.ssh);
  const file = `Pulumi.${values.stack}.yaml`;
  const path = join(io.cwd, file);
  if (!existsSync(path)) {
    throw new UsageError(`${file}: no such stack file in ${io.cwd}; create it first (copy Pulumi.development.yaml) or pick another --stack`);
  }
  const text = readInputFile(path, { shown: file, what: "a stack file" });
  const { previous, environment } = readStackGpu(text, file);

  const detection: Detection | null =
    mode === "cpu"
      ? null
      : values["from-dir"] !== undefined
        ? detectFromCaptures(readCaptureFiles(io.cwd, captureFilesInDir(io.cwd, values["from-dir"])))
        : await detectByRunning(io.exec, { ssh: values.ssh });
  const layout = chooseLayout(detection ?? { gpus: [], links: null, nvlinkPairs: [], problem: null, notes: [] }, mode);
  const section = sectionFor(layout, { previous, environment });
  const partial = validate(section, io.cwd, values.stack, file);
  if (partial !== null) io.stderr(`note: ${partial}\n`);

  const { text: next, changes } = writeStackGpu(text, file, section);
  for (const reason of [...(detection?.notes ?? []), ...layout.reasons]) io.stdout(`${reason}\n`);
  if (changes.length === 0) {
    io.stdout(`${file}: ${GPU_KEY} already matches this host (${layout.mode}); nothing changed\n`);
    return 0;
  }
  const before = partial === null ? planDoc(io.cwd, values.stack) : null;
  writeFileAtomic(path, next, { shown: file }, fs);
  io.stdout(`${file}: ${GPU_KEY} updated (${layout.mode}):\n`);
  for (const c of changes) io.stdout(`  ${describe(c)}\n`);
  const after = before === null ? null : planDoc(io.cwd, values.stack);
  if (before === null || after === null) {
    io.stdout(`which containers the next \`pulumi up\` changes: see llmstack plan --stack ${values.stack} --diff HEAD\n`);
  } else {
    const diff = diffPlans({ stack: values.stack, base: `${file} before`, renderWith: "current", before, after });
    for (const line of changedContainerLines(diff)) io.stdout(`${line}\n`);
  }
  return 0;
}

/**
 * The section must pass the schema, and the stack's cross-field GPU rules (a GPU shared by vLLM and the
 * worker must not be overfilled), which zod only runs when the rest of the stack parses. Returns a note when
 * only the section could be checked.
 */
function validate(section: GpuSection, dir: string, stack: string, file: string): string | null {
  const alone = gpuSchema.safeParse(section);
  if (!alone.success) {
    throw new Error(`${file}: the new ${GPU_KEY} would be invalid, nothing was written:\n${z.prettifyError(alone.error)}`);
  }
  let values: Record<string, unknown>;
  try {
    values = readStack(dir, stack).values;
  } catch (err) {
    return `only ${GPU_KEY} was checked: the stack could not be read (${(err as Error).message})`;
  }
  const full = stackConfigSchema.safeParse({ ...values, gpu: section });
  const issues = full.success ? [] : full.error.issues.filter((i) => i.path[0] === "gpu");
  const others = full.success ? [] : full.error.issues.filter((i) => i.path[0] !== "gpu");
  if (issues.length > 0) {
    throw new Error(
      `${file}: the new ${GPU_KEY} would be rejected, nothing was written: ` +
        issues.map((i) => `${i.path.join(".")}: ${i.message}`).join("; "),
    );
  }
  if (others.length > 0) {
    return (
      `only ${GPU_KEY} was checked: other keys of ${file} do not parse yet (${others.map((i) => i.path.join(".")).join(", ")}), ` +
      `so the rules across keys did not run; see llmstack plan --stack ${stack}`
    );
  }
  return null;
}

function describe(c: KeyChange): string {
  const show = (v: unknown): string => JSON.stringify(v);
  if (c.before === undefined) return `+ ${c.key}: ${show(c.after)}`;
  if (c.after === undefined) return `- ${c.key}: ${show(c.before)}`;
  return `~ ${c.key}: ${show(c.before)} → ${show(c.after)}`;
}

/** The stack's plan as `plan --json` prints it, or null when the stack does not render. */
function planDoc(dir: string, stack: string): PlanDoc | null {
  try {
    return planJson(renderStack(dir, stack)) as unknown as PlanDoc;
  } catch {
    return null;
  }
}
