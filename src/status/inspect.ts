/**
 * What Docker says about one planned container, read with the docker CLI (`docker inspect` with a JSON
 * --format template, so the same call works against unix://, ssh:// and tcp:// daemons): whether it exists,
 * its state, health, restart count and start time, and whether its image is the plan's.
 * Field names are the Engine API's container and image inspect objects
 * (https://docs.docker.com/reference/api/engine/version/v1.43/#tag/Container/operation/ContainerInspect).
 */
import { parseImage } from "../config/images";
import type { ExecResult } from "../exec";
import type { Docker } from "../preflight/run";

/** One line of JSON per container: its image ID, restart count and State object. */
export const CONTAINER_FORMAT = '{"image":{{json .Image}},"restarts":{{json .RestartCount}},"state":{{json .State}}}';

export interface ContainerFacts {
  /** "running", "exited", "restarting", "created", "paused", "dead". */
  readonly state: string;
  readonly exitCode: number;
  /** The health check's status ("healthy", "unhealthy", "starting"), or null without a health check. */
  readonly health: string | null;
  /** The last health check's output, trimmed to one line. */
  readonly healthOutput: string | null;
  readonly restarts: number;
  /** RFC 3339, as Docker writes it. */
  readonly startedAt: string;
  /** The container's image ID (sha256:...). */
  readonly imageId: string;
}

export type Inspected =
  | { readonly kind: "found"; readonly facts: ContainerFacts }
  | { readonly kind: "missing" }
  | { readonly kind: "error"; readonly message: string };

interface RawState {
  Status?: string;
  ExitCode?: number;
  StartedAt?: string;
  Health?: { Status?: string; Log?: { Output?: string }[] | null } | null;
}

const lastLine = (text: string): string => text.trim().split("\n").pop()?.trim() ?? "";

/** `docker inspect --type container --format CONTAINER_FORMAT <name>`; "No such" means it does not exist. */
export function parseContainer(res: ExecResult): Inspected {
  if (res.code !== 0) {
    if (/no such (object|container)/i.test(res.stderr)) return { kind: "missing" };
    return { kind: "error", message: lastLine(res.stderr) || `docker inspect exited with code ${res.code}` };
  }
  try {
    const j = JSON.parse(res.stdout) as { image?: string; restarts?: number; state?: RawState };
    const log = j.state?.Health?.Log ?? [];
    const output = log.length > 0 ? lastLine(log[log.length - 1]?.Output ?? "") : "";
    return {
      kind: "found",
      facts: {
        state: j.state?.Status ?? "unknown",
        exitCode: j.state?.ExitCode ?? 0,
        health: j.state?.Health?.Status ?? null,
        healthOutput: output === "" ? null : output,
        restarts: j.restarts ?? 0,
        startedAt: j.state?.StartedAt ?? "",
        imageId: j.image ?? "",
      },
    };
  } catch {
    return { kind: "error", message: `docker inspect printed no JSON: ${lastLine(res.stdout)}` };
  }
}

export interface ImageMatch {
  /** Whether the container runs the plan's image; null when it could not be told. */
  readonly matches: boolean | null;
  /** What the container runs, in the plan's terms: a digest for a pinned plan, else an image ID. */
  readonly running: string;
}

/**
 * A digest-pinned plan image matches when the container's image carries that digest among its
 * RepoDigests; a tag matches when the tag's image ID on the host is the container's image ID.
 */
export async function imageMatch(planImage: string, imageId: string, docker: Docker): Promise<ImageMatch> {
  const { digest } = parseImage(planImage);
  if (digest !== null) {
    const res = await docker(["image", "inspect", "--format", "{{json .RepoDigests}}", imageId]);
    if (res.code !== 0) return { matches: null, running: imageId };
    let digests: string[];
    try {
      digests = (JSON.parse(res.stdout) as string[] | null) ?? [];
    } catch {
      return { matches: null, running: imageId };
    }
    const ofImage = digests.map((d) => d.slice(d.indexOf("@") + 1));
    return { matches: ofImage.includes(digest), running: ofImage[0] ?? imageId };
  }
  const res = await docker(["image", "inspect", "--format", "{{.Id}}", planImage]);
  // The tag is not on the host: the container cannot be running it.
  if (res.code !== 0) return { matches: false, running: imageId };
  return { matches: res.stdout.trim() === imageId, running: imageId };
}
