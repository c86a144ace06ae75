import { describe, expect, it } from "vitest";
import { containerJson, envList, MASK } from "../../src/plan/render";
import { container, planFromValues, planOf, rawValues, STACKS, withAppImages } from "../helpers/stacks";

const mask = (): string => MASK;

const UTILISATION = { development: 0.8, staging: 0.85, production: 0.9 } as const;
const MODEL = {
  development: ["Qwen/Qwen2.5-1.5B-Instruct", "qwen2.5-1.5b-instruct", "4096"],
  staging: ["Qwen/Qwen2.5-7B-Instruct", "qwen2.5-7b-instruct", "8192"],
  production: ["Qwen/Qwen2.5-7B-Instruct", "qwen2.5-7b-instruct", "8192"],
} as const;

describe.each(STACKS)("vLLM in the %s stack", (stack) => {
  const plan = planOf(stack);
  const vllm = container(plan, "vllm");
  const [model, served, len] = MODEL[stack];

  it("runs vllm serve with the exact argv from the flag table", () => {
    expect(vllm.entrypoints).toEqual(["vllm", "serve"]);
    expect(vllm.command).toEqual([
      "--model", model,
      "--served-model-name", served,
      "--host", "0.0.0.0",
      "--port", "8000",
      "--tensor-parallel-size", "2",
      "--pipeline-parallel-size", "1",
      "--gpu-memory-utilization", String(UTILISATION[stack]),
      "--max-model-len", len,
      "--dtype", "bfloat16",
    ]);
    expect(plan.vllmArgs).toEqual(vllm.command);
  });

  it("requests both host GPUs from the NVIDIA driver", () => {
    expect(vllm.deviceRequests).toEqual([{ driver: "nvidia", deviceIds: ["0", "1"], capabilities: ["gpu"] }]);
  });

  it("sets the GPU and NCCL environment, with the API key as a secret, and no copy of its flags", () => {
    expect(envList(vllm.env, mask)).toEqual([
      "CUDA_DEVICE_ORDER=PCI_BUS_ID",
      "CUDA_VISIBLE_DEVICES=0,1",
      "HF_HOME=/root/.cache/huggingface",
      "HF_HUB_OFFLINE=1",
      "NCCL_P2P_LEVEL=NVL",
      "NVIDIA_DRIVER_CAPABILITIES=compute,utility",
      "NVIDIA_VISIBLE_DEVICES=0,1",
      `VLLM_API_KEY=${MASK}`,
    ]);
    expect(vllm.env.VLLM_API_KEY).toEqual({ secret: "vllmApiKey", encode: "token" });
    expect(vllm.command.join(" ")).not.toContain("api-key");
  });

  it("labels the container with its GPU layout, the values its flags carry", () => {
    expect(vllm.labels).toEqual({
      "llmstack.vllm.gpu-memory-utilization": String(UTILISATION[stack]),
      "llmstack.vllm.pipeline-parallel-size": "1",
      "llmstack.vllm.tensor-parallel-size": "2",
    });
    expect(containerJson(vllm, plan).labels).toEqual([
      { label: "llmstack.vllm.gpu-memory-utilization", value: String(UTILISATION[stack]) },
      { label: "llmstack.vllm.pipeline-parallel-size", value: "1" },
      { label: "llmstack.vllm.tensor-parallel-size", value: "2" },
    ]);
    // Only vLLM carries labels: adding them elsewhere would replace every container once.
    expect(plan.containers.filter((c) => c.labels !== undefined).map((c) => c.service)).toEqual(["vllm"]);
  });

  it("shares the host IPC namespace for tensor parallelism", () => {
    expect(vllm.ipcMode).toBe("host");
    expect(vllm.shmSize).toBeUndefined();
  });

  it("checks /health and waits long enough for the model to load", () => {
    expect(vllm.healthcheck).toEqual({
      tests: [
        "CMD",
        "python3",
        "-c",
        'import urllib.request; urllib.request.urlopen("http://localhost:8000/health", timeout=5)',
      ],
      interval: "15s",
      timeout: "10s",
      retries: 5,
      startPeriod: "1200s",
    });
    expect(vllm.wait).toBe(true);
    expect(vllm.waitTimeout).toBe(1200);
  });

  it("keeps the model cache in a named volume filled by the one-shot download first", () => {
    expect(vllm.volumes).toEqual([{ volume: "hf-cache", containerPath: "/root/.cache/huggingface" }]);
    expect(vllm.dependsOn).toEqual(["model-download"]);
    const download = container(plan, "model-download");
    expect(download.oneShot).toBe(true);
    expect(download.restart).toBe("no");
    // No revision is pinned: the command names the model alone (the provider refuses an empty string).
    expect(download.command).toEqual([model]);
    expect(download.entrypoints?.slice(0, 4)).toEqual(["timeout", "7200", "python3", "-c"]);
    expect(download.entrypoints?.[4]).toContain("revision=sys.argv[2] if len(sys.argv) > 2 else None");
    expect(download.volumes).toEqual(vllm.volumes);
    expect(download.createTimeoutMinutes).toBe(125);
  });

  it("passes a pinned revision to the download as its second argument", () => {
    const values = rawValues(stack);
    values.model = { ...(values.model as object), revision: "a09a35458c702b33eeacc393d103063234e8bc28" };
    const download = container(planFromValues(values, stack), "model-download");
    expect(download.command).toEqual([model, "a09a35458c702b33eeacc393d103063234e8bc28"]);
  });

  it("is replaced delete-first (fixed name and GPUs) and marked as a GPU container", () => {
    expect(vllm.deleteBeforeReplace).toBe(true);
    expect(vllm.gpu).toBe(true);
    expect(vllm.stopTimeout).toBe(120);
  });
});

describe("vLLM's GPU layouts", () => {
  const withGpu = (gpu: Record<string, unknown>): ReturnType<typeof planFromValues> => {
    const values = rawValues("production");
    values.gpu = { ...(values.gpu as object), ...gpu };
    return planFromValues(values);
  };

  it("disables P2P and custom all-reduce for consumer cards over PCIe", () => {
    const vllm = container(withGpu({ nvlink: false, cardClass: "consumer" }), "vllm");
    expect(vllm.command.slice(-1)).toEqual(["--disable-custom-all-reduce"]);
    expect(vllm.env.NCCL_P2P_DISABLE).toBe("1");
    expect(vllm.env.NCCL_P2P_LEVEL).toBeUndefined();
  });

  it("keeps P2P for datacenter cards over PCIe", () => {
    const vllm = container(withGpu({ nvlink: false, cardClass: "datacenter" }), "vllm");
    expect(vllm.command).not.toContain("--disable-custom-all-reduce");
    expect(vllm.env.NCCL_P2P_DISABLE).toBeUndefined();
    expect(vllm.env.NCCL_P2P_LEVEL).toBeUndefined();
  });

  it("pins a single GPU by UUID with container index 0", () => {
    const uuid = "GPU-5a0c6b3e-1f2d-4c5b-9e8a-7d6c5b4a3f21";
    const plan = withGpu({
      mode: "single",
      vllmDevices: [uuid],
      workerDevices: [uuid],
      nvlink: false,
      tensorParallelSize: 1,
      memoryUtilization: 0.85,
    });
    const vllm = container(plan, "vllm");
    expect(vllm.deviceRequests).toEqual([{ driver: "nvidia", deviceIds: [uuid], capabilities: ["gpu"] }]);
    expect(vllm.env.CUDA_VISIBLE_DEVICES).toBe("0");
    expect(vllm.env.NVIDIA_VISIBLE_DEVICES).toBe(uuid);
    expect(vllm.env.NCCL_P2P_LEVEL).toBeUndefined();
    expect(container(plan, "litellm").command.slice(-1)).toEqual(["4"]);
  });

  it("uses a sized /dev/shm when host IPC is turned off", () => {
    const values = rawValues("production");
    values.vllm = { ipcHost: false, shmSizeMiB: 8192 };
    const vllm = container(planFromValues(values), "vllm");
    expect(vllm.ipcMode).toBeUndefined();
    expect(vllm.shmSize).toBe(8192);
  });

  it("runs the CPU image without GPUs, CUDA or NCCL in cpu mode", () => {
    const values = withAppImages(rawValues("development"));
    values.gpu = { mode: "cpu", kvCacheSpaceGiB: 4 };
    values.model = { name: "Qwen/Qwen2.5-0.5B-Instruct", servedModelName: "qwen2.5-0.5b-instruct", maxModelLen: 2048, dtype: "bfloat16" };
    const plan = planFromValues(values, "development");
    const vllm = container(plan, "vllm");
    expect(vllm.image).toBe("vllm/vllm-openai-cpu:v0.21.0");
    expect(vllm.deviceRequests).toEqual([]);
    expect(vllm.command).toEqual([
      "--model", "Qwen/Qwen2.5-0.5B-Instruct",
      "--served-model-name", "qwen2.5-0.5b-instruct",
      "--host", "0.0.0.0",
      "--port", "8000",
      "--max-model-len", "2048",
      "--dtype", "bfloat16",
    ]);
    expect(envList(vllm.env, mask)).toEqual([
      "HF_HOME=/root/.cache/huggingface",
      "HF_HUB_OFFLINE=1",
      `VLLM_API_KEY=${MASK}`,
      "VLLM_CPU_KVCACHE_SPACE=4",
    ]);
    // No GPU layout to label: neither flags nor labels for it.
    expect(vllm.labels).toBeUndefined();
    expect(vllm.shmSize).toBe(16384);
    expect(vllm.memory).toBe(12 * 1024);
    expect(vllm.capAdd).toEqual(["SYS_NICE"]);
    expect(vllm.gpu).toBe(false);
    expect(plan.gpuMap).toEqual([]);
    expect(container(plan, "multimodal-worker").deviceRequests).toEqual([]);
    expect(container(plan, "model-download").image).toBe("vllm/vllm-openai-cpu:v0.21.0");
  });

  it("passes HF_TOKEN to the download only when the stack has one", () => {
    const withToken = planFromValues(rawValues("production"), "production", new Set(["hfToken"]));
    expect(container(withToken, "model-download").env.HF_TOKEN).toEqual({ secret: "hfToken", encode: "token" });
    expect(container(planOf("production"), "model-download").env.HF_TOKEN).toBeUndefined();
  });
});
