/**
 * The driver floor: the host's NVIDIA driver must be new enough for the CUDA the vLLM image is built on.
 * The Container Toolkit refuses an image whose `NVIDIA_REQUIRE_CUDA` the driver does not meet, but only when
 * the container starts, after the image pull and the model download; this check says so before anything is
 * pulled or changed. The CUDA → driver table is src/facts/cudaDrivers.ts.
 */
import { parseImage } from "../config/images";
import { compareDriverVersions, CUDA_DRIVER_FLOORS, minimumDriver } from "../facts/cudaDrivers";
import type { Detection } from "../gpu/types";
import type { StackNeeds } from "./needs";
import { fail, pass, warn, type CheckResult } from "./types";

/** vLLM's image on Docker Hub (https://docs.vllm.ai/en/stable/deployment/docker/). */
const VLLM_REPOSITORIES = ["vllm/vllm-openai", "docker.io/vllm/vllm-openai"];

/**
 * The first vLLM release whose unsuffixed image is built on CUDA 13.0: vLLM PR #39878 made 13.0 the default
 * ("vllm-openai:<tag>" = CUDA 13.0, "-cu129" the CUDA 12.9 variant), first released in v0.20.0
 * (https://github.com/vllm-project/vllm/pull/39878).
 */
const CUDA13_DEFAULT_SINCE = [0, 20] as const;
const CUDA13 = "13.0";

/**
 * The CUDA major.minor a vLLM image needs, read from its reference: a `-cuXYZ` variant tag
 * (`v0.21.0-cu129` → "12.9", `-cu130` → "13.0"), or an unsuffixed release tag of v0.20.0 or newer → "13.0".
 * Null for any other image (not vllm/vllm-openai, a digest without a tag, a tag before v0.20 without a
 * suffix): its CUDA is not known here, and the driver check says so instead of guessing.
 */
export function vllmImageCuda(imageRef: string): string | null {
  const { repository, tag } = parseImage(imageRef);
  if (!VLLM_REPOSITORIES.includes(repository) || tag === null) return null;
  const variant = /-cu(\d{2})(\d)(?:-|$)/.exec(tag);
  if (variant !== null) return `${Number(variant[1])}.${variant[2]}`;
  const release = /^v(\d+)\.(\d+)\.\d+$/.exec(tag);
  if (release === null) return null;
  const [major, minor] = [Number(release[1]), Number(release[2])];
  const cuda13 = major > CUDA13_DEFAULT_SINCE[0] || (major === CUDA13_DEFAULT_SINCE[0] && minor >= CUDA13_DEFAULT_SINCE[1]);
  return cuda13 ? CUDA13 : null;
}

/** The variant each CUDA 13.0 release also publishes: `<tag>-cu129`, CUDA 12.9 (vLLM PR #39878). */
const CUDA12_VARIANT = { suffix: "-cu129", cuda: "12.9" } as const;

/**
 * Compares the host's driver (every GPU reports the same one) with the floor for `requiredCuda`. Null when
 * nvidia-smi gave no GPUs: gpu.devices fails then, with the driver fix.
 */
export function checkDriver(needs: StackNeeds, det: Detection, requiredCuda: string | null, where: string): CheckResult | null {
  const name = "gpu.driver";
  if (det.problem !== null || det.gpus.length === 0) return null;
  const image = needs.vllmImage;
  const driver = det.gpus.find((g) => g.driverVersion !== null)?.driverVersion ?? null;
  if (driver === null) {
    return warn(name, `nvidia-smi on ${where} did not report the driver version, so it was not compared with ${image}`, "run `nvidia-smi --query-gpu=driver_version --format=csv` on the host");
  }
  const floor = requiredCuda === null ? null : minimumDriver(requiredCuda);
  if (requiredCuda === null || floor === null) {
    return warn(
      name,
      `the CUDA version ${image} is built on is not known here, so NVIDIA driver ${driver} on ${where} was not compared with it`,
      `check that driver ${driver} supports that image's CUDA (NVIDIA's CUDA Toolkit release notes, "CUDA Toolkit and Corresponding Driver Versions")`,
    );
  }
  if (compareDriverVersions(driver, floor) >= 0) {
    return pass(name, `NVIDIA driver ${driver} on ${where} runs CUDA ${requiredCuda} (${image}; needs ${floor} or newer)`);
  }
  return fail(
    name,
    `NVIDIA driver ${driver} on ${where} is older than ${floor}, the first for CUDA ${requiredCuda}, which ${image} is built on`,
    `upgrade the NVIDIA driver to ${floor} or newer` + olderImage(image, requiredCuda, driver, needs.stackFile),
  );
}

/**
 * The other way out: the same release's CUDA 12.9 variant when this driver runs it, else any vLLM image built
 * for a CUDA this driver runs. A stack's `llmstack:images` replaces Pulumi.yaml's whole block (Pulumi does not
 * merge config objects: https://github.com/pulumi/pulumi/issues/13176), hence the note.
 */
function olderImage(image: string, requiredCuda: string, driver: string, stackFile: string): string {
  const set = (what: string): string =>
    `, or set llmstack:images.vllm to ${what} in ${stackFile} (its llmstack:images replaces Pulumi.yaml's, so list every image there)`;
  const { repository, tag } = parseImage(image);
  const variantFloor = minimumDriver(CUDA12_VARIANT.cuda)!;
  if (requiredCuda === CUDA13 && tag !== null && !/-cu\d{3}/.test(tag) && compareDriverVersions(driver, variantFloor) >= 0) {
    return set(`${repository}:${tag}${CUDA12_VARIANT.suffix} (built on CUDA ${CUDA12_VARIANT.cuda}, which needs driver ${variantFloor})`);
  }
  const runs = [...CUDA_DRIVER_FLOORS].reverse().find((f) => compareDriverVersions(driver, f.minDriver) >= 0);
  return runs === undefined ? "" : set(`a vLLM image built for CUDA ${runs.cuda} or older`);
}
