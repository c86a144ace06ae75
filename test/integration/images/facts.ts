/**
 * The stand-in images and the upstream records they reproduce. What an image is (its entrypoint and
 * command, the user its process ends up as, the programs it has) lives once, in the program's image
 * records (src/facts/imageRecords.ts); a stand-in is built from its record and tested against it. Only
 * what the records do not hold is written here: the working directory each image's entrypoint relies
 * on, and where the stand-in differs from the real image.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { parse } from "yaml";
import type { ImageFacts } from "../../../src/facts/imageFacts";
import { imageFactsFor } from "../../../src/facts/images";
import { ROOT } from "../../helpers/root";

/**
 * Programs a health check or command reaches for that the records list only where an image has them:
 * a stand-in must lack each one its record does not list, so it cannot pass a check the real image fails.
 */
export const CHECKED_ABSENT = ["bash", "curl", "python3", "wget"] as const;

export interface Standin {
  /** The key under `llmstack:images` in Pulumi.yaml; the stand-in is tagged with that reference. */
  readonly imageKey: string;
  /** WORKDIR of the upstream image (its entrypoint and command use paths relative to it). */
  readonly workingDir: string;
  readonly workingDirSource: string;
  /** Where the stand-in differs from the real image, so nobody reads more into a pass than it shows. */
  readonly differences: string;
}

export const STANDINS: readonly Standin[] = [
  {
    imageKey: "redis",
    workingDir: "/data",
    workingDirSource: "docker-library/redis 7.4 debian/Dockerfile: WORKDIR /data",
    differences:
      "Debian 12's redis-server 7.0.15 and gosu 1.14 instead of Redis 7.4.6 and gosu 1.17.",
  },
  {
    imageKey: "postgres",
    workingDir: "/",
    workingDirSource: "docker-library/postgres 16 Dockerfile: no WORKDIR",
    differences:
      "PostgreSQL 15 from Debian 12 under /usr/lib/postgresql/15/bin instead of 16.10 on Debian 13; the " +
      "entrypoint keeps the image's contract (POSTGRES_USER/PASSWORD/DB, initdb as 999 on an empty PGDATA, " +
      "host connections by scram-sha-256, init skipped when PG_VERSION exists) but not its init-script hooks.",
  },
  {
    imageKey: "qdrant",
    workingDir: "/qdrant",
    workingDirSource: 'qdrant/qdrant Dockerfile at v1.15.5: WORKDIR "$APP" (/qdrant)',
    differences:
      "A Node program answering Qdrant's REST API (health, collections, points, collection snapshots, whose " +
      "file is JSON instead of Qdrant's tar) with the API key from " +
      "QDRANT__SERVICE__API_KEY, persisting to /qdrant/storage; its Node runtime sits off the PATH in /opt/standin.",
  },
  {
    imageKey: "objectStore",
    workingDir: "/data",
    workingDirSource: "seaweedfs/seaweedfs docker/Dockerfile.go_build at 3.97: WORKDIR /data",
    differences:
      "BusyBox from Debian's busybox-static for sh and wget (the Alpine image's are BusyBox too); `weed` is " +
      "a Node program serving the master's /cluster/status and an S3 API (buckets, objects, ListBuckets, " +
      "ListObjectsV2) that checks AWS SigV4 against the identities of -s3.config, storing objects under -dir.",
  },
  {
    imageKey: "litellm",
    workingDir: "/app",
    workingDirSource: "BerriAI/litellm Dockerfile: WORKDIR /app",
    differences:
      "Debian 12's python3 3.11 and PyYAML; `litellm` is a Python program that reads the --config file, " +
      "checks the master key, waits for the database URL's host to accept connections, and forwards chat " +
      "completions to each model's api_base with its api_key.",
  },
  {
    imageKey: "vllmCpu",
    workingDir: "/vllm-workspace",
    workingDirSource:
      "vllm-project/vllm docker/Dockerfile.cpu (target vllm-openai): WORKDIR /vllm-workspace",
    differences:
      "Debian 12's python3 3.11; `vllm` is a Python program that accepts only the flags of vLLM's " +
      "flag list (test/fixtures/vllm/vllm-flags.txt), loads the model only from the Hugging Face cache when " +
      "HF_HUB_OFFLINE=1, checks VLLM_API_KEY and answers /health, /metrics (vllm:request_success_total), /v1/models, " +
      "/v1/chat/completions and /v1/completions, each answer's id naming the container's hostname; " +
      "huggingface_hub.snapshot_download writes the cache layout instead of downloading.",
  },
  {
    imageKey: "vllm",
    workingDir: "/vllm-workspace",
    workingDirSource:
      "vllm-project/vllm docker/Dockerfile (stage vllm-base, target vllm-openai): WORKDIR /vllm-workspace " +
      "(the Dockerfile was not readable at v0.21.0 itself; the same line in every version read, 2025-2026)",
    differences:
      "The vllmCpu stand-in under the CUDA image's reference: no CUDA, no GPU; it runs on a GPU host of the " +
      "multi-host test only, where the applier drops the container's GPU request (the CI machine has no GPU).",
  },
];

/** A stand-in with the reference Pulumi.yaml gives it and the record of that image. */
export interface ResolvedStandin extends Standin {
  readonly reference: string;
  readonly record: ImageFacts;
}

/** The image references of Pulumi.yaml's `llmstack:images`. */
export function projectImages(): Record<string, string> {
  const project = parse(readFileSync(join(ROOT, "Pulumi.yaml"), "utf8")) as {
    config: Record<string, { value?: unknown }>;
  };
  return project.config["llmstack:images"]!.value as Record<string, string>;
}

/**
 * Every stand-in with its record. A tag in Pulumi.yaml without a record fails here as it fails the
 * program's own tests, naming the file to add the record to.
 */
export function resolvedStandins(): ResolvedStandin[] {
  const images = projectImages();
  return STANDINS.map((s) => {
    const reference = images[s.imageKey];
    if (reference === undefined)
      throw new Error(`Pulumi.yaml has no llmstack:images.${s.imageKey}`);
    return { ...s, reference, record: imageFactsFor(reference) };
  });
}
