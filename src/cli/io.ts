/**
 * What every CLI command gets instead of touching the process: argv, env, output streams and a way to
 * run programs. Tests pass fakes; `bin/llmstack.js` passes the real ones.
 */
import { spawn } from "node:child_process";
import { createInterface } from "node:readline";
import type { ExecFn } from "../exec";
import type { FetchFn } from "../hub";

export interface CliIo {
  readonly env: NodeJS.ProcessEnv;
  readonly cwd: string;
  readonly stdout: (text: string) => void;
  readonly stderr: (text: string) => void;
  readonly exec: ExecFn;
  /** The terminal's width, for help text; absent when the output is not a terminal. */
  readonly columns?: number;
  /** How a command reaches the network (the Hugging Face Hub); without it, it does not. */
  readonly fetch?: FetchFn;
  /** Asks the person at the terminal and resolves with the answer; absent when stdin is not a terminal. */
  readonly ask?: (question: string) => Promise<string>;
}

export const realExec: ExecFn = (file, args, opts = {}) =>
  new Promise((resolve) => {
    const child = spawn(file, [...args], {
      cwd: opts.cwd,
      env: opts.env ?? process.env,
      stdio: opts.passthrough ? ["inherit", "inherit", "inherit"] : ["pipe", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    let timer: NodeJS.Timeout | undefined;
    if (opts.timeoutMs !== undefined) {
      timer = setTimeout(() => child.kill("SIGKILL"), opts.timeoutMs);
    }
    child.stdout?.on("data", (d: Buffer) => (stdout += d.toString()));
    child.stderr?.on("data", (d: Buffer) => (stderr += d.toString()));
    child.on("error", (err: NodeJS.ErrnoException) => {
      if (timer) clearTimeout(timer);
      resolve({ code: err.code === "ENOENT" ? 127 : 1, stdout, stderr: stderr + err.message });
    });
    child.on("close", (code, signal) => {
      if (timer) clearTimeout(timer);
      resolve({ code: code ?? (signal ? 124 : 1), stdout, stderr });
    });
    child.stdin?.on("error", () => undefined);
    child.stdin?.end(opts.input ?? "");
  });

export function processIo(): CliIo {
  return {
    env: process.env,
    cwd: process.cwd(),
    stdout: (t) => process.stdout.write(t),
    stderr: (t) => process.stderr.write(t),
    exec: realExec,
    ...(process.stdout.isTTY ? { columns: process.stdout.columns } : {}),
    fetch: (url, init) => fetch(url, init),
    ...(process.stdin.isTTY ? { ask: askTerminal } : {}),
  };
}

/** One line read from the terminal after `question`. */
function askTerminal(question: string): Promise<string> {
  const rl = createInterface({ input: process.stdin, output: process.stderr });
  return new Promise((resolve) =>
    rl.question(question, (answer) => {
      rl.close();
      resolve(answer);
    }),
  );
}

/**
 * An error the CLI prints as one message, without a stack trace, followed by the command line that fixes
 * it when there is one: `<message>; run "<fix>"`.
 */
export class UsageError extends Error {
  constructor(
    message: string,
    readonly fix?: string,
  ) {
    super(message);
    this.name = "UsageError";
  }
}
