/** `llmstack configure-gpu`: rewrites only llmstack:gpu, keeps comments, is idempotent, refuses impossible modes. */
import * as fs from "node:fs";
import { copyFileSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { configureGpuCommand } from "../../src/cli/configureGpu";
import type { CliIo } from "../../src/cli/io";
import { main } from "../../src/cli/main";
import { readProjectConfig } from "../../src/config/stackFile";
import { fakeIo } from "../helpers/fakeIo";
import { APP_IMAGES } from "../helpers/stacks";
import type { WriteFs } from "../../src/config/writeFile";

const FIX = join(__dirname, "../fixtures/nvidia-smi");
const ROOT = join(__dirname, "../..");

const STACK = `# The production stack.
config:
  llmstack:environment: production
  # GPU layout, written by configure-gpu.
  llmstack:gpu:
    mode: multi # two cards
    vllmDevices: ["0", "1"]
    workerDevices: ["1"]
    nvlink: true
    cardClass: consumer
    tensorParallelSize: 2
    pipelineParallelSize: 1
    memoryUtilization: 0.85 # leaves room for the worker
    workerMemoryFraction: 0.1
  # The model vLLM serves.
  llmstack:model:
    name: Qwen/Qwen2.5-7B-Instruct
    servedModelName: qwen2.5-7b-instruct
    maxModelLen: 8192
  llmstack:gateway:
    bindAddress: 127.0.0.1
`;

/** A project folder with the real Pulumi.yaml, a stack file, and captures in caps/. */
function project(stack: string, captures: Record<string, string>, name = "production"): string {
  const dir = mkdtempSync(join(tmpdir(), "configure-gpu-"));
  copyFileSync(join(ROOT, "Pulumi.yaml"), join(dir, "Pulumi.yaml"));
  writeFileSync(join(dir, `Pulumi.${name}.yaml`), stack);
  mkdirSync(join(dir, "caps"));
  for (const [to, from] of Object.entries(captures)) copyFileSync(join(FIX, from), join(dir, "caps", to));
  return dir;
}

function io(cwd: string): { io: CliIo; out: string[] } {
  const out: string[] = [];
  return {
    out,
    io: {
      env: {},
      cwd,
      stdout: (t) => out.push(t),
      stderr: (t) => out.push(t),
      exec: async () => {
        throw new Error("configure-gpu must not run nvidia-smi when --from-dir is given or the mode is cpu");
      },
    },
  };
}

const A6000 = { "topo.txt": "topo-3xa6000-partial-nvlink.txt", "nvlink.txt": "nvlink-3xa6000-one-inactive.txt" };

describe("configure-gpu on a full disk", () => {
  it("leaves the stack file byte for byte as it was, and no temporary file, and names the file", async () => {
    const dir = project(STACK, A6000);
    const before = readFileSync(join(dir, "Pulumi.production.yaml"));
    // The disk fills after the first 100 bytes of the new text.
    let written = 0;
    const full: WriteFs = {
      ...fs,
      writeSync: ((fd: number, buf: Buffer, off: number, len: number) => {
        if (written >= 100) throw Object.assign(new Error("ENOSPC: no space left on device, write"), { code: "ENOSPC" });
        const n = fs.writeSync(fd, buf, off, Math.min(len, 100 - written));
        written += n;
        return n;
      }) as WriteFs["writeSync"],
    };
    await expect(configureGpuCommand(["auto", "--stack", "production", "--from-dir", "caps"], io(dir).io, full)).rejects.toThrow(
      "Pulumi.production.yaml: could not be written (ENOSPC: no space left on device, write); it was left as it was",
    );
    expect(written).toBe(100);
    expect(readFileSync(join(dir, "Pulumi.production.yaml")).equals(before)).toBe(true);
    expect(readdirSync(dir).sort()).toEqual(["Pulumi.production.yaml", "Pulumi.yaml", "caps"]);
  });
});

describe("configure-gpu", () => {
  it("auto from captures rewrites only the GPU section, keeps comments, and says vLLM restarts", async () => {
    const dir = project(STACK, A6000);
    const { io: cli, out } = io(dir);
    expect(await configureGpuCommand(["auto", "--stack", "production", "--from-dir", "caps"], cli)).toBe(0);
    expect(readFileSync(join(dir, "Pulumi.production.yaml"), "utf8")).toBe(
      STACK.replace(
        'vllmDevices: ["0", "1"]\n    workerDevices: ["1"]\n    nvlink: true\n    cardClass: consumer',
        'vllmDevices: ["GPU-5baec991-de63-c196-1766-04c38407e133", "GPU-39fc2446-cb50-2067-2867-d95efd470a2c"]\n' +
          '    workerDevices: ["GPU-02c05ee3-bdb5-aac7-f9e8-a4c8f3f725b3"]\n    nvlink: true\n    cardClass: datacenter',
      ).replace(
        "    workerMemoryFraction: 0.1\n",
        // nvlink --status names the cards but gives no memory: only the name is written.
        "    workerMemoryFraction: 0.1\n    gpuName: NVIDIA RTX A6000\n",
      ),
    );
    const text = out.join("");
    expect(text).toContain("Pulumi.production.yaml: llmstack:gpu updated (multi-nvlink):\n");
    expect(text).toContain(
      '  ~ vllmDevices: ["0","1"] → ["GPU-5baec991-de63-c196-1766-04c38407e133","GPU-39fc2446-cb50-2067-2867-d95efd470a2c"]\n',
    );
    expect(text).toContain('  ~ cardClass: "consumer" → "datacenter"\n');
    // What changes comes from the diff of the stack's plans before and after: vLLM's GPUs are now named by
    // UUID; the worker's new device changes nothing, because Pulumi.yaml sets no worker image, so it does not run.
    expect(text.split("\n").slice(-3)).toEqual([
      "the next `pulumi up`: vllm replace (restart with downtime: GPU container, frees its GPUs and reloads the model): " +
        "deviceRequests, envs[NVIDIA_VISIBLE_DEVICES]",
      "the next `pulumi up`: smoke-test replace (one-shot container: runs again)",
      "",
    ]);
    expect(text).not.toContain("multimodal-worker");
  });

  it("running it twice changes nothing the second time", async () => {
    const dir = project(STACK, A6000);
    await configureGpuCommand(["auto", "--stack", "production", "--from-dir", "caps"], io(dir).io);
    const first = readFileSync(join(dir, "Pulumi.production.yaml"), "utf8");
    const { io: cli, out } = io(dir);
    expect(await configureGpuCommand(["auto", "--stack", "production", "--from-dir", "caps"], cli)).toBe(0);
    expect(readFileSync(join(dir, "Pulumi.production.yaml"), "utf8")).toBe(first);
    expect(out.join("")).toContain("Pulumi.production.yaml: llmstack:gpu already matches this host (multi-nvlink); nothing changed\n");
  });

  it("the repository's own production stack already matches its reference host (2x 3090, NVLink), pinned by UUID", async () => {
    const dir = project(readFileSync(join(ROOT, "Pulumi.production.yaml"), "utf8"), {
      "topo.txt": "topo-2x3090-nvlink-nv4.txt",
      "nvlink.txt": "nvlink-2x3090-club3090.txt",
    });
    const { io: cli, out } = io(dir);
    expect(await configureGpuCommand(["--stack", "production", "--from-dir", "caps"], cli)).toBe(0);
    const text = out.join("");
    expect(text).toContain(
      '  ~ vllmDevices: ["0","1"] → ["GPU-1aff65f8-8897-eaee-29e4-6871ef7491a0","GPU-fef3f583-99bd-ac7f-c761-eddb679067e0"]\n',
    );
    expect(text).not.toContain("~ nvlink");
    expect(text).not.toContain("memoryUtilization");
  });

  it("cpu always works, drops the GPU keys, and going back to a GPU mode picks the environment's utilisation", async () => {
    const dir = project(STACK.replace("environment: production", "environment: staging"), A6000, "staging");
    const { io: cli, out } = io(dir);
    expect(await configureGpuCommand(["cpu", "--stack", "staging"], cli)).toBe(0);
    const cpuText = readFileSync(join(dir, "Pulumi.staging.yaml"), "utf8");
    expect(cpuText).toContain("  llmstack:gpu:\n    mode: cpu # two cards\n  # The model vLLM serves.\n");
    expect(out.join("")).toContain('  ~ mode: "multi" → "cpu"\n  - vllmDevices: ["0","1"]\n');
    // Not only vLLM: the mode sets LiteLLM's worker count too, which a list of GPU keys per container missed.
    expect(out.join("")).toContain("the next `pulumi up`: litellm replace: command --num_workers\n");
    await configureGpuCommand(["multi", "--stack", "staging", "--from-dir", "caps"], io(dir).io);
    const back = readFileSync(join(dir, "Pulumi.staging.yaml"), "utf8");
    expect(back).toContain("    memoryUtilization: 0.85\n");
    expect(back).toContain("# GPU layout, written by configure-gpu.\n");
  });

  it("multi on a one-GPU host fails with the reason and writes nothing", async () => {
    const dir = project(STACK, { "topo.txt": "topo-1x5090-single-nic.txt" });
    await expect(configureGpuCommand(["multi", "--stack", "production", "--from-dir", "caps"], io(dir).io)).rejects.toThrow(
      "mode multi needs at least two GPUs, but the host has one (GPU 0); use single (or auto)",
    );
    expect(readFileSync(join(dir, "Pulumi.production.yaml"), "utf8")).toBe(STACK);
  });

  it("single on a host whose driver is down fails with the fix", async () => {
    const dir = project(STACK, { "query.csv": "smi-error-no-driver.txt" });
    await expect(configureGpuCommand(["single", "--stack", "production", "--from-dir", "caps"], io(dir).io)).rejects.toThrow(
      /^mode single needs a GPU, but caps\/query\.csv: "NVIDIA-SMI has failed because it couldn't communicate with the NVIDIA driver\./,
    );
    expect(readFileSync(join(dir, "Pulumi.production.yaml"), "utf8")).toBe(STACK);
  });

  it("a section the stack would reject is not written (vLLM and the worker overfill a shared GPU)", async () => {
    // The worker runs (its image set; a stack's llmstack:images replaces Pulumi.yaml's, so every image is listed).
    const images = { ...(readProjectConfig(ROOT).images as object), multimodalWorker: APP_IMAGES.multimodalWorker };
    const stack = STACK.replace("memoryUtilization: 0.85", "memoryUtilization: 0.92").replace(
      "  llmstack:gateway:",
      `  llmstack:images: ${JSON.stringify(images)}\n  llmstack:gateway:`,
    );
    const dir = project(stack, { "topo.txt": "topo-2x3090-nvlink-nv4.txt" });
    await expect(configureGpuCommand(["auto", "--stack", "production", "--from-dir", "caps"], io(dir).io)).rejects.toThrow(
      "Pulumi.production.yaml: the new llmstack:gpu would be rejected, nothing was written: gpu.workerMemoryFraction: " +
        "GPU 1 is shared by vLLM (memoryUtilization 0.92) and the multimodal worker (workerMemoryFraction 0.1): 0.92 + 0.1 " +
        "= 1.02 of its memory leaves nothing for a 512 MiB CUDA context per process;",
    );
    expect(readFileSync(join(dir, "Pulumi.production.yaml"), "utf8")).toBe(stack);
  });

  it("bad arguments are usage errors", async () => {
    const dir = project(STACK, A6000);
    await expect(configureGpuCommand(["fast", "--stack", "production"], io(dir).io)).rejects.toThrow(
      'mode "fast" is not one of auto, multi, single, cpu',
    );
    const cli = async (argv: string[]) => {
      const run = fakeIo(dir);
      return [await main(["configure-gpu", ...argv], run), run.err()];
    };
    expect(await cli(["fast", "--stack", "production"])).toEqual([
      2,
      'llmstack configure-gpu: mode "fast" is not one of auto, multi, single, cpu; ' +
        'run "llmstack configure-gpu auto --stack production"\n',
    ]);
    expect(await cli(["auto"])).toEqual([
      2,
      'llmstack configure-gpu: --stack is required: the stack whose file is Pulumi.<name>.yaml; ' +
        'run "llmstack configure-gpu auto --stack production"\n',
    ]);
    expect(await cli(["cpu", "--stack", "nope"])).toEqual([
      1,
      `llmstack configure-gpu: Pulumi.nope.yaml: no such stack file in ${dir}; create it (copy Pulumi.development.yaml) ` +
        'or pick another --stack; run "cp Pulumi.development.yaml Pulumi.nope.yaml"\n',
    ]);
    expect(await cli(["auto", "single", "--stack", "production"])).toEqual([
      2,
      `llmstack configure-gpu: too many arguments for 'configure-gpu'. Expected 1 argument but got 2; ` +
        'run "llmstack configure-gpu --help"\n',
    ]);
    expect(await cli(["auto", "--stack", "production", "--from-dir", "."])).toEqual([
      1,
      "llmstack configure-gpu: --from-dir .: none of topo.txt, query.csv, nvlink.txt is there; capture them on the GPU host; " +
        'run "nvidia-smi topo -m > topo.txt && nvidia-smi --query-gpu=index,uuid,name,memory.total,memory.used,pci.bus_id,compute_cap ' +
        '--format=csv > query.csv && nvidia-smi nvlink --status > nvlink.txt"\n',
    ]);
  });
});
