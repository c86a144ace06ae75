/**
 * `llmstack bench --stack NAME --scaling [--replicas N]`: on a stack with hosts, the same load against 1,
 * 2, ... N of the model's replicas (src/bench/scaling.ts), sent straight to each replica's vLLM on the
 * address and port it publishes on its host (`plan --json` lists them under `replicas[].endpoint`), with
 * the stack's vLLM API key. The machine running it must reach those addresses (docs/fleet.md).
 */
import { probeReplicas, runScaling, scalingText, type ReplicaTarget, type ScalingResult } from "../bench/scaling";
import type { BenchDeps } from "../bench/run";
import { realDeps } from "../bench/run";
import { stackFileName } from "../config/stackFile";
import type { StackPlan } from "../plan/types";
import { intArg } from "./args";
import { commandLine } from "./command";
import { UsageError, type CliIo } from "./io";
import { renderStack } from "./renderStack";

/** vLLM reads its API key from this variable (src/plan/vllm.ts), so the same name holds it here. */
export const VLLM_KEY_ENV = "VLLM_API_KEY";

export interface ScalingArgs {
  readonly stack: string;
  readonly dir: string;
  /** The raw --replicas value, if given. */
  readonly replicas?: string;
  readonly model?: string;
  readonly keyEnv: string;
  readonly requests: number;
  readonly concurrency: number;
  readonly promptTokens: number;
  readonly outputTokens: number;
  readonly timeoutSeconds: number;
  readonly json: boolean;
}

/** `docker logs` of a replica's container, on its host's daemon: what it says when it does not answer. */
function replicaLogs(plan: StackPlan, id: string): string {
  const c = plan.containers.find((x) => x.service === "vllm" && x.placement?.replica === id)!;
  return commandLine("docker", "--host", c.host, "logs", "--tail", "50", c.name);
}

export async function benchScaling(
  a: ScalingArgs,
  io: CliIo,
  progress: (done: number, total: number) => void,
  deps: BenchDeps = realDeps,
): Promise<number> {
  const plan = renderStack(a.dir, a.stack);
  const file = stackFileName(a.stack);
  if (plan.replicas === undefined || plan.replicas.length === 0) {
    throw new UsageError(
      `--scaling: stack ${a.stack} lists no llmstack:hosts in ${file}, so it runs one vLLM and has no replicas to add; ` +
        "measure its gateway without --scaling",
      commandLine("llmstack", "bench", "--stack", a.stack),
    );
  }
  const all = plan.replicas;
  const n = intArg("replicas", a.replicas, all.length, 1, 1024);
  if (n > all.length) {
    throw new UsageError(
      `--replicas ${n}: stack ${a.stack} has ${all.length} replica${all.length === 1 ? "" : "s"} (${all.map((r) => r.id).join(", ")}); ` +
        `measure at most ${all.length}, or raise llmstack:model.replicas in ${file} and deploy first`,
      commandLine("llmstack", "bench", "--stack", a.stack, "--scaling", "--replicas", String(all.length)),
    );
  }
  // The stack's own vLLM key: every replica checks it (VLLM_API_KEY in each container).
  const exportKey = `export ${a.keyEnv}=$(pulumi config get --stack ${a.stack} llmstack:vllmApiKey)`;
  const apiKey = io.env[a.keyEnv];
  if (!apiKey) {
    throw new UsageError(`${a.keyEnv} is not set: export the stack's vLLM key first, or name another variable with --api-key-env`, exportKey);
  }
  const targets: ReplicaTarget[] = all.slice(0, n).map((r) => ({ id: r.id, url: `http://${r.endpoint}` }));
  const model = a.model ?? plan.servedModelName;
  const timeoutMs = a.timeoutSeconds * 1000;
  const down = await probeReplicas({ targets, apiKey, model, timeoutMs }, deps);
  if (down !== undefined) {
    const refused = /^HTTP 40[13]\b/.test(down.error);
    throw new UsageError(
      refused
        ? `replica ${down.target.id} at ${down.target.url} refused the key in ${a.keyEnv} (${down.error}); export the stack's vLLM key`
        : `replica ${down.target.id} at ${down.target.url} does not answer (${down.error}); the benchmark dials each replica on ` +
            "its host's address, so run it where those addresses are reachable and check that the replica is up",
      refused ? exportKey : replicaLogs(plan, down.target.id),
    );
  }
  const steps = await runScaling(
    { targets, apiKey, model, requests: a.requests, concurrency: a.concurrency, promptTokens: a.promptTokens, outputTokens: a.outputTokens, timeoutMs },
    (k) => io.stderr(`${k} of ${n} replicas: ${targets.slice(0, k).map((t) => t.id).join(", ")}\n`),
    progress,
    deps,
  );
  const result: ScalingResult = {
    format: "llmstack-bench-scaling/1",
    stack: a.stack,
    model,
    settings: { requests: a.requests, concurrency: a.concurrency, promptTokens: a.promptTokens, outputTokens: a.outputTokens },
    replicas: targets,
    steps,
  };
  io.stdout(a.json ? `${JSON.stringify(result, null, 2)}\n` : scalingText(result));
  const failed = steps.find((s) => s.summary.failed > 0);
  if (failed === undefined) return 0;
  const fix = /^HTTP 40[13]\b/.test(failed.summary.firstError ?? "") ? exportKey : replicaLogs(plan, failed.firstFailedReplica!);
  io.stderr(
    `bench: ${failed.summary.failed} of ${failed.summary.requests} requests failed with ${failed.replicas} replica${failed.replicas === 1 ? "" : "s"} ` +
      `(the first, on ${failed.firstFailedReplica}: ${failed.summary.firstError ?? "no message"}); run "${fix}"\n`,
  );
  return 1;
}
