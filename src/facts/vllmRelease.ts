/**
 * Which vLLM a stack runs: read from the tag of its vLLM image, the one place the release is written
 * (`llmstack:images.vllm`, `vllmCpu` in cpu mode; `Pulumi.yaml` sets the project's defaults). vLLM's own
 * images are tagged `v<release>`, with a variant after a dash for another CUDA build or architecture
 * (`vllm/vllm-openai:v0.21.0`, `v0.21.0-cu129`: https://github.com/vllm-project/vllm/pull/39878;
 * `vllm/vllm-openai-cpu:v<release>-x86_64`: docs/getting_started/installation/cpu.x86.inc.md at
 * 02319794a1415e663baaf6de2f8197f795bd8c03). A digest after the tag keeps the tag, so a pinned image
 * still names its release. Any other image, or a tag that names no release (`latest`, `nightly`, a
 * digest alone), says nothing about the vLLM inside: the answer is null and the caller says so.
 */
import { parseImage, registryLocation } from "../config/images";

/** vLLM's images on Docker Hub (https://docs.vllm.ai/en/stable/deployment/docker/). */
export const VLLM_IMAGE_REPOSITORIES = { cuda: "vllm/vllm-openai", cpu: "vllm/vllm-openai-cpu" } as const;

export type VllmImageKind = keyof typeof VLLM_IMAGE_REPOSITORIES;

/** Which of vLLM's own images a reference names (any registry spelling of Docker Hub), or null. */
export function vllmImageKind(ref: string): VllmImageKind | null {
  const loc = registryLocation(parseImage(ref).repository);
  if (loc.domain !== "docker.io") return null;
  const kinds = Object.keys(VLLM_IMAGE_REPOSITORIES) as VllmImageKind[];
  return kinds.find((k) => VLLM_IMAGE_REPOSITORIES[k] === loc.name) ?? null;
}

/** `v0.21.0`, `v0.21.0-cu129`, `v0.6.4.post1`, `0.21.0-x86_64` → the release before the variant. */
const RELEASE_TAG = /^v?(\d+\.\d+(?:\.\d+)?(?:\.post\d+)?)(?:-[\w.]+)*$/;

/** The vLLM release an image runs (`0.21.0`), from its tag; null when the image or tag does not say. */
export function vllmRelease(ref: string): string | null {
  const { tag } = parseImage(ref);
  if (tag === null || vllmImageKind(ref) === null) return null;
  return RELEASE_TAG.exec(tag)?.[1] ?? null;
}

/** The part of a stack's config that decides its vLLM image. */
export interface VllmImageChoice {
  readonly gpu: { readonly mode: string };
  readonly images: { readonly vllm: string; readonly vllmCpu: string };
}

/** The image vLLM (and its model download) runs in this stack: the CPU build in cpu mode. */
export function stackVllmImage(config: VllmImageChoice): string {
  return config.gpu.mode === "cpu" ? config.images.vllmCpu : config.images.vllm;
}
