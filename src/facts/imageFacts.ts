/**
 * The shape of an image's record (src/facts/imageRecords.ts): the user its process runs as, its
 * entrypoint and command, its programs and the CUDA it needs. Its own module so the records and the
 * lookups over them (src/facts/images.ts) both import it without importing each other in a cycle.
 */
/** The user the image's main process runs as, after its entrypoint. */
export interface ImageUser {
  readonly uid: number;
  readonly gid: number;
  readonly name: string;
  /** How it gets there (USER line, gosu, su-exec, none). */
  readonly how: string;
}

/**
 * What the image does with a container's `command`:
 * - "program": the image has no entrypoint, so the command is the program Docker runs;
 * - "exec": the entrypoint prepares, drops privileges and `exec`s the command as a program (the
 *   docker-library pattern), unless its first word starts with "-", which it hands to the server;
 * - "args": the command is arguments to the program the entrypoint runs.
 */
export type CommandRole = "program" | "exec" | "args";

export interface CudaNeed {
  /** The CUDA version the image is built on (major.minor). */
  readonly version: string;
  /**
   * The head of the image's NVIDIA_REQUIRE_CUDA, the constraint the NVIDIA Container Toolkit checks
   * before it starts the container (the brand clauses that follow it only concern datacenter and
   * professional brands on older driver branches with forward compatibility).
   */
  readonly requireCuda: string;
  /** Tag of the same release built for an older CUDA, for hosts whose driver is too old. */
  readonly olderDriverVariant?: string;
  readonly source: string;
}

export interface ImageSource {
  /** GitHub repository the image is built from. */
  readonly repository: string;
  /** Tag or commit the facts were read at. */
  readonly ref: string;
  /** Files read: Dockerfile, entrypoint, release workflow, docs. */
  readonly paths: readonly string[];
  /** Where the reading differs from the pinned tag, or what else was read. */
  readonly note?: string;
}

export interface ImageFacts {
  /** `repository:tag` as a stack file writes it (Docker Hub images without `docker.io/library/`). */
  readonly ref: string;
  readonly user: ImageUser;
  readonly entrypoint: readonly string[];
  readonly cmd: readonly string[];
  readonly commandRole: CommandRole;
  /**
   * Programs on the image's PATH that were verified, by name: the shell (`sh` is /bin/sh) and what a
   * health check or command may call. Anything not listed is treated as absent.
   */
  readonly programs: readonly string[];
  readonly cuda?: CudaNeed;
  /** Environment names the image's program checks: anything else under its prefix is a mistake. */
  readonly environment?: ImageEnvironment;
  readonly source: ImageSource;
}

/**
 * A program that owns a prefix of environment names (vLLM: `VLLM_`) and warns about the ones it does not
 * know; `reads` lists the names of that prefix the plan may set, each one verified to be read.
 */
export interface ImageEnvironment {
  readonly prefix: string;
  readonly reads: readonly string[];
  /** What reads each name, and where the program says it warns about others. */
  readonly source: string;
}
