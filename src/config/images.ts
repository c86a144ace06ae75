/**
 * Is an image reference pinned? A floating tag (none, latest, main*, stable, nightly, edge, dev) can
 * change under a running stack; a major-only tag (`16`) moves with every minor release. A digest pins
 * whatever the tag says.
 */
import { z } from "zod";

/** An image reference: repository[:tag][@sha256:digest]. */
export const imageRef = z
  .string()
  .regex(/^[a-z0-9][a-z0-9._\-/:]*[a-z0-9](@sha256:[0-9a-f]{64})?$/, {
    message: "must be an image reference such as postgres:16.4 or repo/name:1.2.3@sha256:<64 hex>",
  });

export type TagProblem = "floating" | "major-only";

export interface ParsedImage {
  readonly repository: string;
  readonly tag: string | null;
  readonly digest: string | null;
}

export function parseImage(ref: string): ParsedImage {
  const at = ref.indexOf("@");
  const digest = at >= 0 ? ref.slice(at + 1) : null;
  const name = at >= 0 ? ref.slice(0, at) : ref;
  const slash = name.lastIndexOf("/");
  const colon = name.lastIndexOf(":");
  // A colon before the last slash belongs to a registry host:port, not a tag.
  if (colon > slash) return { repository: name.slice(0, colon), tag: name.slice(colon + 1), digest };
  return { repository: name, tag: null, digest };
}

const FLOATING = /^(latest|stable|nightly|edge|dev|main.*|master.*|release)$/i;

export function imageTagProblem(ref: string): TagProblem | null {
  const { tag, digest } = parseImage(ref);
  if (digest !== null) return null;
  if (tag === null || FLOATING.test(tag)) return "floating";
  if (/^v?\d+$/.test(tag)) return "major-only";
  return null;
}
