/**
 * One record per image the program can run, as of the pinned tag. Each says where it was read; a fact
 * that could not be read at the tag itself says so in `source.note`. `programs` lists only what was
 * verified (a health check may call nothing else).
 *
 * Reading a new tag: its Dockerfile (USER, ENTRYPOINT, CMD, what is installed and what is purged again),
 * its entrypoint script (does it drop privileges? which directories does it chown?), and for CUDA images
 * the base image's NVIDIA_REQUIRE_CUDA.
 */
import type { ImageFacts } from "./imageFacts";

const ROOT = { uid: 0, gid: 0, name: "root" } as const;
/** Prometheus and Alertmanager: USER nobody, whose id comes from the busybox base's /etc/passwd. */
const NOBODY = { uid: 65534, gid: 65534, name: "nobody", how: "USER nobody (busybox passwd: nobody:x:65534:65534)" };
/**
 * Debian's essential packages give every Debian/Ubuntu image these (bash, dash, grep and coreutils are
 * Essential: yes, so no image can lack them: chown, cp, mkdir, mv, rm, sleep and timeout are coreutils').
 */
const DEBIAN_BASE = ["bash", "chown", "cp", "grep", "mkdir", "mv", "rm", "sh", "sleep", "timeout"] as const;
/**
 * BusyBox applets of Prometheus's base image (busybox:glibc), listed from docker-library/busybox's
 * rootfs (latest-1/glibc/amd64/rootfs.tar.gz on the dist-amd64 branch).
 */
const BUSYBOX = ["grep", "nc", "sh", "sleep", "timeout", "wget"] as const;
/** Alpine's BusyBox: sh, and wget, which caddy-docker's and Grafana's Dockerfiles call on plain Alpine. */
const ALPINE = ["sh", "wget"] as const;

const sorted = (...groups: readonly (readonly string[])[]): readonly string[] => [...new Set(groups.flat())].sort();

const VLLM_CUDA_13 = {
  version: "13.0",
  requireCuda: "cuda>=13.0",
  olderDriverVariant: "vllm/vllm-openai:v0.21.0-cu129",
  source:
    "vllm-project/vllm#39878 (CUDA 13.0 is the default build from v0.20.0; CUDA 12.9 moved to the -cu129 " +
    "tags); docker/versions.json CUDA_VERSION 13.0.2, FINAL_BASE_IMAGE nvidia/cuda:13.0.2-base-ubuntu22.04 " +
    "(read at commit 01e4fce07423dafcc832600ba05159fb28dc1126, FlashInfer 0.6.8.post1 as in v0.21.0); the " +
    "nvidia/cuda 13.0.2 base sets NVIDIA_REQUIRE_CUDA=\"cuda>=13.0 brand=unknown,driver>=535,driver<536 ...\"",
} as const;

/**
 * vLLM reads its settings from flags and from the environment names in vllm/envs.py's
 * `environment_variables`; at start it warns about every other `VLLM_*` name ("Unknown vLLM environment
 * variable detected", `validate_environ`). The plan sets only these three (VLLM_HOST_IP on each member of a
 * replica across hosts, src/facts/vllmMultiNode.ts).
 */
const VLLM_ENVIRONMENT = {
  prefix: "VLLM_",
  reads: ["VLLM_API_KEY", "VLLM_CPU_KVCACHE_SPACE", "VLLM_HOST_IP"],
  source:
    "vllm/envs.py environment_variables, read at vllm-project/vllm 001f69f8b52e0803c910525974d17010814947ad " +
    '(v0.9 era): VLLM_API_KEY ("API key for vLLM API server"), VLLM_CPU_KVCACHE_SPACE ("(CPU backend only) CPU ' +
    'key-value cache space"); docs/getting_started/installation/cpu.x86.inc.md at ' +
    "02319794a1415e663baaf6de2f8197f795bd8c03 still runs the CPU image with -e VLLM_CPU_KVCACHE_SPACE. The " +
    "warning about unknown VLLM_* names (validate_environ in vllm/envs.py) was read in later copies of envs.py " +
    "and in public start-up logs of 2026 releases, not at the v0.21.0 tag, which could not be read here; " +
    'VLLM_HOST_IP ("If you are using multi-node inference, you should set this differently on each node") is in ' +
    "every copy of vllm/envs.py read, and docs/serving/parallelism_scaling.md passes it to each node",
} as const;

export const IMAGE_RECORDS: readonly ImageFacts[] = [
  {
    ref: "vllm/vllm-openai:v0.21.0",
    user: { ...ROOT, how: 'no USER line: "The CUDA vllm/vllm-openai image runs as root by default" (docs)' },
    entrypoint: ["vllm", "serve"],
    cmd: [],
    commandRole: "args",
    programs: sorted(DEBIAN_BASE, ["python3", "vllm"]),
    cuda: VLLM_CUDA_13,
    environment: VLLM_ENVIRONMENT,
    source: {
      repository: "vllm-project/vllm",
      ref: "v0.21.0 (image VLLM_BUILD_COMMIT ad7125a431e176d4161099480a66f0169609a690)",
      paths: ["docker/Dockerfile (target vllm-openai)", "docker/versions.json", "docs/deployment/docker.md"],
      note:
        "the Dockerfile was not readable at the tag itself: ENTRYPOINT [\"vllm\", \"serve\"], no USER and " +
        "python3 on PATH hold in every version read (2025-2026); Ubuntu 22.04 base; docs/deployment/docker.md " +
        "read at 02319794a1415e663baaf6de2f8197f795bd8c03",
    },
  },
  {
    ref: "vllm/vllm-openai-cpu:v0.21.0",
    user: { ...ROOT, how: "no USER line in docker/Dockerfile.cpu" },
    entrypoint: ["vllm", "serve"],
    cmd: [],
    commandRole: "args",
    programs: sorted(DEBIAN_BASE, ["python3", "vllm"]),
    environment: VLLM_ENVIRONMENT,
    source: {
      repository: "vllm-project/vllm",
      ref: "v0.21.0",
      paths: ["docker/Dockerfile.cpu (target vllm-openai)"],
      note:
        "read at commit 002c42b2b4358cc689ec19f2e591a38de6694718 (after the tag): Ubuntu base, a uv venv on " +
        "PATH (python3), ENTRYPOINT [\"vllm\", \"serve\"], no USER",
    },
  },
  {
    ref: "ghcr.io/berriai/litellm:v1.84.0",
    user: { ...ROOT, how: "USER root in the runtime stage" },
    entrypoint: ["docker/prod_entrypoint.sh"],
    cmd: ["--port", "4000"],
    commandRole: "args",
    programs: ["bash", "litellm", "python3", "sh"],
    source: {
      repository: "BerriAI/litellm",
      ref: "v1.84.0 (e1fc955464bf493c15aef08f98e0e22bdf24d4cf)",
      paths: ["Dockerfile", "docker/prod_entrypoint.sh"],
      note:
        "read from stored copies of the same release series (Wolfi base, uv 0.11.7), not at the tag commit: " +
        "`apk add bash ... python3`, /app/.venv/bin on PATH, prod_entrypoint.sh ends `exec litellm \"$@\"`",
    },
  },
  {
    ref: "vllm/vllm-router:v0.1.16",
    user: { ...ROOT, how: "no USER line in Dockerfile.router (python:3.12-slim-bookworm runtime stage)" },
    entrypoint: [],
    cmd: ["vllm-router", "--host", "0.0.0.0", "--port", "8080"],
    commandRole: "program",
    programs: sorted(DEBIAN_BASE, ["curl", "python3", "vllm-router"]),
    source: {
      repository: "vllm-project/router",
      ref: "v0.1.16",
      paths: ["Dockerfile.router", ".buildkite/scripts/publish-release-images.sh", ".buildkite/release-pipeline.yml"],
      note:
        "Dockerfile.router read at 0263c2c96e74a4bf1cd13b5ec28563f792bf3e99, not at the tag: the Rust binary copied to " +
        "/usr/local/bin/vllm-router, `apt-get install -y curl` on python:3.12-slim-bookworm (python3 on PATH), EXPOSE " +
        "8080 and 29000, no ENTRYPOINT, CMD [\"vllm-router\", \"--host\", \"0.0.0.0\", \"--port\", \"8080\"]; the py_src " +
        "launcher is copied but not installed",
    },
  },
  {
    ref: "postgres:16.10",
    user: { uid: 999, gid: 999, name: "postgres", how: "docker-entrypoint.sh: exec gosu postgres" },
    entrypoint: ["docker-entrypoint.sh"],
    cmd: ["postgres"],
    commandRole: "exec",
    programs: sorted(DEBIAN_BASE, ["gosu", "pg_dump", "pg_isready", "pg_restore", "postgres", "psql"]),
    source: {
      repository: "docker-library/postgres",
      ref: "1cb68aee8fbbd39106c8a8eb41f45721941d11a8 (Update 16 to 16.10)",
      paths: ["16/trixie/Dockerfile", "16/trixie/docker-entrypoint.sh", "versions.json"],
      note:
        "postgres:16.10 is the trixie variant (versions.json \"debian\": \"trixie\"); pg_isready and psql come " +
        "with postgresql-16 in /usr/lib/postgresql/16/bin, which the Dockerfile puts on PATH; the entrypoint " +
        "chowns only $PGDATA and /var/run/postgresql. pg_dump and pg_restore come from postgresql-client-16, " +
        "which postgresql-16 depends on (read in Debian 12's postgresql-15 and postgresql-client-15 package " +
        "metadata, the same packaging as apt.postgresql.org's, not in the image itself)",
    },
  },
  {
    ref: "redis:7.4.6",
    user: { uid: 999, gid: 999, name: "redis", how: "docker-entrypoint.sh: exec gosu redis" },
    entrypoint: ["docker-entrypoint.sh"],
    cmd: ["redis-server"],
    commandRole: "exec",
    programs: sorted(DEBIAN_BASE, ["gosu", "redis-cli", "redis-server"]),
    source: {
      repository: "redis/docker-library-redis",
      ref: "v7.4.6",
      paths: ["debian/Dockerfile", "debian/docker-entrypoint.sh"],
      note:
        "layer history of redis:7.4.6 in docker-library/repo-info repos/redis/remote/7.4.6.md (useradd -u 999, " +
        "chown redis:redis /data, ENTRYPOINT, CMD; wget purged after the build) and its package list in " +
        "repos/redis/local/7.4.6.md; the entrypoint read at 7.4/debian @ " +
        "e5650da99bb377b2ed4f9f1ef993ff24729b1c16: `find . \\! -user redis -exec chown redis` in WORKDIR " +
        "/data only, then gosu",
    },
  },
  {
    ref: "qdrant/qdrant:v1.15.5",
    user: { ...ROOT, how: "ARG USER_ID=0; the release builds the plain tag without it (-unprivileged tags use 1000)" },
    entrypoint: [],
    cmd: ["./entrypoint.sh"],
    commandRole: "program",
    programs: sorted(DEBIAN_BASE),
    source: {
      repository: "qdrant/qdrant",
      ref: "v1.15.5 (efe5ad79ccd165e9f4fedad1eb0e2acd05358988)",
      paths: ["Dockerfile", "tools/entrypoint.sh", ".github/workflows/docker-image.yml"],
      note: "debian:13-slim base with ca-certificates, tzdata and libunwind8; no curl or wget",
    },
  },
  {
    ref: "chrislusf/seaweedfs:3.97",
    user: { ...ROOT, how: "no USER line and no privilege drop at 3.97" },
    entrypoint: ["/entrypoint.sh"],
    cmd: [],
    commandRole: "args",
    programs: sorted(ALPINE, ["weed"]),
    source: {
      repository: "seaweedfs/seaweedfs",
      ref: "3.97 (76452ab593995ab52b75e681de5b221de1e3f006)",
      paths: ["docker/Dockerfile.go_build", "docker/entrypoint.sh", ".github/workflows/container_release1.yml"],
      note:
        "Alpine base. Later tags run as seaweed (uid 1000, gid 1000): 4.00 adds USER seaweed (#7399), 4.01 " +
        "drops to it with su-exec in the entrypoint after chowning /data (#7451)",
    },
  },
  {
    ref: "caddy:2.10.2",
    user: { ...ROOT, how: "no USER line" },
    entrypoint: [],
    cmd: ["caddy", "run", "--config", "/etc/caddy/Caddyfile", "--adapter", "caddyfile"],
    commandRole: "program",
    programs: sorted(ALPINE, ["caddy"]),
    source: {
      repository: "caddyserver/caddy-docker",
      ref: "5572371a83e48fd0368a4917d0fc48e44ef30582 (library/caddy GitCommit for 2.10.2)",
      paths: ["2.10/alpine/Dockerfile"],
      note: "alpine:3.22 base",
    },
  },
  {
    ref: "nvcr.io/nvidia/k8s/dcgm-exporter:4.2.3-4.1.3-ubuntu22.04",
    user: { ...ROOT, how: "no USER line" },
    entrypoint: ["/usr/local/dcgm/dcgm-exporter-entrypoint.sh"],
    cmd: [],
    commandRole: "args",
    programs: sorted(DEBIAN_BASE, ["dcgm-exporter"]),
    source: {
      repository: "NVIDIA/dcgm-exporter",
      ref: "4.2.3-4.1.3 (dcbb9276f0a5f380030dc129f043e5d9c25c3045)",
      paths: ["docker/Dockerfile.ubuntu", "docker/dcgm-exporter-entrypoint.sh", "Makefile"],
      note:
        "base nvcr.io/nvidia/cuda:12.8.1-base-ubuntu22.04 with NVIDIA_DISABLE_REQUIRE=true: the toolkit " +
        "checks no CUDA version (it reads GPUs through NVML); the entrypoint runs dcgm-exporter \"$@\"",
    },
  },
  {
    ref: "prom/prometheus:v3.5.0",
    user: NOBODY,
    entrypoint: ["/bin/prometheus"],
    cmd: ["--config.file=/etc/prometheus/prometheus.yml", "--storage.tsdb.path=/prometheus"],
    commandRole: "args",
    programs: sorted(BUSYBOX, ["prometheus", "promtool"]),
    source: {
      repository: "prometheus/prometheus",
      ref: "v3.5.0 (8be3a9560fbdd18a94dedec4b747c35178177202)",
      paths: ["Dockerfile"],
      note:
        "base quay.io/prometheus/busybox (prometheus/busybox glibc/Dockerfile: FROM busybox:glibc), whose " +
        "/etc/passwd is buildroot's skeleton (docker-library/busybox Dockerfile.builder)",
    },
  },
  {
    ref: "prom/alertmanager:v0.28.1",
    user: NOBODY,
    entrypoint: ["/bin/alertmanager"],
    cmd: ["--config.file=/etc/alertmanager/alertmanager.yml", "--storage.path=/alertmanager"],
    commandRole: "args",
    programs: sorted(BUSYBOX, ["alertmanager", "amtool"]),
    source: {
      repository: "prometheus/alertmanager",
      ref: "v0.28.1 (b2099eaa2c9ebc25edb26517cb9c732738e93910)",
      paths: ["Dockerfile"],
      note: "same busybox base as Prometheus",
    },
  },
  {
    ref: "grafana/grafana:12.2.0",
    user: { uid: 472, gid: 0, name: "grafana", how: 'ARG GF_UID="472", GF_GID="0"; USER "$GF_UID"' },
    entrypoint: ["/run.sh"],
    cmd: [],
    commandRole: "args",
    programs: sorted(ALPINE, ["bash", "grafana"]),
    source: {
      repository: "grafana/grafana",
      ref: "v12.2.0",
      paths: ["Dockerfile"],
      note:
        "read from a stored version of the Dockerfile, not at the tag: Alpine base with `apk add ca-certificates " +
        "bash tzdata musl-utils`, user grafana in group 0",
    },
  },
];
