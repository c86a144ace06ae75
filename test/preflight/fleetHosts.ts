/**
 * A fake fleet for the checks across hosts: the example fleet (examples/fleet) with its hosts reached over
 * ssh, each answering as a test says. The docker CLI and ssh are answered per endpoint; the probe's output
 * comes from real nvidia-smi captures (./probeOutput.ts); the reach scripts (`sh -s`) print what a test
 * gives per replica.
 */
import { parseStackConfig } from "../../src/config/parse";
import type { ExecResult } from "../../src/exec";
import { fleetNeeds, type FleetNeeds } from "../../src/preflight/fleetNeeds";
import { planStack } from "../../src/plan/stack";
import { fakeIo, type ExecCall, type FakeIo } from "../helpers/fakeIo";
import { FLEET_FILE, fleetValues } from "../helpers/fleet";
import { capture, HOOK_FOUND, probeOutput, RIG_3090, rigQuery } from "./probeOutput";

export const ok = (stdout: string): ExecResult => ({ code: 0, stdout, stderr: "" });
export const VERSION = ok(JSON.stringify({ Server: { Version: "28.2.2", ApiVersion: "1.50" } }));

/** The example fleet with gpu-b over ssh (so every host runs the probe), as raw values. */
export function sshFleetValues(): Record<string, any> {
  const values = fleetValues();
  const b = values.hosts.find((h: { name: string }) => h.name === "gpu-b");
  b.endpoint = "ssh://deploy@10.20.0.12";
  b.hostKey = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOZTnr5j37i8kNzadr+m52xYr8ww59ioeCk5Qzu56JYk";
  return values;
}

export function needsOf(values: Record<string, unknown>): FleetNeeds {
  const config = parseStackConfig(values, FLEET_FILE);
  const plan = planStack({ project: "llm-multimodal-stack", stack: "fleet", stackFile: FLEET_FILE, config, secretsPresent: new Set() });
  return fleetNeeds(config, plan);
}

/** gpu-a: the 2x3090 NVLink rig, idle. */
export const GPU_A_PROBE = probeOutput({
  hook: HOOK_FOUND,
  query: rigQuery("610.43.02"),
  topo: RIG_3090.topo,
  nvlink: RIG_3090.nvlink,
  apps: { text: "" },
  stackpids: { text: "" },
  listeners: { text: "" },
  disk: { text: "Filesystem 1024-blocks Used Available Capacity Mounted on\n/dev/nvme0n1p2 976762584 1000000 900000000 1% /\n" },
});

/** gpu-a's two 3090s idle, joined over PCIe (PHB) only: its section's `nvlink: true` does not hold. */
export const GPU_A_PCIE_PROBE = probeOutput({
  hook: HOOK_FOUND,
  query: rigQuery("610.43.02"),
  topo: { text: capture("topo-2x3090-pcie-phb.txt") },
  apps: { text: "" },
  stackpids: { text: "" },
  listeners: { text: "" },
  disk: { text: "Filesystem 1024-blocks Used Available Capacity Mounted on\n/dev/nvme0n1p2 976762584 1000000 900000000 1% /\n" },
});

/**
 * gpu-b: one H100 80GB, idle (a constructed line in the probe's query order), with a captured one-GPU
 * `topo -m`; nvidia-smi nvlink --status printed nothing.
 */
export const H100_UUID = "GPU-5c9b1e2a-0d41-4a7e-9a52-2f0c3c1d7e11";
export const GPU_B_PROBE = probeOutput({
  hook: HOOK_FOUND,
  query: { text: `0, ${H100_UUID}, NVIDIA H100 80GB HBM3, 81559, 1, 00000000:18:00.0, 610.43.02\n` },
  topo: { text: capture("topo-1x5090-single-nic.txt") },
  apps: { text: "" },
  stackpids: { text: "" },
  listeners: { text: "" },
  disk: { text: "Filesystem 1024-blocks Used Available Capacity Mounted on\n/dev/nvme0n1p2 976762584 1000000 900000000 1% /\n" },
});

export const CONTROL_PROBE = probeOutput({ stackpids: { text: "" }, listeners: { text: "" } });

/** A reach script's output when the listener ran and the gateway host connected. */
export const REACH_OK = "listen image vllm/vllm-openai:v0.21.0\nlistening\ndial image ghcr.io/berriai/litellm:v1.84.0\ndial ok\ndone\n";

export interface FleetAnswers {
  /** By endpoint: `docker version`'s answer (VERSION unless given). */
  readonly version?: Record<string, ExecResult>;
  /** By ssh destination (deploy@10.20.0.11): the probe's output. */
  readonly probe?: Record<string, string>;
  /** By replica id: the reach script's output (REACH_OK unless given). */
  readonly reach?: Record<string, string>;
  /** By replica id: the span script's output, for a replica across hosts (no output unless given). */
  readonly span?: Record<string, string>;
}

export function fleetIo(a: FleetAnswers = {}): FakeIo {
  const probes: Record<string, string> = {
    "deploy@10.20.0.10": CONTROL_PROBE,
    "deploy@10.20.0.11": GPU_A_PROBE,
    "deploy@10.20.0.12": GPU_B_PROBE,
    ...a.probe,
  };
  const handler = (c: ExecCall): ExecResult => {
    if (c.file === "pulumi") return ok("v3.190.0\n");
    if (c.file === "ssh") return ok(probes[c.args[c.args.length - 3]!] ?? "");
    if (c.file === "sh") {
      const input = c.opts?.input ?? "";
      const spanning = /llm-multimodal-stack-fleet-vllm-(gpu-[ab]-\d+)-span-preflight/.exec(input)?.[1];
      if (spanning !== undefined || input.includes("@@member ")) return ok(a.span?.[spanning ?? ""] ?? "");
      if (input.includes("volume inspect")) return ok("volume absent\n");
      const replica = /llm-multimodal-stack-fleet-vllm-(gpu-[ab]-\d+)-preflight/.exec(input)?.[1];
      return ok(a.reach?.[replica ?? ""] ?? REACH_OK);
    }
    if (c.file !== "docker" || c.args[0] !== "--host") return { code: 127, stdout: "", stderr: "not found" };
    const endpoint = c.args[1]!;
    const cmd = c.args[2];
    if (cmd === "version") return a.version?.[endpoint] ?? VERSION;
    if (cmd === "info") return ok(JSON.stringify({ DockerRootDir: "/var/lib/docker", CDISpecDirs: [], Runtimes: { runc: {} } }));
    if (cmd === "ps") return ok("");
    if (cmd === "image") return ok("sha256:0123\n");
    return { code: 1, stdout: "", stderr: `unexpected docker ${c.args.join(" ")}` };
  };
  return fakeIo("/nowhere", handler, { PATH: "/usr/bin" });
}
