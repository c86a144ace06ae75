/**
 * The preflight gate of `pulumi up`/`preview` on a stack with hosts, from what its commands printed (pure,
 * so it is tested with captures): each host's daemon answers, each GPU host's GPUs and NVLink against its
 * own section (the single-host gate's GPU checks, through the probe), the state host's data volumes, and
 * each replica's checks (./fleetChecks.ts: its GPUs on its host, its port free, the gateway host reaching
 * it; for a replica across hosts, each member's interface owning its address and the members reaching the
 * head's store: GATE_SPAN_PARTS). `pulumi up` stops on any failure; a preview that cannot reach a host says so and skips its checks.
 * The Pulumi side (src/deploy/fleetGate.ts) runs the commands through `command.local.run`.
 */
import { shellWords } from "../config/shell";
import type { ExecResult } from "../exec";
import { parseDockerVersion } from "./docker";
import { hostDaemonCheck, hostResults, type FleetFacts, type HostFacts, type HostResults } from "./fleetChecks";
import type { FleetNeeds, HostNeeds } from "./fleetNeeds";
import { detectionFrom, gpuCheckResults } from "./gpuFacts";
import { parseProbe, transportCode, type Transport } from "./probe";
import type { SpanPart } from "./spanScript";
import { fail, type CheckResult } from "./types";

/**
 * What the gate checks of a replica across hosts: not its image or model files, which the update itself pulls
 * and downloads after the gate (`llmstack validate` compares them).
 */
export const GATE_SPAN_PARTS: readonly SpanPart[] = ["interface", "reach"];

/** ssh exits 255 when it cannot connect or log in. */
const SSH_UNREACHABLE = 255;

/**
 * One command line that asks a host's daemon for its version and always exits 0: `@@rc <code>`, the CLI's
 * stdout, then `@@stderr` and its stderr. `dockerArgs` reach the host (`--host <endpoint>`, TLS files).
 */
export function daemonCommandLine(dockerArgs: readonly string[]): string {
  return (
    `t=$(mktemp) || exit 0; out=$(${shellWords(["docker", ...dockerArgs, "version", "--format", "json"])} 2>"$t"); ` +
    `rc=$?; printf '@@rc %s\\n%s\\n@@stderr\\n' "$rc" "$out"; cat "$t"; rm -f "$t"; exit 0`
  );
}

/** What daemonCommandLine printed, as the docker CLI's result (code 1 and the text when it is not that shape). */
export function parseDaemonOutput(text: string): ExecResult {
  const m = /^@@rc (\d+)\n([\s\S]*?)\n@@stderr\n([\s\S]*)$/.exec(text);
  if (m === null) return { code: 1, stdout: "", stderr: text.trim() || "no output" };
  return { code: Number(m[1]), stdout: m[2] ?? "", stderr: m[3] ?? "" };
}

/** What one host's commands printed. */
export interface HostOutputs {
  /** daemonCommandLine's output. */
  readonly daemon: string;
  /** The probe's output (probeCommandLine) and how it reached the host; absent when the probe did not run. */
  readonly probe?: { readonly output: string; readonly transport: Transport };
  /** The data volume checks' results (the state host). */
  readonly volumes?: readonly CheckResult[];
}

export interface FleetGateVerdict {
  /** Why checks were skipped (preview only), one line per host; empty when nothing was skipped. */
  readonly skipped: readonly string[];
  readonly groups: readonly HostResults[];
  /** The error `pulumi up` stops with; null when nothing failed. */
  readonly error: string | null;
}

/** Whether a host's daemon answered, from its output alone (the reach checks run only between those that did). */
export function daemonAnswered(host: HostNeeds, output: string): boolean {
  return parseDockerVersion(host.endpoint, parseDaemonOutput(output)).error === null;
}

export function fleetGateVerdict(
  needs: FleetNeeds,
  outputs: ReadonlyMap<string, HostOutputs>,
  reach: ReadonlyMap<string, string>,
  preview: boolean,
  span: ReadonlyMap<string, string> = new Map(),
): FleetGateVerdict {
  const skipped: string[] = [];
  const hostFacts = new Map<string, HostFacts>();
  const own = new Map<string, CheckResult[]>();
  for (const h of needs.hosts) {
    const out = outputs.get(h.name);
    const daemon = parseDockerVersion(h.endpoint, parseDaemonOutput(out?.daemon ?? ""));
    const results: CheckResult[] = [hostDaemonCheck(needs.stackFile, h)(daemon)];
    own.set(h.name, results);
    if (daemon.error !== null) {
      hostFacts.set(h.name, { answered: false, detection: null });
      if (preview) skipped.push(`${h.name}: ${results[0]!.found}`);
      continue;
    }
    results.push(...(out?.volumes ?? []));
    let detection: HostFacts["detection"] = null;
    if (out?.probe !== undefined) {
      const { output, transport } = out.probe;
      const sections = parseProbe(output);
      const code = transportCode(output);
      if (Object.keys(sections).length === 0 || (transport.kind === "ssh" && code === SSH_UNREACHABLE)) {
        const why =
          `could not reach ${transport.where} to check its GPUs` +
          (code !== null ? ` (exit code ${code}${transport.kind === "ssh" ? " from ssh" : ""})` : "");
        if (preview) {
          skipped.push(`${h.name}: ${why}`);
        } else {
          results.push(
            fail(
              "host.reach",
              `${h.name}: ${why}`,
              transport.kind === "ssh"
                ? `make ${h.name} reachable (\`ssh ${transport.sshArgs.slice(-1)[0] ?? ""}\` must log in without a prompt)`
                : "check that sh and nvidia-smi run on this machine (`llmstack validate` shows which does not)",
            ),
          );
        }
      } else {
        results.push(...gpuCheckResults(h.needs, sections, null, transport.where));
        detection = detectionFrom(sections, transport.where);
      }
    }
    hostFacts.set(h.name, { answered: true, detection });
  }
  const facts: FleetFacts = { hosts: hostFacts, reach, span };
  const groups = hostResults(needs, own, facts);
  // In a preview a host that does not answer is skipped, not failed.
  const failures = groups.flatMap((g) =>
    g.results
      .filter((r) => r.status === "fail" && !(preview && r.check === "docker.daemon"))
      .map((r) => ({ host: g.host!, r })),
  );
  const byHost = [...new Set(failures.map((f) => f.host))].map(
    (host) =>
      `  ${host}:\n` +
      failures
        .filter((f) => f.host === host)
        .map((f) => `  - ${f.r.check}: ${f.r.found}\n    fix: ${f.r.fix}`)
        .join("\n"),
  );
  return {
    skipped,
    groups,
    error:
      failures.length === 0
        ? null
        : `${needs.stackFile}: preflight failed on its hosts, so no container was created and nothing was changed:\n` +
          `${byHost.join("\n")}\nRun \`llmstack validate --stack ${needs.stack}\` to see every check.`,
  };
}
