/**
 * The vLLM release read from an image reference: the one place the stack says which vLLM it runs.
 */
import { describe, expect, it } from "vitest";
import { stackVllmImage, vllmImageKind, vllmRelease } from "../../src/facts/vllmRelease";
import { vllmImageCuda } from "../../src/preflight/imageCuda";

const DIGEST = `sha256:${"d".repeat(64)}`;

describe("vllmRelease", () => {
  it.each([
    ["vllm/vllm-openai:v0.21.0", "0.21.0"],
    ["vllm/vllm-openai:v0.21.0-cu129", "0.21.0"],
    [`vllm/vllm-openai:v0.21.0@${DIGEST}`, "0.21.0"],
    ["docker.io/vllm/vllm-openai:v0.20.1", "0.20.1"],
    ["index.docker.io/vllm/vllm-openai:v0.6.4.post1", "0.6.4.post1"],
    ["vllm/vllm-openai-cpu:v0.21.0", "0.21.0"],
    ["vllm/vllm-openai-cpu:v0.21.0-x86_64", "0.21.0"],
  ])("%s runs vLLM %s", (ref, release) => {
    expect(vllmRelease(ref)).toBe(release);
  });

  it.each([
    ["a floating tag", "vllm/vllm-openai:latest"],
    ["a nightly", "vllm/vllm-openai:nightly-01b88df816e6"],
    ["a digest without a tag", `vllm/vllm-openai@${DIGEST}`],
    ["no tag", "vllm/vllm-openai"],
    ["someone else's image: its tag is its own version, not vLLM's", "registry.example.com/acme/vllm:0.21.0"],
    ["another Docker Hub repository", "acme/vllm-openai:v0.21.0"],
  ])("%s names no release", (_why, ref) => {
    expect(vllmRelease(ref)).toBeNull();
  });

  it("knows vLLM's two images in any spelling of Docker Hub", () => {
    expect(["vllm/vllm-openai:v1", "docker.io/vllm/vllm-openai-cpu:v1", "ghcr.io/vllm/vllm-openai:v1"].map(vllmImageKind)).toEqual([
      "cuda",
      "cpu",
      null,
    ]);
    // The CUDA check reads the same repositories: index.docker.io is Docker Hub too.
    expect(vllmImageCuda("index.docker.io/vllm/vllm-openai:v0.22.0-cu129")).toBe("12.9");
  });

  it("the stack's vLLM image is the CPU build in cpu mode", () => {
    const images = { vllm: "vllm/vllm-openai:v0.21.0", vllmCpu: "vllm/vllm-openai-cpu:v0.21.0" };
    expect(stackVllmImage({ gpu: { mode: "multi" }, images })).toBe(images.vllm);
    expect(stackVllmImage({ gpu: { mode: "cpu" }, images })).toBe(images.vllmCpu);
  });
});
