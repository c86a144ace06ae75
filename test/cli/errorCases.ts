/**
 * Errors of the command line with their exact text, for test/cli/errors.test.ts: the projects and fake
 * hosts they need, and the cases of reading nvidia-smi captures, of capacity, and of the commands that set
 * up a machine (quickstart, secrets, a project directory, git for plan --diff).
 */
import { copyFileSync, cpSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { ExecResult } from "../../src/exec";
import { readProjectConfig } from "../../src/config/stackFile";
import { vllmRelease } from "../../src/facts/vllmRelease";
import type { ExecCall } from "../helpers/fakeIo";
import { ROOT } from "../helpers/root";

export const SMI = join(ROOT, "test", "fixtures", "nvidia-smi");

export interface Case {
  readonly argv: readonly string[];
  readonly dir?: string;
  readonly exec?: (c: ExecCall) => ExecResult;
  readonly env?: NodeJS.ProcessEnv;
  readonly code: number;
  /** What the command prints to stderr (validate: the last line it prints to stdout). */
  readonly text: string;
  /** The command the text ends with. */
  readonly fix: string;
  /** The text is the last line of stdout (validate's summary). */
  readonly stdout?: boolean;
  /** The text is the first line of stderr (capacity: a note on the model's facts follows the violations). */
  readonly firstLine?: boolean;
}

/** A copy of the project's files: a command that went ahead could only touch the copy. */
export function project(edit: (dir: string) => void = () => undefined): string {
  const dir = mkdtempSync(join(tmpdir(), "llmstack-errors-"));
  for (const f of ["Pulumi.yaml", "Pulumi.development.yaml", "Pulumi.staging.yaml", "Pulumi.production.yaml"]) {
    cpSync(join(ROOT, f), join(dir, f));
  }
  edit(dir);
  return dir;
}

export const appendTo = (file: string, text: string) => (dir: string) =>
  writeFileSync(join(dir, file), `${readFileSync(join(dir, file), "utf8")}${text}`);

const ok = (stdout = ""): ExecResult => ({ code: 0, stdout, stderr: "" });
const missing: ExecResult = { code: 127, stdout: "", stderr: "not found" };

/** pulumi and docker answer; nothing else is installed. */
export const tools = (c: ExecCall): ExecResult => (c.file === "pulumi" || c.file === "docker" ? ok("3.0.0\n") : missing);

const QUERY_FIELDS = "index,uuid,name,memory.total,memory.used,pci.bus_id,compute_cap";

/** Reading nvidia-smi's output, from capture files or from nvidia-smi itself. */
export function captureCases(): Record<string, Case> {
  const withFiles = (files: Record<string, string>) =>
    project((d) => {
      for (const [name, from] of Object.entries(files)) {
        mkdirSync(join(d, name, ".."), { recursive: true });
        if (from.startsWith("text:")) writeFileSync(join(d, name), from.slice(5));
        else copyFileSync(join(SMI, from), join(d, name));
      }
    });
  // nvidia-smi answers the query for one GPU, and prints something else for topo -m.
  const liveTopo = (c: ExecCall): ExecResult =>
    c.file !== "nvidia-smi"
      ? missing
      : c.args[0] === "topo"
        ? ok("something else\n")
        : ok("0, GPU-1aff65f8-8897-eaee-29e4-6871ef7491a0, NVIDIA GeForce RTX 3090, 24576, 1, 00000000:17:00.0, 8.6\n");
  return {
    "gpu detect of a damaged capture": {
      argv: ["gpu", "detect", "--topo", "caps/pasted.txt"],
      dir: withFiles({ "caps/pasted.txt": "text:hello\n" }),
      code: 1,
      text:
        "llmstack gpu: caps/pasted.txt: no GPU0 column found; this is not `nvidia-smi topo -m` output (or nvidia-smi saw " +
        'no GPU); capture it again; run "nvidia-smi topo -m > caps/topo.txt"\n',
      fix: "nvidia-smi topo -m > caps/topo.txt",
    },
    "gpu detect of a query from a driver without compute_cap": {
      argv: ["gpu", "detect", "--query", "q.csv"],
      dir: withFiles({ "q.csv": "query-compute-cap-invalid-field.txt" }),
      code: 1,
      text:
        'llmstack gpu: q.csv: this nvidia-smi does not know the field "compute_cap" (older drivers lack it); capture the ' +
        'query without it, or upgrade the driver; run "nvidia-smi --query-gpu=index,uuid,name,memory.total,memory.used,' +
        'pci.bus_id --format=csv > query.csv"\n',
      fix: "nvidia-smi --query-gpu=index,uuid,name,memory.total,memory.used,pci.bus_id --format=csv > query.csv",
    },
    "gpu detect of captures from two hosts": {
      argv: ["gpu", "detect", "--topo", "t.txt", "--query", "q.csv"],
      dir: withFiles({ "t.txt": "topo-1x5090-single-nic.txt", "q.csv": "query-2xa100-pcie-units.csv" }),
      code: 1,
      text:
        "llmstack gpu: the captures disagree on the GPU count: q.csv lists 2, t.txt lists 1; capture all of them from the " +
        `same host; run "nvidia-smi --query-gpu=${QUERY_FIELDS} --format=csv > query.csv && nvidia-smi topo -m > topo.txt"\n`,
      fix: `nvidia-smi --query-gpu=${QUERY_FIELDS} --format=csv > query.csv && nvidia-smi topo -m > topo.txt`,
    },
    "gpu detect of a capture that is not a file": {
      argv: ["gpu", "detect", "--nvlink", "/dev/null"],
      code: 1,
      text:
        "llmstack gpu: /dev/null: is a character device, not a file; llmstack reads an nvidia-smi capture only from a " +
        'regular file; run "llmstack gpu detect --nvlink <a saved nvidia-smi nvlink --status>"\n',
      fix: "llmstack gpu detect --nvlink <a saved nvidia-smi nvlink --status>",
    },
    "gpu detect of nvidia-smi output it cannot read": {
      argv: ["gpu", "detect"],
      exec: liveTopo,
      code: 1,
      text:
        "llmstack gpu: nvidia-smi topo -m: no GPU0 column found; this is not `nvidia-smi topo -m` output (or nvidia-smi " +
        'saw no GPU); capture it again; run "nvidia-smi topo -m"\n',
      fix: "nvidia-smi topo -m",
    },
    "configure-gpu from a directory without captures": {
      argv: ["configure-gpu", "auto", "--stack", "staging", "--from-dir", "caps"],
      dir: project((d) => mkdirSync(join(d, "caps"))),
      code: 1,
      text:
        "llmstack configure-gpu: --from-dir caps: none of topo.txt, query.csv, nvlink.txt is there; capture them on the " +
        `GPU host; run "nvidia-smi topo -m > caps/topo.txt && nvidia-smi --query-gpu=${QUERY_FIELDS} --format=csv > ` +
        'caps/query.csv && nvidia-smi nvlink --status > caps/nvlink.txt"\n',
      fix:
        `nvidia-smi topo -m > caps/topo.txt && nvidia-smi --query-gpu=${QUERY_FIELDS} --format=csv > caps/query.csv && ` +
        "nvidia-smi nvlink --status > caps/nvlink.txt",
    },
    "configure-gpu from a damaged capture": {
      argv: ["configure-gpu", "auto", "--stack", "staging", "--from-dir", "caps"],
      dir: withFiles({ "caps/nvlink.txt": "text:GPU 0: NVIDIA GeForce RTX 3090\n\t Lnk 0: 25 GB/s\n" }),
      code: 1,
      text:
        'llmstack configure-gpu: caps/nvlink.txt: line 2 "Lnk 0: 25 GB/s" under GPU 0 is neither "Link n: <speed> GB/s", ' +
        '"Link n: <inactive>" nor NVML\'s "all links are inActive" message; capture `nvidia-smi nvlink --status` again; ' +
        'run "nvidia-smi nvlink --status > caps/nvlink.txt"\n',
      fix: "nvidia-smi nvlink --status > caps/nvlink.txt",
    },
    "configure-gpu from the captures of a host whose driver is not loaded": {
      argv: ["configure-gpu", "single", "--stack", "staging", "--from-dir", "caps"],
      dir: withFiles({ "caps/query.csv": "smi-error-no-driver.txt" }),
      code: 1,
      text:
        'llmstack configure-gpu: mode single needs a GPU, but caps/query.csv: "NVIDIA-SMI has failed because it couldn\'t ' +
        'communicate with the NVIDIA driver. Make sure that the latest NVIDIA driver is installed and running.": nvidia-smi ' +
        "is installed but the NVIDIA kernel driver is not loaded. Install or reload the driver (check `lsmod | grep " +
        "nvidia`; reboot after a driver or kernel upgrade), or run the stack without a GPU; " +
        'run "llmstack configure-gpu cpu --stack staging"\n',
      fix: "llmstack configure-gpu cpu --stack staging",
    },
    "configure-gpu of a stack file without config:": {
      argv: ["configure-gpu", "cpu", "--stack", "staging"],
      dir: project((d) => writeFileSync(join(d, "Pulumi.staging.yaml"), "encryptionsalt: v1:abc\n")),
      code: 1,
      text:
        'llmstack configure-gpu: Pulumi.staging.yaml: no "config:" mapping; a stack file holds its settings under config:, ' +
        'e.g. config:\\n  llmstack:environment: production; run "llmstack plan --stack staging"\n',
      fix: "llmstack plan --stack staging",
    },
  };
}

/** capacity: a violation, a config.json it cannot read, a model the cache and the Hub cannot give. */
export function capacityCases(): Record<string, Case> {
  const release = vllmRelease((readProjectConfig(ROOT).images as { vllm: string }).vllm);
  const broken = project((d) => writeFileSync(join(d, "config.json"), '{"model_type": "llama"}'));
  const weights = project((d) => mkdirSync(join(d, "weights")));
  const bare = project((d) => writeFileSync(join(d, "Pulumi.yaml"), "name: acme\nruntime: nodejs\n"));
  return {
    "capacity of a model whose KV cache holds no sequence": {
      argv: ["capacity", "--model", "Qwen/Qwen2.5-7B-Instruct", "--gpu", "RTX 3090", "--util", "0.6"],
      code: 1,
      firstLine: true,
      text:
        "error [no-kv-memory]: no memory is left for the KV cache: weights and runtime overhead take 16.69 GiB per GPU but " +
        "utilisation 0.6 allows 14.14 GiB; raise memoryUtilization to at least 0.79, quantize the model or add GPUs (tensor " +
        `parallelism); run "llmstack capacity --model Qwen/Qwen2.5-7B-Instruct --gpu 'RTX 3090' --util 0.79"\n`,
      fix: "llmstack capacity --model Qwen/Qwen2.5-7B-Instruct --gpu 'RTX 3090' --util 0.79",
    },
    "capacity of a config.json that is not a model's": {
      argv: ["capacity", "--model", "config.json", "--gpu", "T4"],
      dir: broken,
      code: 1,
      text:
        `llmstack capacity: ${join(broken, "config.json")}: hidden_size / n_embd / d_model is missing; it must be a whole ` +
        "number from 1 to 16777216. Check that the file is the model's config.json (a Hugging Face transformers config); " +
        'run "llmstack capacity --model <org/name> --gpu T4"\n',
      fix: "llmstack capacity --model <org/name> --gpu T4",
    },
    "capacity of a model that is neither cached nor reachable": {
      argv: ["capacity", "--model", "acme/private-7b", "--gpu", "T4"],
      env: { HF_HUB_OFFLINE: "1", HF_HUB_CACHE: "/nonexistent/hub" },
      code: 1,
      text:
        "llmstack capacity: acme/private-7b is not in the Hugging Face cache (/nonexistent/hub) and HF_HUB_OFFLINE=1 keeps " +
        'llmstack off the network; download it where there is a network with hf download acme/private-7b --include "*.json" ' +
        `(it lands in the cache), or pass the path of its config.json; run "hf download acme/private-7b --include '*.json'"\n`,
      fix: "hf download acme/private-7b --include '*.json'",
    },
    "capacity with a Hub address that is no URL": {
      argv: ["capacity", "--model", "acme/private-7b", "--gpu", "T4"],
      env: { HF_ENDPOINT: "hf.example.com" },
      code: 1,
      text:
        'llmstack capacity: acme/private-7b: HF_ENDPOINT "hf.example.com" is not an http(s) URL; set it to the Hub or a ' +
        'mirror, e.g. https://huggingface.co, or unset it; run "unset HF_ENDPOINT"\n',
      fix: "unset HF_ENDPOINT",
    },
    "capacity of a model directory without config.json": {
      argv: ["capacity", "--model", "weights", "--gpu", "T4", "--json"],
      dir: weights,
      code: 1,
      text:
        `llmstack capacity: ${join(weights, "weights")} has no config.json; give a model directory (config.json beside its ` +
        'weights) or the path of a config.json; run "llmstack capacity --model <org/name> --gpu T4 --json"\n',
      fix: "llmstack capacity --model <org/name> --gpu T4 --json",
    },
    "capacity in a project whose vLLM image names no release": {
      argv: ["capacity", "--model", "Qwen/Qwen2.5-7B-Instruct", "--gpu", "T4"],
      dir: bare,
      code: 1,
      text:
        `llmstack capacity: --vllm-version: ${join(bare, "Pulumi.yaml")} sets llmstack:images.vllm to null, which names ` +
        "no vLLM release (vllm/vllm-openai:v<release>); give the release it runs with --vllm-version; " +
        `run "llmstack capacity --model Qwen/Qwen2.5-7B-Instruct --gpu T4 --vllm-version ${release}"\n`,
      fix: `llmstack capacity --model Qwen/Qwen2.5-7B-Instruct --gpu T4 --vllm-version ${release}`,
    },
  };
}

/** A command run in `dir`, which is not in a project: into this program's own directory. */
const outsideProject = (argv: readonly string[], dir: string): Case => ({
  argv,
  dir,
  code: 1,
  text:
    `llmstack ${argv[0]}: Pulumi.yaml: not found in ${dir}; llmstack runs in the project's directory, the one with ` +
    `Pulumi.yaml; run "cd ${ROOT}"\n`,
  fix: `cd ${ROOT}`,
});

/** quickstart, secrets, up, a directory that is not the project, git for plan --diff. */
export function setupCases(): Record<string, Case> {
  const docker = (answer: ExecResult) => (c: ExecCall): ExecResult => (c.file === "docker" ? answer : c.file === "pulumi" ? ok() : missing);
  const denied =
    "permission denied while trying to connect to the Docker daemon socket at unix:///var/run/docker.sock: " +
    'Get "http://%2Fvar%2Frun%2Fdocker.sock/v1.51/version": dial unix /var/run/docker.sock: connect: permission denied';
  // Every step of quickstart answers but pulumi up.
  const upFails = (c: ExecCall): ExecResult =>
    c.file === "pulumi" && c.args[0] === "up" ? { code: 255, stdout: "", stderr: "" } : c.file === "pulumi" || c.file === "docker" ? ok() : missing;
  const noStack = (c: ExecCall): ExecResult =>
    c.file === "pulumi" && c.args[0] === "config"
      ? { code: 255, stdout: "", stderr: "error: no stack named 'production' found\n" }
      : c.file === "pulumi"
        ? ok("v3.248.0\n")
        : missing;
  const notARepo = (c: ExecCall): ExecResult =>
    c.file === "git" ? { code: 128, stdout: "", stderr: "fatal: not a git repository (or any of the parent directories): .git" } : missing;
  const outside = mkdtempSync(join(tmpdir(), "llmstack-errors-outside-"));
  const plain = project();
  const nested = project((d) => mkdirSync(join(d, "sub")));
  return {
    "quickstart without Docker": {
      argv: ["quickstart", "--dry-run"],
      exec: docker(missing),
      code: 1,
      text:
        "llmstack quickstart: Docker is not installed, and quickstart runs the stack on this machine's Docker: install " +
        "Docker Engine (https://docs.docker.com/engine/install/; on Linux Docker's convenience script does it) and run " +
        'quickstart again; run "curl -fsSL https://get.docker.com -o get-docker.sh && sudo sh get-docker.sh"\n',
      fix: "curl -fsSL https://get.docker.com -o get-docker.sh && sudo sh get-docker.sh",
    },
    "quickstart with Docker's daemon down": {
      argv: ["quickstart", "--dry-run"],
      exec: docker({ code: 1, stdout: "", stderr: "Cannot connect to the Docker daemon at unix:///var/run/docker.sock. Is the docker daemon running?\n" }),
      code: 1,
      text:
        "llmstack quickstart: Docker is installed but its daemon does not answer (Cannot connect to the Docker daemon at " +
        'unix:///var/run/docker.sock. Is the docker daemon running?): start it, then run quickstart again; run "sudo systemctl start docker"\n',
      fix: "sudo systemctl start docker",
    },
    "quickstart as a user Docker refuses": {
      argv: ["quickstart", "--dry-run"],
      exec: docker({ code: 1, stdout: "", stderr: `${denied}\n` }),
      code: 1,
      text:
        `llmstack quickstart: Docker's daemon does not let your user in (${denied}): join the docker group, then log out ` +
        'and in (or run newgrp docker) and run quickstart again; run "sudo usermod -aG docker $USER"\n',
      fix: "sudo usermod -aG docker $USER",
    },
    "quickstart whose pulumi up fails": {
      argv: ["quickstart"],
      dir: project(),
      exec: upFails,
      code: 1,
      text: 'llmstack quickstart: pulumi up --yes --stack local failed (exit 255); fix what its output above says; run "llmstack quickstart"\n',
      fix: "llmstack quickstart",
    },
    "secrets init on a stack Pulumi does not have": {
      argv: ["secrets", "init", "--stack", "production"],
      exec: noStack,
      code: 1,
      text:
        "llmstack secrets: pulumi config set llmstack:postgresPassword failed (exit 255): error: no stack named 'production' " +
        'found; fix what it says; run "llmstack secrets init --stack production"\n',
      fix: "llmstack secrets init --stack production",
    },
    "plan outside the project": outsideProject(["plan", "--stack", "production"], outside),
    "plan with a --dir below the project": {
      argv: ["plan", "--stack", "production", "--dir", "sub"],
      dir: nested,
      code: 1,
      text:
        `llmstack plan: Pulumi.yaml: not found in sub; llmstack runs in the project's directory, the one with Pulumi.yaml; ` +
        `run "llmstack plan --stack production --dir ${nested}"\n`,
      fix: `llmstack plan --stack production --dir ${nested}`,
    },
    "images pin outside the project": outsideProject(["images", "pin"], outside),
    "plan --diff without git": {
      argv: ["plan", "--stack", "production", "--diff", "origin/main"],
      code: 1,
      text:
        "llmstack plan: --diff needs git on PATH; install git (https://git-scm.com/downloads) or drop --diff; " +
        'run "sudo apt-get install git"\n',
      fix: "sudo apt-get install git",
    },
    "plan --diff outside a git repository": {
      argv: ["plan", "--stack", "production", "--diff", "origin/main"],
      dir: plain,
      exec: notARepo,
      code: 1,
      text:
        `llmstack plan: --diff needs a git repository, but ${plain} is not inside one (git rev-parse --show-toplevel: ` +
        "fatal: not a git repository (or any of the parent directories): .git); go to a git clone of the project; " +
        `run "cd ${ROOT}"\n`,
      fix: `cd ${ROOT}`,
    },
    "bench --compare with a file that is no saved run": {
      argv: ["bench", "--stack", "production", "--compare", "other.json"],
      dir: project((d) => writeFileSync(join(d, "other.json"), '{"hello": 1}')),
      env: { LITELLM_MASTER_KEY: "sk-test" },
      code: 1,
      text:
        'llmstack bench: --compare other.json: not an llmstack bench result (expected "format": "llmstack-bench/1" and a ' +
        'summary); give a run saved with bench --json; run "llmstack bench --stack production --json > production.bench.json"\n',
      fix: "llmstack bench --stack production --json > production.bench.json",
    },
  };
}

/** rollback: a stack without a record, a stack the backend lacks, no Pulumi CLI. */
export function rollbackCases(): Record<string, Case> {
  const stackOutput = (result: ExecResult) => (c: ExecCall): ExecResult =>
    c.file !== "pulumi" ? missing : c.args[0] === "stack" ? result : ok("v3.248.0\n");
  return {
    "rollback of a stack that has no good update yet": {
      argv: ["rollback", "--stack", "staging"],
      exec: stackOutput({ code: 255, stdout: "", stderr: "error: current stack does not have output property 'lastGoodConfig'\n" }),
      code: 1,
      text:
        "llmstack rollback: stack staging has no recorded good config yet: an update records one (the stack output " +
        "lastGoodConfig) only when every container came up healthy and the smoke test passed, and none of this stack's " +
        'updates has, so there is nothing to roll back to; fix the stack file and deploy it; run "llmstack up --stack staging"\n',
      fix: "llmstack up --stack staging",
    },
    "rollback of a stack the Pulumi backend does not have": {
      argv: ["rollback", "--stack", "staging"],
      exec: stackOutput({ code: 255, stdout: "", stderr: "error: no stack named 'staging' found\n" }),
      code: 1,
      text:
        "llmstack rollback: stack staging: the Pulumi backend has no stack of that name (pulumi said: no stack named " +
        "'staging' found); log in to the backend that holds it, or pick a stack it lists; run \"pulumi stack ls\"\n",
      fix: "pulumi stack ls",
    },
    "rollback without the Pulumi CLI": {
      argv: ["rollback", "--stack", "staging"],
      code: 1,
      text:
        "llmstack rollback: rollback reads the stack's last good config and deploys it with the Pulumi CLI, which is " +
        "neither on PATH nor in .llmstack/pulumi; install it (https://www.pulumi.com/docs/iac/download-install/), open a " +
        'new shell and run rollback again; run "curl -fsSL https://get.pulumi.com | sh"\n',
      fix: "curl -fsSL https://get.pulumi.com | sh",
    },
    "rollback of a stack without a stack file": {
      argv: ["rollback", "--stack", "qa"],
      code: 1,
      text:
        "llmstack rollback: Pulumi.qa.yaml: no such stack file in DIR; create it (copy Pulumi.development.yaml) or pick " +
        'another --stack; run "cp Pulumi.development.yaml Pulumi.qa.yaml"\n',
      fix: "cp Pulumi.development.yaml Pulumi.qa.yaml",
    },
  };
}
