/**
 * `llmstack configure-gpu [auto|multi|single|cpu] --stack NAME [--from-dir DIR] [--ssh HOST]`: detects the
 * host's GPUs (or reads captures from DIR: topo.txt, query.csv, nvlink.txt) and rewrites the `llmstack:gpu`
 * key of `Pulumi.<NAME>.yaml`, keeping everything else. The change is a diff to review, not a deploy: it
 * prints what changed and which containers the next `pulumi up` replaces because of it, from the diff of
 * the stack's plans before and after (src/diff/compute.ts), the same one `plan --diff` prints.
 */
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { z } from "zod";
import { StackConfigError } from "../config/errors";
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
import { GPU_KEY, HOSTS_KEY, readHostGpu, readStackGpu, writeHostGpu, writeStackGpu, type KeyChange } from "../gpu/stackSection";
import { hostName, knownHostsLine, sshEndpoint, SSH_HOST_KEY } from "../config/hosts";
import type { Detection } from "../gpu/types";
import { planJson } from "../plan/render";
import { ArgumentError, pathArg, requireStack, sshArg } from "./args";
import { commandLine, defineCommand, parseCommand } from "./command";
import { UsageError, type CliIo } from "./io";
import { renderStack } from "./renderStack";

export const configureGpuCli = () =>
  defineCommand("configure-gpu", {
    summary: "write the stack file's GPU section from the host's GPUs, keeping its comments and order",
    usage: "[auto|multi|single|cpu] --stack <name> [--host <name>] [--from-dir <dir>] [--ssh <host>]",
    details:
      "It prints what changed and which containers the next pulumi up replaces because of it; review the change " +
      "(git diff) and commit it. Exit status: 0 when the file is written or already matches, 1 when the host " +
      "cannot run the layout, 2 for a malformed command line.",
    examples: [
      "llmstack configure-gpu auto --stack production",
      "llmstack configure-gpu single --stack development --ssh gpu@gpu-box.lan",
      "llmstack configure-gpu cpu --stack development",
      "llmstack configure-gpu auto --stack fleet --host gpu-a",
    ],
  })
    .argument("[mode]", "the layout to write: auto (default: the best the host allows), multi, single or cpu")
    .option("--stack <name>", "the stack file to rewrite, Pulumi.<name>.yaml (required)")
    .option("--from-dir <dir>", "read captures (topo.txt, query.csv, nvlink.txt) instead of running nvidia-smi")
    .option("--ssh <host>", "run nvidia-smi on <host> over ssh")
    .option(
      "--host <name>",
      "on a stack with llmstack:hosts: write that host's gpu section, running nvidia-smi over its ssh:// endpoint " +
        "(with its pinned hostKey) unless --ssh or --from-dir is given",
    );

/** `fs` is where the stack file is written (tests pass one that fails). */
export async function configureGpuCommand(argv: string[], io: CliIo, fs: WriteFs = NODE_FS): Promise<number> {
  const { opts: values, args: positionals } = parseCommand<{ stack?: string; fromDir?: string; ssh?: string; host?: string }>(
    configureGpuCli,
    argv,
    io,
  );
  const mode = (positionals[0] ?? "auto") as RequestedMode;
  if (!REQUESTED_MODES.includes(mode)) {
    throw new ArgumentError(
      `mode ${JSON.stringify(mode)} is not one of ${REQUESTED_MODES.join(", ")}`,
      "llmstack configure-gpu auto --stack production",
    );
  }
  requireStack(values.stack, "llmstack configure-gpu auto --stack production");
  if (values.fromDir !== undefined && values.ssh !== undefined) {
    throw new ArgumentError("configure-gpu: --from-dir reads captures here, --ssh runs nvidia-smi on HOST; give one or the other");
  }
  pathArg("from-dir", values.fromDir, io.cwd, "directory");
  sshArg(values.ssh);
  const file = `Pulumi.${values.stack}.yaml`;
  const path = join(io.cwd, file);
  if (!existsSync(path)) {
    throw new UsageError(
      `${file}: no such stack file in ${io.cwd}; create it (copy Pulumi.development.yaml) or pick another --stack`,
      commandLine("cp", "Pulumi.development.yaml", file),
    );
  }
  let text: string;
  try {
    text = readInputFile(path, { shown: file, what: "a stack file" });
  } catch (err) {
    // As readStack reports it: a stack file that cannot be read is the stack's problem.
    throw new StackConfigError((err as Error).message);
  }
  if (values.host !== undefined) {
    return configureHost({ io, fs, mode, stack: values.stack, host: values.host, file, path, text, fromDir: values.fromDir, ssh: values.ssh });
  }
  const { previous, environment } = readStackGpu(text, file);

  const detection: Detection | null =
    mode === "cpu"
      ? null
      : values.fromDir !== undefined
        ? detectFromCaptures(readCaptureFiles(io.cwd, captureFilesInDir(io.cwd, values.fromDir)))
        : await detectByRunning(io.exec, { ssh: values.ssh });
  const layout = chooseLayout(detection ?? { gpus: [], links: null, nvlinkPairs: [], problem: null, notes: [] }, mode);
  const section = sectionFor(layout, { previous, environment });
  // After the stack file is edited, the same command writes the section.
  const partial = validate(section, io.cwd, values.stack, file, commandLine("llmstack", "configure-gpu", mode, "--stack", values.stack));
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

interface HostRun {
  readonly io: CliIo;
  readonly fs: WriteFs;
  readonly mode: RequestedMode;
  readonly stack: string;
  readonly host: string;
  readonly file: string;
  readonly path: string;
  readonly text: string;
  readonly fromDir: string | undefined;
  readonly ssh: string | undefined;
}

/**
 * `--host NAME`: the gpu section of one entry of `llmstack:hosts`, from nvidia-smi on that host. Over its
 * ssh:// endpoint ssh checks the entry's pinned hostKey (a known_hosts file holding only that key, as the
 * deploy does), never the user's own known_hosts. A replica size already chosen that divides the GPUs
 * stays, so a host keeps its replicas (4 GPUs at tensor parallel 2 stay two replicas).
 */
async function configureHost(r: HostRun): Promise<number> {
  const { io, file, stack, host: name } = r;
  const rerun = commandLine("llmstack", "configure-gpu", r.mode, "--stack", stack, "--host", name);
  if (!hostName.safeParse(name).success) {
    throw new ArgumentError(`--host ${JSON.stringify(name)} is not a host name: a lowercase name such as gpu-a`, "llmstack configure-gpu auto --stack fleet --host gpu-a");
  }
  if (r.mode === "cpu") {
    throw new ArgumentError(
      `configure-gpu: a GPU host's section is single or multi, never cpu (a host without GPUs drops the gpu role and its section)`,
      commandLine("llmstack", "configure-gpu", "auto", "--stack", stack, "--host", name),
    );
  }
  const { index, host, previous, environment } = readHostGpu(r.text, file, name);
  const at = `${HOSTS_KEY}[${index}] (${name})`;
  const endpoint = typeof host.endpoint === "string" ? host.endpoint : "";
  let detection: Detection;
  if (r.fromDir !== undefined) {
    detection = detectFromCaptures(readCaptureFiles(io.cwd, captureFilesInDir(io.cwd, r.fromDir)));
  } else if (r.ssh !== undefined) {
    detection = await detectByRunning(io.exec, { ssh: r.ssh });
  } else if (endpoint.startsWith("ssh://")) {
    detection = await overPinnedSsh(io, endpoint, host.hostKey, at, file, stack, name);
  } else if (endpoint.startsWith("unix://")) {
    detection = await detectByRunning(io.exec);
  } else {
    throw new UsageError(
      `${file}: ${at} is reached at ${JSON.stringify(endpoint)}, where nvidia-smi cannot be run without a container; ` +
        "give --ssh with a login on that host, or --from-dir with captures made there (nvidia-smi topo -m > topo.txt, ...)",
      commandLine("llmstack", "configure-gpu", r.mode, "--stack", stack, "--host", name, "--ssh", `admin@${typeof host.address === "string" ? host.address : "HOST"}`),
    );
  }
  const layout = chooseLayout(detection, r.mode);
  let section = sectionFor(layout, { previous, environment });
  if (section.mode !== "cpu") {
    const prev = previous !== null && typeof previous === "object" ? (previous as Record<string, unknown>) : {};
    const tp = prev.tensorParallelSize;
    const pp = section.pipelineParallelSize ?? 1;
    // A replica size chosen before (more than one GPU each, or several replicas on the host) stays when it
    // divides the GPUs found; otherwise one replica takes them all, as on a single host.
    const chosen = typeof tp === "number" && (tp > 1 || (Array.isArray(prev.vllmDevices) && prev.vllmDevices.length > 1));
    if (chosen && section.vllmDevices.length % (tp * pp) === 0) section = { ...section, tensorParallelSize: tp };
    // The multimodal worker does not run on a stack with hosts: no share of a GPU for it unless already set.
    if (prev.workerMemoryFraction === undefined && section.workerMemoryFraction !== undefined) {
      const { workerMemoryFraction: _unused, ...rest } = section;
      section = rest;
    }
  }
  const partial = validateHost(section, io.cwd, stack, file, index, rerun);
  if (partial !== null) io.stderr(`note: ${partial}\n`);

  const { text: next, changes } = writeHostGpu(r.text, file, name, section);
  for (const reason of [...detection.notes, ...layout.reasons]) io.stdout(`${reason}\n`);
  const key = `${HOSTS_KEY}[${index}].gpu`;
  if (changes.length === 0) {
    io.stdout(`${file}: ${key} (${name}) already matches this host (${layout.mode}); nothing changed\n`);
    return 0;
  }
  const before = partial === null ? planDoc(io.cwd, stack) : null;
  writeFileAtomic(r.path, next, { shown: file }, r.fs);
  io.stdout(`${file}: ${key} (${name}) updated (${layout.mode}):\n`);
  for (const c of changes) io.stdout(`  ${describe(c)}\n`);
  const after = before === null ? null : planDoc(io.cwd, stack);
  if (before === null || after === null) {
    io.stdout(`which containers the next \`pulumi up\` changes: see llmstack plan --stack ${stack} --diff HEAD\n`);
  } else {
    const diff = diffPlans({ stack, base: `${file} before`, renderWith: "current", before, after });
    for (const line of changedContainerLines(diff)) io.stdout(`${line}\n`);
  }
  return 0;
}

/** nvidia-smi over the host's ssh:// endpoint, ssh trusting only the entry's pinned hostKey. */
async function overPinnedSsh(
  io: CliIo,
  endpoint: string,
  hostKey: unknown,
  at: string,
  file: string,
  stack: string,
  name: string,
): Promise<Detection> {
  if (typeof hostKey !== "string" || !SSH_HOST_KEY.test(hostKey)) {
    throw new StackConfigError(
      `${file}: ${at} is reached over ssh but has no valid hostKey, so its key cannot be checked; add hostKey (the key ` +
        `"ssh-keyscan -t ed25519 HOST" prints after the host name) and run "llmstack configure-gpu auto --stack ${stack} --host ${name}"`,
    );
  }
  const { destination, port } = sshEndpoint(endpoint);
  const dir = mkdtempSync(join(tmpdir(), "llmstack-known-hosts-"));
  try {
    const known = join(dir, "known_hosts");
    writeFileSync(known, `${knownHostsLine(endpoint, hostKey)}\n`, { mode: 0o600 });
    return await detectByRunning(io.exec, {
      ssh: destination,
      sshOptions: [
        ...(port === undefined ? [] : ["-p", port]),
        "-o", "StrictHostKeyChecking=yes",
        "-o", `UserKnownHostsFile=${known}`,
        "-o", "GlobalKnownHostsFile=/dev/null",
      ],
    });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** As validate, for the section of hosts[index]: the rules of that host are errors, others a note. */
function validateHost(section: GpuSection, dir: string, stack: string, file: string, index: number, rerun: string): string | null {
  const alone = gpuSchema.safeParse(section);
  if (!alone.success) {
    throw new UsageError(`${file}: the new ${HOSTS_KEY}[${index}].gpu would be invalid, nothing was written:\n${z.prettifyError(alone.error)}`, rerun);
  }
  let values: Record<string, unknown>;
  try {
    values = readStack(dir, stack).values;
  } catch (err) {
    return `only ${HOSTS_KEY}[${index}].gpu was checked: the stack could not be read (${(err as Error).message})`;
  }
  const hosts = Array.isArray(values.hosts) ? [...(values.hosts as unknown[])] : [];
  hosts[index] = { ...(hosts[index] as Record<string, unknown>), gpu: section };
  const full = stackConfigSchema.safeParse({ ...values, hosts });
  const mine = (p: PropertyKey[]) => p[0] === "hosts" && p[1] === index;
  const issues = full.success ? [] : full.error.issues.filter((i) => mine(i.path));
  const others = full.success ? [] : full.error.issues.filter((i) => !mine(i.path));
  if (issues.length > 0) {
    throw new UsageError(
      `${file}: the new ${HOSTS_KEY}[${index}].gpu would be rejected, nothing was written: ` +
        issues.map((i) => `${i.path.join(".")}: ${i.message}`).join("; "),
      rerun,
    );
  }
  if (others.length > 0) {
    return (
      `only ${HOSTS_KEY}[${index}].gpu was checked: other keys of ${file} do not parse yet (${others.map((i) => i.path.join(".")).join(", ")}); ` +
      `see llmstack plan --stack ${stack}`
    );
  }
  return null;
}

/**
 * The section must pass the schema, and the stack's cross-field GPU rules (a GPU shared by vLLM and the
 * worker must not be overfilled), which zod only runs when the rest of the stack parses. Returns a note when
 * only the section could be checked.
 */
function validate(section: GpuSection, dir: string, stack: string, file: string, rerun: string): string | null {
  const alone = gpuSchema.safeParse(section);
  if (!alone.success) {
    throw new UsageError(`${file}: the new ${GPU_KEY} would be invalid, nothing was written:\n${z.prettifyError(alone.error)}`, rerun);
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
    throw new UsageError(
      `${file}: the new ${GPU_KEY} would be rejected, nothing was written: ` +
        issues.map((i) => `${i.path.join(".")}: ${i.message}`).join("; "),
      rerun,
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
