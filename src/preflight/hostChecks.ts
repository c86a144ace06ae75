/**
 * Host checks that are not about GPUs: the stack's host ports are free (or held by the stack's own
 * containers), Docker's disk has room for the vLLM image and the model, and the Pulumi CLI is installed.
 */
import type { ContainerFacts } from "./docker";
import type { StackNeeds } from "./needs";
import { fail, gib, hostCount, pass, warn, type CheckResult, type Section } from "./types";

export interface Listener {
  readonly ip: string;
  readonly port: number;
  /** Process name and pid when the host tells (ss -p needs the right to see the process). */
  readonly process: string | null;
  readonly pid: number | null;
}

/** `ss -Htlnp`: "LISTEN 0 511 127.0.0.1:4000 0.0.0.0:* users:(("node",pid=1234,fd=21))". */
export function parseListeners(section: Section | undefined): Listener[] | null {
  if (section === undefined || section.rc !== 0) return null;
  return section.text.split("\n").flatMap((line) => {
    const f = line.trim().split(/\s+/);
    if (f[0] !== "LISTEN" || f.length < 5) return [];
    const m = /^(.*):(\d+)$/.exec(f[3] ?? "");
    const port = hostCount(m?.[2]);
    if (m === null || port === null || port > 65535) return [];
    const ip = (m[1] ?? "").replace(/^\[|\]$/g, "").replace(/%.*$/, "");
    const user = /users:\(\("([^"]+)",pid=(\d+)/.exec(f.slice(5).join(" "));
    return [{ ip, port, process: user?.[1] ?? null, pid: hostCount(user?.[2]) }];
  });
}

const WILDCARD = new Set(["0.0.0.0", "::", "*", ""]);

function overlaps(a: string, b: string): boolean {
  return WILDCARD.has(a) || WILDCARD.has(b) || a === b;
}

export function checkPorts(
  needs: StackNeeds,
  listeners: readonly Listener[] | null,
  containers: readonly ContainerFacts[],
  stackPids: ReadonlyMap<number, string>,
  where: string,
): CheckResult {
  const name = "host.ports";
  if (needs.ports.length === 0) return pass(name, "the stack publishes no host port");
  const own = new Set(needs.containerNames);
  const busy: string[] = [];
  const mine: string[] = [];
  for (const p of needs.ports) {
    const publisher = containers.find((c) => c.state === "running" && c.ports.some((x) => x.port === p.port && overlaps(x.ip, p.ip)));
    const holders = (listeners ?? []).filter((l) => l.port === p.port && overlaps(l.ip, p.ip));
    const ownerPid = holders.find((h) => h.pid !== null && stackPids.has(h.pid));
    const at = `${p.ip}:${p.port} (${p.service})`;
    if ((publisher && own.has(publisher.name)) || ownerPid) {
      mine.push(`${at} is held by the stack's own ${publisher && own.has(publisher.name) ? publisher.name : stackPids.get(ownerPid!.pid!)}`);
      continue;
    }
    if (publisher) {
      busy.push(`${at} is published by container ${publisher.name}`);
    } else if (holders.length > 0) {
      const h = holders[0]!;
      busy.push(
        `${at} is in use by ${h.process !== null ? `${h.process} (pid ${h.pid})` : "a process the host does not name"} listening on ${h.ip || "*"}:${h.port}`,
      );
    }
  }
  if (busy.length > 0) {
    return fail(
      name,
      busy.join("; "),
      `stop what holds the port, or pick a free one in ${needs.stackFile} (llmstack:gateway.port / bindAddress)`,
    );
  }
  if (listeners === null) {
    return warn(name, `could not list listening sockets on ${where} (ss failed); ${needs.ports.map((p) => `${p.ip}:${p.port}`).join(", ")} not checked`, "install iproute2 (ss) on the host");
  }
  const free = needs.ports.map((p) => `${p.ip}:${p.port}`).filter((t) => !mine.some((m) => m.startsWith(t)));
  return pass(name, [free.length ? `${free.join(", ")} free` : "", ...mine].filter(Boolean).join("; "));
}

export interface DiskFacts {
  readonly path: string;
  readonly availableBytes: number;
  readonly mount: string;
}

/** `df -Pk <dir>`: header, then "fs 1024-blocks used available capacity mountpoint". */
export function parseDf(section: Section | undefined, path: string): DiskFacts | null {
  if (section === undefined || section.rc !== 0) return null;
  const row = section.text.trim().split("\n")[1]?.trim().split(/\s+/);
  const kib = hostCount(row?.[3]);
  if (row === undefined || row.length < 6 || kib === null) return null;
  return { path, availableBytes: kib * 1024, mount: row.slice(5).join(" ") };
}

export function checkDisk(needs: StackNeeds, disk: DiskFacts | null, imagePresent: boolean): CheckResult {
  const name = "host.disk";
  if (disk === null) {
    return warn(name, "could not read the free space where Docker keeps its data", "check `docker info` DockerRootDir and `df -h` on the host");
  }
  const image = imagePresent ? 0 : needs.vllmImageBytes;
  const model = needs.modelBytes ?? 0;
  const want = image + model;
  const parts = [
    imagePresent ? `${needs.vllmImage} already pulled` : `${needs.vllmImage} about ${gib(image)} (rough estimate)`,
    needs.modelBytes === null ? `${needs.model} size unknown (no facts from the Hugging Face cache, the Hub or the built-in catalog)` : `${needs.model} about ${gib(model)} of weights`,
  ];
  const found = `${gib(disk.availableBytes)} free in ${disk.path} (on ${disk.mount}); needs ${gib(want)}: ${parts.join(", ")}`;
  if (disk.availableBytes < want) {
    return fail(name, found, `free ${gib(want - disk.availableBytes)} or more there (docker system prune, or move Docker's data-root to a larger disk)`);
  }
  if (needs.modelBytes === null) return warn(name, found, "make sure the model fits beside the image");
  return pass(name, found);
}

export const PULUMI_INSTALL = "curl -fsSL https://get.pulumi.com | sh";
/** Pulumi's install page: every way to install the CLI by hand. */
export const PULUMI_DOWNLOAD = "https://www.pulumi.com/docs/iac/download-install/";

export function checkPulumiCli(code: number, stdout: string): CheckResult {
  const name = "pulumi.cli";
  if (code === 0) return pass(name, `Pulumi CLI ${stdout.trim()} is installed (npm run up uses it)`);
  return warn(
    name,
    code === 127 ? "the Pulumi CLI is not installed; npm run up needs it" : `pulumi version exited with code ${code}`,
    `install it: ${PULUMI_INSTALL} (${PULUMI_DOWNLOAD})`,
  );
}
