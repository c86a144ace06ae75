/**
 * The driver floor: the host's NVIDIA driver (from real nvidia-smi captures, and constructed old drivers in
 * the probe's own CSV) against the CUDA the stack's vLLM image is built on.
 */
import { describe, expect, it } from "vitest";
import { parseStackConfig } from "../../src/config/parse";
import { compareDriverVersions, CUDA_DRIVER_FLOORS, minimumDriver } from "../../src/facts/cudaDrivers";
import { PROBE_QUERY_FIELDS } from "../../src/gpu/query";
import { vllmImageCuda } from "../../src/preflight/imageCuda";
import { gpuCheckResults } from "../../src/preflight/gpuFacts";
import { stackNeeds } from "../../src/preflight/needs";
import { parseProbe, probeScript } from "../../src/preflight/probe";
import { planFromValues, rawValues } from "../helpers/stacks";
import { HOOK_FOUND, HOST_A100, probeOutput, RIG_3090, rigQuery, type ProbeSections } from "./probeOutput";

function driverCheck(sections: ProbeSections, vllmImage?: string, stack = "production") {
  const values = rawValues(stack);
  if (vllmImage !== undefined) values.images = { ...(values.images as object), vllm: vllmImage };
  const needs = stackNeeds(parseStackConfig(values, `Pulumi.${stack}.yaml`), planFromValues(values, stack));
  return gpuCheckResults(needs, parseProbe(probeOutput(sections)), null, "gpu-box").find((r) => r.check === "gpu.driver");
}

/** The reference host's two RTX 3090s in the probe's CSV, with a given driver (constructed rows). */
function rig(driver: string): ProbeSections {
  return { hook: HOOK_FOUND, query: rigQuery(driver), topo: RIG_3090.topo, nvlink: RIG_3090.nvlink };
}

const KEEP_EVERY_IMAGE = "(its llmstack:images replaces Pulumi.yaml's, so list every image there)";

describe("the CUDA → driver table (NVIDIA's CUDA Toolkit release notes)", () => {
  it("lists the GA driver floor of every CUDA version vLLM images are built on", () => {
    expect(CUDA_DRIVER_FLOORS.map((f) => [f.cuda, f.minDriver])).toEqual([
      ["12.1", "530.30.02"],
      ["12.4", "550.54.14"],
      ["12.6", "560.28.03"],
      ["12.8", "570.26"],
      ["12.9", "575.51.03"],
      ["13.0", "580.65.06"],
    ]);
    expect(minimumDriver("13.0")).toBe("580.65.06");
    expect(minimumDriver("11.8")).toBe(null);
  });

  it("orders driver versions by their numbers, not as text", () => {
    expect(compareDriverVersions("580.65.06", "580.65.06")).toBe(0);
    expect(compareDriverVersions("610.43.02", "580.65.06")).toBeGreaterThan(0);
    expect(compareDriverVersions("570.124.06", "570.26")).toBeGreaterThan(0);
    expect(compareDriverVersions("575.51.02", "575.51.03")).toBeLessThan(0);
    expect(compareDriverVersions("580", "580.65.06")).toBeLessThan(0);
  });
});

describe("vllmImageCuda: the CUDA a vLLM image reference is built on", () => {
  it.each([
    // The record of the pinned image (src/facts/imageRecords.ts).
    ["vllm/vllm-openai:v0.21.0", "13.0"],
    ["docker.io/vllm/vllm-openai:v0.21.0", "13.0"],
    // Variant tags name their CUDA.
    ["vllm/vllm-openai:v0.21.0-cu129", "12.9"],
    ["vllm/vllm-openai:v0.21.0-cu129-ubuntu2404", "12.9"],
    ["vllm/vllm-openai:v0.19.1-cu130", "13.0"],
    [`vllm/vllm-openai:v0.21.0@sha256:${"a".repeat(64)}`, "13.0"],
    // Unrecorded and unsuffixed: not known.
    ["vllm/vllm-openai:v0.22.0", null],
    ["vllm/vllm-openai:v0.19.1", null],
    ["vllm/vllm-openai:latest", null],
    [`vllm/vllm-openai@sha256:${"a".repeat(64)}`, null],
    ["vllm/vllm-openai-cpu:v0.21.0", null],
    ["registry.example.com/mirror/vllm-openai:v0.21.0", null],
  ])("%s → %s", (ref, cuda) => {
    expect(vllmImageCuda(ref)).toBe(cuda);
  });
});

describe("the probe asks nvidia-smi for the driver version", () => {
  it("queries driver_version with the GPU fields, and no compute_cap", () => {
    const script = probeScript({ sections: ["query"], dockerArgs: [], containerNames: [] });
    expect(script).toContain(
      "nvidia-smi --query-gpu=index,uuid,name,memory.total,memory.used,pci.bus_id,driver_version --format=csv,noheader,nounits",
    );
    expect(PROBE_QUERY_FIELDS).not.toContain("compute_cap");
  });
});

describe("gpu.driver on real captures", () => {
  it("passes the club-3090 rig: driver 610.43.02 (the 'KMD Version' header) runs CUDA 13.0", () => {
    expect(driverCheck({ hook: HOOK_FOUND, ...RIG_3090 })).toEqual({
      check: "gpu.driver",
      status: "pass",
      found: "NVIDIA driver 610.43.02 on gpu-box runs CUDA 13.0 (vllm/vllm-openai:v0.21.0; needs 580.65.06 or newer)",
      fix: null,
    });
  });

  it("fails HPE's A100 host: driver 555.42.02 is too old for CUDA 13.0 and for the cu129 variant", () => {
    expect(driverCheck({ hook: HOOK_FOUND, ...HOST_A100 })).toEqual({
      check: "gpu.driver",
      status: "fail",
      found:
        "NVIDIA driver 555.42.02 on gpu-box is older than 580.65.06, the first for CUDA 13.0, which " +
        "vllm/vllm-openai:v0.21.0 is built on",
      fix:
        "upgrade the NVIDIA driver to 580.65.06 or newer, or set llmstack:images.vllm to a vLLM image built for " +
        `CUDA 12.4 or older in Pulumi.production.yaml ${KEEP_EVERY_IMAGE}`,
    });
  });
});

describe("gpu.driver on constructed old drivers", () => {
  it("names the cu129 variant when the driver runs CUDA 12.9 but not 13.0", () => {
    expect(driverCheck(rig("575.51.03"))).toEqual({
      check: "gpu.driver",
      status: "fail",
      found:
        "NVIDIA driver 575.51.03 on gpu-box is older than 580.65.06, the first for CUDA 13.0, which " +
        "vllm/vllm-openai:v0.21.0 is built on",
      fix:
        "upgrade the NVIDIA driver to 580.65.06 or newer, or set llmstack:images.vllm to " +
        "vllm/vllm-openai:v0.21.0-cu129 (built on CUDA 12.9, which needs driver 575.51.03) in Pulumi.production.yaml " +
        KEEP_EVERY_IMAGE,
    });
  });

  it("fails the cu129 variant on a driver older than 575.51.03", () => {
    expect(driverCheck(rig("570.26"), "vllm/vllm-openai:v0.21.0-cu129")).toEqual({
      check: "gpu.driver",
      status: "fail",
      found:
        "NVIDIA driver 570.26 on gpu-box is older than 575.51.03, the first for CUDA 12.9, which " +
        "vllm/vllm-openai:v0.21.0-cu129 is built on",
      fix:
        "upgrade the NVIDIA driver to 575.51.03 or newer, or set llmstack:images.vllm to a vLLM image built for " +
        `CUDA 12.8 or older in Pulumi.production.yaml ${KEEP_EVERY_IMAGE}`,
    });
  });

  it("asks only for a driver upgrade when the driver is older than every CUDA in the table", () => {
    expect(driverCheck(rig("525.60.13"))?.fix).toBe("upgrade the NVIDIA driver to 580.65.06 or newer");
  });

  it("passes the cu129 variant on a 575 driver, and 13.0 exactly at its floor", () => {
    expect(driverCheck(rig("575.51.03"), "vllm/vllm-openai:v0.21.0-cu129")?.status).toBe("pass");
    expect(driverCheck(rig("580.65.06"))?.found).toBe(
      "NVIDIA driver 580.65.06 on gpu-box runs CUDA 13.0 (vllm/vllm-openai:v0.21.0; needs 580.65.06 or newer)",
    );
  });

  it("warns, without comparing, when the image's CUDA is not known", () => {
    expect(driverCheck(rig("550.54.14"), "registry.example.com/mirror/vllm-openai:v0.21.0")).toEqual({
      check: "gpu.driver",
      status: "warn",
      found:
        "the CUDA version registry.example.com/mirror/vllm-openai:v0.21.0 is built on is not known here, so NVIDIA " +
        "driver 550.54.14 on gpu-box was not compared with it",
      fix:
        "check that driver 550.54.14 supports that image's CUDA (NVIDIA's CUDA Toolkit release notes, " +
        '"CUDA Toolkit and Corresponding Driver Versions")',
    });
  });

  it("warns when nvidia-smi printed no driver version", () => {
    const noDriver = rig("[N/A]");
    expect(driverCheck(noDriver)).toEqual({
      check: "gpu.driver",
      status: "warn",
      found: "nvidia-smi on gpu-box did not report the driver version, so it was not compared with vllm/vllm-openai:v0.21.0",
      fix: "run `nvidia-smi --query-gpu=driver_version --format=csv` on the host",
    });
  });

  it("runs no driver check when nvidia-smi found no GPU (gpu.devices says why), nor in cpu mode", () => {
    const results = gpuCheckResults(
      stackNeeds(parseStackConfig(rawValues("production"), "Pulumi.production.yaml"), planFromValues(rawValues("production"))),
      parseProbe(probeOutput({ hook: HOOK_FOUND, query: { rc: 127, text: "sh: 1: nvidia-smi: not found\n" } })),
      null,
      "gpu-box",
    );
    expect(results.map((r) => r.check)).toEqual(["docker.nvidia", "gpu.devices"]);
    const cpu = rawValues("production");
    cpu.gpu = { mode: "cpu" };
    expect(stackNeeds(parseStackConfig(cpu, "Pulumi.production.yaml"), planFromValues(cpu)).vllmCuda).toBe(null);
  });
});
