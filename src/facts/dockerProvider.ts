/**
 * What the Docker provider inside @pulumi/docker refuses or does by default, each with its source, and
 * `providerProblems(spec)`, which holds a planned container against those rules. Pure: no Pulumi.
 *
 * @pulumi/docker bridges kreuzwerker/terraform-provider-docker: pulumi/pulumi-docker's provider/go.mod
 * replaces it with the `upstream` submodule. Up to v5.1.0 and at the latest commit read (237b7899) that
 * submodule is kreuzwerker v4.5.0 (5074970c71ce6cc393c74942d5d628943834beb9); @pulumi/docker 5.2.0's
 * `ContainerUpload` has `owner` and `group`, which kreuzwerker added after v4.5.0 (issue #996, released
 * in v4.6.0, #998), so 5.2.0 bundles v4.6.0 or later. The rules below were read at v4.5.0; the upload
 * owner/group rule comes from the 5.2.0 SDK's own documentation of those inputs.
 */
import { durationMinutes, type PlannedContainer } from "./planned";

export const PROVIDER_SOURCE = {
  repository: "kreuzwerker/terraform-provider-docker",
  readAt: "v4.5.0 (5074970c71ce6cc393c74942d5d628943834beb9)",
  sdk: "@pulumi/docker 5.2.0",
} as const;

/** The provider's numbers, one home each. */
export const DOCKER_PROVIDER = {
  /** Default create/update/delete timeouts of docker_container, in minutes. */
  containerTimeoutMinutes: { create: 20, update: 20, delete: 20 },
  /** Default create/update/delete timeouts of docker_image (Pulumi's RemoteImage), in minutes. */
  imageTimeoutMinutes: { create: 20, update: 20, delete: 20 },
  /** `wait_timeout` when `wait` is set without one, in seconds. */
  waitTimeoutSeconds: 60,
  /** Mode of an upload without `permissions` (0644; 0744 with `executable`). */
  uploadMode: "0644",
  /** Owner and group of an upload without `owner`/`group`: the tar header's zero ids, root. */
  uploadOwner: "0",
  uploadGroup: "0",
} as const;

export interface ProviderRule {
  readonly id: string;
  /** What the provider does, in one sentence. */
  readonly fact: string;
  /** File and lines (or document) that say so. */
  readonly source: string;
}

const FUNCS = "internal/provider/resource_docker_container_funcs.go";

export const PROVIDER_RULES: readonly ProviderRule[] = [
  {
    id: "command-not-empty",
    fact: 'An empty string anywhere in `command` fails the create: "values for command may not be empty".',
    source: `${FUNCS}, resourceDockerContainerCreate (config.Cmd loop)`,
  },
  {
    id: "create-timeouts",
    fact:
      "docker_container and docker_image (RemoteImage) default to 20-minute create, update and delete timeouts.",
    source:
      "internal/provider/resource_docker_container.go (dockerContainer*DefaultTimeout = 20 * time.Minute), " +
      "internal/provider/resource_docker_image.go (dockerImage*DefaultTimeout = 20 * time.Minute)",
  },
  {
    id: "create-covers-wait",
    fact:
      "The create timeout bounds the whole create: container creation, uploads, start, the `wait` for a " +
      "healthy state and the `attach` wait of a one-shot all run in the create's context.",
    source:
      `${FUNCS} (uploads, ContainerStart, the wait_timeout context and ContainerWait derive from the create ` +
      "ctx); hashicorp/terraform-plugin-sdk/v2 helper/schema/resource.go create(): " +
      "context.WithTimeout(ctx, d.Timeout(TimeoutCreate))",
  },
  {
    id: "wait-timeout-default",
    fact: "`wait_timeout` defaults to 60 seconds.",
    source: 'internal/provider/resource_docker_container.go, schema "wait_timeout" Default: 60',
  },
  {
    id: "wait-needs-healthcheck",
    fact:
      "`wait` on a container without a health check fails: \"you have supplied a 'wait' argument, but the " +
      "container does not have a healthcheck defined\".",
    source: `${FUNCS}, waitForHealthyState`,
  },
  {
    id: "upload-mode-owner",
    fact:
      "An upload is written through a tar archive whose header has the given mode (0644 without " +
      "`permissions`) and no owner: the file is root's unless `owner`/`group` say otherwise; names in " +
      "`owner`/`group` resolve on the machine running Pulumi, numeric ids are used as they are.",
    source:
      `${FUNCS} (tar.Header{Name, Mode, Size, ModTime}, CopyToContainer); ${PROVIDER_SOURCE.sdk} ` +
      "types/input.d.ts ContainerUpload.owner/group",
  },
];

/** Minutes a create may take beyond its wait: container creation, uploads and start. */
export const CREATE_MARGIN_MINUTES = 5;

/** Seconds the provider waits for a healthy state: the container's waitTimeout or the default. */
export function effectiveWaitSeconds(spec: { readonly waitTimeout?: number }): number {
  return spec.waitTimeout ?? DOCKER_PROVIDER.waitTimeoutSeconds;
}

function seconds(duration: string): number {
  const m = /^(\d+)s$/.exec(duration);
  if (!m) throw new Error(`expected a duration in seconds such as "30s", got "${duration}"`);
  return Number(m[1]);
}

/** Problems of one planned container (an entry of `plan --json`) against the provider's rules. */
export function providerProblems(c: PlannedContainer): string[] {
  const out: string[] = [];
  const say = (rule: string, text: string): void => {
    out.push(`${c.service}: ${text} (provider rule ${rule})`);
  };
  c.command.forEach((arg, i) => {
    if (arg === "") say("command-not-empty", `command[${i}] is an empty string, which the provider refuses`);
  });
  const create = c.customTimeouts ? durationMinutes(c.customTimeouts.create) : undefined;
  if (create === undefined) say("create-timeouts", "has no create timeout of its own, so the provider's 20 minutes apply");
  if (!c.imageCustomTimeouts) {
    say("create-timeouts", "the pull of its image has no create timeout of its own, so the provider's 20 minutes apply");
  }
  if (c.stopTimeout >= DOCKER_PROVIDER.containerTimeoutMinutes.delete * 60) {
    say("create-timeouts", `stopTimeout ${c.stopTimeout} s does not fit in the provider's 20-minute delete timeout`);
  }
  if (c.wait === true) {
    if (!c.healthcheck) say("wait-needs-healthcheck", "waits for a healthy state but has no health check");
    const wait = effectiveWaitSeconds(c);
    const needed = Math.ceil(wait / 60) + CREATE_MARGIN_MINUTES;
    if (create !== undefined && create < needed) {
      say(
        "create-covers-wait",
        `its create timeout ${create} min does not cover its ${wait} s wait plus ${CREATE_MARGIN_MINUTES} min ` +
          `to create, upload and start; it needs ${needed} min`,
      );
    }
    if (c.healthcheck && wait < seconds(c.healthcheck.startPeriod)) {
      say(
        "wait-timeout-default",
        `waits ${wait} s, less than its health check's start period ${c.healthcheck.startPeriod}: the provider ` +
          "would give up while Docker still lets it start",
      );
    }
  }
  for (const u of c.uploads) {
    for (const [key, id] of [["owner", u.owner], ["group", u.group]] as const) {
      if (id !== undefined && !/^\d+$/.test(id)) {
        say("upload-mode-owner", `upload ${u.file} has ${key} "${id}", a name the Pulumi host would resolve; use the numeric id`);
      }
    }
  }
  return out;
}

/**
 * How the provider reaches a Docker host, which a stack with hosts (one provider per host) relies on.
 * Read in kreuzwerker/terraform-provider-docker internal/provider/config.go at
 * 289b426c170d880a42a0e9bb2f6edce40349f728 (`Config.NewClient`) and in the provider's docs/index.md.
 */
export const CONNECTION_RULES: readonly ProviderRule[] = [
  {
    id: "tls-needs-cert-and-key",
    fact:
      "With TLS material given as content, cert_material and key_material must both be set (\"cert_material, and " +
      'key_material must be specified"); ca_material verifies the daemon\'s certificate.',
    source: "internal/provider/config.go, Config.NewClient and buildHTTPClientFromBytes",
  },
  {
    id: "tls-without-ca-skips-verify",
    fact:
      "Without ca_material the client sets InsecureSkipVerify: the daemon's certificate is not checked, so anyone " +
      "on the path can pose as the host. A stack's tcp:// host must therefore come with its CA.",
    source: "internal/provider/config.go, buildHTTPClientFromBytes (len(caPEMCert) == 0)",
  },
  {
    id: "ssh-runs-local-ssh",
    fact:
      "An ssh:// host is reached through the Docker CLI's connection helper: the provider runs the local ssh " +
      "program with ssh_opts appended and `docker system dial-stdio` on the host, so the host needs the docker " +
      "CLI and host keys are checked by the local ssh against its known_hosts files.",
    source:
      "internal/provider/config.go, connhelper.GetConnectionHelperWithSSHOpts(c.Host, c.SSHOpts); the command " +
      "line `ssh ... -- HOST docker system dial-stdio` quoted in pulumi/pulumi-docker#1293",
  },
  {
    id: "ssh-host-key-pinned",
    fact:
      "The provider's own docs show ssh_opts turning host key checking off (StrictHostKeyChecking=no, " +
      "UserKnownHostsFile=/dev/null); llmstack instead pins each host's key: StrictHostKeyChecking=yes with a " +
      "known_hosts file holding only the stack's keys (ssh_config(5): UserKnownHostsFile takes ~ paths).",
    source:
      'docs/index.md ("Remote Hosts"); ssh_config(5), UserKnownHostsFile and StrictHostKeyChecking ' +
      "(https://man.openbsd.org/ssh_config)",
  },
  {
    id: "ssh-session-limits",
    fact:
      "Every connection to an ssh:// host is an ssh session; many at once (Pulumi creates resources in parallel) " +
      "hit sshd's MaxSessions (default 10) and MaxStartups limits and fail intermittently. Raise them on the host, " +
      "or lower `pulumi up --parallel`.",
    source:
      "kreuzwerker/terraform-provider-docker#262 (intermittent errors using SSH); docker/compose#6463 (sessions " +
      "per connection limited to 10 by default, MaxSessions)",
  },
  {
    id: "ssh-opts-respected",
    fact:
      "An @pulumi/docker release once passed none of the Provider's sshOpts to ssh (since fixed): with a " +
      "release like that, the pinned host key would not be checked.",
    source: "pulumi/pulumi-docker#702 (closed, resolution/fixed)",
  },
];
