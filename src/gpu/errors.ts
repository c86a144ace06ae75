/**
 * nvidia-smi's failure outputs, each turned into one error that says what happened and how to fix it.
 * A parser checks its input with `smiFailure` first, so an error capture is never read as "no GPUs".
 */

export type SmiFailureKind =
  | "not-installed"
  | "no-driver"
  | "version-mismatch"
  | "no-devices"
  | "invalid-field"
  | "failed";

/**
 * How each message that means "no usable GPU" ends: the command line appends the command that does it,
 * `llmstack configure-gpu cpu --stack <name>`, with the stack it was given (src/cli/fixes.ts).
 */
const CPU_FIX = "or run the stack without a GPU";

export class NvidiaSmiError extends Error {
  constructor(
    readonly kind: SmiFailureKind,
    message: string,
    /** For invalid-field: the field nvidia-smi rejected. */
    readonly field: string | null = null,
  ) {
    super(message);
    this.name = "NvidiaSmiError";
  }
}

/**
 * Recognises a failure in nvidia-smi's output (stdout and stderr together) or exit code.
 * `where` names the source in the message: a file name, "nvidia-smi on gpu-box", ...
 * Returns null when the text is not a known failure and the exit code is 0.
 */
export function smiFailure(text: string, where: string, code = 0): NvidiaSmiError | null {
  const firstLine = text.trim().split(/\r?\n/)[0] ?? "";
  if (code === 127 || /nvidia-smi: (command )?not found|No such file or directory|ENOENT/.test(text)) {
    return new NvidiaSmiError(
      "not-installed",
      `${where}: nvidia-smi is not installed (exit code ${code}), so the NVIDIA driver is missing. ` +
        `Install the NVIDIA driver (it ships nvidia-smi; https://docs.nvidia.com/datacenter/tesla/driver-installation-guide/), ${CPU_FIX}`,
    );
  }
  if (/couldn't communicate with the NVIDIA driver/i.test(text)) {
    return new NvidiaSmiError(
      "no-driver",
      `${where}: "${firstLine}": nvidia-smi is installed but the NVIDIA kernel driver is not loaded. ` +
        `Install or reload the driver (check \`lsmod | grep nvidia\`; reboot after a driver or kernel upgrade), ${CPU_FIX}`,
    );
  }
  if (/Driver\/library version mismatch/i.test(text)) {
    return new NvidiaSmiError(
      "version-mismatch",
      `${where}: "${firstLine}": the loaded NVIDIA kernel module and nvidia-smi's library are different versions, ` +
        `usually after a driver upgrade without a reboot. Reboot the host (or reload the nvidia kernel modules), ${CPU_FIX}`,
    );
  }
  const invalid = /Field "([^"]+)" is not a valid field to query/.exec(text);
  if (invalid !== null) {
    return new NvidiaSmiError(
      "invalid-field",
      `${where}: this nvidia-smi does not know the field "${invalid[1]}" (older drivers lack it); ` +
        `capture the query without it, or upgrade the driver`,
      invalid[1] ?? null,
    );
  }
  if (/No devices were found/i.test(text)) {
    return new NvidiaSmiError(
      "no-devices",
      `${where}: nvidia-smi found no NVIDIA GPU on this host. Check that the GPU is seated and visible ` +
        `(\`lspci | grep -i nvidia\`), ${CPU_FIX}`,
    );
  }
  if (code !== 0) {
    return new NvidiaSmiError(
      "failed",
      `${where}: nvidia-smi exited with code ${code}: ${firstLine || "(no output)"}. ` +
        `Run nvidia-smi on the host to see the problem, fix the driver, ${CPU_FIX}`,
    );
  }
  return null;
}

/** The nvidia-smi captures a detection reads: `topo -m`, `--query-gpu` (or the plain table), `nvlink --status`. */
export type CaptureKind = "topo" | "query" | "nvlink";

/**
 * A capture that cannot be read, is damaged, or disagrees with the others: taking `captures` again on the
 * GPU host fixes it. The command line names the commands, with the files it was given (src/cli/fixes.ts).
 * (An nvidia-smi that rejects a field is an NvidiaSmiError of kind invalid-field, with the field.)
 */
export class CaptureError extends Error {
  constructor(
    message: string,
    readonly captures: readonly CaptureKind[],
    /** The file could not be read at all (not a regular file, too large, no permission): another file is needed. */
    readonly unreadable = false,
  ) {
    super(message);
    this.name = "CaptureError";
  }
}

/** Throws the failure in `text`, if it is one. */
export function throwIfFailure(text: string, where: string): void {
  const failure = smiFailure(text, where);
  if (failure !== null) throw failure;
}

/**
 * A count or size read from nvidia-smi output: digits that fit a safe integer. Damaged output (400
 * digits, a run-together cell) is refused with `problem`, never read as Infinity or a rounded number.
 */
export function wholeNumber(digits: string, problem: () => string): number {
  const n = Number(digits);
  if (!/^\d+$/.test(digits) || !Number.isSafeInteger(n)) throw new Error(problem());
  return n;
}
