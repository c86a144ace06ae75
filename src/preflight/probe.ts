/**
 * The host probe: one POSIX sh script that runs the commands whose output the checks read (nvidia-smi,
 * the NVIDIA hook and CDI lookup, the stack's container PIDs, listening sockets, disk free) and prints each
 * between markers with its exit code. It always exits 0, so a missing tool is a fact, not a failure.
 * The CLI runs it with `sh -s` (locally or over ssh); the Pulumi gate runs it through `command.local.run`.
 */
import { PROBE_QUERY_FIELDS } from "../gpu/query";
import { shellQuote as quote, shellWords } from "../config/shell";
import type { Section } from "./types";

export type SectionName = "hook" | "cdi" | "query" | "topo" | "nvlink" | "apps" | "stackpids" | "listeners" | "disk";

export const APPS_FIELDS = ["pid", "used_memory", "gpu_uuid"] as const;

/**
 * systemd's default PATH for services, which dockerd gets when /proc/<pid>/environ cannot be read.
 * https://www.freedesktop.org/software/systemd/man/latest/systemd.exec.html#%24PATH
 */
export const SERVICE_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

/** Docker looks the hook up with exec.LookPath in dockerd's environment (moby daemon/nvidia_linux.go). */
export const NVIDIA_HOOK = "nvidia-container-runtime-hook";
/** Directories Docker reads CDI specs from by default (moby daemon/config, CDISpecDirs). */
export const CDI_DIRS = ["/etc/cdi", "/var/run/cdi"] as const;

export interface ProbeOptions {
  readonly sections: readonly SectionName[];
  /** Arguments that point the docker CLI at the stack's daemon on the probed host (e.g. ["--host", "unix:///x"]). */
  readonly dockerArgs: readonly string[];
  /** Container names that are the stack's own; their PIDs are listed. */
  readonly containerNames: readonly string[];
  /** Directory whose free space is measured (Docker's root dir). */
  readonly diskPath?: string;
}

export function probeScript(opts: ProbeOptions): string {
  const docker = shellWords(["docker", ...opts.dockerArgs]);
  const bodies: Record<SectionName, string> = {
    hook: [
      `pid=$(pidof dockerd 2>/dev/null | cut -d' ' -f1)`,
      `p=""; [ -n "$pid" ] && p=$(tr '\\0' '\\n' < /proc/$pid/environ 2>/dev/null | sed -n 's/^PATH=//p')`,
      `[ -n "$p" ] && echo "path dockerd $p" || echo "path default ${SERVICE_PATH}"`,
      `[ -n "$p" ] || p=${quote(SERVICE_PATH)}`,
      `IFS=:; for d in $p; do [ -x "$d/${NVIDIA_HOOK}" ] && echo "found $d/${NVIDIA_HOOK}"; done; unset IFS; true`,
    ].join("\n"),
    cdi: [
      `for f in ${CDI_DIRS.map((d) => `${d}/*.yaml ${d}/*.yml ${d}/*.json`).join(" ")}; do`,
      `  [ -f "$f" ] || continue`,
      `  k=$(grep -m1 -oE 'nvidia\\.com/gpu' "$f" 2>/dev/null)`,
      `  echo "spec $f \${k:-other}"`,
      `done; true`,
    ].join("\n"),
    query: `nvidia-smi --query-gpu=${PROBE_QUERY_FIELDS.join(",")} --format=csv,noheader,nounits`,
    topo: `nvidia-smi topo -m`,
    nvlink: `nvidia-smi nvlink --status`,
    apps: `nvidia-smi --query-compute-apps=${APPS_FIELDS.join(",")} --format=csv,noheader,nounits`,
    stackpids: [
      `for c in ${shellWords(opts.containerNames)}; do`,
      `  ${docker} top "$c" -eo pid 2>/dev/null | tail -n +2 | sed "s|^ *|$c |"`,
      `done; true`,
    ].join("\n"),
    listeners: `ss -Htlnp`,
    disk: `df -Pk ${quote(opts.diskPath ?? "/")}`,
  };
  const parts = opts.sections.map(
    (s) => `echo '@@begin ${s}'\n( ${bodies[s]}\n) 2>&1\necho "@@end ${s} $?"`,
  );
  return `#!/bin/sh\n${parts.join("\n")}\nexit 0\n`;
}

/** Splits probe output into sections. A section that never ended (the probe was cut off) is left out. */
export function parseProbe(text: string): Partial<Record<SectionName, Section>> {
  const out: Partial<Record<SectionName, Section>> = {};
  const re = /^@@begin (\w+)\n([\s\S]*?)^@@end \1 (\d+)$/gm;
  for (const m of text.matchAll(re)) {
    out[m[1] as SectionName] = { rc: Number(m[3]), text: m[2] ?? "" };
  }
  return out;
}

/** How a probe reaches the host: locally, or over ssh for an `ssh://user@host[:port]` Docker host. */
export interface Transport {
  readonly kind: "local" | "ssh" | "none";
  /** For ssh: the ssh arguments before the remote command, ending with "--" and the destination. */
  readonly sshArgs: readonly string[];
  /** docker CLI arguments on the probed host: --host for a local socket, none over ssh (the remote default). */
  readonly dockerArgs: readonly string[];
  /** Words for messages: "this machine", "gpu-box over ssh". */
  readonly where: string;
}

export function transportFor(dockerHost: string): Transport {
  // Neither user nor host may start with "-" (the stack schema refuses it too); "--" ends ssh's options
  // before the destination either way (getopt(3); `ssh -G -o BatchMode=yes -- user@host` parses as one).
  const ssh = /^ssh:\/\/(?:([\w.][\w.-]*)@)?([\w.][\w.-]*)(?::(\d+))?$/.exec(dockerHost);
  if (ssh !== null) {
    const target = ssh[1] ? `${ssh[1]}@${ssh[2]}` : (ssh[2] ?? "");
    return {
      kind: "ssh",
      // BatchMode: never prompt (Pulumi and CI have no terminal); a short timeout so an unreachable host says so.
      // "--" ends ssh's options, so a destination that starts with "-" is never read as one.
      sshArgs: ["-o", "BatchMode=yes", "-o", "ConnectTimeout=10", ...(ssh[3] ? ["-p", ssh[3]] : []), "--", target],
      dockerArgs: [],
      where: `${ssh[2]} over ssh`,
    };
  }
  if (dockerHost.startsWith("unix://")) {
    return { kind: "local", sshArgs: [], dockerArgs: ["--host", dockerHost], where: "this machine" };
  }
  return { kind: "none", sshArgs: [], dockerArgs: ["--host", dockerHost], where: dockerHost };
}

/**
 * One shell command line that runs the probe on the host and always exits 0, ending with
 * `@@transport <rc>` (ssh's exit code: 255 when the host cannot be reached). For `command.local.run`.
 */
export function probeCommandLine(script: string, transport: Transport): string {
  const b64 = Buffer.from(script, "utf8").toString("base64");
  const run =
    transport.kind === "ssh"
      ? `echo ${b64} | base64 -d | ssh ${shellWords(transport.sshArgs)} sh -s`
      : `echo ${b64} | base64 -d | sh -s`;
  return `${run} 2>&1; echo "@@transport $?"; exit 0`;
}

export function transportCode(text: string): number | null {
  const m = /^@@transport (\d+)$/m.exec(text);
  return m === null ? null : Number(m[1]);
}
