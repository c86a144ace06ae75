/**
 * `llmstack quickstart`: deploys a stack for this machine on its local Docker with a local state
 * backend (no Pulumi account, no passphrase prompt). It writes `Pulumi.local.yaml` (git-ignored) for
 * the GPUs it finds, or CPU mode with a small model when there are none, and leaves the checked-in
 * stacks untouched. Unless PULUMI_CONFIG_PASSPHRASE is set, the secrets it stores are encrypted with an
 * empty passphrase, which protects nothing: the file and the state are kept readable by the owner only.
 */
import { chmodSync, existsSync, mkdirSync } from "node:fs";
import { join } from "node:path";
import { stringify } from "yaml";
import { decideLayout } from "../gpu/layout";
import { detectByRunning } from "../gpu/run";
import type { GpuSection } from "../gpu/layout";
import { commandLine, defineCommand, parseCommand } from "./command";
import { UsageError, type CliIo } from "./io";
import { readProjectConfig } from "../config/stackFile";
import { DOCKER_GROUP_JOIN, DOCKER_INSTALL_SCRIPT, socketRefused } from "../preflight/docker";
import { imageStates } from "../preflight/run";
import { writeFileAtomic } from "../config/writeFile";
import { callingPulumi, installPulumi, locatePulumi, projectPulumi, sdkInstaller, shownPulumi, wouldInstall } from "./pulumiCli";
import type { PulumiInstaller } from "./pulumiCli";
import { renderStack } from "./renderStack";
import { secretsCommand } from "./secrets";

export const LOCAL_STACK = "local";
/**
 * Owner-only: the local stack's secrets are encrypted with an empty passphrase, so reading the file is
 * reading them. Pulumi rewrites a stack file in place (os.WriteFile keeps an existing file's mode:
 * pulumi/pulumi sdk/go/common/workspace/project.go, save), so the mode survives `pulumi config set`.
 */
export const LOCAL_FILE_MODE = 0o600;
export const STATE_DIR = ".llmstack/state";

export interface LocalModel {
  readonly name: string;
  readonly servedModelName: string;
  readonly maxModelLen: number;
  readonly dtype: "bfloat16";
}

/** Small enough for a laptop's CPU; a GPU gets a model worth serving. */
export const QUICKSTART_MODELS: Record<"cpu" | "gpu", LocalModel> = {
  cpu: { name: "Qwen/Qwen2.5-0.5B-Instruct", servedModelName: "qwen2.5-0.5b-instruct", maxModelLen: 2048, dtype: "bfloat16" },
  gpu: { name: "Qwen/Qwen2.5-1.5B-Instruct", servedModelName: "qwen2.5-1.5b-instruct", maxModelLen: 4096, dtype: "bfloat16" },
};

export function localStackFile(gpu: GpuSection, note: string): string {
  const model = gpu.mode === "cpu" ? QUICKSTART_MODELS.cpu : QUICKSTART_MODELS.gpu;
  const config = {
    "llmstack:environment": "development",
    "llmstack:dockerHost": "unix:///var/run/docker.sock",
    "llmstack:gpu": gpu,
    "llmstack:model": model,
    "llmstack:gateway": { bindAddress: "127.0.0.1", port: 4000 },
  };
  return (
    `# Written by "llmstack quickstart" for this machine (${note}); not checked in.\n` +
    "# Its secrets are encrypted with an empty passphrase: anyone who can read this file can read them.\n" +
    stringify({ config })
  );
}

/** Your own images: the worker and retrieval proxy run only when Pulumi.yaml sets them. */
const APP_IMAGE_KEYS = ["multimodalWorker", "retrievalProxy"] as const;

/**
 * The app images Pulumi.yaml sets that this machine can neither find nor pull without a login, as
 * "key (ref): why" lines; and whether any is set at all.
 */
async function appImages(io: CliIo): Promise<{ set: boolean; unavailable: { line: string; ref: string }[] }> {
  const images = (readProjectConfig(io.cwd).images ?? {}) as Record<string, string | undefined>;
  const set = APP_IMAGE_KEYS.flatMap((key) => (images[key] === undefined ? [] : [{ key, ref: images[key]! }]));
  const states = await imageStates(set.map((i) => i.ref), (args) => io.exec("docker", args), io.exec, io.env);
  const unavailable = set.flatMap((i, n) => {
    const st = states[n]!;
    return st.kind === "on-host" || st.kind === "pullable" ? [] : [{ line: `llmstack:images.${i.key} (${i.ref}): ${st.detail}`, ref: i.ref }];
  });
  return { set: set.length > 0, unavailable };
}

export const quickstartCli = () =>
  defineCommand("quickstart", {
    summary: "deploy a stack for this machine on its local Docker with a local state backend",
    details:
      `It writes Pulumi.${LOCAL_STACK}.yaml (git-ignored) for the GPUs it finds, or CPU mode with a small model, ` +
      "and leaves the checked-in stacks untouched.",
    examples: ["llmstack quickstart --dry-run", "llmstack quickstart"],
  }).option("--dry-run", "write Pulumi.local.yaml for this machine and print what would be installed and run; install, deploy and download nothing");

/** `install` puts the Pulumi CLI into .llmstack/pulumi when none is found (tests pass a stand-in). */
export async function quickstartCommand(argv: string[], io: CliIo, install: PulumiInstaller = sdkInstaller): Promise<number> {
  const { opts: values } = parseCommand<{ dryRun?: boolean }>(quickstartCli, argv, io);
  const found = await locatePulumi(io);
  const docker = await io.exec("docker", ["version", "--format", "{{.Server.Version}}"]);
  if (docker.code === 127) {
    throw new UsageError(
      "Docker is not installed, and quickstart runs the stack on this machine's Docker: install Docker Engine " +
        "(https://docs.docker.com/engine/install/; on Linux Docker's convenience script does it) and run quickstart again",
      DOCKER_INSTALL_SCRIPT,
    );
  }
  if (docker.code !== 0) {
    const error = docker.stderr.trim().split("\n")[0] ?? "";
    if (socketRefused(error)) {
      throw new UsageError(
        `Docker's daemon does not let your user in (${error}): join the docker group, then log out and in ` +
          "(or run newgrp docker) and run quickstart again",
        DOCKER_GROUP_JOIN,
      );
    }
    throw new UsageError(
      `Docker is installed but its daemon does not answer (${error || `exit ${docker.code}`}): start it, ` +
        "then run quickstart again",
      "sudo systemctl start docker",
    );
  }

  // Before anything is written: an image of yours that cannot be had would stop `pulumi up` at its pull.
  const apps = await appImages(io);
  if (apps.unavailable.length > 0) {
    throw new UsageError(
      `Pulumi.yaml sets images that are neither on this machine nor pullable without a login: ${apps.unavailable.map((u) => u.line).join("; ")}. ` +
        "Build them here (docker build -t <image> .) or pull them (docker login, then docker pull <image>), or remove them " +
        "from llmstack:images in Pulumi.yaml to run the stack without them; nothing was written",
      // They are your own images: built here, they are on this machine and need no registry.
      commandLine("docker", "build", "-t", apps.unavailable[0]!.ref, "<its source directory>"),
    );
  }
  // Installed before anything is written, so a failed download leaves the project as it was.
  const pulumi = found ?? (values.dryRun ? null : await installPulumi(io, install));
  const file = join(io.cwd, `Pulumi.${LOCAL_STACK}.yaml`);
  if (existsSync(file)) {
    chmodSync(file, LOCAL_FILE_MODE);
    io.stdout(`Using the existing ${`Pulumi.${LOCAL_STACK}.yaml`}; delete it to detect this machine again.\n`);
  } else {
    let gpu: GpuSection;
    let note: string;
    try {
      const detection = await detectByRunning(io.exec);
      gpu = decideLayout(detection, detection.problem === null ? "auto" : "cpu", { environment: "development" });
      note = gpu.mode === "cpu" ? `no usable GPU: ${detection.problem ?? "none found"}` : `${detection.gpus.length} GPU(s) found`;
    } catch (err) {
      gpu = { mode: "cpu" };
      note = `no usable GPU: ${(err as Error).message.split("\n")[0]}`;
    }
    writeFileAtomic(file, localStackFile(gpu, note), { shown: `Pulumi.${LOCAL_STACK}.yaml`, mode: LOCAL_FILE_MODE });
    io.stdout(`Wrote Pulumi.${LOCAL_STACK}.yaml: ${note}; mode ${gpu.mode}.\n`);
  }
  if (!apps.set) {
    io.stdout(
      "The multimodal worker and retrieval proxy are off: they run once llmstack:images.multimodalWorker / " +
        "retrievalProxy in Pulumi.yaml name your images.\n",
    );
  }
  // Render offline first: a bad file fails here with the key to fix, before Pulumi starts.
  const plan = renderStack(io.cwd, LOCAL_STACK);
  const stateDir = join(io.cwd, STATE_DIR);
  const env = {
    ...io.env,
    PULUMI_BACKEND_URL: `file://${stateDir}`,
    PULUMI_CONFIG_PASSPHRASE: io.env.PULUMI_CONFIG_PASSPHRASE ?? "",
    PULUMI_SKIP_UPDATE_CHECK: "true",
  };
  const select: [string, string[]] = ["pulumi", ["stack", "select", "--create", LOCAL_STACK]];
  const up: [string, string[]] = ["pulumi", ["up", "--yes", "--stack", LOCAL_STACK]];
  const shown = shownPulumi(io.cwd, pulumi ?? projectPulumi(io.cwd));
  if (pulumi === null || values.dryRun) {
    if (pulumi === null) io.stdout(wouldInstall(io.cwd));
    io.stdout(
      `Would run with PULUMI_BACKEND_URL=file://${stateDir}:\n  ${shown} ${select[1].join(" ")}\n` +
        `  llmstack secrets init --stack ${LOCAL_STACK}\n  ${shown} ${up[1].join(" ")}\n`,
    );
    return 0;
  }
  const pio = callingPulumi(io, pulumi);
  // The state holds the same secrets, under the same empty passphrase.
  mkdirSync(stateDir, { recursive: true, mode: 0o700 });
  // Each step is safe to repeat: quickstart again picks up where a failed step stopped.
  const again = "llmstack quickstart";
  const run = async ([f, args]: [string, string[]]): Promise<void> => {
    const r = await pio.exec(f, args, { env, cwd: io.cwd, passthrough: true });
    if (r.code !== 0) throw new UsageError(`${shown} ${args.join(" ")} failed (exit ${r.code}); fix what its output above says`, again);
  };
  await run(select);
  // Credentials go into the stack file, so the retained data volumes open again after a destroy.
  if ((await secretsCommand(["init", "--stack", LOCAL_STACK], pio, { env, again })) !== 0) return 1;
  await run(up);
  io.stdout(
    `The stack is up. Gateway: ${plan.gatewayUrl}, model "${plan.servedModelName}".\n` +
      `Master key: PULUMI_BACKEND_URL=file://${stateDir} PULUMI_CONFIG_PASSPHRASE= ${shown} stack output gatewayMasterKey --show-secrets --stack ${LOCAL_STACK}\n`,
  );
  return 0;
}

