/**
 * How the project runs a program, as types only: the CLI supplies the real runner (src/cli/io.ts) and the
 * GPU and preflight checks take one as an argument, so neither side imports the other.
 */
export interface ExecResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

export interface ExecOptions {
  readonly input?: string;
  readonly timeoutMs?: number;
  readonly cwd?: string;
  readonly env?: NodeJS.ProcessEnv;
  /** Let the program write to this terminal directly (long commands such as `pulumi up`). */
  readonly passthrough?: boolean;
}

/** Runs a program; resolves with code 127 and an ENOENT message when it is not installed. */
export type ExecFn = (file: string, args: readonly string[], opts?: ExecOptions) => Promise<ExecResult>;
