/**
 * Staging and production run images by digest. A tag is a name the registry's owner can point at other
 * content at any time (a re-pushed `16.10`, a compromised publisher); a digest is the sha256 of the
 * manifest, so `repo:tag@sha256:<digest>` pulls exactly what was reviewed
 * (https://docs.docker.com/dhi/core-concepts/digests/; the client checks the manifest against it:
 * opencontainers/distribution-spec v1.1.1 spec.md, "Pulling manifests").
 * Development may follow tags. `llmstack images pin` writes the digests; nothing here invents one.
 */
import { parseImage } from "../config/images";
import type { Environment } from "../config/schema";
import type { ServiceName, StackPlan } from "./types";

/** Environments that run only images pinned by digest. */
export const DIGEST_ENVIRONMENTS: readonly Environment[] = ["staging", "production"];

export interface UnpinnedImage {
  readonly image: string;
  /** The containers that run it, in plan order. */
  readonly services: readonly ServiceName[];
}

export function hasDigest(ref: string): boolean {
  return parseImage(ref).digest !== null;
}

/** The images of the plan's containers that have no digest, when its environment needs one. */
export function unpinnedImages(plan: StackPlan): UnpinnedImage[] {
  if (!DIGEST_ENVIRONMENTS.includes(plan.environment)) return [];
  const byImage = new Map<string, ServiceName[]>();
  for (const c of plan.containers) {
    if (hasDigest(c.image)) continue;
    byImage.set(c.image, [...(byImage.get(c.image) ?? []), c.service]);
  }
  return [...byImage].map(([image, services]) => ({ image, services }));
}

export function pinCommand(stack: string): string {
  return `npx llmstack images pin --stack ${stack}`;
}

const listed = (unpinned: readonly UnpinnedImage[]): string =>
  unpinned.map((u) => `${u.image} (${u.services.join(", ")})`).join(", ");

/** Why `pulumi up` refuses, ending with the command that fixes it. */
export function unpinnedImagesMessage(plan: StackPlan, unpinned: readonly UnpinnedImage[]): string {
  return (
    `${plan.stackFile}: ${plan.environment} runs images only by digest, so that a moved tag cannot change ` +
    `what runs, but these have none: ${listed(unpinned)}. Pin them on a machine that can reach the registries ` +
    `(each image is written as repo:tag@sha256:<digest> into Pulumi.yaml, or the stack file where the stack sets ` +
    `its images), review and commit the change, and deploy again; run "${pinCommand(plan.stack)}"`
  );
}

/** The line `llmstack plan` prints about digests; null where the environment does not need them. */
export function digestLine(plan: StackPlan): string | null {
  if (!DIGEST_ENVIRONMENTS.includes(plan.environment)) return null;
  const unpinned = unpinnedImages(plan);
  return unpinned.length === 0
    ? "images: all pinned by digest"
    : `images without a digest (${plan.environment} needs one): ${listed(unpinned)}; run: ${pinCommand(plan.stack)}`;
}
