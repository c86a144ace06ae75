/**
 * Several real Docker daemons on this machine, each a "host" of its own: its own network namespace with its
 * own address, reached over tcp:// with TLS (mutual, as a user must run a tcp daemon), for the tests of a
 * stack with hosts. Runs as root and fails loudly otherwise, or when a program it needs is missing.
 *
 * Layout (for a fleet with tag T and subnet S, host i = 0, 1, ...):
 * - a bridge `<T>br` in the root namespace with 10.213.S.1/24;
 * - namespace `<T>-<host>` (`ip netns add`), joined to the bridge by a veth pair `<T><i>h` (root side) /
 *   `eth0` (inside), address 10.213.S.(11+i)/24; every namespace forwards IPv4 and routes each other
 *   namespace's container pool (10.214.(8S+i).0/24, the daemon's --default-address-pool) via that host's
 *   address, so a container on one host reaches a port published on another's address without NAT, and
 *   the replies find their way back. Nothing leaves the bridge: every address is local to this machine;
 * - dockerd started with `nsenter --net=/run/netns/<ns>` (not `ip netns exec`, which remounts /sys and
 *   breaks dockerd), vfs storage, no iptables/NAT, no default bridge, its own data root, exec root, pid
 *   file and unix socket under /tmp/llmstack-fleet-<T>/<host>/, and tcp://10.213.S.(11+i):2376 with
 *   --tlsverify against a test CA made here with openssl (a server certificate per host with its address as
 *   subjectAltName, one client certificate);
 * - images copied from a source daemon (`docker save | docker load`, through the Engine API).
 *
 * API (kept stable for other daemon tests):
 *   requireNetnsTools(): void                    // throws unless root with ip, nsenter, dockerd, openssl, sysctl
 *   startNetnsFleet(opts): Promise<NetnsFleet>   // purges leftovers of the same tag first
 *   purgeNetnsFleet(tag): Promise<void>          // removes what a fleet with this tag left behind
 *   copyImages(from, to, references)             // docker save | docker load between two daemons
 *   NetnsFleet.hosts[i]: { name, namespace, address, endpoint, socket, docker }
 *   NetnsFleet.tls: { ca, cert, key }            // client material (PEM) for every endpoint
 *   NetnsFleet.fetchFrom(host, url, init?)       // an HTTP request made from inside a host's namespace
 *   NetnsFleet.fetchAllFrom(host, requests)      // several, one after the other, by one process there
 *   NetnsFleet.stop(): Promise<void>             // containers, daemons, namespaces, links, files
 * Two fleets may run at once when their tags and subnets differ.
 */
import { execFileSync, spawn, spawnSync } from "node:child_process";
import { closeSync, existsSync, mkdirSync, openSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import Dockerode from "dockerode";

export interface NetnsFleetOptions {
  /** 2-5 lowercase letters or digits naming the fleet's links, namespaces and directory. */
  readonly tag: string;
  /** 1-30: the fleet's addresses are 10.213.<subnet>.0/24, its container pools 10.214.<8·subnet+i>.0/24. */
  readonly subnet: number;
  /** The hosts' names (at most 8), e.g. ["control", "gpu-a", "gpu-b"]. */
  readonly hosts: readonly string[];
  /** The daemon the images come from and the references to copy to every host. */
  readonly images?: { readonly from: Dockerode; readonly references: readonly string[] };
}

export interface NetnsHost {
  readonly name: string;
  /** The network namespace, /run/netns/<namespace>. */
  readonly namespace: string;
  /** The address the host owns (its namespace's eth0). */
  readonly address: string;
  /** tcp://<address>:2376, TLS with client certificates. */
  readonly endpoint: string;
  /** unix:// socket of the same daemon, for the test's own setup and checks. */
  readonly socket: string;
  /** A client over the unix socket. */
  readonly docker: Dockerode;
}

export interface NetnsFleet {
  readonly tag: string;
  readonly hosts: readonly NetnsHost[];
  /** The client's CA, certificate and key (PEM) every endpoint accepts. */
  readonly tls: { readonly ca: string; readonly cert: string; readonly key: string };
  host(name: string): NetnsHost;
  /** One HTTP request made by a Node process inside `host`'s namespace. */
  fetchFrom(
    host: string,
    url: string,
    init?: { method?: string; headers?: Record<string, string>; body?: string },
  ): Promise<{ status: number; body: string }>;
  /** Several requests made one after the other by one Node process inside `host`'s namespace. */
  fetchAllFrom(host: string, requests: readonly FetchRequest[]): Promise<{ status: number; body: string }[]>;
  stop(): Promise<void>;
}

export interface FetchRequest {
  readonly url: string;
  readonly init?: { method?: string; headers?: Record<string, string>; body?: string };
}

const TOOLS: readonly (readonly [string, string])[] = [
  ["ip", "iproute2"],
  ["nsenter", "util-linux"],
  ["dockerd", "docker.io"],
  ["openssl", "openssl"],
  ["sysctl", "procps"],
];

/** Throws unless this process is root and has every program the harness runs. */
export function requireNetnsTools(): void {
  if (process.getuid?.() !== 0) {
    throw new Error(
      "the multi-host tests start Docker daemons in network namespaces and must run as root " +
        `(uid is ${process.getuid?.()}): run npm run test:integration as root, as .ci/run does`,
    );
  }
  const missing = TOOLS.filter(
    ([tool]) => spawnSync("sh", ["-c", `command -v ${tool}`], { stdio: "ignore" }).status !== 0,
  );
  if (missing.length > 0) {
    throw new Error(
      `the multi-host tests need ${missing.map(([t]) => t).join(", ")}, missing here: install the Debian ` +
        `packages ${missing.map(([, p]) => p).join(" ")} (apt-get install -y ${missing.map(([, p]) => p).join(" ")}), ` +
        "as .ci/run does",
    );
  }
}

function run(cmd: string, args: readonly string[]): string {
  try {
    return execFileSync(cmd, args, { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });
  } catch (err) {
    const e = err as { stderr?: string; message: string };
    throw new Error(`${cmd} ${args.join(" ")} failed: ${(e.stderr ?? "").trim() || e.message}`, { cause: err });
  }
}

/** Runs, ignoring failure (cleanup of what may not exist). */
function tryRun(cmd: string, args: readonly string[]): void {
  spawnSync(cmd, args, { stdio: "ignore" });
}

function checkOptions(o: NetnsFleetOptions): void {
  if (!/^[a-z0-9]{2,5}$/.test(o.tag)) throw new Error(`fleet tag "${o.tag}" must be 2-5 lowercase letters or digits`);
  if (!Number.isInteger(o.subnet) || o.subnet < 1 || o.subnet > 30)
    throw new Error(`fleet subnet ${o.subnet} must be an integer from 1 to 30`);
  if (o.hosts.length < 1 || o.hosts.length > 8) throw new Error(`a fleet has 1 to 8 hosts, not ${o.hosts.length}`);
}

const dirOf = (tag: string): string => `/tmp/llmstack-fleet-${tag}`;
const bridgeOf = (tag: string): string => `${tag}br`;
const namespaceOf = (tag: string, host: string): string => `${tag}-${host}`;

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** The pid in `dir`'s pid file when that process is still this directory's dockerd (a pid may be reused). */
function daemonPid(dir: string): number | undefined {
  const pidFile = join(dir, "dockerd.pid");
  if (!existsSync(pidFile)) return undefined;
  const pid = Number(readFileSync(pidFile, "utf8").trim());
  if (!Number.isInteger(pid) || pid <= 0 || !alive(pid)) return undefined;
  let cmdline: string;
  try {
    cmdline = readFileSync(`/proc/${pid}/cmdline`, "utf8").split("\0").join(" ");
  } catch {
    return undefined;
  }
  return cmdline.includes("dockerd") && cmdline.includes(join(dir, "data")) ? pid : undefined;
}

/** Stops the daemon whose pid file is in `dir`: its containers first (so no shim outlives it), then dockerd. */
async function stopDaemon(dir: string): Promise<void> {
  const pid = daemonPid(dir);
  if (pid === undefined) return;
  const docker = new Dockerode({ socketPath: join(dir, "docker.sock") });
  try {
    for (const c of await docker.listContainers({ all: true })) {
      await docker.getContainer(c.Id).remove({ force: true, v: true }).catch(() => undefined);
    }
  } catch {
    // The daemon does not answer: it is stopped below all the same.
  }
  process.kill(pid, "SIGTERM");
  for (let i = 0; i < 60 && alive(pid); i++) await sleep(500);
  if (alive(pid)) process.kill(pid, "SIGKILL");
}

/** Removes what a fleet with this tag left behind: daemons, namespaces, links and its directory. */
export async function purgeNetnsFleet(tag: string): Promise<void> {
  const dir = dirOf(tag);
  const hostDirs = existsSync(dir) ? readdirSync(dir).filter((d) => d !== "tls") : [];
  for (const h of hostDirs) await stopDaemon(join(dir, h));
  const namespaces = (spawnSync("ip", ["netns", "list"], { encoding: "utf8" }).stdout ?? "")
    .split("\n")
    .map((l) => l.split(" ")[0]!)
    .filter((n) => n.startsWith(`${tag}-`));
  for (const ns of namespaces) tryRun("ip", ["netns", "del", ns]);
  const links = (spawnSync("ip", ["-o", "link", "show"], { encoding: "utf8" }).stdout ?? "")
    .split("\n")
    .map((l) => /^\d+: ([^:@]+)/.exec(l)?.[1])
    .filter((l): l is string => l !== undefined && new RegExp(`^${tag}(\\d+h|br)$`).test(l));
  for (const l of links) tryRun("ip", ["link", "del", l]);
  // dockerd bind-mounts its own network namespace at <exec root>/netns/default once a container runs on the
  // host's network (`docker run --network host`) and leaves it mounted when it stops.
  const mounts = readFileSync("/proc/mounts", "utf8")
    .split("\n")
    .map((l) => l.split(" ")[1] ?? "")
    .filter((m) => m.startsWith(`${dir}/`));
  for (const m of mounts.reverse()) tryRun("umount", ["-l", m]);
  rmSync(dir, { recursive: true, force: true });
}

/** A test CA, a server certificate per host (its address as subjectAltName) and one client certificate. */
function makeTls(dir: string, addresses: readonly string[]): { ca: string; cert: string; key: string } {
  mkdirSync(dir, { recursive: true });
  const at = (f: string) => join(dir, f);
  const ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"];
  run("openssl", ["req", "-x509", ...ec, "-keyout", at("ca-key.pem"), "-out", at("ca.pem"), "-days", "2", "-subj", "/CN=llmstack fleet test CA"]);
  const sign = (name: string, subject: string, ext: string): void => {
    run("openssl", ["req", "-new", ...ec, "-keyout", at(`${name}-key.pem`), "-out", at(`${name}.csr`), "-subj", subject]);
    writeFileSync(at(`${name}.ext`), ext);
    run("openssl", [
      "x509", "-req", "-in", at(`${name}.csr`), "-CA", at("ca.pem"), "-CAkey", at("ca-key.pem"),
      "-CAcreateserial", "-days", "2", "-out", at(`${name}.pem`), "-extfile", at(`${name}.ext`),
    ]);
  };
  addresses.forEach((a, i) => sign(`server${i}`, `/CN=${a}`, `subjectAltName=IP:${a}\nextendedKeyUsage=serverAuth\n`));
  sign("client", "/CN=llmstack fleet test client", "extendedKeyUsage=clientAuth\n");
  return {
    ca: readFileSync(at("ca.pem"), "utf8"),
    cert: readFileSync(at("client.pem"), "utf8"),
    key: readFileSync(at("client-key.pem"), "utf8"),
  };
}

async function waitForDaemon(docker: Dockerode, log: string, what: string): Promise<void> {
  for (let i = 0; i < 120; i++) {
    try {
      await docker.ping();
      return;
    } catch {
      await sleep(500);
    }
  }
  const tail = existsSync(log) ? readFileSync(log, "utf8").split("\n").slice(-20).join("\n") : "(no log)";
  throw new Error(`${what} did not answer within 60 s; its log ends with:\n${tail}`);
}

/** Copies `references` from `from` to `to` in one `docker save | docker load`. */
export async function copyImages(from: Dockerode, to: Dockerode, references: readonly string[]): Promise<void> {
  for (const r of references) {
    await from.getImage(r).inspect().catch(() => {
      throw new Error(`image ${r} is not on the source daemon: build the stand-ins first (test/integration/images)`);
    });
  }
  // GET /images/get?names=...: `docker save` of several images (dockerode has it; its types do not).
  const save = (from as unknown as { getImages(o: { names: string[] }): Promise<NodeJS.ReadableStream> }).getImages;
  const tar = await save.call(from, { names: [...references] });
  const loaded = await to.loadImage(tar, { quiet: true });
  await new Promise<void>((resolve, reject) => {
    loaded.on("data", () => undefined);
    loaded.on("end", resolve);
    loaded.on("error", reject);
  });
  for (const r of references) await to.getImage(r).inspect();
}

export async function startNetnsFleet(opts: NetnsFleetOptions): Promise<NetnsFleet> {
  requireNetnsTools();
  checkOptions(opts);
  const { tag, subnet } = opts;
  await purgeNetnsFleet(tag);
  const dir = dirOf(tag);
  mkdirSync(dir, { recursive: true });
  const bridge = bridgeOf(tag);
  const net = `10.213.${subnet}`;
  const addressOf = (i: number) => `${net}.${11 + i}`;
  const poolOf = (i: number) => `10.214.${8 * subnet + i}.0/24`;
  const hosts: NetnsHost[] = [];
  const stop = async (): Promise<void> => purgeNetnsFleet(tag);
  try {
    const tls = makeTls(join(dir, "tls"), opts.hosts.map((_, i) => addressOf(i)));
    run("ip", ["link", "add", bridge, "type", "bridge"]);
    run("ip", ["addr", "add", `${net}.1/24`, "dev", bridge]);
    run("ip", ["link", "set", bridge, "up"]);
    opts.hosts.forEach((name, i) => {
      const ns = namespaceOf(tag, name);
      const inNs = (...args: string[]) => run("nsenter", [`--net=/run/netns/${ns}`, ...args]);
      run("ip", ["netns", "add", ns]);
      run("ip", ["link", "add", `${tag}${i}h`, "type", "veth", "peer", "name", `${tag}${i}n`]);
      run("ip", ["link", "set", `${tag}${i}n`, "netns", ns]);
      run("ip", ["link", "set", `${tag}${i}h`, "master", bridge, "up"]);
      inNs("ip", "link", "set", "lo", "up");
      inNs("ip", "link", "set", `${tag}${i}n`, "name", "eth0");
      inNs("ip", "addr", "add", `${addressOf(i)}/24`, "dev", "eth0");
      inNs("ip", "link", "set", "eth0", "up");
      inNs("sysctl", "-qw", "net.ipv4.ip_forward=1");
      opts.hosts.forEach((_, j) => {
        if (j !== i) inNs("ip", "route", "add", poolOf(j), "via", addressOf(j));
      });
    });
    for (const [i, name] of opts.hosts.entries()) {
      const hostDir = join(dir, name);
      mkdirSync(join(hostDir, "data"), { recursive: true });
      mkdirSync(join(hostDir, "exec"), { recursive: true });
      const ns = namespaceOf(tag, name);
      const log = join(hostDir, "dockerd.log");
      const sock = join(hostDir, "docker.sock");
      const tlsDir = join(dir, "tls");
      const out = openSync(log, "a");
      const child = spawn(
        "nsenter",
        [
          `--net=/run/netns/${ns}`,
          "dockerd",
          "--storage-driver=vfs",
          "--iptables=false",
          "--ip-masq=false",
          "--bridge=none",
          `--default-address-pool=base=${poolOf(i)},size=26`,
          "--data-root", join(hostDir, "data"),
          "--exec-root", join(hostDir, "exec"),
          "--pidfile", join(hostDir, "dockerd.pid"),
          "-H", `unix://${sock}`,
          "-H", `tcp://${addressOf(i)}:2376`,
          "--tlsverify",
          "--tlscacert", join(tlsDir, "ca.pem"),
          "--tlscert", join(tlsDir, `server${i}.pem`),
          "--tlskey", join(tlsDir, `server${i}-key.pem`),
        ],
        { detached: true, stdio: ["ignore", out, out] },
      );
      closeSync(out);
      child.unref();
      const docker = new Dockerode({ socketPath: sock });
      hosts.push({ name, namespace: ns, address: addressOf(i), endpoint: `tcp://${addressOf(i)}:2376`, socket: `unix://${sock}`, docker });
    }
    for (const h of hosts) await waitForDaemon(h.docker, join(dir, h.name, "dockerd.log"), `dockerd of ${h.name} (${h.socket})`);
    for (const h of hosts) {
      const url = new URL(h.endpoint.replace(/^tcp:/, "https:"));
      const overTcp = new Dockerode({ host: url.hostname, port: Number(url.port), protocol: "https", ...tls });
      await overTcp.ping().catch((err: Error) => {
        throw new Error(`dockerd of ${h.name} does not answer on ${h.endpoint} with the test client certificate: ${err.message}`);
      });
    }
    if (opts.images) for (const h of hosts) await copyImages(opts.images.from, h.docker, opts.images.references);
    const byName = (name: string): NetnsHost => {
      const h = hosts.find((x) => x.name === name);
      if (!h) throw new Error(`the fleet has no host ${name}; it has ${hosts.map((x) => x.name).join(", ")}`);
      return h;
    };
    return {
      tag,
      hosts,
      tls,
      host: byName,
      fetchFrom: async (host, url, init = {}) => (await fetchInNamespace(byName(host).namespace, [{ url, init }]))[0]!,
      fetchAllFrom: (host, requests) => fetchInNamespace(byName(host).namespace, requests),
      stop,
    };
  } catch (err) {
    await stop().catch(() => undefined);
    throw err;
  }
}

/** Runs this Node inside the namespace to make the requests in turn; the answers come back as JSON on stdout. */
function fetchInNamespace(ns: string, requests: readonly FetchRequest[]): Promise<{ status: number; body: string }[]> {
  const script =
    "(async () => { const out = [];" +
    "for (const { url, init } of JSON.parse(process.argv[1])) {" +
    "const r = await fetch(url, { ...(init ?? {}), signal: AbortSignal.timeout(30000) });" +
    "out.push({ status: r.status, body: await r.text() }); }" +
    "process.stdout.write(JSON.stringify(out)); })()" +
    ".catch((e) => { process.stderr.write(String(e.cause ?? e)); process.exit(1); });";
  return new Promise((resolve, reject) => {
    const child = spawn("nsenter", [`--net=/run/netns/${ns}`, process.execPath, "-e", script, JSON.stringify(requests)], {
      stdio: ["ignore", "pipe", "pipe"],
    });
    let out = "";
    let err = "";
    child.stdout.on("data", (c: Buffer) => (out += c.toString("utf8")));
    child.stderr.on("data", (c: Buffer) => (err += c.toString("utf8")));
    child.on("error", reject);
    child.on("close", (code) => {
      if (code === 0) resolve(JSON.parse(out) as { status: number; body: string }[]);
      else {
        const what = requests.map((r) => `${r.init?.method ?? "GET"} ${r.url}`).join(", ");
        reject(new Error(`${what} from namespace ${ns} failed: ${err.trim()}`));
      }
    });
  });
}
