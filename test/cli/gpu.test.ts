/** `llmstack gpu detect`: from capture files, by running nvidia-smi (locally and over ssh), and its failures. */
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { gpuCommand } from "../../src/cli/gpu";
import type { CliIo } from "../../src/cli/io";
import type { ExecResult } from "../../src/exec";

const FIX = join(__dirname, "../fixtures/nvidia-smi");

interface Call {
  file: string;
  args: readonly string[];
}

function fakeIo(answers: Record<string, ExecResult> = {}): { io: CliIo; out: string[]; err: string[]; calls: Call[] } {
  const out: string[] = [];
  const err: string[] = [];
  const calls: Call[] = [];
  const io: CliIo = {
    env: {},
    cwd: FIX,
    stdout: (t) => out.push(t),
    stderr: (t) => err.push(t),
    exec: async (file, args) => {
      calls.push({ file, args });
      // Over ssh the remote command is one line of quoted words; answers are keyed by the words.
      const key = [file, ...args].join(" ").replace(/'/g, "");
      const hit = Object.entries(answers).find(([k]) => key.endsWith(k));
      return hit?.[1] ?? { code: 127, stdout: "", stderr: `spawn ${file} ENOENT` };
    },
  };
  return { io, out, err, calls };
}

const ok = (stdout: string): ExecResult => ({ code: 0, stdout, stderr: "" });
const FULL_QUERY = "--query-gpu=index,uuid,name,memory.total,memory.used,pci.bus_id,compute_cap --format=csv,noheader,nounits";
const OLD_QUERY = "--query-gpu=index,uuid,name,memory.total,memory.used,pci.bus_id --format=csv,noheader,nounits";

describe("gpu detect from capture files", () => {
  it("8x A100 p4d: --json with every NVLink pair, one TP group of 8, unknown fields null", async () => {
    const { io, out } = fakeIo();
    expect(await gpuCommand(["detect", "--topo", "topo-8xa100-p4d-nv12.txt", "--json"], io)).toBe(0);
    const json = JSON.parse(out.join(""));
    expect(json.gpuCount).toBe(8);
    expect(json.gpus[3]).toEqual({ index: 3, uuid: null, name: null, memoryMiB: null, busId: null, computeCapability: null });
    expect(json.nvlinkPairs.length).toBe(28);
    expect(json.nvlinkPairs.slice(0, 3)).toEqual([[0, 1], [0, 2], [0, 3]]);
    expect(json.mode).toBe("multi-nvlink");
    expect(json.tensorParallelGroup).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
    expect(json.workerGpu).toBe(7);
    expect(json.problem).toBe(null);
  });

  it("3x A6000: the human table", async () => {
    const { io, out } = fakeIo();
    const argv = ["detect", "--topo", "topo-3xa6000-partial-nvlink.txt", "--nvlink", "nvlink-3xa6000-one-inactive.txt"];
    expect(await gpuCommand(argv, io)).toBe(0);
    expect(out.join("")).toBe(
      [
        "GPU  NAME              MEMORY MiB  BUS ID  CC  UUID",
        "0    NVIDIA RTX A6000  -           -       -   GPU-5baec991-de63-c196-1766-04c38407e133",
        "1    NVIDIA RTX A6000  -           -       -   GPU-39fc2446-cb50-2067-2867-d95efd470a2c",
        "2    NVIDIA RTX A6000  -           -       -   GPU-02c05ee3-bdb5-aac7-f9e8-a4c8f3f725b3",
        "GPUs: 3",
        "NVLink pairs: 0-1",
        "mode: multi-nvlink",
        "vLLM tensor-parallel group: 0, 1",
        "multimodal worker GPU: 2",
        "note: multi-nvlink: vLLM's 2 GPUs (0, 1) are all joined by NVLink",
        "note: multimodal worker on GPU 2, outside vLLM's group",
        "note: GPUs pinned by UUID (stable if the host renumbers its GPUs)",
        "note: NCCL: GPUs joined by NVLink: peer-to-peer over NVLink (NCCL_P2P_LEVEL=NVL)",
        "",
      ].join("\n"),
    );
  });

  it("a no-driver capture: cpu mode in the JSON, the fix on stderr, exit code 1", async () => {
    const { io, out, err } = fakeIo();
    expect(await gpuCommand(["detect", "--query", "smi-error-no-driver.txt", "--json"], io)).toBe(1);
    const json = JSON.parse(out.join(""));
    expect([json.gpuCount, json.mode, json.tensorParallelGroup, json.workerGpu]).toEqual([0, "cpu", [], null]);
    expect(err.join("")).toMatch(/^llmstack gpu detect: smi-error-no-driver\.txt: "NVIDIA-SMI has failed because it couldn't communicate with the NVIDIA driver\./);
  });

  it("a missing file is named with its flag", async () => {
    const { io } = fakeIo();
    await expect(gpuCommand(["detect", "--topo", "nope.txt"], io)).rejects.toThrow(
      `--topo "nope.txt": no such file (looked for ${join(FIX, "nope.txt")})`,
    );
  });

  it("--ssh with files is a usage error; an unknown subcommand too", async () => {
    const { io } = fakeIo();
    await expect(gpuCommand(["detect", "--topo", "a.txt", "--ssh", "box"], io)).rejects.toThrow(
      "gpu detect: --ssh runs nvidia-smi on HOST, capture files are read here; give one or the other",
    );
    await expect(gpuCommand(["list"], io)).rejects.toThrow('unknown action "list"; the only one is "detect"');
  });
});

describe("gpu detect running nvidia-smi", () => {
  const topo = "\tGPU0\tGPU1\tCPU Affinity\tNUMA Affinity\nGPU0\t X \tPHB\t0-31\t0\nGPU1\tPHB\t X \t0-31\t0\n";
  const rows =
    "0, GPU-3fb142e7-7102-c7ac-bd5a-fc829e11ed84, NVIDIA A100-PCIE-40GB, 40960, 1, 00000000:12:00.0\n" +
    "1, GPU-14ac2834-0d81-0508-69eb-e25264c08d21, NVIDIA A100-PCIE-40GB, 40960, 1, 00000000:8A:00.0\n";
  const nvlink =
    "GPU 0: NVIDIA A100-PCIE-40GB (UUID: GPU-3fb142e7-7102-c7ac-bd5a-fc829e11ed84)\nNVML: Unable to retrieve NVLink information as all links are inActive\n" +
    "GPU 1: NVIDIA A100-PCIE-40GB (UUID: GPU-14ac2834-0d81-0508-69eb-e25264c08d21)\nNVML: Unable to retrieve NVLink information as all links are inActive\n";

  it("falls back without compute_cap on an old driver, over ssh", async () => {
    const { io, out, calls } = fakeIo({
      [FULL_QUERY]: { code: 2, stdout: 'Field "compute_cap" is not a valid field to query.\n', stderr: "" },
      [OLD_QUERY]: ok(rows),
      "topo -m": ok(topo),
      "nvlink --status": { code: 3, stdout: nvlink, stderr: "" },
    });
    expect(await gpuCommand(["detect", "--ssh", "admin@gpu-box", "--json"], io)).toBe(0);
    const words = (s: string): string => s.split(" ").map((w) => `'${w}'`).join(" ");
    expect(calls.map((c) => [c.file, ...c.args])).toEqual([
      ["ssh", "-o", "BatchMode=yes", "--", "admin@gpu-box", words(`nvidia-smi ${FULL_QUERY}`)],
      ["ssh", "-o", "BatchMode=yes", "--", "admin@gpu-box", words(`nvidia-smi ${OLD_QUERY}`)],
      ["ssh", "-o", "BatchMode=yes", "--", "admin@gpu-box", "'nvidia-smi' 'topo' '-m'"],
      ["ssh", "-o", "BatchMode=yes", "--", "admin@gpu-box", "'nvidia-smi' 'nvlink' '--status'"],
    ]);
    const json = JSON.parse(out.join(""));
    expect(json.gpus[1]).toEqual({
      index: 1,
      uuid: "GPU-14ac2834-0d81-0508-69eb-e25264c08d21",
      name: "NVIDIA A100-PCIE-40GB",
      memoryMiB: 40960,
      busId: "00000000:8A:00.0",
      computeCapability: null,
    });
    expect([json.mode, json.nvlinkPairs, json.tensorParallelGroup, json.workerGpu]).toEqual(["multi-pcie", [], [0, 1], 1]);
    expect(json.notes).toContain("compute capability unknown (this driver's nvidia-smi does not report compute_cap)");
    expect(json.notes).toContain("NCCL: datacenter cards over PCIe do peer-to-peer: NCCL defaults kept");
  });

  it("nvidia-smi not installed (exit 127): cpu, with the driver fix", async () => {
    const { io, err, out } = fakeIo();
    expect(await gpuCommand(["detect"], io)).toBe(1);
    expect(out.join("")).toContain("mode: cpu\n");
    expect(err.join("")).toBe(
      "llmstack gpu detect: nvidia-smi: nvidia-smi is not installed (exit code 127), so the NVIDIA driver is missing. " +
        "Install the NVIDIA driver (it ships nvidia-smi; https://docs.nvidia.com/datacenter/tesla/driver-installation-guide/), " +
        'or run the stack without a GPU; run "llmstack configure-gpu cpu --stack <name>"\n',
    );
  });

  it("a --ssh HOST that starts with \"-\" is refused before ssh runs; a host is passed after \"--\" with the remote command as quoted words", async () => {
    const refused = fakeIo();
    // ssh would read "-oProxyCommand=..." as an option and run its command locally.
    await expect(gpuCommand(["detect", "--ssh=-oProxyCommand=touch /tmp/pwned"], refused.io)).rejects.toThrow(
      '--ssh "-oProxyCommand=touch /tmp/pwned": starts with "-", so it reads as an option; give an ssh destination such as admin@gpu-box',
    );
    await expect(gpuCommand(["detect", "--ssh", "admin@-oProxyCommand=x"], refused.io)).rejects.toThrow(
      '--ssh "admin@-oProxyCommand=x": must be an ssh destination such as admin@gpu-box or an alias from ~/.ssh/config (letters, digits, ".", "_", "-")',
    );
    expect(refused.calls).toEqual([]);

    const { io, calls } = fakeIo({ [FULL_QUERY]: { code: 255, stdout: "", stderr: "ssh: Could not resolve hostname\n" } });
    await expect(gpuCommand(["detect", "--ssh=gpu-box"], io)).rejects.toThrow("ssh gpu-box failed: ssh: Could not resolve hostname;");
    expect(calls[0]!.args.slice(0, 5)).toEqual(["-o", "BatchMode=yes", "--", "gpu-box", `'nvidia-smi' '${FULL_QUERY.split(" ")[0]}' '--format=csv,noheader,nounits'`]);
  });

  it("ssh that cannot log in is its own error, ending with what makes it log in", async () => {
    const { io } = fakeIo({ [FULL_QUERY]: { code: 255, stdout: "", stderr: "ssh: connect to host gpu-box port 22: Connection refused\n" } });
    await expect(gpuCommand(["detect", "--ssh", "gpu-box"], io)).rejects.toThrow(
      "ssh gpu-box failed: ssh: connect to host gpu-box port 22: Connection refused; check that `ssh gpu-box` logs in without " +
        'a password prompt; run "ssh gpu-box true"',
    );
    const refused = fakeIo({ [FULL_QUERY]: { code: 255, stdout: "", stderr: "admin@gpu-box: Permission denied (publickey).\n" } });
    await expect(gpuCommand(["detect", "--ssh", "admin@gpu-box"], refused.io)).rejects.toThrow(
      "ssh admin@gpu-box failed: admin@gpu-box: Permission denied (publickey); check that `ssh admin@gpu-box` logs in without " +
        'a password prompt; run "ssh-copy-id admin@gpu-box"',
    );
  });
});
