import { describe, expect, it } from "vitest";
import { sectionTenants } from "../../src/config/gpuBookings";
import { checkGpuBudget } from "../../src/preflight/gpuChecks";
import { detectionFrom, gpuCheckResults } from "../../src/preflight/gpuFacts";
import { stackNeeds } from "../../src/preflight/needs";
import { parseProbe } from "../../src/preflight/probe";
import { planFromValues, rawValues, withAppImages } from "../helpers/stacks";
import { parseStackConfig } from "../../src/config/parse";
import type { CheckResult } from "../../src/preflight/types";
import { capture, HOOK_FOUND, HOOK_MISSING, HOST_A100, probeOutput, RIG_3090, RIG_3090_UUIDS, type ProbeSections } from "./probeOutput";

function needsFor(stack: string, edit: (v: Record<string, unknown>) => void = () => undefined) {
  const values = rawValues(stack);
  edit(values);
  const plan = planFromValues(values, stack);
  return stackNeeds(parseStackConfig(values, `Pulumi.${stack}.yaml`), plan);
}

function run(stack: string, sections: ProbeSections, edit?: (v: Record<string, unknown>) => void) {
  const needs = needsFor(stack, edit);
  return gpuCheckResults(needs, parseProbe(probeOutput(sections)), null, "gpu-box");
}

function gpu(v: Record<string, unknown>): Record<string, unknown> {
  return v.gpu as Record<string, unknown>;
}

function check(results: readonly CheckResult[], name: string): CheckResult | undefined {
  return results.find((r) => r.check === name);
}

describe("GPU checks on real nvidia-smi captures", () => {
  it("reads the 3090 rig's table, topology and NVLink status through src/gpu's parsers", () => {
    const det = detectionFrom(parseProbe(probeOutput(RIG_3090)), "gpu-box");
    expect(det.problem).toBe(null);
    expect(det.gpus.map((g) => [g.index, g.uuid, g.memoryMiB, g.memoryUsedMiB])).toEqual([
      [0, RIG_3090_UUIDS[0], 24576, 23166],
      [1, RIG_3090_UUIDS[1], 24576, 22938],
    ]);
    expect(det.nvlinkPairs).toEqual([[0, 1]]);
  });

  it("fails the memory check on the rig whose GPUs are already ~94% used by processes nvidia-smi cannot list", () => {
    const results = run("production", { hook: HOOK_FOUND, ...RIG_3090, apps: { text: "" } });
    expect(results.map((r) => [r.check, r.status])).toEqual([
      ["docker.nvidia", "pass"],
      ["gpu.driver", "pass"],
      ["gpu.devices", "pass"],
      ["gpu.budget", "pass"],
      ["gpu.size", "pass"],
      ["gpu.nvlink", "pass"],
      ["gpu.memory-in-use", "fail"],
    ]);
    const mem = check(results, "gpu.memory-in-use")!;
    expect(mem.found).toBe(
      "GPU 0 (NVIDIA GeForce RTX 3090): 23166 MiB of 24576 MiB already used by processes nvidia-smi does not list " +
        "(another container's or a display's); vLLM asks memoryUtilization 0.9 = 22118 MiB but only 1410 MiB is free; " +
        "GPU 1 (NVIDIA GeForce RTX 3090): 22938 MiB of 24576 MiB already used by processes nvidia-smi does not list " +
        "(another container's or a display's); vLLM asks memoryUtilization 0.9 = 22118 MiB but only 1638 MiB is free",
    );
    expect(mem.fix).toBe(
      "stop what holds GPU 0 (NVIDIA GeForce RTX 3090) or lower memoryUtilization to 0.05 or less; " +
        "stop what holds GPU 1 (NVIDIA GeForce RTX 3090) or lower memoryUtilization to 0.06 or less (Pulumi.production.yaml: llmstack:gpu)",
    );
  });

  it("names the other processes nvidia-smi lists on a used GPU", () => {
    // Constructed process list for the same rig: the 23166 MiB on GPU 0 split between two foreign pids.
    const apps = { text: `4242, 20000, ${RIG_3090_UUIDS[0]}\n5151, 3166, ${RIG_3090_UUIDS[0]}\n` };
    const results = run("production", { hook: HOOK_FOUND, ...RIG_3090, apps });
    expect(check(results, "gpu.memory-in-use")!.found).toContain(
      "GPU 0 (NVIDIA GeForce RTX 3090): 23166 MiB of 24576 MiB already used by pid 4242 (20000 MiB), pid 5151 (3166 MiB); vLLM asks memoryUtilization 0.9 = 22118 MiB but only 1410 MiB is free; ",
    );
  });

  it("counts memory held by the stack's own running containers as the stack's (an update)", () => {
    // The rig report says a vLLM container held this memory; here its pids are the stack's vLLM container's.
    const apps = { text: `4242, 23000, ${RIG_3090_UUIDS[0]}\n4243, 22800, ${RIG_3090_UUIDS[1]}\n` };
    const stackpids = {
      text: "llm-multimodal-stack-development-vllm 4242\nllm-multimodal-stack-development-vllm 4243\n",
    };
    const results = run("development", { hook: HOOK_FOUND, ...RIG_3090, apps, stackpids }, withAppImages);
    expect(check(results, "gpu.memory-in-use")).toEqual({
      check: "gpu.memory-in-use",
      status: "pass",
      found:
        "GPU 0 (NVIDIA GeForce RTX 3090) 24410 MiB free for 19661 MiB asked; 23000 MiB held by the stack's own " +
        "llm-multimodal-stack-development-vllm counts as the stack's; GPU 1 (NVIDIA GeForce RTX 3090) 24438 MiB free for " +
        "22118 MiB asked; 22800 MiB held by the stack's own llm-multimodal-stack-development-vllm counts as the stack's",
      fix: null,
    });
  });

  it("fails nvlink: true on the A100 host whose links are all inactive", () => {
    const results = run("production", { hook: HOOK_FOUND, ...HOST_A100, apps: { text: "" } }, withAppImages);
    const nv = results.find((r) => r.check === "gpu.nvlink")!;
    expect(nv).toEqual({
      check: "gpu.nvlink",
      status: "fail",
      found:
        "Pulumi.production.yaml says nvlink: true, but vLLM's GPUs 0, 1 are not all joined by NVLink on this host: " +
        "GPU 0–GPU 1 (no active NVLink)",
      fix:
        "set llmstack:gpu.nvlink to false in Pulumi.production.yaml (llmstack configure-gpu auto --stack production " +
        "writes what the host has), or seat the NVLink bridge",
    });
    // The budget runs with the host's memory.total (40960 MiB), not the stack file's 24576.
    expect(results.find((r) => r.check === "gpu.budget")).toEqual({
      check: "gpu.budget",
      status: "pass",
      found:
        "GPU 0: vLLM 0.9 of 40520 MiB and 1 CUDA context of 512 MiB = 36980 MiB of 40520 MiB; " +
        "GPU 1: vLLM 0.9 + the multimodal worker 0.04 of 40520 MiB and 2 CUDA contexts of 512 MiB = 39113 MiB of 40520 MiB",
      fix: null,
    });
    expect(results.find((r) => r.check === "gpu.memory-in-use")).toEqual({
      check: "gpu.memory-in-use",
      status: "pass",
      found:
        "GPU 0 (NVIDIA A100-PCIE-40GB) 40959 MiB free for 36864 MiB asked; GPU 1 (NVIDIA A100-PCIE-40GB) 40959 MiB free for 38502 MiB asked",
      fix: null,
    });
  });

  it("warns when the worker's share does not fit beside vLLM's in what is free (needs built past the schema)", () => {
    // The stack schema refuses 0.9 + 0.1 on one GPU; the check still guards what the host leaves free.
    const needs = needsFor("production");
    const shared = { ...needs, gpus: needs.gpus.map((g) => (g.id === "1" ? { ...g, fraction: 1 } : g)) };
    const results = gpuCheckResults(shared, parseProbe(probeOutput({ hook: HOOK_FOUND, ...HOST_A100, apps: { text: "" } })), null, "gpu-box");
    expect(results.find((r) => r.check === "gpu.memory-in-use")).toEqual({
      check: "gpu.memory-in-use",
      status: "warn",
      found:
        "GPU 1 (NVIDIA A100-PCIE-40GB): 40959 MiB free; after vLLM's 36864 MiB the multimodal worker's 4096 MiB " +
        "(workerMemoryFraction) does not fit in the 4095 MiB left; GPU 0 (NVIDIA A100-PCIE-40GB) 40959 MiB free for 36864 MiB asked",
      fix: "lower memoryUtilization or workerMemoryFraction in Pulumi.production.yaml, or give the worker its own GPU",
    });
  });

  it("resolves UUIDs to the host's GPUs before the budget: one GPU under two names fails there", () => {
    // The stack schema refuses a section that mixes indices and UUIDs; with the host known, they resolve.
    const needs = needsFor("production");
    const tenants = sectionTenants(
      { vllmDevices: ["0", "1"], workerDevices: [RIG_3090_UUIDS[1]!], memoryUtilization: 0.95, workerMemoryFraction: 1 },
      true,
    );
    const det = detectionFrom(parseProbe(probeOutput(RIG_3090)), "gpu-box");
    expect(checkGpuBudget({ ...needs, budget: { tenants, memoryMiB: 24576 } }, det)).toEqual({
      check: "gpu.budget",
      status: "fail",
      found:
        "workerMemoryFraction: GPU 1 is shared by vLLM (memoryUtilization 0.95) and the multimodal worker " +
        "(workerMemoryFraction 1): 0.95 + 1 of the 24136 MiB CUDA can allocate (memory.total 24576 MiB less 440 MiB " +
        "the driver keeps) plus a 512 MiB CUDA context per process come to 48089 MiB, 23953 MiB more than there is; " +
        "vLLM starts only when its whole share is free, so it could not start again while the multimodal worker holds its share",
      fix: "give the multimodal worker a GPU vLLM does not use (Pulumi.production.yaml: llmstack:gpu)",
    });
    const twice = sectionTenants(
      { vllmDevices: ["1", RIG_3090_UUIDS[1]!], workerDevices: ["0"], memoryUtilization: 0.8, workerMemoryFraction: 0.1 },
      true,
    );
    expect(checkGpuBudget({ ...needs, budget: { tenants: twice, memoryMiB: 24576 } }, det)).toEqual({
      check: "gpu.budget",
      status: "fail",
      found: `vllmDevices: lists GPU 1 twice, as "1" and "${RIG_3090_UUIDS[1]}"`,
      fix: "list each GPU once (Pulumi.production.yaml: llmstack:gpu)",
    });
  });

  it("passes the A100 host for a stack without NVLink, by UUID", () => {
    const results = run("production", { hook: HOOK_FOUND, ...HOST_A100, apps: { text: "" } }, (v) => {
      Object.assign(gpu(v), {
        nvlink: false,
        cardClass: "datacenter",
        vllmDevices: ["GPU-3fb142e7-7102-c7ac-bd5a-fc829e11ed84", "GPU-14ac2834-0d81-0508-69eb-e25264c08d21"],
        workerDevices: ["GPU-14ac2834-0d81-0508-69eb-e25264c08d21"],
        memoryUtilization: 0.85,
      });
      withAppImages(v);
    });
    expect(results.map((r) => [r.check, r.status])).toEqual([
      ["docker.nvidia", "pass"],
      ["gpu.driver", "fail"],
      ["gpu.devices", "pass"],
      ["gpu.budget", "pass"],
      ["gpu.size", "pass"],
      ["gpu.memory-in-use", "pass"],
    ]);
    expect(check(results, "gpu.budget")!.found).toBe(
      "GPU 0: vLLM 0.85 of 40520 MiB and 1 CUDA context of 512 MiB = 34954 MiB of 40520 MiB; " +
        "GPU 1: vLLM 0.85 + the multimodal worker 0.04 of 40520 MiB and 2 CUDA contexts of 512 MiB = 37087 MiB of 40520 MiB",
    );
  });

  it("fails a device ID the host does not have, listing what it has", () => {
    const results = run("production", { hook: HOOK_FOUND, ...HOST_A100 }, (v) => {
      Object.assign(gpu(v), { vllmDevices: ["0", "2"], workerDevices: ["2"] });
      withAppImages(v);
    });
    expect(results[2]).toEqual({
      check: "gpu.devices",
      status: "fail",
      found:
        "the stack asks for GPU 2 (vllm, multimodal-worker), which this host does not have; it has 2 GPU(s): " +
        "0 = GPU-3fb142e7-7102-c7ac-bd5a-fc829e11ed84 (NVIDIA A100-PCIE-40GB); 1 = GPU-14ac2834-0d81-0508-69eb-e25264c08d21 (NVIDIA A100-PCIE-40GB)",
      fix:
        "list host GPUs that exist in Pulumi.production.yaml: llmstack:gpu.vllmDevices / workerDevices, or run llmstack configure-gpu auto --stack production",
    });
    expect(results.map((r) => r.check)).toEqual(["docker.nvidia", "gpu.driver", "gpu.devices"]);
  });

  it("fails the GPU checks on a host whose driver is not loaded (real error capture)", () => {
    const results = run("production", { hook: HOOK_FOUND, query: { rc: 9, text: capture("smi-error-no-driver.txt") } });
    expect(results[1]!.status).toBe("fail");
    expect(results[1]!.found).toBe(
      'nvidia-smi --query-gpu on gpu-box: "NVIDIA-SMI has failed because it couldn\'t communicate with the NVIDIA driver. ' +
        'Make sure that the latest NVIDIA driver is installed and running.": nvidia-smi is installed but the NVIDIA kernel driver is not loaded. ' +
        "Install or reload the driver (check `lsmod | grep nvidia`; reboot after a driver or kernel upgrade), or run the stack without a GPU",
    );
    expect(results[1]!.fix).toBe(
      "fix the driver, or set Pulumi.production.yaml: llmstack:gpu.mode to cpu (llmstack configure-gpu cpu --stack production)",
    );
  });

  it("fails the device-request check without the hook or an NVIDIA CDI spec, even with an nvidia runtime listed", () => {
    const needs = needsFor("production");
    const cdi = { text: "spec /etc/cdi/other.yaml other\n" };
    const results = gpuCheckResults(needs, parseProbe(probeOutput({ hook: HOOK_MISSING, cdi, ...HOST_A100 })), { dockerRootDir: "/var/lib/docker", cdiSpecDirs: [], runtimes: ["runc", "nvidia"] }, "gpu-box");
    expect(results[0]).toEqual({
      check: "docker.nvidia",
      status: "fail",
      found:
        "Docker on gpu-box cannot satisfy NVIDIA device requests: no nvidia-container-runtime-hook on dockerd's PATH " +
        "(systemd's default: /usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin) and no nvidia.com/gpu CDI spec in " +
        '/etc/cdi or /var/run/cdi (docker info lists an "nvidia" runtime, which alone does not serve device requests)',
      fix:
        "install the NVIDIA Container Toolkit on the Docker host and restart Docker: " +
        "https://docs.nvidia.com/datacenter/cloud-native/container-toolkit/latest/install-guide.html " +
        "(or run without a GPU: llmstack configure-gpu cpu --stack production)",
    });
  });

  it("accepts an NVIDIA CDI spec in place of the hook", () => {
    const cdi = { text: "spec /var/run/cdi/nvidia.yaml nvidia.com/gpu\n" };
    const results = run("production", { hook: HOOK_MISSING, cdi, ...HOST_A100 });
    expect(results[0]).toEqual({
      check: "docker.nvidia",
      status: "pass",
      found: "no nvidia-container-runtime-hook, but CDI specs for nvidia.com/gpu are present (/var/run/cdi/nvidia.yaml)",
      fix: null,
    });
  });

  it("gives a cpu stack no GPU checks", () => {
    const results = run("production", {}, (v) => {
      v.gpu = { mode: "cpu" };
    });
    expect(results).toEqual([]);
  });
});
