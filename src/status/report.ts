/**
 * A stack's status judged against its plan: the problems (each with the command that fixes it), the exit
 * code cron and CI read, the text tables and the JSON. Pure: facts in, text out.
 */
import { tableLines } from "../table";
import type { ContainerStatus, StackStatus } from "./gather";

/** Exit codes: everything healthy and as planned; something down, unhealthy or missing; images drifted. */
export const EXIT_OK = 0;
export const EXIT_DOWN = 1;
export const EXIT_DRIFT = 3;

export interface Problem {
  /** "down" (missing, stopped, unhealthy, unreachable) outranks "drift" (not the plan's image). */
  readonly kind: "down" | "drift";
  /** One line that ends with the command that fixes it. */
  readonly line: string;
}

const fixUp = (stack: string): string => `llmstack up --stack ${stack}`;
const fixLogs = (host: string, name: string): string => `docker --host ${host} logs ${name}`;

function containerProblems(c: ContainerStatus, stack: string): Problem[] {
  const { name, host } = c.spec;
  const i = c.inspected;
  if (i.kind === "missing") return [{ kind: "down", line: `${name} does not exist on ${host}; run "${fixUp(stack)}"` }];
  // Reported once per host and message by problemsOf: a daemon that does not answer fails every container alike.
  if (i.kind === "error") return [];
  const f = i.facts;
  const out: Problem[] = [];
  const finished = c.spec.oneShot && f.state === "exited" && f.exitCode === 0;
  if (f.state !== "running" && !finished) {
    const how = f.state === "exited" ? `exited with code ${f.exitCode}` : `is ${f.state}`;
    out.push({ kind: "down", line: `${name} ${how}; run "${fixLogs(host, name)}"` });
  } else if (f.health !== null && f.health !== "healthy" && !finished) {
    const last = f.healthOutput === null ? "" : ` (last check: ${f.healthOutput})`;
    out.push({ kind: "down", line: `${name} is ${f.health}${last}; run "${fixLogs(host, name)}"` });
  }
  if (c.image !== null && c.image.matches !== true) {
    const runs = c.image.matches === null ? "runs an image that could not be compared with" : `runs ${c.image.running}, not`;
    out.push({ kind: "drift", line: `${name} ${runs} the plan's ${c.spec.image}; run "${fixUp(stack)}"` });
  }
  return out;
}

/** Containers docker could not inspect, one line per host and error. */
function inspectErrors(containers: readonly ContainerStatus[]): Problem[] {
  const byError = new Map<string, { host: string; message: string; names: string[] }>();
  for (const c of containers) {
    if (c.inspected.kind !== "error") continue;
    const key = JSON.stringify([c.spec.host, c.inspected.message]);
    const entry = byError.get(key) ?? { host: c.spec.host, message: c.inspected.message, names: [] };
    entry.names.push(c.spec.name);
    byError.set(key, entry);
  }
  return [...byError.values()].map(({ host, message, names }) => ({
    kind: "down",
    line: `${names.length === 1 ? names[0] : `${names.length} containers`} could not be inspected on ${host}: ${message}; run "docker --host ${host} info"`,
  }));
}

export function problemsOf(s: StackStatus): Problem[] {
  const out = [...inspectErrors(s.containers), ...s.containers.flatMap((c) => containerProblems(c, s.stack))];
  if (s.gateway.kind === "failed") {
    const gw = s.containers.find((c) => c.spec.service === "litellm")?.spec;
    const fix = gw === undefined ? fixUp(s.stack) : fixLogs(gw.host, gw.name);
    out.push({ kind: "down", line: `gateway: ${s.gateway.what}; run "${fix}"` });
  }
  return out;
}

/** Lines that say what was not checked; they do not change the exit code. */
export function notesOf(s: StackStatus): string[] {
  const out: string[] = [];
  if (s.gpu.kind === "skipped") out.push(`GPU processes: skipped, ${s.gpu.why}`);
  else out.push(...s.gpu.notes.map((n) => `GPU processes: ${n}`));
  if (s.gateway.kind === "skipped") out.push(`gateway: ${s.gateway.why}${s.gateway.fix ? `; run "${s.gateway.fix}"` : ""}`);
  return out;
}

export function exitCodeOf(problems: readonly Problem[]): number {
  if (problems.some((p) => p.kind === "down")) return EXIT_DOWN;
  return problems.length > 0 ? EXIT_DRIFT : EXIT_OK;
}

/** Seconds since the container started, when it runs. */
export function uptimeSeconds(c: ContainerStatus, at: number): number | null {
  if (c.inspected.kind !== "found" || c.inspected.facts.state !== "running") return null;
  const started = Date.parse(c.inspected.facts.startedAt);
  return Number.isNaN(started) ? null : Math.max(0, Math.floor((at - started) / 1000));
}

export function durationText(seconds: number): string {
  const d = Math.floor(seconds / 86_400);
  const h = Math.floor((seconds % 86_400) / 3600);
  const m = Math.floor((seconds % 3600) / 60);
  if (d > 0) return `${d}d ${h}h`;
  if (h > 0) return `${h}h ${m}m`;
  return m > 0 ? `${m}m ${seconds % 60}s` : `${seconds}s`;
}

function imageText(c: ContainerStatus): string {
  if (c.image === null) return "-";
  return c.image.matches === true ? "as planned" : c.image.matches === false ? "drifted" : "unknown";
}

export function statusText(s: StackStatus): string {
  const rows = s.containers.map((c) => {
    const f = c.inspected.kind === "found" ? c.inspected.facts : null;
    const up = uptimeSeconds(c, s.at);
    const state = c.inspected.kind === "missing" ? "missing" : f === null ? "error" : f.state === "exited" ? `exited (${f.exitCode})` : f.state;
    return [c.spec.name, state, f?.health ?? "-", f === null ? "-" : String(f.restarts), up === null ? "-" : durationText(up), imageText(c)];
  });
  const lines = tableLines(rows, ["CONTAINER", "STATE", "HEALTH", "RESTARTS", "UPTIME", "IMAGE"]);
  if (s.gpu.kind === "read") {
    const gpuRows = s.gpu.processes.map((p) => [p.container ?? "(not this stack)", String(p.pid), p.gpuUuid, p.usedMiB === null ? "-" : `${p.usedMiB} MiB`]);
    lines.push("", ...(gpuRows.length > 0 ? tableLines(gpuRows, ["GPU PROCESS", "PID", "GPU", "MEMORY"]) : ["GPU processes: none"]));
  }
  if (s.gateway.kind === "ok") {
    const models = s.gateway.models.length > 0 ? s.gateway.models.join(", ") : "none";
    lines.push("", `gateway: models ${models}; a 1-token request took ${s.gateway.latencyMs} ms`);
  }
  const problems = problemsOf(s);
  const notes = notesOf(s);
  if (notes.length > 0) lines.push("", ...notes);
  lines.push("", ...(problems.length > 0 ? problems.map((p) => p.line) : [`${s.stack}: every container is healthy and runs the plan's image`]));
  return `${lines.join("\n")}\n`;
}

export function statusJson(s: StackStatus): Record<string, unknown> {
  const problems = problemsOf(s);
  return {
    stack: s.stack,
    exitCode: exitCodeOf(problems),
    containers: s.containers.map((c) => {
      const f = c.inspected.kind === "found" ? c.inspected.facts : null;
      return {
        service: c.spec.service,
        name: c.spec.name,
        host: c.spec.host,
        exists: c.inspected.kind === "found" ? true : c.inspected.kind === "missing" ? false : null,
        state: f?.state ?? null,
        exitCode: f?.exitCode ?? null,
        health: f?.health ?? null,
        restarts: f?.restarts ?? null,
        startedAt: f?.startedAt ?? null,
        uptimeSeconds: uptimeSeconds(c, s.at),
        image: { plan: c.spec.image, running: c.image?.running ?? null, matches: c.image?.matches ?? null },
      };
    }),
    gpu: s.gpu,
    gateway: s.gateway,
    problems,
    notes: notesOf(s),
  };
}
