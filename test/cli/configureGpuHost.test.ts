/**
 * `llmstack configure-gpu --host NAME`: writes one host's gpu section of a stack with llmstack:hosts, over
 * the host's ssh:// endpoint with only its pinned key trusted, keeping the file's comments and other hosts.
 */
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { configureGpuCommand } from "../../src/cli/configureGpu";
import type { CliIo } from "../../src/cli/io";
import type { ExecResult } from "../../src/exec";

const ROOT = join(__dirname, "../..");
const FIX = join(__dirname, "../fixtures/nvidia-smi");
const FLEET = readFileSync(join(ROOT, "examples/fleet/Pulumi.fleet.yaml"), "utf8");
const KEY_A = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOZTnr5j37i8kNzadr+m52xYr8ww59ioeCk5Qzu56JYj";

/** gpu-a of the example fleet as it was with one card, before its second RTX 3090 went in. */
const GPU_A_ONE_CARD = `      gpu:
        mode: single
        vllmDevices: ["0"]
        workerDevices: ["0"]
        nvlink: false
        cardClass: consumer
        gpuName: NVIDIA GeForce RTX 3090
        memoryMiB: 24576
        tensorParallelSize: 1
        pipelineParallelSize: 1
        memoryUtilization: 0.9
    # One H100`;
/**
 * The example with gpu-a's cards by UUID, as configure-gpu writes them when nvidia-smi reports UUIDs
 * (stable across reboots and driver updates, unlike indexes).
 */
const UUID_A0 = "GPU-1aff65f8-8897-eaee-29e4-6871ef7491a0";
const UUID_A1 = "GPU-fef3f583-99bd-ac7f-c761-eddb679067e0";
const FLEET_UUIDS = FLEET.replace(
  'vllmDevices: ["0", "1"]\n        workerDevices: ["1"]',
  `vllmDevices: ["${UUID_A0}", "${UUID_A1}"]\n        workerDevices: ["${UUID_A1}"]`,
);
const GPU_A_TWO_CARDS = / {6}gpu:\n {8}mode: multi\n[\s\S]*? {4}# One H100/;

function project(stack: string): string {
  const dir = mkdtempSync(join(tmpdir(), "configure-gpu-host-"));
  copyFileSync(join(ROOT, "Pulumi.yaml"), join(dir, "Pulumi.yaml"));
  writeFileSync(join(dir, "Pulumi.fleet.yaml"), stack);
  return dir;
}

const ok = (stdout: string): ExecResult => ({ code: 0, stdout, stderr: "" });
const QUERY = "--query-gpu=index,uuid,name,memory.total,memory.used,pci.bus_id,compute_cap --format=csv,noheader,nounits";
const ROWS =
  "0, GPU-1aff65f8-8897-eaee-29e4-6871ef7491a0, NVIDIA GeForce RTX 3090, 24576, 1, 00000000:01:00.0, 8.6\n" +
  "1, GPU-fef3f583-99bd-ac7f-c761-eddb679067e0, NVIDIA GeForce RTX 3090, 24576, 1, 00000000:21:00.0, 8.6\n";
/** The same two cards as `nvidia-smi --query-gpu=... --format=csv` writes them to a file, header and units. */
const QUERY_CSV =
  "index, uuid, name, memory.total [MiB], memory.used [MiB], pci.bus_id, compute_cap\n" +
  "0, GPU-1aff65f8-8897-eaee-29e4-6871ef7491a0, NVIDIA GeForce RTX 3090, 24576 MiB, 1 MiB, 00000000:01:00.0, 8.6\n" +
  "1, GPU-fef3f583-99bd-ac7f-c761-eddb679067e0, NVIDIA GeForce RTX 3090, 24576 MiB, 1 MiB, 00000000:21:00.0, 8.6\n";

interface Call {
  readonly file: string;
  readonly args: readonly string[];
  /** The known_hosts file ssh was given, as it was while ssh ran. */
  readonly knownHosts: string | null;
}

function io(cwd: string): { io: CliIo; out: string[]; err: string[]; calls: Call[] } {
  const out: string[] = [];
  const err: string[] = [];
  const calls: Call[] = [];
  const answers: Record<string, ExecResult> = {
    [QUERY]: ok(ROWS),
    "topo -m": ok(readFileSync(join(FIX, "topo-2x3090-nvlink-nv4.txt"), "utf8")),
    "nvlink --status": ok(readFileSync(join(FIX, "nvlink-2x3090-club3090.txt"), "utf8")),
  };
  return {
    out,
    err,
    calls,
    io: {
      env: {},
      cwd,
      stdout: (t) => out.push(t),
      stderr: (t) => err.push(t),
      exec: async (file, args) => {
        const opt = args.find((a) => a.startsWith("UserKnownHostsFile="));
        calls.push({ file, args, knownHosts: opt === undefined ? null : readFileSync(opt.slice("UserKnownHostsFile=".length), "utf8") });
        const key = [file, ...args].join(" ").replace(/'/g, "");
        const hit = Object.entries(answers).find(([k]) => key.endsWith(k));
        return hit?.[1] ?? { code: 127, stdout: "", stderr: `spawn ${file} ENOENT` };
      },
    },
  };
}

describe("configure-gpu --host", () => {
  it("runs nvidia-smi over the host's ssh endpoint trusting only its pinned key, and rewrites that host's gpu section alone", async () => {
    const stack = FLEET.replace(GPU_A_TWO_CARDS, GPU_A_ONE_CARD);
    expect(stack).not.toBe(FLEET);
    const dir = project(stack);
    const run = io(dir);
    expect(await configureGpuCommand(["auto", "--stack", "fleet", "--host", "gpu-a"], run.io)).toBe(0);

    const sshArgs = (c: Call) => c.args.slice(0, 9);
    expect(run.calls.map((c) => c.file)).toEqual(["ssh", "ssh", "ssh"]);
    for (const c of run.calls) {
      const known = c.args[5]!;
      expect(sshArgs(c)).toEqual([
        "-o", "BatchMode=yes",
        "-o", "StrictHostKeyChecking=yes",
        "-o", known,
        "-o", "GlobalKnownHostsFile=/dev/null",
        "--",
      ]);
      expect(known).toMatch(/^UserKnownHostsFile=.*\/llmstack-known-hosts-[^/]+\/known_hosts$/);
      expect(c.args[9]).toBe("deploy@10.20.0.11");
      expect(c.knownHosts).toBe(`10.20.0.11 ${KEY_A}\n`);
    }
    expect(run.calls.map((c) => c.args[10])).toEqual([
      ["nvidia-smi", ...QUERY.split(" ")].map((w) => `'${w}'`).join(" "),
      "'nvidia-smi' 'topo' '-m'",
      "'nvidia-smi' 'nvlink' '--status'",
    ]);

    const written = readFileSync(join(dir, "Pulumi.fleet.yaml"), "utf8");
    // The whole file is the example again (its cards by UUID): every comment, every other host untouched.
    expect(FLEET_UUIDS).not.toBe(FLEET);
    expect(written).toBe(FLEET_UUIDS);
    expect(run.out.join("")).toContain(
      "Pulumi.fleet.yaml: llmstack:hosts[1].gpu (gpu-a) updated (multi-nvlink):\n" +
        '  ~ mode: "single" → "multi"\n' +
        `  ~ vllmDevices: ["0"] → ["${UUID_A0}","${UUID_A1}"]\n` +
        `  ~ workerDevices: ["0"] → ["${UUID_A1}"]\n` +
        "  ~ nvlink: false → true\n" +
        "  ~ tensorParallelSize: 1 → 2\n",
    );
    expect(run.err).toEqual([]);
  });

  it("a second run changes nothing", async () => {
    const dir = project(FLEET_UUIDS);
    const run = io(dir);
    expect(await configureGpuCommand(["auto", "--stack", "fleet", "--host", "gpu-a"], run.io)).toBe(0);
    expect(run.out.at(-1)).toBe("Pulumi.fleet.yaml: llmstack:hosts[1].gpu (gpu-a) already matches this host (multi-nvlink); nothing changed\n");
    expect(readFileSync(join(dir, "Pulumi.fleet.yaml"), "utf8")).toBe(FLEET_UUIDS);
  });

  it("keeps a replica size chosen before: two GPUs at tensor parallel 1 stay two replicas", async () => {
    const twoReplicas = FLEET_UUIDS.replace(GPU_A_TWO_CARDS, (s) => s.replace("tensorParallelSize: 2", "tensorParallelSize: 1"));
    const dir = project(twoReplicas);
    const run = io(dir);
    expect(await configureGpuCommand(["auto", "--stack", "fleet", "--host", "gpu-a"], run.io)).toBe(0);
    expect(readFileSync(join(dir, "Pulumi.fleet.yaml"), "utf8")).toBe(twoReplicas);
  });

  it("a tcp:// host needs --ssh or --from-dir, and nothing is written", async () => {
    const dir = project(FLEET);
    const run = io(dir);
    await expect(configureGpuCommand(["auto", "--stack", "fleet", "--host", "gpu-b"], run.io)).rejects.toMatchObject({
      message:
        'Pulumi.fleet.yaml: llmstack:hosts[2] (gpu-b) is reached at "tcp://10.20.0.12:2376", where nvidia-smi cannot be run without a container; ' +
        "give --ssh with a login on that host, or --from-dir with captures made there (nvidia-smi topo -m > topo.txt, ...)",
      fix: "llmstack configure-gpu auto --stack fleet --host gpu-b --ssh admin@10.20.0.12",
    });
    expect(run.calls).toEqual([]);
    expect(readFileSync(join(dir, "Pulumi.fleet.yaml"), "utf8")).toBe(FLEET);
  });

  it("--from-dir reads captures made on the host", async () => {
    const dir = project(FLEET);
    mkdirSync(join(dir, "caps"));
    copyFileSync(join(FIX, "topo-2x3090-nvlink-nv4.txt"), join(dir, "caps", "topo.txt"));
    writeFileSync(join(dir, "caps", "query.csv"), QUERY_CSV);
    copyFileSync(join(FIX, "nvlink-2x3090-club3090.txt"), join(dir, "caps", "nvlink.txt"));
    const run = io(dir);
    expect(await configureGpuCommand(["auto", "--stack", "fleet", "--host", "gpu-a", "--from-dir", "caps"], run.io)).toBe(0);
    expect(run.calls).toEqual([]);
    expect(readFileSync(join(dir, "Pulumi.fleet.yaml"), "utf8")).toBe(FLEET_UUIDS);
  });

  it("an unknown host, a stack without hosts, a bad name and cpu mode are refused with their fixes", async () => {
    const dir = project(FLEET);
    const run = io(dir);
    await expect(configureGpuCommand(["auto", "--stack", "fleet", "--host", "gpu-c"], run.io)).rejects.toThrow(
      'Pulumi.fleet.yaml: llmstack:hosts has no host named "gpu-c"; use one of control, gpu-a, gpu-b',
    );
    await expect(configureGpuCommand(["cpu", "--stack", "fleet", "--host", "gpu-a"], run.io)).rejects.toMatchObject({
      message: "configure-gpu: a GPU host's section is single or multi, never cpu (a host without GPUs drops the gpu role and its section)",
      fix: "llmstack configure-gpu auto --stack fleet --host gpu-a",
    });
    await expect(configureGpuCommand(["auto", "--stack", "fleet", "--host", "GPU_A"], run.io)).rejects.toMatchObject({
      message: '--host "GPU_A" is not a host name: a lowercase name such as gpu-a',
      fix: "llmstack configure-gpu auto --stack fleet --host gpu-a",
    });
    const single = project(FLEET.replace(/ {2}llmstack:hosts:[\s\S]*? {2}llmstack:model:/, "  llmstack:model:"));
    await expect(configureGpuCommand(["auto", "--stack", "fleet", "--host", "gpu-a"], io(single).io)).rejects.toThrow(
      "Pulumi.fleet.yaml: --host gpu-a names a host of llmstack:hosts, but the file has no llmstack:hosts list; leave out --host " +
        "to write llmstack:gpu of a single-host stack, or list the hosts (docs/fleet.md)",
    );
    expect(run.calls).toEqual([]);
  });
});
