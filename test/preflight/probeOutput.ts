/**
 * Builds the host probe's output from captures, the way the probe script prints it, so the checks and the
 * gate read real nvidia-smi output (test/fixtures/nvidia-smi, each with its .json source) without running it.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import type { SectionName } from "../../src/preflight/probe";

export const SMI = join(__dirname, "..", "fixtures", "nvidia-smi");

export function capture(file: string): string {
  return readFileSync(join(SMI, file), "utf8");
}

export type ProbeSections = Partial<Record<SectionName, { rc?: number; text: string }>>;

export function probeOutput(sections: ProbeSections, transport = 0): string {
  const parts = Object.entries(sections).map(([name, s]) => {
    const text = s!.text === "" || s!.text.endsWith("\n") ? s!.text : `${s!.text}\n`;
    return `@@begin ${name}\n${text}@@end ${name} ${s!.rc ?? 0}\n`;
  });
  return `${parts.join("")}@@transport ${transport}\n`;
}

/** The NVIDIA hook found on dockerd's PATH (what a host with the container toolkit prints). */
export const HOOK_FOUND = {
  text: "path default /usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin\nfound /usr/bin/nvidia-container-runtime-hook\n",
};
export const HOOK_MISSING = { text: "path default /usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin\n" };

/** The club-3090 rig (noonghunna/club-3090 issue 405): 2x RTX 3090 with NVLink NV4, ~94% of memory in use. */
export const RIG_3090 = {
  query: { text: capture("smi-2x3090-driver610-kmd.txt") },
  topo: { text: capture("topo-2x3090-nvlink-nv4.txt") },
  nvlink: { text: capture("nvlink-2x3090-club3090.txt") },
};
export const RIG_3090_UUIDS = ["GPU-1aff65f8-8897-eaee-29e4-6871ef7491a0", "GPU-fef3f583-99bd-ac7f-c761-eddb679067e0"];

/**
 * The rig's two 3090s as the probe's query prints them (UUIDs and bus IDs from the club-3090 captures), idle
 * (1 MiB used) and with the given driver: 610.43.02 is the rig's own, other values are constructed.
 */
export function rigQuery(driver: string): { text: string } {
  return {
    text:
      `0, ${RIG_3090_UUIDS[0]}, NVIDIA GeForce RTX 3090, 24576, 1, 00000000:17:00.0, ${driver}\n` +
      `1, ${RIG_3090_UUIDS[1]}, NVIDIA GeForce RTX 3090, 24576, 1, 00000000:65:00.0, ${driver}\n`,
  };
}

/** HPE's 2x A100 PCIe 40GB host (HPE-Japan-Presales/e-learning): no NVLink, 1 MiB used per GPU. */
export const HOST_A100 = {
  query: { text: capture("smi-2xa100-pcie-40gb.txt") },
  nvlink: { text: capture("nvlink-2xa100-pcie-none.txt") },
};

/**
 * What the preflight probe prints on the reference host with nothing running: the NVIDIA hook on
 * dockerd's PATH, two idle RTX 3090s (rigQuery; driver 610.43.02 unless another is given), the NV4 bridge
 * (topo -m and nvlink --status captures), no compute processes.
 */
export function idleReferenceHostProbe(driver = "610.43.02"): string {
  return probeOutput({
    hook: HOOK_FOUND,
    query: rigQuery(driver),
    topo: RIG_3090.topo,
    nvlink: RIG_3090.nvlink,
    apps: { text: "" },
    stackpids: { text: "" },
  });
}

export const IDLE_REFERENCE_HOST_PROBE = idleReferenceHostProbe();
