/**
 * Runs nvidia-smi (locally, or on a remote host over `ssh HOST nvidia-smi ...`) and hands the outputs to
 * `detectFromCaptures`. Old drivers reject the compute_cap field: the query is then repeated without it.
 */
import type { ExecFn } from "../exec";
import { shellWords } from "../config/shell";
import { detectFromCaptures } from "./detect";
import { NvidiaSmiError, smiFailure } from "./errors";
import { QUERY_FIELDS, queryArgs } from "./query";
import type { Detection } from "./types";

export interface RunOptions {
  /** Remote host for ssh (user@host or an ssh config alias); local when undefined. */
  readonly ssh?: string;
  /** ssh options before the destination (a port, a pinned known_hosts file). */
  readonly sshOptions?: readonly string[];
}

/**
 * What makes `ssh -o BatchMode=yes DEST` log in: with "Permission denied" (no key the host accepts; BatchMode
 * asks for no password), installing this machine's key with ssh-copy-id; otherwise (an unknown host key,
 * which BatchMode refuses, or a host that does not answer) one interactive `ssh DEST true`, which offers
 * to accept the host key or shows why the host cannot be reached. `dest` is a checked destination, `port`
 * a number.
 */
export function sshLoginFix(dest: string, stderr: string, port?: string): string {
  const p = port === undefined ? "" : `-p ${port} `;
  return /Permission denied/i.test(stderr) ? `ssh-copy-id ${p}${dest}` : `ssh ${p}${dest} true`;
}

export async function detectByRunning(exec: ExecFn, options: RunOptions = {}): Promise<Detection> {
  const where = options.ssh === undefined ? "nvidia-smi" : `nvidia-smi on ${options.ssh}`;
  const run = async (args: string[]): Promise<{ text: string; code: number }> => {
    const r =
      options.ssh === undefined
        ? await exec("nvidia-smi", args, { timeoutMs: 30_000 })
        : // "--" ends ssh's options (a HOST that starts with "-" is a destination, not an option); ssh hands
          // the remote command to the remote user's shell as one line, so it goes as quoted words.
          await exec("ssh", ["-o", "BatchMode=yes", ...(options.sshOptions ?? []), "--", options.ssh, shellWords(["nvidia-smi", ...args])], {
            timeoutMs: 60_000,
          });
    if (options.ssh !== undefined && r.code === 255) {
      throw new Error(
        `ssh ${options.ssh} failed: ${r.stderr.trim().replace(/\.$/, "") || "(no message)"}; check that \`ssh ${options.ssh}\` logs in without ` +
          `a password prompt; run "${sshLoginFix(options.ssh, r.stderr)}"`,
      );
    }
    return { text: r.stdout + r.stderr, code: r.code };
  };

  let fields: readonly string[] = QUERY_FIELDS;
  let query = await run(queryArgs(fields));
  const failure = smiFailure(query.text, where, query.code);
  if (failure?.kind === "invalid-field" && failure.field === "compute_cap") {
    fields = QUERY_FIELDS.filter((f) => f !== "compute_cap");
    query = await run(queryArgs(fields));
  }
  const queryFailure = smiFailure(query.text, where, query.code);
  if (queryFailure !== null) {
    if (queryFailure.kind === "invalid-field" || queryFailure.kind === "failed") throw queryFailure;
    return { gpus: [], links: null, nvlinkPairs: [], problem: queryFailure.message, notes: [] };
  }
  const topo = await run(["topo", "-m"]);
  const topoFailure = smiFailure(topo.text, `${where} topo -m`, topo.code);
  if (topoFailure !== null) throw topoFailure;
  // nvlink --status exits non-zero on some drivers when no link is up, yet prints what we need.
  const nvlink = await run(["nvlink", "--status"]);
  const nvlinkText = nvlink.text.trim() === "" ? undefined : nvlink.text;
  if (nvlink.code !== 0 && nvlinkText === undefined) {
    throw new NvidiaSmiError("failed", `${where} nvlink --status exited with code ${nvlink.code} and printed nothing`);
  }
  return detectFromCaptures({
    query: query.text,
    queryFields: fields,
    topo: topo.text,
    nvlink: nvlinkText,
    names: { query: `${where} --query-gpu`, topo: `${where} topo -m`, nvlink: `${where} nvlink --status` },
  });
}
