import type { CliIo } from "../../src/cli/io";
import type { ExecOptions, ExecResult } from "../../src/exec";

export interface ExecCall {
  readonly file: string;
  readonly args: readonly string[];
  readonly opts?: ExecOptions;
}

export interface FakeIo extends CliIo {
  readonly out: () => string;
  readonly err: () => string;
  readonly calls: ExecCall[];
}

/** A CliIo that records output and answers exec calls from a handler. */
export function fakeIo(
  cwd: string,
  handler: (call: ExecCall) => ExecResult = () => ({ code: 127, stdout: "", stderr: "not found" }),
  env: NodeJS.ProcessEnv = {},
): FakeIo {
  let out = "";
  let err = "";
  const calls: ExecCall[] = [];
  return {
    env,
    cwd,
    stdout: (t) => (out += t),
    stderr: (t) => (err += t),
    exec: async (file, args, opts) => {
      const call = { file, args, opts };
      calls.push(call);
      return handler(call);
    },
    out: () => out,
    err: () => err,
    calls,
  };
}
