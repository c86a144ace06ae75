/**
 * What `llmstack up` says when its `pulumi up` failed because the vLLM it replaced never became healthy.
 * vLLM replaces delete-first (its name and GPUs are fixed), so by then the old one is gone and nothing
 * serves the model: the way back is the last good config, which `llmstack rollback` deploys.
 */
import { visible } from "../diff/escape";
import { revisionName } from "../plan/lastGood";
import type { StackPlan } from "../plan/types";
import { CONTAINER_FORMAT, parseContainer } from "../status/inspect";
import { commandLine } from "./command";
import type { CliIo } from "./io";
import { diffToLastGood, readLastGood, writeLastGood } from "./lastGood";

/** Seconds `docker inspect` may take on a remote host. */
const INSPECT_TIMEOUT_MS = 30_000;

/**
 * The error line when the update replaced vLLM (its container differs from the last good config's) and
 * Docker reports the new one missing, stopped or not healthy; null otherwise (or when there is no last
 * good config to go back to, or it cannot be read: then `up`'s own message stands).
 */
export async function replacedVllmFailure(io: CliIo, plan: StackPlan): Promise<string | null> {
  const vllm = plan.containers.find((c) => c.service === "vllm");
  if (vllm === undefined) return null;
  let diff;
  let record;
  try {
    record = await readLastGood(io, plan.stack);
    if (record === null) return null;
    diff = diffToLastGood(plan, writeLastGood(io.cwd, record).plan, record);
  } catch {
    return null;
  }
  const change = diff.containers.find((c) => c.service === "vllm");
  if (change?.action !== "replace") return null;
  const inspected = parseContainer(
    await io.exec("docker", ["--host", plan.dockerHost, "inspect", "--type", "container", "--format", CONTAINER_FORMAT, vllm.name], {
      timeoutMs: INSPECT_TIMEOUT_MS,
    }),
  );
  let state: string;
  if (inspected.kind === "missing") state = `${vllm.name} does not exist`;
  else if (inspected.kind === "error") return null;
  else {
    const f = inspected.facts;
    if (f.state === "running" && f.health === "healthy") return null;
    state =
      `${vllm.name} is ${f.state}` +
      (f.state === "running" ? `, health ${f.health ?? "none"}` : `, exit code ${f.exitCode}`) +
      (f.healthOutput !== null ? `; its last health check said: ${visible(f.healthOutput)}` : "");
  }
  const fields = [...new Set(change.changes.map((c) => visible(c.field)))].join(", ");
  return (
    `pulumi up --stack ${plan.stack} failed: the replaced vLLM (${fields}) did not pass its health check (${state}), so ` +
    `nothing serves ${plan.servedModelName} now; "docker logs ${vllm.name}" shows why. Go back to the last good config ` +
    `(${revisionName(record.revision)}) while you fix it; run "${commandLine("llmstack", "rollback", "--stack", plan.stack)}"`
  );
}
