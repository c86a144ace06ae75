/**
 * The verdict of the GPU checks inside `pulumi up`/`preview`, from the probe's output (pure, so it is tested
 * with captures). `pulumi up` fails on any failed check; a preview that cannot reach the host skips them.
 */
import { gpuCheckResults } from "./gpuFacts";
import type { StackNeeds } from "./needs";
import { parseProbe, transportCode, type Transport } from "./probe";
import type { CheckResult } from "./types";

export interface GateVerdict {
  /** Why the checks did not run (preview only); null when they ran. */
  readonly skipped: string | null;
  readonly results: readonly CheckResult[];
  /** The error `pulumi up` stops with; null when nothing failed. */
  readonly error: string | null;
}

/** ssh exits 255 when it cannot connect or log in. */
const SSH_UNREACHABLE = 255;

export function gateVerdict(needs: StackNeeds, probeOutput: string, transport: Transport, preview: boolean): GateVerdict {
  const sections = parseProbe(probeOutput);
  const code = transportCode(probeOutput);
  const unreachable = Object.keys(sections).length === 0 || (transport.kind === "ssh" && code === SSH_UNREACHABLE);
  if (unreachable) {
    const why =
      `could not reach ${transport.where} to check its GPUs` +
      (code !== null ? ` (exit code ${code}${transport.kind === "ssh" ? " from ssh" : ""})` : "") +
      `: ${lastLine(probeOutput)}`;
    if (preview) return { skipped: why, results: [], error: null };
    return {
      skipped: null,
      results: [],
      error:
        `${needs.stackFile}: preflight: ${why}. Nothing was changed. ` +
        (transport.kind === "ssh"
          ? `Make the host reachable (\`ssh ${transport.sshArgs.slice(-1)[0] ?? ""}\` must log in without a prompt)`
          : "Check that sh, docker and nvidia-smi run on this machine (`llmstack validate` shows which does not)") +
        `, or set llmstack:preflight.enabled to false for a host checked another way.`,
    };
  }
  const results = gpuCheckResults(needs, sections, null, transport.where);
  const failed = results.filter((r) => r.status === "fail");
  return {
    skipped: null,
    results,
    error:
      failed.length === 0
        ? null
        : `${needs.stackFile}: preflight failed, so no GPU container was created and nothing was changed:\n` +
          failed.map((f) => `  - ${f.check}: ${f.found}\n    fix: ${f.fix}`).join("\n") +
          `\nRun \`llmstack validate --stack ${needs.stack}\` to see every check.`,
  };
}

function lastLine(text: string): string {
  const lines = text
    .split("\n")
    .map((l) => l.trim())
    .filter((l) => l !== "" && !l.startsWith("@@"));
  return lines[lines.length - 1] ?? "no output";
}
