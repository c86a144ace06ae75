/**
 * Whether the gateway host reaches a replica's port, before the replica runs: a POSIX sh script that
 * drives the docker CLI of both hosts (each with its own --host, so unix://, tcp:// and ssh:// alike). On
 * the replica's host it starts a short-lived listener container that publishes the replica's port on the
 * host's address, as the replica will (so a port another program or container already holds fails here,
 * with Docker's own error); on the gateway host a one-shot container on the host's network connects to
 * address:port within a bounded time and reads the listener's greeting. Both run an image already on
 * their host that has python3 (by its record in src/facts/imageRecords.ts), so nothing is pulled; both
 * are removed at the end, with the network the listener used. When the replica's own container already
 * runs and publishes the port, only the connection is tried. The script prints one fact a line.
 */
import { shellQuote, shellWords } from "../config/shell";
import { IMAGE_RECORDS } from "../facts/imageRecords";
import type { ReplicaNeed } from "./fleetNeeds";
import { fail, pass, warn, type CheckResult } from "./types";
import { outputLines } from "./volumeRead";

/** Seconds the gateway host keeps trying to connect; the listener lives a little longer. */
export const REACH_TIMEOUT_S = 10;

/** The greeting the listener sends, which tells it apart from anything else on the port. */
export const GREETING = "llmstack-preflight";

/** The stack's images that can run the listener and the dialer: python3 on their PATH, by their records. */
export function pythonImages(refs: readonly string[]): string[] {
  return refs.filter((ref) => IMAGE_RECORDS.find((r) => r.ref === ref)?.programs.includes("python3") === true);
}

/** A listener's last lines: greet every caller until the socket's timeout ends the wait. */
export const GREET_CALLERS = [
  "while True:",
  "    try:",
  "        c, _ = s.accept()",
  "    except OSError:",
  "        break",
  `    c.sendall(b'${GREETING}\\n')`,
  "    c.close()",
];

const LISTENER = [
  "import socket, sys",
  "s = socket.socket(socket.AF_INET6 if sys.argv[1] == '::' else socket.AF_INET)",
  "s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)",
  "s.bind((sys.argv[1], int(sys.argv[2])))",
  "s.listen(8)",
  "s.settimeout(float(sys.argv[3]))",
  ...GREET_CALLERS,
].join("\n");

/**
 * Connects until the deadline; docker-proxy accepts before the container listens and then closes, so an
 * empty answer is tried again. With "own" any connection counts (the replica's vLLM answers, not ours).
 * Also the dialer of a replica across hosts (./spanScript.ts).
 */
export const DIALER = [
  "import socket, sys, time",
  "host, port, limit, own = sys.argv[1], int(sys.argv[2]), float(sys.argv[3]), sys.argv[4] == 'own'",
  "end = time.time() + limit",
  "why = 'no answer'",
  "while time.time() < end:",
  "    try:",
  "        s = socket.create_connection((host, port), timeout=max(0.5, min(3.0, end - time.time())))",
  "        data = b'' if own else s.recv(64)",
  "        s.close()",
  `        if own or data.startswith(b'${GREETING}'):`,
  "            print('dial ok')",
  "            sys.exit(0)",
  "        why = 'the connection closed without the listener greeting'",
  "    except OSError as e:",
  "        why = str(e) or type(e).__name__",
  "    time.sleep(0.5)",
  "print('dial error ' + why.replace(chr(10), ' '))",
].join("\n");

export interface ReachScriptOptions {
  readonly replica: ReplicaNeed;
  /** docker CLI arguments that reach the replica's host and the gateway host (`--host <endpoint>` ...). */
  readonly replicaDocker: readonly string[];
  readonly gatewayDocker: readonly string[];
  /** Images to try for the listener (on the replica's host) and the dialer (on the gateway host). */
  readonly listenImages: readonly string[];
  readonly dialImages: readonly string[];
  readonly timeoutS?: number;
}

/** The listener's container and network: the replica's container name with `-preflight`. */
export function listenerName(replica: ReplicaNeed): string {
  return `${replica.container}-preflight`;
}

export function reachScript(o: ReachScriptOptions): string {
  const r = o.replica;
  const t = o.timeoutS ?? REACH_TIMEOUT_S;
  const L = shellWords(["docker", ...o.replicaDocker]);
  const G = shellWords(["docker", ...o.gatewayDocker]);
  const name = shellQuote(listenerName(r));
  const bind = r.address.includes(":") ? `[${r.address}]` : r.address;
  const publish = shellQuote(`${bind}:${r.port}:${r.internalPort}`);
  const cleanup = `${L} rm -f ${name} >/dev/null 2>&1; ${L} network rm ${name} >/dev/null 2>&1`;
  return [
    "#!/bin/sh",
    `mode=listener`,
    // The replica's own container, running and publishing the port: dial it instead.
    // The head of a replica across hosts is on the host's network: it publishes nothing, running is enough.
    r.span === undefined
      ? `if ${L} ps --filter ${shellQuote(`name=^/${r.container}$`)} --filter status=running --format '{{.Ports}}' 2>/dev/null | grep -q ${shellQuote(`:${r.port}->`)}; then`
      : `if ${L} ps -q --filter ${shellQuote(`name=^/${r.container}$`)} --filter status=running 2>/dev/null | grep -q .; then`,
    `  echo "own ${r.container}"; mode=own`,
    `fi`,
    `if [ "$mode" = listener ]; then`,
    `  img=""`,
    `  for i in ${shellWords(o.listenImages)}; do ${L} image inspect --format '{{.Id}}' "$i" >/dev/null 2>&1 && { img="$i"; break; }; done`,
    `  if [ -z "$img" ]; then echo "listen no image"; exit 0; fi`,
    `  echo "listen image $img"`,
    `  ${cleanup}`,
    `  out=$(${L} network create --driver bridge ${name} 2>&1) || { echo "listen error $(echo "$out" | tail -n 1)"; exit 0; }`,
    `  out=$(${L} run -d --rm --name ${name} --network ${name} -p ${publish} --entrypoint python3 "$img" -c ${shellQuote(LISTENER)} 0.0.0.0 ${r.internalPort} ${t + 20} 2>&1)`,
    // docker run ends a refusal with an empty line and "Run 'docker run --help' for more information" ("See
    // 'docker run --help'." before CLI 28): the error is the last other line.
    `  if [ $? -ne 0 ]; then echo "listen error $(echo "$out" | grep -v -e "^Run 'docker run --help'" -e "^See 'docker run --help'" -e '^[[:space:]]*$' | tail -n 1)"; ${cleanup}; exit 0; fi`,
    `  echo "listening"`,
    `fi`,
    `img=""`,
    `for i in ${shellWords(o.dialImages)}; do ${G} image inspect --format '{{.Id}}' "$i" >/dev/null 2>&1 && { img="$i"; break; }; done`,
    `if [ -z "$img" ]; then echo "dial no image"; else`,
    `  echo "dial image $img"`,
    `  last=$(${G} run --rm --network host --entrypoint python3 "$img" -c ${shellQuote(DIALER)} ${shellQuote(r.address)} ${r.port} ${t} "$mode" 2>&1 | tail -n 1)`,
    `  case "$last" in "dial "*) echo "$last";; *) echo "dial error $last";; esac`,
    `fi`,
    `[ "$mode" = listener ] && { ${cleanup}; }`,
    `echo "done"`,
    `exit 0`,
    "",
  ].join("\n");
}

/** What the script found, from its lines. */
export type ReachFacts =
  | { readonly kind: "no-listen-image" }
  | { readonly kind: "blocked"; readonly error: string }
  | { readonly kind: "listen-failed"; readonly error: string }
  | { readonly kind: "no-dial-image"; readonly own: boolean }
  | { readonly kind: "dialed"; readonly own: boolean; readonly ok: boolean; readonly error: string }
  | { readonly kind: "cut-off"; readonly last: string };

/** Docker's words for a host port that is taken: by another container, or by a process on the host. */
const TAKEN = /port is already allocated|address already in use/i;

export function parseReach(text: string): ReachFacts {
  const lines = outputLines(text);
  const own = lines.some((l) => l.startsWith("own "));
  if (lines.includes("listen no image")) return { kind: "no-listen-image" };
  const listen = lines.find((l) => l === "listen error" || l.startsWith("listen error "));
  if (listen !== undefined) {
    const error = listen.slice("listen error ".length) || "docker run printed no error";
    return TAKEN.test(error) ? { kind: "blocked", error } : { kind: "listen-failed", error };
  }
  if (lines.includes("dial no image")) return { kind: "no-dial-image", own };
  const dial = lines.find((l) => l.startsWith("dial ok") || l.startsWith("dial error "));
  if (dial === undefined || !lines.includes("done")) {
    return { kind: "cut-off", last: lines.filter((l) => !/^(own|listen image|dial image) /.test(l) && l !== "listening").pop() ?? "no output" };
  }
  return { kind: "dialed", own, ok: dial === "dial ok", error: dial.startsWith("dial error ") ? dial.slice(11) : "" };
}

/** Where the check happens, for its messages. */
export interface ReachContext {
  readonly stackFile: string;
  readonly replica: ReplicaNeed;
  /** The replica's host: its name, endpoint and position in llmstack:hosts. */
  readonly host: { readonly name: string; readonly endpoint: string; readonly index: number };
  readonly gateway: { readonly name: string; readonly endpoint: string; readonly address: string };
  readonly listenImages: readonly string[];
  readonly dialImages: readonly string[];
}

function at(r: ReplicaNeed): string {
  return `${r.address.includes(":") ? `[${r.address}]` : r.address}:${r.port}`;
}

/**
 * `replica.port` (the port is free on the replica's host) and `replica.reach` (the gateway host connects
 * to it). A port that is taken is one failure; the connection is not tried then.
 */
export function reachResults(c: ReachContext, facts: ReachFacts): CheckResult[] {
  const r = c.replica;
  const where = `${at(r)} (replica ${r.id} on ${c.host.name})`;
  const pull = (images: readonly string[], endpoint: string): string =>
    images.length === 0
      ? "set the stack's images to tags with a record in src/facts/imageRecords.ts"
      : `pull one of them there first: docker --host ${endpoint} pull ${images[0]}`;
  switch (facts.kind) {
    case "no-listen-image":
      return [
        warn(
          "replica.port",
          `${where} not checked: none of ${c.listenImages.join(", ") || "the stack's images with python3"} is on ${c.host.name} yet to listen with`,
          pull(c.listenImages, c.host.endpoint),
        ),
      ];
    case "blocked":
      return [
        fail(
          "replica.port",
          `${where} is blocked: Docker could not publish it on ${c.host.name}: ${facts.error}`,
          `stop what holds port ${r.port} on ${c.host.name} (docker --host ${c.host.endpoint} ps --filter publish=${r.port} ` +
            `shows a container that publishes it; ss -tlnp 'sport = :${r.port}' on the host shows a process), then run validate again`,
        ),
      ];
    case "listen-failed":
      return [
        fail(
          "replica.port",
          `${where}: the listener did not start on ${c.host.name}: ${facts.error}`,
          `check that Docker on ${c.host.name} can publish a port on ${r.address} (llmstack:hosts[${c.host.index}].address must be an address the host owns)`,
        ),
      ];
    case "cut-off":
      return [fail("replica.reach", `${where}: the check stopped before it finished: ${facts.last}`, `run validate again; if it stops again, run the listener by hand on ${c.host.name}`)];
    case "no-dial-image":
      return [
        ...(facts.own ? [] : [pass("replica.port", `${where} is free on ${c.host.name}`)]),
        warn(
          "replica.reach",
          `${where} not dialed: none of ${c.dialImages.join(", ") || "the stack's images with python3"} is on the gateway host ${c.gateway.name} yet to dial from`,
          pull(c.dialImages, c.gateway.endpoint),
        ),
      ];
    case "dialed": {
      const port = facts.own
        ? pass("replica.port", `${where} is held by the replica's own ${r.container}`)
        : pass("replica.port", `${where} is free on ${c.host.name}`);
      if (facts.ok) {
        return [port, pass("replica.reach", `the gateway host ${c.gateway.name} reaches ${where}`)];
      }
      return [
        port,
        fail(
          "replica.reach",
          `the gateway host ${c.gateway.name} (${c.gateway.address}) cannot reach ${where} within ${REACH_TIMEOUT_S} s: ${facts.error}`,
          `let ${c.gateway.name} connect to TCP port ${r.port} on ${c.host.name}'s ${r.address} (a firewall between them drops it: ` +
            `open the port to ${c.gateway.address}), and check that llmstack:hosts[${c.host.index}].address is an address ${c.host.name} owns`,
        ),
      ];
    }
  }
}
