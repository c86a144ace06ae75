import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { parseVllmVersion } from "../../src/capacity";
import { readProjectConfig, readStack } from "../../src/config/stackFile";
import { stackVllmImage, vllmRelease } from "../../src/facts/vllmRelease";
import { flagOfLabel, labelOfFlag, VLLM_FLAG_LIST, VLLM_FLAGS, VLLM_LABELLED_FLAGS, vllmArgv, vllmLabels } from "../../src/plan/flags";
import { ROOT } from "../helpers/root";
import { STACKS } from "../helpers/stacks";

/** `vllm serve`'s flags at a known vLLM commit; the file's header names its source. */
const FLAG_FILE = readFileSync(join(ROOT, VLLM_FLAG_LIST.file), "utf8").split("\n");
const KNOWN = new Set(FLAG_FILE.filter((l) => l.startsWith("--")));

describe("the vLLM flag table", () => {
  it("spells every flag as vllm serve accepts it", () => {
    const unknown = Object.values(VLLM_FLAGS).filter((f) => !KNOWN.has(f));
    expect(unknown).toEqual([]);
  });

  it("builds argv in the table's order, with switches bare and unset flags left out", () => {
    expect(vllmArgv({ dtype: "bfloat16", model: "m", disableCustomAllReduce: true, revision: undefined, port: 8000 })).toEqual([
      "--model", "m", "--port", "8000", "--dtype", "bfloat16", "--disable-custom-all-reduce",
    ]);
    expect(vllmArgv({ disableCustomAllReduce: false })).toEqual([]);
  });

  it("restates the GPU layout in labels named after the flags, and reads a flag back from its label", () => {
    expect(vllmLabels({ model: "m", tensorParallelSize: 2, pipelineParallelSize: 1, gpuMemoryUtilization: 0.85 })).toEqual({
      "llmstack.vllm.tensor-parallel-size": "2",
      "llmstack.vllm.pipeline-parallel-size": "1",
      "llmstack.vllm.gpu-memory-utilization": "0.85",
    });
    for (const key of VLLM_LABELLED_FLAGS) expect(flagOfLabel(labelOfFlag(VLLM_FLAGS[key]))).toBe(VLLM_FLAGS[key]);
    expect(flagOfLabel("org.opencontainers.image.version")).toBeNull();
  });
});

/**
 * The flag list comes from a later vLLM than the images run (VLLM_FLAG_LIST). That is safe while every
 * image's release is at most the list's: a flag the table uses was in vLLM at the list's commit. An image
 * newer than the list may have lost or renamed one since, so these fail until the list is taken again.
 */
describe("the flag list against the vLLM release each stack runs", () => {
  const list = parseVllmVersion(VLLM_FLAG_LIST.release);
  const notNewer = (release: string): boolean => {
    const v = parseVllmVersion(release);
    return v[0] < list[0] || (v[0] === list[0] && v[1] <= list[1]);
  };

  it("the fixture is the list VLLM_FLAG_LIST names: its commit and the release it places it at", () => {
    expect(FLAG_FILE[0]).toBe(
      `# Every flag \`vllm serve\` accepts at vllm-project/vllm commit ${VLLM_FLAG_LIST.commit} (about v${VLLM_FLAG_LIST.release}).`,
    );
  });

  it.each(["vllm", "vllmCpu"] as const)("Pulumi.yaml's %s image runs a release the flag list covers", (key) => {
    const ref = (readProjectConfig(ROOT).images as Record<string, string>)[key]!;
    const release = vllmRelease(ref);
    expect(release, `${ref} names no vLLM release`).not.toBeNull();
    expect(
      notNewer(release!),
      `${ref} runs vLLM ${release}, newer than the flag list (${VLLM_FLAG_LIST.file}, commit ${VLLM_FLAG_LIST.commit}, ` +
        `about v${VLLM_FLAG_LIST.release}): take the list again from \`vllm serve --help\` of ${release}`,
    ).toBe(true);
  });

  it.each(STACKS)("the %s stack runs a release the flag list covers", (stack) => {
    const values = readStack(ROOT, stack).values as { gpu: { mode: string }; images: { vllm: string; vllmCpu: string } };
    const release = vllmRelease(stackVllmImage(values));
    expect(release !== null && notNewer(release)).toBe(true);
  });

  it("an image past the list's release is caught", () => {
    expect(notNewer("0.21.0")).toBe(true);
    expect(notNewer(`${list[0]}.${list[1] + 1}.0`)).toBe(false);
  });
});
