/**
 * The CUDA a vLLM image is built on: from its record in src/facts (`cuda.version`, read from the image's
 * build), else from a variant tag, which names its CUDA (`-cu129` → 12.9, `-cu130` → 13.0: the tag naming of
 * https://github.com/vllm-project/vllm/pull/39878).
 */
import { parseImage } from "../config/images";
import { findImageFacts } from "../facts/images";
import { vllmImageKind } from "../facts/vllmRelease";

/**
 * CUDA major.minor of a vLLM image, or null when neither a record nor a variant tag says (another image,
 * an unrecorded tag without a `-cuXYZ` suffix, a digest without a tag): the driver check then says so
 * instead of guessing.
 */
export function vllmImageCuda(imageRef: string): string | null {
  const recorded = findImageFacts(imageRef)?.cuda?.version;
  if (recorded !== undefined) return recorded;
  const { tag } = parseImage(imageRef);
  if (vllmImageKind(imageRef) !== "cuda" || tag === null) return null;
  const variant = /-cu(\d{2})(\d)(?:-|$)/.exec(tag);
  return variant === null ? null : `${Number(variant[1])}.${variant[2]}`;
}
