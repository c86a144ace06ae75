/**
 * What `llmstack <command> --help` prints: the usage line, what the command does, its options and
 * examples. One entry per command; `llmstack --help` lists the first line of each.
 */
import { DEFAULTS as BENCH_DEFAULTS } from "./bench";

export interface CommandHelp {
  /** Arguments after `llmstack <command>`. */
  readonly usage: string;
  /** One line: what the command is for. */
  readonly summary: string;
  /** Option → what it does (its unit and default). */
  readonly options: Readonly<Record<string, string>>;
  readonly examples: readonly string[];
}

export const HELP: Readonly<Record<string, CommandHelp>> = {
  bench: {
    usage: "--stack NAME [--url URL] [--model NAME] [--requests N] [--concurrency C] [--prompt-tokens P] [--output-tokens O] [--api-key-env NAME] [--timeout-seconds S] [--json] [--compare FILE] [--dir DIR]",
    summary: "measure the gateway: throughput, tokens/s, time to first token and latency percentiles",
    options: {
      "--stack NAME": "the stack whose gateway and model to measure (required)",
      "--url URL": "the gateway's base URL (default: the stack's gateway URL)",
      "--model NAME": "the model name to ask for (default: the stack's served model name)",
      "--requests N": `requests in all (default ${BENCH_DEFAULTS.requests})`,
      "--concurrency C": `requests in flight at a time (default ${BENCH_DEFAULTS.concurrency})`,
      "--prompt-tokens P": `prompt length in tokens (default ${BENCH_DEFAULTS.promptTokens})`,
      "--output-tokens O": `tokens each answer must have (default ${BENCH_DEFAULTS.outputTokens})`,
      "--api-key-env NAME": "environment variable holding the gateway key (default LITELLM_MASTER_KEY)",
      "--timeout-seconds S": `per-request timeout in seconds (default ${BENCH_DEFAULTS.timeoutSeconds})`,
      "--json": "print the result as JSON (save it for --compare)",
      "--compare FILE": "a saved --json run to print the speedup against",
      "--dir DIR": "the project directory (default: the current one)",
    },
    examples: [
      "llmstack bench --stack production --json > one-gpu.json",
      "llmstack bench --stack production --compare one-gpu.json",
    ],
  },
  capacity: {
    usage: "--model ORG/NAME|DIR|config.json [--revision REV] --gpu NAME|MiB [--gpus N] [--tp N] [--pp N] [--util F] [--max-model-len N] [--dtype D] [--quantization Q] [--kv-cache-dtype D] [--vllm-version V] [--max-num-seqs N] [--max-num-batched-tokens N] [--enforce-eager] [--json]",
    summary: "will the model fit: weights, KV cache and the constraints vLLM checks, before anything is deployed",
    options: {
      "--model ORG/NAME|DIR|FILE":
        "a Hugging Face model (read from the Hugging Face cache, else the Hub, else the built-in catalog), a model directory or a config.json (required)",
      "--revision REV": "the model's branch, tag or commit on the Hub (default main)",
      "--gpu NAME|MiB": "a catalogued GPU name or each GPU's memory in MiB (required)",
      "--gpus N": "GPUs given to vLLM (default 1)",
      "--tp N": "tensor parallel size (default: --gpus / --pp)",
      "--pp N": "pipeline parallel size (default 1)",
      "--util F": "vLLM's gpu_memory_utilization, above 0 and at most 1",
      "--max-model-len N": "context length in tokens (default: the model's)",
      "--dtype D": "auto, float16, bfloat16 or float32",
      "--quantization Q": "weight quantization (awq, gptq, fp8, ...)",
      "--kv-cache-dtype D": "auto or fp8",
      "--vllm-version V": "the vLLM release whose memory accounting to use (default: the pinned one)",
      "--max-num-seqs N": "vLLM's --max-num-seqs",
      "--max-num-batched-tokens N": "vLLM's --max-num-batched-tokens",
      "--enforce-eager": "no CUDA graphs",
      "--json": "print the budget as JSON",
    },
    examples: [
      'llmstack capacity --model Qwen/Qwen2.5-7B-Instruct --gpu "NVIDIA GeForce RTX 3090" --tp 2',
      "llmstack capacity --model ./config.json --gpu 24576 --util 0.85 --json",
      'llmstack capacity --model Qwen/Qwen3-30B-A3B --gpu "NVIDIA GeForce RTX 3090" --gpus 2',
    ],
  },
  "configure-gpu": {
    usage: "[auto|multi|single|cpu] --stack NAME [--from-dir DIR] [--ssh HOST]",
    summary: "write the stack file's GPU section from the host's GPUs, keeping its comments and order",
    options: {
      "auto|multi|single|cpu": "the layout to write (default auto: the best the host allows)",
      "--stack NAME": "the stack file to rewrite, Pulumi.NAME.yaml (required)",
      "--from-dir DIR": "read captures (topo.txt, query.csv, nvlink.txt) instead of running nvidia-smi",
      "--ssh HOST": "run nvidia-smi on HOST over ssh",
    },
    examples: [
      "llmstack configure-gpu auto --stack production",
      "llmstack configure-gpu single --stack development --ssh gpu@gpu-box.lan",
    ],
  },
  gpu: {
    usage: "detect [--topo F] [--query F] [--nvlink F] [--ssh HOST] [--json]",
    summary: "show the host's GPUs, NVLink pairs and the layout configure-gpu would write",
    options: {
      "--topo F": "a saved `nvidia-smi topo -m`",
      "--query F": "a saved `nvidia-smi --query-gpu=... --format=csv`",
      "--nvlink F": "a saved `nvidia-smi nvlink --status`",
      "--ssh HOST": "run nvidia-smi on HOST over ssh",
      "--json": "print the detection as JSON",
    },
    examples: ["llmstack gpu detect", "llmstack gpu detect --topo topo.txt --query query.csv --json"],
  },
  images: {
    usage: "pin [--stack NAME] [--dry-run] [--dir DIR]",
    summary: "pin each image tag to the digest it names now, as staging and production require",
    options: {
      pin: "resolve each image's tag through its registry and write repo:tag@sha256:<digest> where it is set",
      "--stack NAME": "also the images that stack runs: its own llmstack:images and its monitoring images (default: Pulumi.yaml's only)",
      "--dry-run": "resolve and print, write nothing",
      "--dir DIR": "the project directory (default: the current one)",
    },
    examples: ["llmstack images pin --stack production", "llmstack images pin --stack staging --dry-run"],
  },
  plan: {
    usage: "--stack NAME [--json] [--diff REV [--render-with revision|current] [--head REV2] [--markdown]] [--dir DIR]",
    summary: "render a stack offline (no Pulumi CLI, backend or Docker), or diff it against a git revision",
    options: {
      "--stack NAME": "the stack to render (required)",
      "--json": "the containers as @pulumi/docker inputs, secrets masked",
      "--diff REV": "compare with the stack at git revision REV",
      "--render-with WHAT": "revision (default): REV's own program renders REV (it runs); current: this checkout's program renders REV's stack files (nothing of REV runs: use it for untrusted revisions)",
      "--head REV2": "compare with REV2's stack files instead of the working tree (needs --render-with current)",
      "--markdown": "print the diff as markdown (for a pull-request comment)",
      "--dir DIR": "the project directory (default: the current one)",
    },
    examples: [
      "llmstack plan --stack production",
      "llmstack plan --stack production --json",
      "llmstack plan --stack production --diff origin/main",
      "llmstack plan --stack production --diff origin/main --head pr-42 --render-with current",
    ],
  },
  quickstart: {
    usage: "[--dry-run]",
    summary: "deploy a stack for this machine on its local Docker with a local state backend",
    options: { "--dry-run": "print what would be written and run, change nothing" },
    examples: ["llmstack quickstart --dry-run", "llmstack quickstart"],
  },
  secrets: {
    usage: "init --stack NAME [--dry-run]",
    summary: "generate the credentials the stack file lacks and store them as Pulumi secrets",
    options: {
      "--stack NAME": "the stack whose credentials to generate (required)",
      "--dry-run": "list the credentials that would be generated",
    },
    examples: ["llmstack secrets init --stack production"],
  },
  validate: {
    usage: "--stack NAME [--json] [--dir DIR]",
    summary: "check the stack's Docker host against the stack file; exit 0 only when no check fails",
    options: {
      "--stack NAME": "the stack whose host to check (required)",
      "--json": "print the checks as JSON",
      "--dir DIR": "the project directory (default: the current one)",
    },
    examples: ["llmstack validate --stack production"],
  },
  up: {
    usage: "--stack NAME [-- PULUMI_ARGS...]",
    summary: "validate the host, then run pulumi up when no check fails",
    options: {
      "--stack NAME": "the stack to deploy (required)",
      "-- PULUMI_ARGS": "passed to pulumi up as they are",
    },
    examples: ["llmstack up --stack production", "llmstack up --stack staging -- --yes"],
  },
};

export function commandHelp(name: string, h: CommandHelp): string {
  const width = Math.max(...Object.keys(h.options).map((o) => o.length));
  return [
    `usage: llmstack ${name} ${h.usage}`,
    "",
    h.summary,
    "",
    "options:",
    ...Object.entries(h.options).map(([o, text]) => `  ${o.padEnd(width)}  ${text}`),
    "  --help, -h".padEnd(width + 2) + "  show this help",
    "",
    "examples:",
    ...h.examples.map((e) => `  ${e}`),
    "",
  ].join("\n");
}
