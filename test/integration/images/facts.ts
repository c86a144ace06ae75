/**
 * What each stand-in image reproduces of its upstream image, in one place, with the source it was read
 * from. The integration test checks every stand-in against these (entrypoint, command, working
 * directory, the user its main process ends up as, which programs are and are not on its PATH), so
 * they can be compared one for one with the image records the program is checked against.
 */

export interface StandinFacts {
  /** The key under `llmstack:images` in Pulumi.yaml whose reference this stand-in is tagged with. */
  readonly imageKey: string;
  /** The reference these facts were read at; the stand-in refuses to stand in for another tag. */
  readonly reference: string;
  /** The image's ENTRYPOINT and CMD (null: not set). */
  readonly entrypoint: readonly string[] | null;
  readonly cmd: readonly string[] | null;
  readonly workingDir: string;
  /** The user the main process runs as once the entrypoint has done its work. */
  readonly runtimeUser: { readonly uid: number; readonly gid: number };
  /** Programs on the image's PATH. */
  readonly programs: readonly string[];
  /** Programs the image does not have; a health check calling one would fail in the real image. */
  readonly absent: readonly string[];
  readonly source: string;
  /** Where the stand-in differs from the real image, so nobody reads more into a pass than it shows. */
  readonly differences: string;
}

export const STANDIN_FACTS: readonly StandinFacts[] = [
  {
    imageKey: "redis",
    reference: "redis:7.4.6",
    entrypoint: ["docker-entrypoint.sh"],
    cmd: ["redis-server"],
    workingDir: "/data",
    // groupadd -r -g 999 redis; useradd -r -g redis -u 999 redis; the entrypoint chowns only the working
    // directory (/data) and re-executes itself through `gosu redis` when started as root.
    runtimeUser: { uid: 999, gid: 999 },
    programs: ["sh", "bash", "redis-server", "redis-cli", "gosu", "grep", "find"],
    absent: ["curl", "wget", "python3"],
    source:
      "docker-library/redis 7.4-rc/debian/Dockerfile and 7.4-rc/debian/docker-entrypoint.sh (the 7.4 line's " +
      "Debian variant; commit e9204996, 2024-06-28)",
    differences:
      "Debian 12's redis-server 7.0.15 and gosu 1.14 instead of Redis 7.4.6 and gosu 1.17.",
  },
  {
    imageKey: "postgres",
    reference: "postgres:16.10",
    entrypoint: ["docker-entrypoint.sh"],
    cmd: ["postgres"],
    workingDir: "/",
    // groupadd -r postgres --gid=999; useradd -r -g postgres --uid=999; the entrypoint prepares PGDATA
    // as root, then re-executes itself through `gosu postgres` and runs initdb and postgres as 999.
    runtimeUser: { uid: 999, gid: 999 },
    programs: ["sh", "bash", "gosu", "postgres", "initdb", "pg_ctl", "pg_isready", "psql"],
    absent: ["curl", "wget", "python3"],
    source:
      "docker-library/postgres 16/bookworm/Dockerfile and 16/bookworm/docker-entrypoint.sh (commit 6edb0a8c4d)",
    differences:
      "PostgreSQL 15 binaries from Debian 12 under /usr/lib/postgresql/15/bin instead of 16.10; the " +
      "entrypoint keeps the image's contract (POSTGRES_USER/PASSWORD/DB, initdb as 999 on an empty PGDATA, " +
      "host connections by scram-sha-256, init skipped when PG_VERSION exists) but not its init-script hooks.",
  },
  {
    imageKey: "qdrant",
    reference: "qdrant/qdrant:v1.15.5",
    entrypoint: null,
    cmd: ["./entrypoint.sh"],
    workingDir: "/qdrant",
    // ARG USER_ID=0 ... USER "$USER_ID:$USER_ID": root unless the image is rebuilt with another id.
    runtimeUser: { uid: 0, gid: 0 },
    programs: ["sh", "bash", "grep"],
    absent: ["curl", "wget", "python3"],
    source: "qdrant/qdrant Dockerfile and tools/entrypoint.sh at v1.15.5 (debian:13-slim base)",
    differences:
      "A Node program answering Qdrant's REST API (health, collections, points) with the API key from " +
      "QDRANT__SERVICE__API_KEY, persisting to /qdrant/storage; its Node runtime sits off the PATH in /opt/standin.",
  },
  {
    imageKey: "objectStore",
    reference: "chrislusf/seaweedfs:3.97",
    entrypoint: ["/entrypoint.sh"],
    cmd: null,
    workingDir: "/data",
    // Alpine base, no USER: root. Images after 3.97 drop to a `seaweed` user (SeaweedFS PR #7451).
    runtimeUser: { uid: 0, gid: 0 },
    programs: ["sh", "wget", "weed"],
    absent: ["curl", "bash", "python3"],
    source: "seaweedfs/seaweedfs docker/Dockerfile.go_build and docker/entrypoint.sh at 3.97",
    differences:
      "BusyBox from Debian's busybox-static for sh and wget (the Alpine image's are BusyBox too); `weed` is " +
      "a Node program serving the master's /cluster/status and an S3 API that checks AWS SigV4 against " +
      "the identities of -s3.config, storing objects under -dir.",
  },
  {
    imageKey: "litellm",
    reference: "ghcr.io/berriai/litellm:v1.84.0",
    entrypoint: ["docker/prod_entrypoint.sh"],
    cmd: ["--port", "4000"],
    workingDir: "/app",
    runtimeUser: { uid: 0, gid: 0 },
    programs: ["sh", "python3", "litellm"],
    // Not recorded: whether the v1.84.0 base image carries curl or wget (not verified here).
    absent: [],
    source:
      "BerriAI/litellm Dockerfile and docker/prod_entrypoint.sh (ENTRYPOINT, CMD and WORKDIR as in the 1.7x–1.8x releases)",
    differences:
      "Debian 12's python3 3.11 and PyYAML; `litellm` is a Python program that reads the --config file, " +
      "checks the master key, waits for the database URL's host to accept connections, and forwards chat " +
      "completions to each model's api_base with its api_key.",
  },
  {
    imageKey: "vllmCpu",
    reference: "vllm/vllm-openai-cpu:v0.21.0",
    entrypoint: ["vllm", "serve"],
    cmd: null,
    workingDir: "/vllm-workspace",
    runtimeUser: { uid: 0, gid: 0 },
    programs: ["sh", "bash", "python3", "vllm", "timeout", "curl", "wget"],
    absent: [],
    source:
      'vllm-project/vllm docker/Dockerfile.cpu (target vllm-openai: ENTRYPOINT ["vllm", "serve"], root)',
    differences:
      "Debian 12's python3 3.11; `vllm` is a Python program that accepts only the flags of vLLM's " +
      "flag list (test/fixtures/vllm/vllm-flags.txt), loads the model only from the Hugging Face cache when " +
      "HF_HUB_OFFLINE=1, checks VLLM_API_KEY and answers /health, /v1/models and /v1/chat/completions; " +
      "huggingface_hub.snapshot_download writes the cache layout instead of downloading.",
  },
];
