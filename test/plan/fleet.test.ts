/** The plan of a stack with hosts (src/plan/fleet.ts), from the example fleet in examples/fleet/. */
import { describe, expect, it } from "vitest";
import { main } from "../../src/cli/main";
import { StackConfigError } from "../../src/config/errors";
import { fleetCapacity, fleetLine } from "../../src/plan/capacity";
import { fakeIo } from "../helpers/fakeIo";
import { FLEET_DIR, FLEET_FILE, fleetPlan, fleetValues } from "../helpers/fleet";

describe("the example fleet's plan", () => {
  const plan = fleetPlan();

  it("places one vLLM per replica and one model download per GPU host, everything else on its role's host", () => {
    expect(plan.containers.map((c) => [c.name, c.placement?.host, c.host])).toEqual([
      ["llm-multimodal-stack-fleet-model-download-gpu-a", "gpu-a", "ssh://deploy@10.20.0.11"],
      ["llm-multimodal-stack-fleet-model-download-gpu-b", "gpu-b", "tcp://10.20.0.12:2376"],
      ["llm-multimodal-stack-fleet-vllm-gpu-a-0", "gpu-a", "ssh://deploy@10.20.0.11"],
      ["llm-multimodal-stack-fleet-vllm-gpu-b-0", "gpu-b", "tcp://10.20.0.12:2376"],
      ["llm-multimodal-stack-fleet-postgres", "control", "ssh://deploy@10.20.0.10"],
      ["llm-multimodal-stack-fleet-redis", "control", "ssh://deploy@10.20.0.10"],
      ["llm-multimodal-stack-fleet-qdrant", "control", "ssh://deploy@10.20.0.10"],
      ["llm-multimodal-stack-fleet-object-store", "control", "ssh://deploy@10.20.0.10"],
      ["llm-multimodal-stack-fleet-litellm", "control", "ssh://deploy@10.20.0.10"],
      ["llm-multimodal-stack-fleet-gateway-tls", "control", "ssh://deploy@10.20.0.10"],
      ["llm-multimodal-stack-fleet-smoke-test", "control", "ssh://deploy@10.20.0.10"],
      ["llm-multimodal-stack-fleet-dcgm-exporter-gpu-a", "gpu-a", "ssh://deploy@10.20.0.11"],
      ["llm-multimodal-stack-fleet-dcgm-exporter-gpu-b", "gpu-b", "tcp://10.20.0.12:2376"],
      ["llm-multimodal-stack-fleet-alertmanager", "control", "ssh://deploy@10.20.0.10"],
      ["llm-multimodal-stack-fleet-prometheus", "control", "ssh://deploy@10.20.0.10"],
      ["llm-multimodal-stack-fleet-grafana", "control", "ssh://deploy@10.20.0.10"],
    ]);
    expect(plan.dockerHost).toBe("ssh://deploy@10.20.0.10");
  });

  it("gives each replica its own GPUs, tensor parallel size and port on its host's address", () => {
    const vllms = plan.containers.filter((c) => c.service === "vllm");
    expect(vllms.map((c) => [c.placement?.replica, c.deviceRequests[0]?.deviceIds, c.ports])).toEqual([
      ["gpu-a-0", ["0", "1"], [{ internal: 8000, external: 8000, ip: "10.20.0.11", protocol: "tcp" }]],
      ["gpu-b-0", ["0"], [{ internal: 8000, external: 8000, ip: "10.20.0.12", protocol: "tcp" }]],
    ]);
    expect(vllms.map((c) => c.command.slice(c.command.indexOf("--tensor-parallel-size"), c.command.indexOf("--tensor-parallel-size") + 2))).toEqual([
      ["--tensor-parallel-size", "2"],
      ["--tensor-parallel-size", "1"],
    ]);
    // NVLink between the 3090s; the single H100 has no peer to talk to.
    expect(vllms[0]!.env.NCCL_P2P_LEVEL).toBe("NVL");
    expect(plan.replicas?.map((r) => [r.id, r.host, r.devices, r.endpoint, r.capacity.status])).toEqual([
      ["gpu-a-0", "gpu-a", ["0", "1"], "10.20.0.11:8000", "checked"],
      ["gpu-b-0", "gpu-b", ["0"], "10.20.0.12:8000", "checked"],
    ]);
  });

  it("puts each volume on the hosts that mount it", () => {
    expect(plan.volumes.map((v) => `${v.key}@${v.host}`)).toEqual([
      "hf-cache@gpu-a",
      "hf-cache@gpu-b",
      "postgres-data@control",
      "redis-data@control",
      "qdrant-data@control",
      "object-store-data@control",
      "tls-data@control",
      "prometheus-data@control",
      "grafana-data@control",
      "litellm-metrics@control",
    ]);
  });

  it("needs the TLS material of its tcp:// host as the secret dockerTls", () => {
    expect(plan.secrets.find((s) => s.name === "dockerTls")).toEqual({
      name: "dockerTls",
      source: "config",
      present: false,
      optional: false,
    });
  });

  it("keeps pinned replicas where the stack puts them", () => {
    const v = fleetValues();
    v.hosts[2].gpu = { ...v.hosts[2].gpu, mode: "multi", vllmDevices: ["0", "1"], nvlink: true };
    v.model.placement = [
      { host: "gpu-b", devices: ["1"] },
      { host: "gpu-b", devices: ["0"] },
    ];
    const pinned = fleetPlan(v);
    expect(pinned.replicas?.map((r) => [r.id, r.devices, r.endpoint])).toEqual([
      ["gpu-b-1", ["1"], "10.20.0.12:8001"],
      ["gpu-b-0", ["0"], "10.20.0.12:8000"],
    ]);
    expect(pinned.containers.filter((c) => c.service === "model-download").map((c) => c.placement?.host)).toEqual(["gpu-b"]);
  });

  it("refuses replicas whose host cannot hold the model, naming the replica and the fix", () => {
    const v = fleetValues();
    v.model.name = "meta-llama/Llama-3.1-70B-Instruct";
    let message = "";
    try {
      fleetPlan(v);
    } catch (err) {
      expect(err).toBeInstanceOf(StackConfigError);
      message = (err as Error).message;
    }
    const lines = message.split("\n");
    expect(lines[0]).toBe(`${FLEET_FILE}: the model's replicas cannot be placed:`);
    expect(lines.slice(1).map((l) => l.slice(0, l.indexOf(":")))).toEqual([
      "  - replica gpu-a-0 on gpu-a GPU 0,1",
      "  - replica gpu-b-0 on gpu-b GPU 0",
    ]);
    expect(lines.every((l, i) => i === 0 || l.endsWith("or place the replica on a larger GPU host"))).toBe(true);
  });
});

describe("llmstack plan on the example fleet", () => {
  it("renders it offline, each container with its host", async () => {
    const io = fakeIo(FLEET_DIR);
    expect(await main(["plan", "--stack", "fleet"], io)).toBe(0);
    const lines = io.out().split("\n");
    expect(lines[0]).toBe("stack fleet (staging) on ssh://deploy@10.20.0.10, from Pulumi.fleet.yaml");
    expect(lines[2]).toMatch(/^SERVICE +HOST +IMAGE +GPUS +PUBLISHED +MEMORY +AFTER$/);
    expect(lines.find((l) => l.startsWith("vllm gpu-b-0"))).toMatch(/^vllm gpu-b-0 +gpu-b +vllm\/vllm-openai:v0\.21\.0 +GPU 0 +10\.20\.0\.12:8000->8000 /);
    expect(lines.filter((l) => l.startsWith("replica ")).map((l) => l.slice(0, l.indexOf(": capacity")))).toEqual([
      "replica gpu-a-0 on gpu-a GPU 0,1, dialled at 10.20.0.11:8000",
      "replica gpu-b-0 on gpu-b GPU 0, dialled at 10.20.0.12:8000",
    ]);
  });

  it("prints each replica's budget and, after them, the fleet's KV cache tokens and concurrency in all", async () => {
    const io = fakeIo(FLEET_DIR);
    expect(await main(["plan", "--stack", "fleet"], io)).toBe(0);
    const lines = io.out().split("\n");
    const first = lines.findIndex((l) => l.startsWith("replica "));
    expect(lines.slice(first, first + 3)).toEqual([
      "replica gpu-a-0 on gpu-a GPU 0,1, dialled at 10.20.0.11:8000: capacity: Qwen/Qwen2.5-7B-Instruct on RTX 3090, vLLM 0.21.0 " +
        "(model facts from the built-in catalog): weights 7.09 GiB + overhead 2.51 GiB per GPU, KV cache 11.61 GiB " +
        "(434816 tokens, 53.08x at max length), decode ≤ 122.91 tokens/s",
      "replica gpu-b-0 on gpu-b GPU 0, dialled at 10.20.0.12:8000: capacity: Qwen/Qwen2.5-7B-Instruct on H100 SXM, vLLM 0.21.0 " +
        "(model facts from the built-in catalog): weights 14.19 GiB + overhead 4.56 GiB per GPU, KV cache 52.55 GiB " +
        "(983936 tokens, 120.11x at max length), decode ≤ 219.94 tokens/s",
      // 434816 + 983936 tokens; 53.08 + 120.11 requests of maxModelLen at once.
      "fleet: 2 replica(s), KV cache 1418752 tokens in all, 173.19x at max length",
    ]);
  });

  it("says which replica leaves the fleet's totals unknown", () => {
    const plan = fleetPlan();
    const replicas = plan.replicas!.map((r, i) =>
      i === 1 ? { ...r, capacity: { ...r.capacity, status: "unknown" as const, note: "no facts", result: null } } : r,
    );
    expect(fleetLine(fleetCapacity(replicas))).toBe("fleet: 2 replica(s); totals unknown: replica gpu-b-0 has no estimate");
    expect(fleetCapacity(plan.replicas!)).toEqual({ replicas: 2, kvCacheTokens: 1418752, maxConcurrency: 173.19 });
  });

  it("prints each container's placement, the hosts and the replicas as JSON", async () => {
    const io = fakeIo(FLEET_DIR);
    expect(await main(["plan", "--stack", "fleet", "--json"], io)).toBe(0);
    const json = JSON.parse(io.out()) as {
      containers: { name: string; placement?: unknown }[];
      hosts: { name: string }[];
      replicas: { id: string; capacity: { status: string } }[];
      fleetCapacity: unknown;
    };
    expect(json.containers.find((c) => c.name.endsWith("vllm-gpu-a-0"))?.placement).toEqual({ host: "gpu-a", replica: "gpu-a-0" });
    expect(json.hosts.map((h) => h.name)).toEqual(["control", "gpu-a", "gpu-b"]);
    expect(json.replicas.map((r) => [r.id, r.capacity.status])).toEqual([
      ["gpu-a-0", "checked"],
      ["gpu-b-0", "checked"],
    ]);
    expect(json.fleetCapacity).toEqual({ replicas: 2, kvCacheTokens: 1418752, maxConcurrency: 173.19 });
  });
});
