/**
 * One Docker provider per host of a stack with hosts, so each resource lands on the daemon of its host
 * and nowhere else (the default provider is disabled in Pulumi.yaml). How each is reached follows the
 * provider's connection rules (src/facts/dockerProvider.ts, CONNECTION_RULES):
 * - ssh://: the local ssh checks the host's key against a known_hosts file holding only this stack's pinned
 *   keys, with StrictHostKeyChecking=yes, so a changed or spoofed host is refused;
 * - tcp://: TLS with the host's CA, client certificate and key from the secret `dockerTls`, always with the
 *   CA (without it the provider skips verifying the daemon);
 * - unix://: the machine running Pulumi.
 */
import * as docker from "@pulumi/docker";
import * as pulumi from "@pulumi/pulumi";
import { mkdirSync, writeFileSync } from "node:fs";
import { userInfo } from "node:os";
import { join } from "node:path";
import { knownHostsLine } from "../config/hosts";
import type { PlannedHost, StackPlan } from "../plan/types";

/** The known_hosts file of a stack, under the home of the user running Pulumi (ssh expands the ~). */
export function knownHostsPath(plan: Pick<StackPlan, "project" | "stack">): string {
  return `~/.llmstack/known_hosts/${plan.project}-${plan.stack}`;
}

/**
 * ssh options for a pinned host: only the stack's known_hosts file (not the user's or the system's), no
 * prompt for an unknown key or a password (BatchMode), so Pulumi fails instead of hanging (ssh_config(5)).
 */
export function sshOptions(plan: Pick<StackPlan, "project" | "stack">): string[] {
  return [
    "-o", "StrictHostKeyChecking=yes",
    "-o", `UserKnownHostsFile=${knownHostsPath(plan)}`,
    "-o", "GlobalKnownHostsFile=/dev/null",
    "-o", "BatchMode=yes",
  ];
}

/** The known_hosts file's text: one line per ssh:// host of the plan, in its order. */
export function knownHostsText(hosts: readonly PlannedHost[]): string {
  return hosts
    .filter((h) => h.endpoint.startsWith("ssh://"))
    .map((h) => `${knownHostsLine(h.endpoint, h.hostKey!)}\n`)
    .join("");
}

/**
 * Writes the stack's known_hosts file for ssh to read. The home is the password database's, not $HOME:
 * ssh expands `~/` with getpwuid(getuid())->pw_dir (openssh-portable misc.c, tilde_expand, V_9_8_P1), and
 * os.userInfo() reads the same entry.
 */
export function writeKnownHosts(plan: StackPlan, home = userInfo().homedir): void {
  const text = knownHostsText(plan.hosts ?? []);
  if (text === "") return;
  const file = join(home, knownHostsPath(plan).slice(2));
  mkdirSync(join(file, ".."), { recursive: true, mode: 0o700 });
  writeFileSync(file, text, { mode: 0o600 });
}

/** The TLS material of the tcp:// hosts, by host name: the secret `dockerTls` as JSON. */
export interface DockerTls {
  readonly [host: string]: { readonly ca: string; readonly cert: string; readonly key: string };
}

const PEM = /^-----BEGIN [A-Z0-9 ]+-----\r?\n/;

/**
 * What is wrong with the secret `dockerTls` for this plan's tcp:// hosts: one sentence each, naming the host
 * and the field (never a value); empty when every tcp:// host has its CA, certificate and key as PEM.
 */
export function dockerTlsProblems(plan: StackPlan, value: string | undefined): string[] {
  const tcp = (plan.hosts ?? []).filter((h) => h.endpoint.startsWith("tcp://"));
  if (tcp.length === 0) return [];
  const set = `pulumi config set --secret llmstack:dockerTls --stack ${plan.stack} < docker-tls.json`;
  if (value === undefined) return [`llmstack:dockerTls is not set; store the hosts' TLS material: ${set} (docs/fleet.md)`];
  let parsed: unknown;
  try {
    parsed = JSON.parse(value);
  } catch {
    return [`llmstack:dockerTls is not JSON; store {"<host>": {"ca": PEM, "cert": PEM, "key": PEM}}: ${set}`];
  }
  const all = (parsed ?? {}) as Record<string, Record<string, unknown> | undefined>;
  return tcp.flatMap((h) =>
    (["ca", "cert", "key"] as const).flatMap((field) => {
      const pem = all[h.name]?.[field];
      return typeof pem === "string" && PEM.test(pem)
        ? []
        : [`llmstack:dockerTls.${h.name}.${field}: ${h.name} (${h.endpoint}) needs its ${field} as PEM text; ${set}`];
    }),
  );
}

/**
 * A provider per host, named `<stack>-docker-<host>`. `tls` is the secret dockerTls (checked by
 * dockerTlsProblems before anything is registered). Each provider takes its host from `ready` (the
 * preflight gate), so nothing is registered through it until the gate passed.
 */
export function hostProviders(
  name: string,
  plan: StackPlan,
  tls: pulumi.Output<string> | undefined,
  parent: pulumi.Resource,
  ready: pulumi.Output<unknown> = pulumi.output(null),
): Map<string, docker.Provider> {
  const providers = new Map<string, docker.Provider>();
  for (const h of plan.hosts ?? []) {
    const material = (field: "ca" | "cert" | "key") =>
      pulumi.secret(tls!.apply((t) => (JSON.parse(t) as DockerTls)[h.name]![field]));
    const host = ready.apply(() => h.endpoint);
    const args: docker.ProviderArgs = h.endpoint.startsWith("ssh://")
      ? { host, sshOpts: sshOptions(plan) }
      : h.endpoint.startsWith("tcp://")
        ? { host, caMaterial: material("ca"), certMaterial: material("cert"), keyMaterial: material("key") }
        : { host };
    providers.set(h.name, new docker.Provider(`${name}-docker-${h.name}`, args, { parent }));
  }
  return providers;
}
