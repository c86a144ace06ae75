/**
 * `llmstack bench --stack NAME [--url URL] [--model NAME] [--requests N] [--concurrency C]
 * [--prompt-tokens P] [--output-tokens O] [--api-key-env NAME] [--timeout-seconds S] [--json] [--compare FILE]`:
 * streams OpenAI-compatible chat requests through the stack's gateway and reports request throughput,
 * output tokens/s, time to first token and latency percentiles. `--compare FILE` sets a saved
 * `--json` run beside this one and prints the speedup (one GPU against two, say).
 *
 * `--scaling [--replicas N]`, on a stack with hosts: the same load against 1 to N replicas, each dialled
 * directly (./benchScaling.ts).
 */
import { readInputFile } from "../config/readFile";
import { shellWord } from "../config/shell";
import { resolve } from "node:path";
import { compareText, parseBenchResult, progressBar, reportText, type BenchResult } from "../bench/report";
import { runBench, type BenchDeps } from "../bench/run";
import { ArgumentError, httpUrlArg, intArg, pathArg, requireStack, textArg } from "./args";
import { commandLine, defineCommand, parseCommand } from "./command";
import { UsageError, type CliIo } from "./io";
import { renderStack } from "./renderStack";
import { benchScaling, VLLM_KEY_ENV } from "./benchScaling";

/**
 * A saved run for --compare; what is wrong with it ends with the command that saves a run, to a file of its
 * own (the one given may be another file by mistake, which must not be overwritten).
 */
function readBenchResult(cwd: string, file: string, stack: string): BenchResult {
  try {
    return parseBenchResult(readInputFile(resolve(cwd, file), { shown: file, what: "a bench result" }), file);
  } catch (err) {
    throw new UsageError((err as Error).message, `${commandLine("llmstack", "bench", "--stack", stack, "--json")} > ${shellWord(`${stack}.bench.json`)}`);
  }
}

export const DEFAULTS = { requests: 64, concurrency: 8, promptTokens: 256, outputTokens: 128, timeoutSeconds: 300 } as const;

const positiveInt = (name: string, raw: string | undefined, fallback: number, max: number): number =>
  intArg(name, raw, fallback, 1, max);

export const benchCli = () =>
  defineCommand("bench", {
    summary: "measure the gateway: throughput, tokens/s, time to first token and latency percentiles",
    usage: "--stack <name> [options]",
    details:
      "The gateway's key comes from the environment variable --api-key-env names. On a stack with hosts, " +
      "--scaling sends the same load to 1, 2, ... N replicas directly, on the address and port each publishes " +
      `on its host, with the stack's vLLM key (default variable ${VLLM_KEY_ENV}). Exit status: 0 when every ` +
      "request succeeded, 1 when one failed, 2 for a malformed command line.",
    examples: [
      "llmstack bench --stack production --json > one-gpu.json",
      "llmstack bench --stack production --compare one-gpu.json",
      "llmstack bench --stack fleet --scaling --replicas 2",
    ],
  })
    .option("--stack <name>", "the stack whose gateway and model to measure (required)")
    .option("--url <url>", "the gateway's base URL (default: the stack's gateway URL)")
    .option("--model <name>", "the model name to ask for (default: the stack's served model name)")
    .option("--requests <n>", `requests in all (default ${DEFAULTS.requests})`)
    .option("--concurrency <c>", `requests in flight at a time (default ${DEFAULTS.concurrency})`)
    .option("--prompt-tokens <p>", `prompt length in tokens (default ${DEFAULTS.promptTokens})`)
    .option("--output-tokens <o>", `tokens each answer must have (default ${DEFAULTS.outputTokens})`)
    .option("--api-key-env <name>", `environment variable holding the gateway key (default LITELLM_MASTER_KEY; with --scaling, the vLLM key: ${VLLM_KEY_ENV})`)
    .option("--timeout-seconds <s>", `per-request timeout in seconds (default ${DEFAULTS.timeoutSeconds})`)
    .option("--json", "print the result as JSON (save it for --compare)")
    .option("--compare <file>", "a saved --json run to print the speedup against")
    .option("--scaling", "stack with hosts: the same load against 1, 2, ... N replicas, each dialled directly")
    .option("--replicas <n>", "with --scaling: the most replicas to measure (default: all the stack's)")
    .option("--dir <dir>", "the project directory (default: the current one)");

interface BenchOptions {
  stack?: string;
  url?: string;
  model?: string;
  requests?: string;
  concurrency?: string;
  promptTokens?: string;
  outputTokens?: string;
  apiKeyEnv?: string;
  timeoutSeconds?: string;
  json?: boolean;
  compare?: string;
  scaling?: boolean;
  replicas?: string;
  dir?: string;
}

export async function benchCommand(
  argv: string[],
  io: CliIo,
  stderrIsTty = process.stderr.isTTY === true,
  deps?: BenchDeps,
): Promise<number> {
  const { opts: values } = parseCommand<BenchOptions>(benchCli, argv, io);
  requireStack(values.stack, "llmstack bench --stack production");
  const stack = values.stack;
  const dir = pathArg("dir", values.dir, io.cwd, "directory") ?? io.cwd;
  const requests = positiveInt("requests", values.requests, DEFAULTS.requests, 100_000);
  const concurrency = positiveInt("concurrency", values.concurrency, DEFAULTS.concurrency, 4096);
  const promptTokens = positiveInt("prompt-tokens", values.promptTokens, DEFAULTS.promptTokens, 1_000_000);
  const outputTokens = positiveInt("output-tokens", values.outputTokens, DEFAULTS.outputTokens, 1_000_000);
  const timeoutSeconds = positiveInt("timeout-seconds", values.timeoutSeconds, DEFAULTS.timeoutSeconds, 86_400);
  const scaling = values.scaling === true || values.replicas !== undefined;
  const keyEnv = values.apiKeyEnv ?? (scaling ? VLLM_KEY_ENV : "LITELLM_MASTER_KEY");
  if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(keyEnv)) {
    throw new ArgumentError(`--api-key-env ${JSON.stringify(keyEnv)}: must be an environment variable name such as BENCH_KEY`);
  }
  httpUrlArg("url", values.url);
  if (values.model !== undefined) textArg("model", values.model, "the model name the gateway serves");
  if (scaling && (values.url !== undefined || values.compare !== undefined)) {
    const option = values.url !== undefined ? "--url" : "--compare";
    throw new ArgumentError(
      `${option} does not go with --scaling, which dials each replica at the address the stack gives it and compares the steps itself; drop ${option}`,
      commandLine("llmstack", "bench", "--stack", stack, "--scaling"),
    );
  }
  const compare = pathArg("compare", values.compare, io.cwd, "file");
  let last = -1;
  const progress = (done: number, total: number): void => {
    if (stderrIsTty) {
      io.stderr(`\r${progressBar(done, total)}${done === total ? "\n" : ""}`);
      return;
    }
    // Not a terminal (CI logs): a line at each tenth, not a redraw per request.
    const tenth = Math.floor((done / total) * 10);
    if (tenth !== last) {
      last = tenth;
      io.stderr(`${progressBar(done, total)}\n`);
    }
  };
  if (scaling) {
    const settings = { requests, concurrency, promptTokens, outputTokens, timeoutSeconds, json: values.json === true };
    const model = values.model !== undefined ? { model: values.model } : {};
    const replicas = values.replicas !== undefined ? { replicas: values.replicas } : {};
    // Each step starts its own progress line.
    const stepProgress = (done: number, total: number): void => {
      if (done === 1) last = -1;
      progress(done, total);
    };
    return benchScaling({ stack, dir, keyEnv, ...settings, ...model, ...replicas }, io, stepProgress, deps);
  }
  const apiKey = io.env[keyEnv];
  // The gateway's key from the stack's own secret.
  const exportKey = `export ${keyEnv}=$(pulumi config get --stack ${stack} llmstack:litellmMasterKey)`;
  if (!apiKey) {
    throw new UsageError(`${keyEnv} is not set: export the gateway's key first, or name another variable with --api-key-env`, exportKey);
  }
  // Read the comparison first: a bad file should fail before minutes of load.
  const before = compare === undefined ? undefined : readBenchResult(io.cwd, compare, stack);
  const plan = renderStack(dir, stack);
  const url = values.url ?? plan.gatewayUrl;
  const model = values.model ?? plan.servedModelName;

  const { summary } = await runBench(
    { url, apiKey, model, requests, concurrency, promptTokens, outputTokens, timeoutMs: timeoutSeconds * 1000 },
    progress,
    deps,
  );
  const result: BenchResult = {
    format: "llmstack-bench/1",
    stack,
    url,
    model,
    settings: { requests, concurrency, promptTokens, outputTokens },
    summary,
  };
  if (values.json) io.stdout(`${JSON.stringify(result, null, 2)}\n`);
  else io.stdout(reportText(result));
  if (before !== undefined) (values.json ? io.stderr : io.stdout)(compareText(before, result, values.compare!));
  if (summary.failed === 0) return 0;
  // A refused key is the key's fault; anything else, the gateway's log says (it logs each request it fails).
  const gateway = plan.containers.find((c) => c.service === "litellm");
  const fix =
    /^HTTP 40[13]\b/.test(summary.firstError ?? "") || gateway === undefined
      ? exportKey
      : commandLine("docker", "--host", gateway.host, "logs", "--tail", "50", gateway.name);
  io.stderr(
    `bench: ${summary.failed} of ${summary.requests} requests failed (the first: ${summary.firstError ?? "no message"}); ` +
      `run "${fix}"\n`,
  );
  return 1;
}
