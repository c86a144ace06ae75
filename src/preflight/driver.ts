/**
 * The driver floor: the host's NVIDIA driver must be new enough for the CUDA the vLLM image is built on.
 * The Container Toolkit refuses an image whose `NVIDIA_REQUIRE_CUDA` the driver does not meet, but only when
 * the container starts, after the image pull and the model download; this check says so before anything is
 * pulled or changed. The CUDA → driver table is src/facts/cudaDrivers.ts; the image's CUDA its record.
 */
import { compareDriverVersions, CUDA_DRIVER_FLOORS, minimumDriver } from "../facts/cudaDrivers";
import { findImageFacts } from "../facts/images";
import type { Detection } from "../gpu/types";
import { vllmImageCuda } from "./imageCuda";
import type { StackNeeds } from "./needs";
import { fail, pass, warn, type CheckResult } from "./types";

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
    `upgrade the NVIDIA driver to ${floor} or newer` + olderImage(image, driver, needs.stackFile),
  );
}

/**
 * The other way out: the same release built for an older CUDA (the image record's `olderDriverVariant`) when
 * this driver runs it, else any vLLM image built for a CUDA this driver runs. A stack's `llmstack:images`
 * replaces Pulumi.yaml's whole block (Pulumi does not merge config objects:
 * https://github.com/pulumi/pulumi/issues/13176), hence the note.
 */
function olderImage(image: string, driver: string, stackFile: string): string {
  const set = (what: string): string =>
    `, or set llmstack:images.vllm to ${what} in ${stackFile} (its llmstack:images replaces Pulumi.yaml's, so list every image there)`;
  const variant = findImageFacts(image)?.cuda?.olderDriverVariant;
  const variantCuda = variant === undefined ? null : vllmImageCuda(variant);
  const variantFloor = variantCuda === null ? null : minimumDriver(variantCuda);
  if (variantFloor !== null && compareDriverVersions(driver, variantFloor) >= 0) {
    return set(`${variant} (built on CUDA ${variantCuda}, which needs driver ${variantFloor})`);
  }
  const runs = [...CUDA_DRIVER_FLOORS].reverse().find((f) => compareDriverVersions(driver, f.minDriver) >= 0);
  return runs === undefined ? "" : set(`a vLLM image built for CUDA ${runs.cuda} or older`);
}
