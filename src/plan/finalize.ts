/**
 * The last step of planning every container: what follows from its image and from the Docker provider
 * rather than from the service. Uploads are owned by the user the image runs as (its record in
 * src/facts), and every container gets explicit create and pull timeouts from the stack's settings, so
 * none silently inherits the provider's 20 minutes.
 */
import { CREATE_MARGIN_MINUTES, DOCKER_PROVIDER, effectiveWaitSeconds } from "../facts/dockerProvider";
import type { ImageFacts } from "../facts/imageFacts";
import { imageFactsFor } from "../facts/images";
import type { PlanContext } from "./common";
import type { ContainerSpec } from "./types";

/** Finds an image's record; the planner uses imageFactsFor, tests may pass records of stand-in images. */
export type ImageFactsResolver = (image: string) => ImageFacts;

/**
 * Minutes a container's create may take. A container that waits for a healthy state needs its wait
 * plus the time to create, upload and start; a one-shot's planner sets its own (its run is bounded).
 */
export function createTimeoutMinutes(spec: ContainerSpec): number {
  if (spec.createTimeoutMinutes !== undefined) return spec.createTimeoutMinutes;
  if (!spec.oneShot && spec.wait) return Math.ceil(effectiveWaitSeconds(spec) / 60) + CREATE_MARGIN_MINUTES;
  return DOCKER_PROVIDER.containerTimeoutMinutes.create;
}

/**
 * Minutes the pull of the container's image may take: the vLLM images (many gigabytes of CUDA and
 * PyTorch) get `vllm.pullTimeoutMinutes`; the others are a fraction of that size and keep the
 * provider's 20 minutes, written out so the plan shows it.
 */
export function pullTimeoutMinutes(spec: ContainerSpec, ctx: PlanContext): number {
  const { images, vllm } = ctx.config;
  if (spec.image === images.vllm || spec.image === images.vllmCpu) return vllm.pullTimeoutMinutes;
  return DOCKER_PROVIDER.imageTimeoutMinutes.create;
}

function recordOf(spec: ContainerSpec, ctx: PlanContext, resolve: ImageFactsResolver): ImageFacts {
  try {
    return resolve(spec.image);
  } catch (err) {
    throw new Error(`${ctx.stackFile}: the ${spec.service} container runs ${spec.image}: ${(err as Error).message}`, {
      cause: err,
    });
  }
}

export function finalizeContainer(
  spec: ContainerSpec,
  ctx: PlanContext,
  resolve: ImageFactsResolver = imageFactsFor,
): ContainerSpec {
  // Only containers with uploads need their image's record: the file must be readable by its user.
  const user = spec.uploads.length > 0 ? recordOf(spec, ctx, resolve).user : undefined;
  return {
    ...spec,
    uploads: spec.uploads.map((u) => (user ? { ...u, owner: String(user.uid), group: String(user.gid) } : u)),
    createTimeoutMinutes: createTimeoutMinutes(spec),
    pullTimeoutMinutes: pullTimeoutMinutes(spec, ctx),
  };
}
