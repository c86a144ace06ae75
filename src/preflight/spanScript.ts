/**
 * What the members of a replica across hosts (src/plan/span.ts) find on their hosts, before the replica runs:
 * a POSIX sh script that drives the docker CLI of every member host (each with its own --host, so unix://,
 * tcp:// and ssh:// alike) and prints one fact a line. Per member host:
 *
 * - the vLLM image's Id and RepoDigests (`docker image inspect`), as the images check reads them;
 * - the addresses the host's `interface` owns: a one-shot container on the host's network (`--network host`,
 *   the namespace the member's vLLM will run in) lists them through netlink (RTM_GETADDR, what `ip -o addr
 *   show dev <if>` prints). A container, not the GPU probe's ssh: it runs alike on a tcp:// host, where no
 *   command runs on the host itself, and reads exactly what NCCL and Gloo will see;
 * - the model's files in the host's model cache volume (names and sizes under the snapshot of the revision),
 *   read by a one-shot container that mounts the volume read-only, as ./volumeRead.ts does.
 *
 * Then the reach: on the head's host a short-lived listener on the host's network binds the head's address
 * and the master port (a port something holds fails as it would for vLLM's store), and a one-shot dialer on
 * each other member host's network connects to it within a bounded time and reads the greeting. When the
 * head's own container already runs, the dialers connect to its store instead. Every container runs the
 * vLLM image (python3 by its record in src/facts/imageRecords.ts) or another stack image with python3 that is
 * on the host, so nothing is pulled; each is removed at the end.
 */
import { shellQuote, shellWords } from "../config/shell";
import type { ReplicaNeed, SpanNeed } from "./fleetNeeds";
import { DIALER, GREET_CALLERS } from "./replicaReach";
import { outputLines, VOLUME_AT } from "./volumeRead";

/** Seconds each other member keeps trying to connect to the head; the listener lives a little longer. */
export const SPAN_REACH_TIMEOUT_S = 10;

/** What the script looks at: all of it (validate), or what the gate can check before the update pulls and downloads. */
export type SpanPart = "image" | "interface" | "model" | "reach";
export const ALL_SPAN_PARTS: readonly SpanPart[] = ["image", "interface", "model", "reach"];

/**
 * The addresses of an interface through netlink (RTM_GETADDR dump; IFA_ADDRESS and IFA_LOCAL of the
 * interface's index): `iface ok <addresses>` when one is the wanted address, `iface other <addresses>` when
 * none is, `iface missing <interfaces>` when the host has no such interface.
 * https://man7.org/linux/man-pages/man7/rtnetlink.7.html
 */
export const INTERFACE_LISTER = [
  "import socket, struct, sys",
  "name, want = sys.argv[1], sys.argv[2]",
  "try:",
  "    index = socket.if_nametoindex(name)",
  "except OSError:",
  "    print('iface missing ' + ' '.join(sorted(n for _, n in socket.if_nameindex())))",
  "    sys.exit(0)",
  "s = socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, 0)",
  "s.bind((0, 0))",
  "s.send(struct.pack('=IHHII', 24, 22, 0x301, 1, 0) + struct.pack('=BBBBI', 0, 0, 0, 0, 0))",
  "found, done = set(), False",
  "while not done:",
  "    data, off = s.recv(1 << 16), 0",
  "    while off + 16 <= len(data):",
  "        size, kind = struct.unpack_from('=IH', data, off)",
  "        if kind in (2, 3):",
  "            done = True",
  "            break",
  "        if kind == 20:",
  "            family, _, _, _, at = struct.unpack_from('=BBBBI', data, off + 16)",
  "            a = off + 24",
  "            while a + 4 <= off + size:",
  "                alen, atype = struct.unpack_from('=HH', data, a)",
  "                if alen < 4:",
  "                    break",
  "                if atype in (1, 2) and at == index:",
  "                    found.add(socket.inet_ntop(family, data[a + 4:a + alen]))",
  "                a += (alen + 3) & ~3",
  "        off += (size + 3) & ~3",
  "def same(x):",
  "    try:",
  "        return socket.inet_pton(socket.AF_INET6 if ':' in want else socket.AF_INET, x) == socket.inet_pton(socket.AF_INET6 if ':' in want else socket.AF_INET, want)",
  "    except OSError:",
  "        return False",
  "print('iface ' + ('ok' if any(same(x) for x in found) else 'other') + ' ' + ' '.join(sorted(found)))",
].join("\n");

/**
 * The model's files in the Hugging Face cache layout (hub/models--<org>--<name>/snapshots/<commit>, the
 * commit read from refs/<revision> unless the revision is one): `file <bytes> <path>` for each, then
 * `listed`; `model absent` when the cache has no snapshot of it. A file whose blob is missing has -1 bytes.
 * https://huggingface.co/docs/huggingface_hub/v0.30.2/en/guides/manage-cache
 */
export const MODEL_LISTER = [
  "import os, sys",
  "root, model, rev = sys.argv[1], sys.argv[2], sys.argv[3]",
  "repo = os.path.join(root, 'hub', 'models--' + model.replace('/', '--'))",
  "ref = os.path.join(repo, 'refs', rev)",
  "commit = open(ref).read().strip() if os.path.isfile(ref) else rev",
  "snap = os.path.join(repo, 'snapshots', commit)",
  "if not os.path.isdir(snap):",
  "    print('model absent')",
  "    sys.exit(0)",
  "for base, dirs, files in os.walk(snap, followlinks=True):",
  "    dirs.sort()",
  "    for f in sorted(files):",
  "        p = os.path.join(base, f)",
  "        size = os.path.getsize(p) if os.path.exists(p) else -1",
  "        print('file %d %s' % (size, os.path.relpath(p, snap)))",
  "print('listed')",
].join("\n");

/** Binds the address and port (so a taken port or an address the host lacks fails here), then greets callers. */
export const SPAN_LISTENER = [
  "import socket, sys",
  "a, p, t = sys.argv[1], int(sys.argv[2]), float(sys.argv[3])",
  "try:",
  "    s = socket.socket(socket.AF_INET6 if ':' in a else socket.AF_INET)",
  "    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)",
  "    s.bind((a, p))",
  "    s.listen(8)",
  "except OSError as e:",
  "    print('listen error ' + (str(e) or type(e).__name__), flush=True)",
  "    sys.exit(0)",
  "print('listening', flush=True)",
  "s.settimeout(t)",
  ...GREET_CALLERS,
].join("\n");

export interface SpanScriptOptions {
  readonly replica: ReplicaNeed & { readonly span: SpanNeed };
  /** docker CLI arguments that reach a member host (`--host <endpoint>` ...), by host name. */
  readonly docker: (host: string) => readonly string[];
  /** Images with python3 to try on a member host, by host name (the vLLM image first). */
  readonly pythonImages: (host: string) => readonly string[];
  readonly parts?: readonly SpanPart[];
  readonly timeoutS?: number;
}

/** The listener's container on the head's host: the head's container name with `-span-preflight`. */
export function spanListenerName(replica: ReplicaNeed): string {
  return `${replica.container}-span-preflight`;
}

export function spanScript(o: SpanScriptOptions): string {
  const sp = o.replica.span;
  const parts = o.parts ?? ALL_SPAN_PARTS;
  const t = o.timeoutS ?? SPAN_REACH_TIMEOUT_S;
  const D = (host: string): string => shellWords(["docker", ...o.docker(host)]);
  const lines = ["#!/bin/sh"];
  sp.members.forEach((m, k) => {
    const d = D(m.host);
    lines.push(`echo ${shellQuote(`@@member ${m.host}`)}`);
    if (parts.includes("image")) {
      lines.push(
        `out=$(${d} image inspect --format '{{.Id}} {{json .RepoDigests}}' ${shellQuote(sp.image)} 2>&1) && echo "image $out" || ` +
          `echo "image missing $(echo "$out" | tail -n 1)"`,
      );
    }
    lines.push(
      `img${k}=""`,
      `for i in ${shellWords(o.pythonImages(m.host))}; do ${d} image inspect --format '{{.Id}}' "$i" >/dev/null 2>&1 && { img${k}="$i"; break; }; done`,
      `if [ -z "$img${k}" ]; then echo "python none"; else echo "python $img${k}"; fi`,
    );
    if (parts.includes("interface")) {
      lines.push(
        `if [ -n "$img${k}" ]; then`,
        `  last=$(${d} run --rm --network host --entrypoint python3 "$img${k}" -c ${shellQuote(INTERFACE_LISTER)} ` +
          `${shellQuote(m.interface)} ${shellQuote(m.address)} 2>&1 | tail -n 1)`,
        `  case "$last" in "iface "*) echo "$last";; *) echo "iface error $last";; esac`,
        `fi`,
      );
    }
    if (parts.includes("model")) {
      lines.push(
        `if [ -n "$img${k}" ]; then`,
        `  out=$(${d} volume inspect --format '{{.Name}}' ${shellQuote(sp.volume)} 2>&1)`,
        `  if [ $? -ne 0 ]; then`,
        `    case "$out" in *"no such volume"*|*"No such volume"*) echo "model absent";; *) echo "model error $(echo "$out" | tail -n 1)";; esac`,
        `  else`,
        `    ${d} run --rm --network none --user 0 --entrypoint python3 --mount type=volume,src=${sp.volume},dst=${VOLUME_AT},readonly,volume-nocopy ` +
          `"$img${k}" -c ${shellQuote(MODEL_LISTER)} ${VOLUME_AT} ${shellQuote(sp.model)} ${shellQuote(sp.revision)} 2>&1 | ` +
          `sed -e '/^file /b' -e '/^listed$/b' -e '/^model absent$/b' -e 's/^/model error /'`,
        `  fi`,
        `fi`,
      );
    }
  });
  if (parts.includes("reach")) {
    const head = sp.members[0]!;
    const h = D(head.host);
    const name = shellQuote(spanListenerName(o.replica));
    // Removing the listener races with its own --rm once it has exited (a port it could not bind): docker
    // rm then answers "removal already in progress" at once. Its docker run ends only once the container is
    // removed (the CLI waits for that with --rm), so waiting for it leaves nothing behind.
    const stopListener = `${h} rm -f ${name} >/dev/null 2>&1; wait $pid 2>/dev/null; rm -f "$log"`;
    lines.push(
      `echo "@@reach"`,
      `mode=listener`,
      // The head's own container, running: its store holds the port, so the members dial it instead.
      `if ${h} ps -q --filter ${shellQuote(`name=^/${head.container}$`)} --filter status=running 2>/dev/null | grep -q .; then echo "own ${head.container}"; mode=own; fi`,
      `if [ "$mode" = listener ]; then`,
      `  if [ -z "$img0" ]; then echo "listen no image"; echo "done"; exit 0; fi`,
      `  ${h} rm -f ${name} >/dev/null 2>&1`,
      `  log=$(mktemp) || exit 0`,
      `  ${h} run --rm --name ${name} --network host --entrypoint python3 "$img0" -c ${shellQuote(SPAN_LISTENER)} ` +
        `${shellQuote(head.address)} ${sp.masterPort} ${t + 20} >"$log" 2>&1 &`,
      `  pid=$!`,
      `  n=0`,
      `  while [ $n -lt 60 ] && kill -0 $pid 2>/dev/null && ! grep -q -e '^listening' -e '^listen error' "$log"; do sleep 1; n=$((n+1)); done`,
      `  if grep -q '^listening' "$log"; then echo "listening"; else`,
      `    echo "listen error $(grep -v -e "^Run 'docker run --help'" -e "^See 'docker run --help'" -e '^[[:space:]]*$' "$log" | tail -n 1 | sed 's/^listen error //')"`,
      `    ${stopListener}; echo "done"; exit 0`,
      `  fi`,
      `fi`,
    );
    sp.members.slice(1).forEach((m) => {
      const k = sp.members.indexOf(m);
      const who = shellQuote(m.host);
      lines.push(
        `if [ -z "$img${k}" ]; then echo "dial "${who}" no image"; else`,
        `  last=$(${D(m.host)} run --rm --network host --entrypoint python3 "$img${k}" -c ${shellQuote(DIALER)} ` +
          `${shellQuote(head.address)} ${sp.masterPort} ${t} "$mode" 2>&1 | tail -n 1)`,
        `  case "$last" in "dial "*) echo "dial "${who}" \${last#dial }";; *) echo "dial "${who}" error $last";; esac`,
        `fi`,
      );
    });
    lines.push(`[ "$mode" = listener ] && { ${stopListener}; }`);
  }
  lines.push(`echo "done"`, `exit 0`, "");
  return lines.join("\n");
}

/** The vLLM image on a member host: its Id and RepoDigests, or why it is not there. */
export type MemberImage =
  | { readonly kind: "found"; readonly id: string; readonly digests: readonly string[] }
  | { readonly kind: "missing"; readonly why: string };

export type MemberInterface =
  | { readonly kind: "ok" | "other"; readonly addresses: readonly string[] }
  | { readonly kind: "missing"; readonly interfaces: readonly string[] }
  | { readonly kind: "error"; readonly why: string };

export type MemberModel =
  | { readonly kind: "absent" }
  | { readonly kind: "listed"; readonly files: ReadonlyMap<string, number> }
  | { readonly kind: "error"; readonly why: string };

export interface MemberFacts {
  readonly image?: MemberImage;
  /** The image the one-shot containers ran; null when none with python3 is on the host. */
  readonly python: string | null;
  readonly iface?: MemberInterface;
  readonly model?: MemberModel;
}

export type SpanReachFacts =
  | { readonly kind: "no-listen-image" }
  | { readonly kind: "blocked"; readonly error: string }
  | { readonly kind: "listen-failed"; readonly error: string }
  | {
      readonly kind: "dialed";
      readonly own: boolean;
      /** By member host: "ok", "no image", or the dialer's error. */
      readonly dials: ReadonlyMap<string, string>;
    };

export interface SpanFacts {
  /** By host name, for the members whose section the script printed. */
  readonly members: ReadonlyMap<string, MemberFacts>;
  /** Absent when the reach part did not run. */
  readonly reach?: SpanReachFacts;
  /** Whether the script printed its last line. */
  readonly finished: boolean;
}

/** Docker's and Linux's words for a port that is taken. */
const TAKEN = /port is already allocated|address already in use/i;

function memberFacts(lines: readonly string[]): MemberFacts {
  const image = lines.find((l) => l.startsWith("image "));
  const py = lines.find((l) => l.startsWith("python "))?.slice(7);
  const python = py === undefined || py === "none" ? null : py;
  const iface = lines.find((l) => l.startsWith("iface "));
  const files = lines.filter((l) => l.startsWith("file "));
  const modelError = lines.find((l) => l.startsWith("model error"));
  const words = (l: string, from: number): string[] => l.split(" ").slice(from).filter((w) => w !== "");
  let img: MemberImage | undefined;
  if (image !== undefined) {
    if (image.startsWith("image missing")) img = { kind: "missing", why: image.slice("image missing ".length) };
    else {
      const [id = "", ...rest] = image.slice(6).split(" ");
      let digests: string[] = [];
      try {
        const parsed = JSON.parse(rest.join(" ")) as unknown;
        if (Array.isArray(parsed)) digests = parsed.filter((d): d is string => typeof d === "string");
      } catch {
        digests = [];
      }
      img = { kind: "found", id, digests };
    }
  }
  let ifc: MemberInterface | undefined;
  if (iface !== undefined) {
    const [, kind = "error"] = iface.split(" ");
    if (kind === "ok" || kind === "other") ifc = { kind, addresses: words(iface, 2) };
    else if (kind === "missing") ifc = { kind, interfaces: words(iface, 2) };
    else ifc = { kind: "error", why: iface.slice("iface error ".length) || "no output" };
  }
  let model: MemberModel | undefined;
  if (modelError !== undefined) model = { kind: "error", why: modelError.slice("model error ".length) || "no output" };
  else if (lines.includes("model absent")) model = { kind: "absent" };
  else if (lines.includes("listed")) {
    model = {
      kind: "listed",
      files: new Map(
        files.map((l) => {
          const [, size = "-1", ...path] = l.split(" ");
          return [path.join(" "), Number(size)];
        }),
      ),
    };
  } else if (python !== null && files.length > 0) model = { kind: "error", why: "the listing stopped before its end" };
  return {
    python,
    ...(img !== undefined ? { image: img } : {}),
    ...(ifc !== undefined ? { iface: ifc } : {}),
    ...(model !== undefined ? { model } : {}),
  };
}

export function parseSpan(text: string): SpanFacts {
  const lines = outputLines(text);
  const members = new Map<string, MemberFacts>();
  let at = 0;
  while (at < lines.length && lines[at]!.startsWith("@@member ")) {
    const host = lines[at]!.slice("@@member ".length);
    const end = lines.findIndex((l, i) => i > at && (l.startsWith("@@") || l === "done"));
    const stop = end < 0 ? lines.length : end;
    members.set(host, memberFacts(lines.slice(at + 1, stop)));
    at = stop;
  }
  const finished = lines[lines.length - 1] === "done";
  if (lines[at] !== "@@reach") return { members, finished };
  const rest = lines.slice(at + 1);
  const own = rest.some((l) => l.startsWith("own "));
  let reach: SpanReachFacts;
  const listen = rest.find((l) => l === "listen error" || l.startsWith("listen error "));
  if (rest.includes("listen no image")) reach = { kind: "no-listen-image" };
  else if (listen !== undefined) {
    const error = listen.slice("listen error ".length) || "docker run printed no error";
    reach = TAKEN.test(error) ? { kind: "blocked", error } : { kind: "listen-failed", error };
  } else {
    const dials = new Map<string, string>();
    for (const l of rest.filter((x) => x.startsWith("dial "))) {
      const m = /^dial (\S+) (ok|no image|error ?(.*))$/.exec(l);
      if (m !== null) dials.set(m[1]!, m[3] ?? m[2]!);
    }
    reach = { kind: "dialed", own, dials };
  }
  return { members, reach, finished };
}
