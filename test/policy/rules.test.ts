import { describe, expect, it } from "vitest";
import {
  gpuOversubscriptionFindings,
  imageTagFindings,
  MIN_TP_SHM_MIB,
  productionUtilisationFindings,
  publishedPortFindings,
  resolveEnvironment,
  secretInCommandFindings,
  secretValues,
  tensorParallelShmFindings,
  type ContainerInputs,
} from "../../policy/rules";
import { parseImage } from "../../src/config/images";

const vllm: ContainerInputs = {
  name: "p-vllm",
  image: "vllm/vllm-openai:v0.21.0",
  entrypoints: ["vllm", "serve"],
  command: ["--tensor-parallel-size", "2", "--gpu-memory-utilization", "0.9"],
  envs: ["VLLM_API_KEY=vllm-secret-d4e5f6"],
  ipcMode: "host",
  deviceRequests: [{ deviceIds: ["0", "1"], capabilities: ["gpu"] }],
  networksAdvanced: [{ aliases: ["vllm"] }],
};
const worker: ContainerInputs = {
  name: "p-multimodal-worker",
  envs: ["WORKER_GPU_MEMORY_FRACTION=0.1"],
  deviceRequests: [{ deviceIds: ["1"], capabilities: ["gpu"] }],
  networksAdvanced: [{ aliases: ["multimodal-worker"] }],
};

describe("image tags", () => {
  it("parses repository, tag and digest; a registry port is not a tag", () => {
    expect(parseImage("localhost:5000/team/app")).toEqual({ repository: "localhost:5000/team/app", tag: null, digest: null });
    expect(parseImage("postgres:16@sha256:abc")).toEqual({ repository: "postgres", tag: "16", digest: "sha256:abc" });
  });

  it.each([
    ["vllm/vllm-openai:v0.21.0"],
    ["postgres:16.10"],
    ["vllm/vllm-openai@sha256:" + "a".repeat(64)],
    ["redis:latest@sha256:" + "b".repeat(64)],
    ["sha256:" + "c".repeat(64)],
  ])("%s passes in production", (image) => {
    expect(imageTagFindings(image, "container p-x", "production")).toEqual([]);
  });

  it.each([
    ["vllm/vllm-openai:latest", 'container p-x: image "vllm/vllm-openai:latest" uses the floating tag "latest" in production'],
    ["ghcr.io/o/worker:main-4f2a", 'container p-x: image "ghcr.io/o/worker:main-4f2a" uses the floating tag "main-4f2a" in production'],
    ["qdrant/qdrant:nightly", 'container p-x: image "qdrant/qdrant:nightly" uses the floating tag "nightly" in production'],
    ["redis:stable", 'container p-x: image "redis:stable" uses the floating tag "stable" in production'],
    // A channel word with a suffix, or a variant name without a version, floats all the same.
    ["vllm/vllm-openai:latest-gpu", 'container p-x: image "vllm/vllm-openai:latest-gpu" uses the floating tag "latest-gpu" in production'],
    ["caddy:stable-alpine", 'container p-x: image "caddy:stable-alpine" uses the floating tag "stable-alpine" in production'],
    ["redis:alpine", 'container p-x: image "redis:alpine" uses the floating tag "alpine" in production'],
    ["localhost:5000/app", 'container p-x: image "localhost:5000/app" has no tag, so it floats on "latest" in production'],
  ])("%s fails in production, naming the container and the fix", (image, start) => {
    const [f] = imageTagFindings(image, "container p-x", "production");
    const repo = parseImage(image).repository;
    expect(f).toEqual({
      level: "mandatory",
      message: `${start}; pin a release tag (e.g. ${repo}:<version>) or a digest (${repo}@sha256:...) in llmstack:images (Pulumi.yaml or the stack file)`,
    });
  });

  it("a major-only tag with a variant suffix warns like a bare major", () => {
    expect(imageTagFindings("postgres:16-alpine", "container p-x", "production").map((f) => f.level)).toEqual(["advisory"]);
  });

  it("a major-only tag warns; development may float", () => {
    expect(imageTagFindings("postgres:16", "image p-postgres-image", "staging")).toEqual([
      {
        level: "advisory",
        message:
          'image p-postgres-image: image "postgres:16" has the major-only tag "16", which moves with every minor release; ' +
          "pin a release tag (e.g. postgres:<version>) or a digest (postgres@sha256:...) in llmstack:images (Pulumi.yaml or the stack file)",
      },
    ]);
    expect(imageTagFindings("vllm/vllm-openai:latest", "container p-x", "development")).toEqual([]);
  });
});

describe("published ports", () => {
  const qdrant: ContainerInputs = { name: "p-qdrant", networksAdvanced: [{ aliases: ["qdrant"] }], ports: [{ internal: 6333, external: 6333, ip: "0.0.0.0" }] };
  it("only the gateway may listen on a non-loopback address", () => {
    expect(publishedPortFindings(qdrant)).toEqual([
      "container p-qdrant publishes port 6333 on 0.0.0.0:6333; only the gateway (litellm, gateway-tls) may listen on a " +
        "non-loopback address: bind it to 127.0.0.1 or remove the port and reach it on the stack network",
    ]);
    expect(publishedPortFindings({ ...qdrant, ports: [{ internal: 6333, external: 6333 }] })).toHaveLength(1);
    expect(publishedPortFindings({ ...qdrant, ports: [{ internal: 6333, external: 6333, ip: "127.0.0.1" }] })).toEqual([]);
    expect(publishedPortFindings({ ...qdrant, ports: [{ internal: 6333, external: 6333, ip: "::1" }] })).toEqual([]);
    expect(publishedPortFindings({ ...qdrant, networksAdvanced: [{ aliases: ["litellm"] }] })).toEqual([]);
  });
});

describe("tensor parallelism and shared memory", () => {
  it("passes with host IPC or enough shm, or without TP", () => {
    expect(tensorParallelShmFindings(vllm)).toEqual([]);
    expect(tensorParallelShmFindings({ ...vllm, ipcMode: undefined, shmSize: MIN_TP_SHM_MIB })).toEqual([]);
    expect(tensorParallelShmFindings({ name: "x", command: ["--tensor-parallel-size", "1"] })).toEqual([]);
  });
  it("fails on TP > 1 from argv (--flag N, --flag=N) without them", () => {
    expect(tensorParallelShmFindings({ ...vllm, ipcMode: undefined })).toEqual([
      "container p-vllm runs tensor parallelism 2 with Docker's default 64 MB of shared memory; NCCL needs more: " +
        "set llmstack:vllm.ipcHost: true (ipcMode \"host\") or shmSizeMiB >= 1024",
    ]);
    expect(tensorParallelShmFindings({ name: "v", command: ["--tensor-parallel-size=4"], shmSize: 64 })).toEqual([
      "container v runs tensor parallelism 4 with 64 MiB of shared memory; NCCL needs more: " +
        "set llmstack:vllm.ipcHost: true (ipcMode \"host\") or shmSizeMiB >= 1024",
    ]);
  });
});

describe("vLLM's settings come from its argv, which is all vLLM reads", () => {
  // vLLM reads no VLLM_TENSOR_PARALLEL_SIZE or VLLM_GPU_MEMORY_UTILIZATION (it warns about them as unknown):
  // such an env says nothing about what runs, so the policies do not take it for a setting.
  const envOnly: ContainerInputs = {
    name: "p-vllm",
    command: [],
    envs: ["VLLM_TENSOR_PARALLEL_SIZE=4", "VLLM_GPU_MEMORY_UTILIZATION=0.5"],
    deviceRequests: [{ deviceIds: ["0"], capabilities: ["gpu"] }],
  };

  it("an env that is not a flag sets neither tensor parallelism nor the utilisation", () => {
    expect(tensorParallelShmFindings(envOnly)).toEqual([]);
    expect(productionUtilisationFindings(envOnly, "production")).toEqual([]);
  });
});

describe("production utilisation", () => {
  it("within the schema's production bounds (0.6 to 0.92) passes; outside fails in production only", () => {
    expect(productionUtilisationFindings(vllm, "production")).toEqual([]);
    const high = { ...vllm, command: ["--gpu-memory-utilization", "0.95"] };
    expect(productionUtilisationFindings(high, "production")).toEqual([
      "container p-vllm sets --gpu-memory-utilization 0.95 in production; allowed 0.6 to 0.92: set " +
        "llmstack:gpu.memoryUtilization within those bounds in the stack file",
    ]);
    expect(productionUtilisationFindings(high, "staging")).toEqual([]);
    expect(productionUtilisationFindings({ ...vllm, command: ["--gpu-memory-utilization=0.5"] }, "production")).toEqual([
      "container p-vllm sets --gpu-memory-utilization 0.5 in production; allowed 0.6 to 0.92: set " +
        "llmstack:gpu.memoryUtilization within those bounds in the stack file",
    ]);
    expect(productionUtilisationFindings(worker, "production")).toEqual([]);
  });
});

describe("GPU budget across containers", () => {
  const dcgm: ContainerInputs = {
    name: "p-dcgm-exporter",
    image: "nvcr.io/nvidia/k8s/dcgm-exporter:4.2.3-4.1.3-ubuntu22.04",
    deviceRequests: [{ deviceIds: ["0", "1"], capabilities: ["gpu", "utility"] }],
  };
  // 0.9 + 0.1 is exactly full, with no room for the CUDA contexts: it passed before they were counted.
  it.each([
    ["0.9", "1"],
    ["0.95", "1.05"],
  ])("vLLM %s + worker 0.1 on GPU 1 fails, in the schema's words; GPU 0 and the DCGM exporter are fine", (u, sum) => {
    const v = { ...vllm, command: ["--gpu-memory-utilization", u] };
    expect(gpuOversubscriptionFindings([v, worker, dcgm])).toEqual([
      `GPU 1 is shared by vLLM (memoryUtilization ${u}) and the multimodal worker (workerMemoryFraction 0.1): ${u} + 0.1 ` +
        `= ${sum} of its memory leaves nothing for a 512 MiB CUDA context per process; vLLM starts only when its whole ` +
        "share is free, so it could not start again while the multimodal worker holds its share; lower " +
        "memoryUtilization or workerMemoryFraction, or give the multimodal worker a GPU vLLM does not use",
    ]);
  });
  it("vLLM 0.9 + worker 0.04 passes; the DCGM exporter takes no share", () => {
    const small = { ...worker, envs: ["WORKER_GPU_MEMORY_FRACTION=0.04"] };
    expect(gpuOversubscriptionFindings([vllm, small, dcgm])).toEqual([]);
  });
  it("one GPU under two names: an index and a UUID cannot be told apart from the inputs, so they are refused", () => {
    const uuidWorker = { ...worker, envs: ["WORKER_GPU_MEMORY_FRACTION=0.04"], deviceRequests: [{ deviceIds: ["GPU-fef3f583-99bd-ac7f-c761-eddb679067e0"] }] };
    expect(gpuOversubscriptionFindings([vllm, uuidWorker])).toEqual([
      'names GPU "GPU-fef3f583-99bd-ac7f-c761-eddb679067e0" by UUID while vllmDevices names GPU "0" by index; the stack ' +
        "file cannot tell whether they are one GPU, so neither the memory budget nor the check for a GPU listed twice " +
        "could hold; name every GPU the same way, all by index or all by UUID (llmstack configure-gpu auto writes " +
        "UUIDs when nvidia-smi gives them)",
    ]);
  });
  it("a GPU container that declares no share is named", () => {
    expect(gpuOversubscriptionFindings([{ name: "p-other", deviceRequests: [{ count: -1 }] }])).toEqual([
      "container p-other gets GPU all but declares no memory share; set WORKER_GPU_MEMORY_FRACTION (or " +
        "GPU_MEMORY_FRACTION) in its env so the GPU budget can be checked",
    ]);
  });
});

describe("no secret on the command line", () => {
  it("the real shape passes: secrets in env, none in argv", () => {
    expect(secretInCommandFindings(vllm)).toEqual([]);
  });
  it("a secret env value, a key-looking value, a secret flag and URL credentials fail without printing the value", () => {
    const bad: ContainerInputs = {
      name: "p-litellm",
      envs: ["LITELLM_MASTER_KEY=sk-master-secret-55e1", "DATABASE_URL=postgresql://litellm:pg-secret-7f3a9c@postgres:5432/x"],
      command: ["--master", "sk-master-secret-55e1", "--db", "postgresql://litellm:pg-secret-7f3a9c@postgres/x"],
      entrypoints: ["run", "--api-key", "abc"],
      healthcheck: { tests: ["CMD", "curl", "-H", "Authorization: Bearer hf_abcdefghijklmnop"] },
    };
    const fix = "pass it in the container's env (a secret in the stack file) and read it there, never in argv";
    const found = secretInCommandFindings(bad);
    expect(found).toEqual([
      `container p-litellm: entrypoints[1] passes "--api-key" on the command line; ${fix}`,
      `container p-litellm: command[1] contains the value of the secret env LITELLM_MASTER_KEY; ${fix}`,
      `container p-litellm: command[3] contains the value of the secret env DATABASE_URL; ${fix}`,
      `container p-litellm: healthcheck[3] looks like a key or password; ${fix}`,
    ]);
    expect(found.join("\n")).not.toMatch(/sk-master-secret|pg-secret|hf_abc/);
  });
});

describe("which env entries hold secrets", () => {
  it("an S3 access key ID is an identity, not a secret; its secret key is one", () => {
    expect(
      secretValues([
        "S3_ACCESS_KEY=llmstack",
        "AWS_ACCESS_KEY_ID=llmstack",
        "S3_SECRET_KEY=s3-secret-91d2aa",
        "AWS_SECRET_ACCESS_KEY=aws-secret-0b1c2d",
        "VLLM_API_KEY=vllm-secret-d4e5f6",
      ]),
    ).toEqual([
      { key: "S3_SECRET_KEY", value: "s3-secret-91d2aa" },
      { key: "AWS_SECRET_ACCESS_KEY", value: "aws-secret-0b1c2d" },
      { key: "VLLM_API_KEY", value: "vllm-secret-d4e5f6" },
    ]);
  });
});

describe("environment resolution", () => {
  it("config wins over the env var; nothing set means production; a typo is an error", () => {
    expect(resolveEnvironment("staging", "development")).toBe("staging");
    expect(resolveEnvironment(undefined, "development")).toBe("development");
    expect(resolveEnvironment(undefined, undefined)).toBe("production");
    expect(() => resolveEnvironment("prod", undefined)).toThrow(
      'policy config "environment" is "prod"; use development, staging or production',
    );
  });
});
