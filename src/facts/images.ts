/**
 * What each image the program can run does once started, read from its Dockerfile and entrypoint at the
 * pinned tag: the user its process runs as after the entrypoint has dropped privileges, its entrypoint and
 * default command, the programs it has, and the CUDA it needs. One record per image, keyed by
 * `repository:tag`, so a tag bump finds no record and makes someone read the new image.
 *
 * Pure data: no Pulumi. The planner takes upload owners from here; the tests hold every planned container
 * against these records; docs/images.md is generated from them.
 */
import { parseImage } from "../config/images";
import type { ImageFacts } from "./imageFacts";
import { IMAGE_RECORDS } from "./imageRecords";

/** The file a record belongs in; named by the error a missing record raises. */
export const IMAGE_RECORDS_FILE = "src/facts/imageRecords.ts";

/** `repository:tag` without a digest, `docker.io/` or `library/`: the key of a record. */
export function imageKey(ref: string): string {
  const { repository, tag } = parseImage(ref);
  const repo = repository.replace(/^(docker\.io|index\.docker\.io|registry-1\.docker\.io)\//, "").replace(/^library\//, "");
  return tag === null ? repo : `${repo}:${tag}`;
}

const BY_KEY: ReadonlyMap<string, ImageFacts> = new Map(IMAGE_RECORDS.map((r) => [r.ref, r]));

/** Every record, in the order of imageRecords.ts. */
export function allImageFacts(): readonly ImageFacts[] {
  return IMAGE_RECORDS;
}

/** The record for an image reference (a digest after the tag is ignored), or undefined. */
export function findImageFacts(ref: string): ImageFacts | undefined {
  return BY_KEY.get(imageKey(ref));
}

/** The record for an image reference; throws, naming the image and the file to add a record to. */
export function imageFactsFor(ref: string): ImageFacts {
  const facts = findImageFacts(ref);
  if (facts) return facts;
  const key = imageKey(ref);
  const repo = parseImage(key).repository;
  const known = IMAGE_RECORDS.filter((r) => parseImage(r.ref).repository === repo).map((r) => r.ref);
  throw new Error(
    `no record of the image ${key}: the program needs to know the user it runs as, its entrypoint and ` +
      `the programs it has before it can plan a container on it. Read the image's Dockerfile and ` +
      `entrypoint at that tag and add a record for "${key}" to ${IMAGE_RECORDS_FILE}` +
      (known.length ? `, or use a recorded tag: ${known.join(", ")}` : ""),
  );
}

/**
 * The multimodal worker and the retrieval proxy run the user's own images: no record, but a contract
 * the plan relies on, which the tests hold those containers against like a record.
 */
export interface OwnImageContract {
  /** Programs the plan calls in the image: /bin/sh and sleep (the wait for vLLM), python3 (health check). */
  readonly programs: readonly string[];
  /** HTTP path answering 200 when the service is ready, on the service's configured port. */
  readonly healthPath: string;
}

export const OWN_IMAGE_CONTRACT: OwnImageContract = {
  programs: ["python3", "sh", "sleep"],
  healthPath: "/health",
};
