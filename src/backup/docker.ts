/**
 * Running a step (./steps.ts) through the docker CLI of its host (`--host`, so unix://, tcp:// and ssh://
 * hosts alike): read the store container's state and credentials, create the one-shot container, copy its
 * artefacts out of it (backup) or into it (restore) with `docker cp`, which streams through the CLI, start
 * it attached, and remove it whatever happened. Credentials go to the one-shot container by name only
 * (`--env NAME`, the value in the docker CLI's own environment), never on a command line.
 */
import type { ExecFn, ExecResult } from "../exec";
import { BackupError } from "./errors";
import type { Credential, StoreStep } from "./steps";

/** Long enough for a large dump; a step that hangs past it is stopped and reported. */
const STEP_TIMEOUT_MS = 6 * 3600_000;
const CALL_TIMEOUT_MS = 120_000;

export interface DockerDeps {
  readonly exec: ExecFn;
  /** The environment the docker CLI runs with (DOCKER_CONFIG, SSH agent, ...). */
  readonly env: NodeJS.ProcessEnv;
}

const lastLine = (r: ExecResult): string => (r.stderr.trim() || r.stdout.trim()).split("\n").pop() ?? `exit code ${r.code}`;

export function docker(deps: DockerDeps, host: string, args: readonly string[], opts: { env?: NodeJS.ProcessEnv; timeoutMs?: number } = {}): Promise<ExecResult> {
  return deps.exec("docker", ["--host", host, ...args], { env: opts.env ?? deps.env, timeoutMs: opts.timeoutMs ?? CALL_TIMEOUT_MS });
}

/** The store container's state, image and environment, as `docker container inspect` reports them. */
export interface Running {
  readonly running: boolean;
  readonly image: string;
  readonly env: Readonly<Record<string, string>>;
}

export const INSPECT_FORMAT = '{"running":{{json .State.Running}},"image":{{json .Config.Image}},"env":{{json .Config.Env}}}';

export async function inspectStore(deps: DockerDeps, host: string, container: string): Promise<Running | null> {
  const r = await docker(deps, host, ["container", "inspect", "--format", INSPECT_FORMAT, container]);
  if (r.code !== 0) {
    if (/no such (object|container)/i.test(r.stderr)) return null;
    throw new BackupError(`docker --host ${host} container inspect ${container} failed: ${lastLine(r)}`, `docker --host ${host} ps`);
  }
  const j = JSON.parse(r.stdout) as { running: boolean; image: string; env: string[] | null };
  const env = Object.fromEntries((j.env ?? []).map((e) => [e.slice(0, e.indexOf("=")), e.slice(e.indexOf("=") + 1)]));
  return { running: j.running, image: j.image, env };
}

/** The value of each of the step's variables, read from the running stores. */
export async function credentials(deps: DockerDeps, step: StoreStep, running: Running): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const [name, c] of Object.entries(step.env)) out[name] = await credential(deps, step, c, running);
  return out;
}

async function credential(deps: DockerDeps, step: StoreStep, c: Credential, running: Running): Promise<string> {
  if (c.from === "value") return c.value;
  if (c.from === "env") {
    const v = running.env[c.name];
    if (v === undefined) {
      throw new BackupError(`${c.container} has no ${c.name} in its environment, which the ${step.store} ${step.action} needs`, `llmstack up --stack <name>`);
    }
    return v;
  }
  // The identities file is one line (src/plan/dataStores.ts); `read` and `printf` are built into sh.
  const r = await docker(deps, step.host, ["exec", c.container, "sh", "-c", `read -r l < ${c.file}; printf '%s\\n' "$l"`]);
  type Identities = { identities?: { credentials?: { accessKey: string; secretKey: string }[] }[] };
  let ids: Identities | null;
  try {
    ids = r.code === 0 ? (JSON.parse(r.stdout) as Identities) : null;
  } catch {
    ids = null;
  }
  const key = ids?.identities?.flatMap((i) => i.credentials ?? []).find((k) => k.accessKey === c.accessKey)?.secretKey;
  if (key === undefined) {
    throw new BackupError(`${c.container}:${c.file} has no identity with the access key ${c.accessKey} (${r.code === 0 ? "read" : lastLine(r)})`, "llmstack up --stack <name>");
  }
  return key;
}

/** A one-shot container's name: the store container's, the action and a stamp, so runs never collide. */
export const oneShotName = (step: StoreStep, stamp: string): string => `${step.target}-${step.action}-${stamp}`;

/** `docker create` arguments for the step (the values of `env` stay in the CLI's environment). */
export function createArgs(step: StoreStep, name: string): string[] {
  return [
    "create",
    "--name",
    name,
    "--network",
    step.network,
    "--user",
    "0",
    "--entrypoint",
    step.entrypoint,
    // Docker creates the working directory when the image lacks it: the artefacts' directory.
    "--workdir",
    step.dir,
    ...Object.keys(step.env).flatMap((k) => ["--env", k]),
    ...step.mounts.flatMap((m) => ["--mount", `type=volume,src=${m.volume},dst=${m.target}`]),
    step.image,
    ...step.argv,
  ];
}

/**
 * Runs one step: backup copies the artefact directory out to `local`; restore copies `local` in first.
 * Returns what the step printed. The one-shot container is removed in every case.
 */
export async function runStep(deps: DockerDeps, step: StoreStep, values: Record<string, string>, local: string, stamp: string): Promise<string> {
  const name = oneShotName(step, stamp);
  const on = (args: readonly string[], opts: { env?: NodeJS.ProcessEnv; timeoutMs?: number } = {}) => docker(deps, step.host, args, opts);
  const must = async (what: string, r: Promise<ExecResult>): Promise<ExecResult> => {
    const res = await r;
    if (res.code !== 0) {
      throw new BackupError(
        `the ${step.store} ${step.action} failed at ${what}: ${lastLine(res)}`,
        // The store's own log says why it refused (pg_restore, Qdrant and the S3 store log the request).
        `docker --host ${step.host} logs --tail 50 ${step.target}`,
      );
    }
    return res;
  };
  try {
    await must("docker create", on(createArgs(step, name), { env: { ...deps.env, ...values } }));
    if (step.action === "restore") await must("docker cp into the container", on(["cp", `${local}/.`, `${name}:${step.dir}`]));
    const ran = await must("its one-shot container", on(["start", "--attach", name], { timeoutMs: STEP_TIMEOUT_MS }));
    if (step.action === "backup") await must("docker cp out of the container", on(["cp", `${name}:${step.dir}/.`, local]));
    return `${ran.stdout}${ran.stderr}`;
  } finally {
    await on(["rm", "--force", "--volumes", name]);
  }
}

/** Stops a store container for a step that replaces its files, and starts it again afterwards. */
export async function withStopped<T>(deps: DockerDeps, step: StoreStep, run: () => Promise<T>): Promise<T> {
  if (step.stopped === undefined) return run();
  const stop = await docker(deps, step.host, ["stop", step.stopped]);
  if (stop.code !== 0) throw new BackupError(`docker stop ${step.stopped} failed: ${lastLine(stop)}`, `docker --host ${step.host} ps -a`);
  try {
    return await run();
  } finally {
    const start = await docker(deps, step.host, ["start", step.stopped]);
    if (start.code !== 0) {
      // eslint-disable-next-line no-unsafe-finally
      throw new BackupError(`docker start ${step.stopped} failed after the ${step.store} restore: ${lastLine(start)}`, `docker --host ${step.host} start ${step.stopped}`);
    }
  }
}
