/**
 * The Pulumi CLI that `quickstart` and `up` run. One on PATH is used as it is; else one installed in the
 * project's `.llmstack/pulumi`; else `quickstart` installs it there with the Pulumi SDK's own installer
 * (`PulumiCommand.install` from @pulumi/pulumi/automation) and every later call goes to the path the
 * installer returns. Nothing here downloads anything unless `installPulumi` is called.
 */
import { delimiter, dirname, isAbsolute, join, relative } from "node:path";
import { version as PULUMI_SDK_VERSION } from "@pulumi/pulumi/version";
import { PULUMI_DOWNLOAD, PULUMI_INSTALL } from "../preflight/hostChecks";
import { UsageError, type CliIo } from "./io";

/** Under the project directory, git-ignored with the rest of `.llmstack/` (the local state is there too). */
export const PULUMI_ROOT = ".llmstack/pulumi";

/**
 * The CLI release installed: the @pulumi/pulumi SDK's own version (package.json pins 3.248.0), which is
 * what PulumiCommand.install installs when it is given none (@pulumi/pulumi 3.248.0, automation/cmd.js,
 * `withDefaults`: `new semver.SemVer(version_1.version)`, version.js `exports.version = "3.248.0"`). So
 * the CLI and the SDK the program runs with are one release, and the SDK says which.
 */
export const PULUMI_CLI_VERSION: string = PULUMI_SDK_VERSION;

/**
 * Resource plugins are not in the CLI's tarball: "When you first run pulumi preview or pulumi up, the
 * Pulumi CLI will install any required providers that are not already in your plugin cache"
 * (https://www.pulumi.com/docs/iac/concepts/plugins/); the cache is ~/.pulumi/plugins
 * (pulumi/pulumi#1956).
 */
export const PLUGINS_NOTE =
  "On its first run the Pulumi CLI downloads the provider plugins the stack uses into its plugin cache " +
  "(~/.pulumi/plugins), so that run needs the internet and takes longer.";

/** Installs the CLI under `root` (an absolute path) and returns its binary's path (PulumiCommand.command). */
export type PulumiInstaller = (root: string) => Promise<{ readonly command: string }>;

/**
 * The SDK's installer (@pulumi/pulumi 3.248.0, automation/cmd.js). It first runs `ROOT/bin/pulumi version`
 * and keeps a CLI there that is at least PULUMI_CLI_VERSION. Otherwise it fetches
 * https://get.pulumi.com/install.sh with Node's fetch and runs
 * `/bin/sh install.sh --no-edit-path --install-root ROOT --version V` (install.ps1 with PowerShell on
 * Windows); the script downloads the release tarball with curl (from GitHub releases, falling back to
 * get.pulumi.com) and unpacks it with tar into ROOT/bin (pulumi/get.pulumi.com, dist/install.sh). It
 * returns a PulumiCommand whose `command` is `path.resolve(ROOT/bin/pulumi)`, after running its `version`.
 * The automation module is loaded only here: nothing else needs it.
 */
export const sdkInstaller: PulumiInstaller = async (root) => {
  const { PulumiCommand } = await import("@pulumi/pulumi/automation");
  return PulumiCommand.install({ root });
};

/** Where the SDK's installer puts the binary under the project (cmd.js `get`: `join(root, "bin/pulumi")`). */
export function projectPulumi(cwd: string): string {
  return join(cwd, PULUMI_ROOT, "bin", "pulumi");
}

/** A CLI that answers `version`: "pulumi" on PATH, else the project's own; null when there is none. */
export async function locatePulumi(io: CliIo): Promise<string | null> {
  if ((await io.exec("pulumi", ["version"])).code === 0) return "pulumi";
  const installed = projectPulumi(io.cwd);
  return (await io.exec(installed, ["version"])).code === 0 ? installed : null;
}

/**
 * Installs the CLI into the project with `install` and returns its path; on failure throws one error naming
 * what failed, ending with the command that installs it by hand.
 */
export async function installPulumi(io: CliIo, install: PulumiInstaller): Promise<string> {
  io.stdout(
    `The Pulumi CLI is not installed: installing v${PULUMI_CLI_VERSION} into ${PULUMI_ROOT} with the Pulumi SDK's ` +
      "installer (it downloads from get.pulumi.com with curl and unpacks with tar).\n",
  );
  let command: string;
  try {
    ({ command } = await install(join(io.cwd, PULUMI_ROOT)));
  } catch (err) {
    throw new UsageError(
      `could not install the Pulumi CLI v${PULUMI_CLI_VERSION} into ${PULUMI_ROOT} (${failureReason(err)}); ` +
        `Pulumi.local.yaml was not written. Install the CLI by hand (${PULUMI_DOWNLOAD}), open a new shell and run ` +
        "quickstart again",
      PULUMI_INSTALL,
    );
  }
  io.stdout(`Installed the Pulumi CLI v${PULUMI_CLI_VERSION} at ${shownPulumi(io.cwd, command)}. ${PLUGINS_NOTE}\n`);
  return command;
}

/** What `--dry-run` says in place of installing. */
export function wouldInstall(cwd: string): string {
  return (
    `Would install the Pulumi CLI v${PULUMI_CLI_VERSION} into ${PULUMI_ROOT} (PulumiCommand.install, from ` +
    `get.pulumi.com) and run it as ${shownPulumi(cwd, projectPulumi(cwd))}. ${PLUGINS_NOTE}\n`
  );
}

/** The command as a person types it in the project directory. */
export function shownPulumi(cwd: string, command: string): string {
  if (!isAbsolute(command)) return command;
  const rel = relative(cwd, command);
  return rel.startsWith("..") || isAbsolute(rel) ? command : rel;
}

/**
 * `io` with every `pulumi` call sent to `command`. An installed binary's folder goes first on PATH, as the
 * SDK's own PulumiCommand.run does "to ensure we pickup the matching bundled plugins" (cmd.js): the
 * language host `pulumi-language-nodejs` "is distributed with the Pulumi CLI", beside the binary
 * (https://www.pulumi.com/docs/iac/concepts/how-pulumi-works/, Language hosts).
 */
export function callingPulumi(io: CliIo, command: string): CliIo {
  if (command === "pulumi") return io;
  const bin = dirname(command);
  return {
    ...io,
    exec: (file, args, opts) => {
      if (file !== "pulumi") return io.exec(file, args, opts);
      const env = opts?.env ?? io.env;
      const path = env.PATH === undefined || env.PATH === "" ? bin : `${bin}${delimiter}${env.PATH}`;
      return io.exec(command, args, { ...opts, env: { ...env, PATH: path } });
    },
  };
}

/**
 * One line out of an installer error. A failed install.sh reaches us as the SDK's CommandError, whose
 * message is "code: -2\n stdout: \n stderr: Command failed with exit code 1: /bin/sh ...\n<script
 * output>\n err?: Error: ..." (cmd.js CommandResult.toString around execa's message); the script's own
 * "error: ..." line (coloured) says what went wrong, so it is preferred.
 */
export function failureReason(err: unknown): string {
  const text = err instanceof Error ? err.message : String(err);
  const lines = text
    .split("\n")
    // eslint-disable-next-line no-control-regex -- install.sh colours its messages with ANSI escapes
    .map((l) => l.replace(/\u001b\[[0-9;]*m/g, "").replace(/^\s*(stdout|stderr|err\?):/, "").trim())
    .filter((l) => l !== "" && !/^code: -?\d+$/.test(l));
  return lines.find((l) => l.startsWith("error:")) ?? lines[0] ?? "no message";
}

/** What `up` says when there is no CLI at all. */
export function missingPulumi(): string {
  return (
    `the Pulumi CLI is neither on PATH nor in ${PULUMI_ROOT}, so pulumi up was not run; install it ` +
    `(${PULUMI_DOWNLOAD}), open a new shell and run up again; run "${PULUMI_INSTALL}"`
  );
}
