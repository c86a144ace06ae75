/**
 * One replica across hosts (src/plan/span.ts): the members' containers with exact values, the rules'
 * errors and the Ethernet warning, held against the recorded facts of vLLM's multi-node launch.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { StackConfigError } from "../../src/config/errors";
import { VLLM_MULTI_NODE } from "../../src/facts/vllmMultiNode";
import { VLLM_FLAG_LIST } from "../../src/plan/flags";
import { containerJson, envList, MASK, planJson, planTable } from "../../src/plan/render";
import type { ContainerSpec, StackPlan } from "../../src/plan/types";
import { fleetPlan } from "../helpers/fleet";
import { ROOT } from "../helpers/root";
import { spanValues } from "../helpers/span";

const mask = (): string => MASK;
const vllms = (plan: StackPlan): ContainerSpec[] => plan.containers.filter((c) => c.service === "vllm");

function errorOf(values: Record<string, unknown>): string {
  try {
    fleetPlan(values);
  } catch (err) {
    expect(err).toBeInstanceOf(StackConfigError);
    return (err as Error).message;
  }
  throw new Error("expected the plan to fail");
}

const COMMON = [
  "--model", "Qwen/Qwen3-30B-A3B",
  "--served-model-name", "qwen3-30b-a3b",
];
const LAYOUT = [
  "--tensor-parallel-size", "2",
  "--pipeline-parallel-size", "2",
  "--gpu-memory-utilization", "0.9",
  "--max-model-len", "8192",
  "--dtype", "bfloat16",
];

describe("a replica across two hosts", () => {
  const plan = fleetPlan(spanValues());
  const [member, head] = vllms(plan) as [ContainerSpec, ContainerSpec];

  it("runs one vLLM per member host, the headless member first and the head after it, and a download on each host", () => {
    expect(plan.containers.filter((c) => c.placement?.host !== "control").map((c) => [c.name, c.host, c.placement])).toEqual([
      ["llm-multimodal-stack-fleet-model-download-gpu-a", "ssh://deploy@10.20.0.11", { host: "gpu-a" }],
      ["llm-multimodal-stack-fleet-model-download-gpu-b", "tcp://10.20.0.12:2376", { host: "gpu-b" }],
      ["llm-multimodal-stack-fleet-vllm-gpu-a-0-gpu-b", "tcp://10.20.0.12:2376", { host: "gpu-b", replica: "gpu-a-0", nodeRank: 1 }],
      ["llm-multimodal-stack-fleet-vllm-gpu-a-0", "ssh://deploy@10.20.0.11", { host: "gpu-a", replica: "gpu-a-0", nodeRank: 0 }],
      // The example fleet runs monitoring: a DCGM exporter on each GPU host.
      ["llm-multimodal-stack-fleet-dcgm-exporter-gpu-a", "ssh://deploy@10.20.0.11", { host: "gpu-a" }],
      ["llm-multimodal-stack-fleet-dcgm-exporter-gpu-b", "tcp://10.20.0.12:2376", { host: "gpu-b" }],
    ]);
    expect(plan.volumes.filter((v) => v.key === "hf-cache").map((v) => v.host)).toEqual(["gpu-a", "gpu-b"]);
  });

  it("launches the head (node rank 0) with the API on its host's address and the replica's port", () => {
    expect(head.entrypoints).toEqual(["vllm", "serve"]);
    expect(head.command).toEqual([
      ...COMMON,
      "--host", "10.20.0.11",
      "--port", "8000",
      ...LAYOUT,
      "--distributed-executor-backend", "mp",
      "--nnodes", "2",
      "--node-rank", "0",
      "--master-addr", "10.20.0.11",
      "--master-port", "29501",
    ]);
  });

  it("launches the other member headless, joined to the head's address, with no API of its own", () => {
    expect(member.command).toEqual([
      ...COMMON,
      ...LAYOUT,
      "--distributed-executor-backend", "mp",
      "--nnodes", "2",
      "--node-rank", "1",
      "--master-addr", "10.20.0.11",
      "--master-port", "29501",
      "--headless",
    ]);
  });

  it("gives each member its host's address and interface, and the API key to the head only", () => {
    expect(envList(head.env, mask)).toEqual([
      "CUDA_DEVICE_ORDER=PCI_BUS_ID",
      "CUDA_VISIBLE_DEVICES=0,1",
      "GLOO_SOCKET_IFNAME=enp5s0",
      "HF_HOME=/root/.cache/huggingface",
      "HF_HUB_OFFLINE=1",
      "NCCL_P2P_LEVEL=NVL",
      "NCCL_SOCKET_IFNAME=enp5s0",
      "NVIDIA_DRIVER_CAPABILITIES=compute,utility",
      "NVIDIA_VISIBLE_DEVICES=0,1",
      `VLLM_API_KEY=${MASK}`,
      "VLLM_HOST_IP=10.20.0.11",
    ]);
    expect(envList(member.env, mask)).toEqual([
      "CUDA_DEVICE_ORDER=PCI_BUS_ID",
      "CUDA_VISIBLE_DEVICES=0,1",
      "GLOO_SOCKET_IFNAME=ens1f0",
      "HF_HOME=/root/.cache/huggingface",
      "HF_HUB_OFFLINE=1",
      "NCCL_P2P_LEVEL=NVL",
      "NCCL_SOCKET_IFNAME=ens1f0",
      "NVIDIA_DRIVER_CAPABILITIES=compute,utility",
      "NVIDIA_VISIBLE_DEVICES=0,1",
      "VLLM_HOST_IP=10.20.0.12",
    ]);
  });

  it("puts every member on its host's network, publishing nothing; the head listens on the replica's port", () => {
    for (const c of [head, member]) {
      expect([c.networkMode, c.ports, c.ipcMode, c.deviceRequests]).toEqual([
        "host",
        [],
        "host",
        [{ driver: "nvidia", deviceIds: ["0", "1"], capabilities: ["gpu"] }],
      ]);
    }
    expect(head.listens).toEqual([{ internal: 8000, external: 8000, ip: "10.20.0.11", protocol: "tcp" }]);
    expect(member.listens).toBeUndefined();
    const json = containerJson(head, plan);
    expect([json.networkMode, json.networksAdvanced, json.listens]).toEqual([
      "host",
      undefined,
      [{ internal: 8000, external: 8000, ip: "10.20.0.11", protocol: "tcp" }],
    ]);
  });

  it("checks the head's health at its API; the headless member has none and is not waited for", () => {
    expect(head.healthcheck).toEqual({
      tests: ["CMD", "python3", "-c", 'import urllib.request; urllib.request.urlopen("http://10.20.0.11:8000/health", timeout=5)'],
      interval: "15s",
      timeout: "10s",
      retries: 5,
      startPeriod: "1200s",
    });
    expect([head.wait, head.waitTimeout]).toEqual([true, 1200]);
    expect([member.healthcheck, member.wait, member.waitTimeout]).toEqual([undefined, false, undefined]);
  });

  it("lists the replica once: the gateway dials its head; each member's GPUs by node rank", () => {
    expect(planJson(plan).replicas).toEqual([
      expect.objectContaining({
        id: "gpu-a-0",
        host: "gpu-a",
        devices: ["0", "1"],
        tensorParallelSize: 2,
        pipelineParallelSize: 2,
        endpoint: "10.20.0.11:8000",
        members: [
          { host: "gpu-a", devices: ["0", "1"], nodeRank: 0 },
          { host: "gpu-b", devices: ["0", "1"], nodeRank: 1 },
        ],
      }),
    ]);
  });

  it("budgets memory with the weights split over both hosts' pipeline stages", () => {
    const budget = plan.replicas![0]!.capacity;
    expect([budget.status, budget.result?.weightsGiBPerGpu, budget.result?.violations]).toEqual(["checked", 14.22, []]);
  });

  it("warns, without failing, that the pipeline crosses plain Ethernet, in the table and the JSON", () => {
    const warning =
      "Pulumi.fleet.yaml: model.placement[0] runs pipeline stages across gpu-a, gpu-b over plain Ethernet (gpu-a, " +
      "gpu-b: fabric ethernet): every token's activations cross the network between stages, so expect less " +
      "throughput than on one host; set hosts[].fabric: infiniband or roce where the hosts have it";
    expect(plan.warnings).toEqual([warning]);
    expect(planJson(plan).warnings).toEqual([warning]);
    expect(planTable(plan)).toContain(`\nwarning: ${warning}\n`);
    expect(planTable(plan)).toContain(
      "vllm gpu-a-0 rank 0  gpu-a    vllm/vllm-openai:v0.21.0                                  GPU 0,1  10.20.0.11:8000 (host network)",
    );
  });
});

describe("the launch against vLLM's recorded facts", () => {
  const plan = fleetPlan(spanValues());
  const known = new Set(readFileSync(join(ROOT, VLLM_FLAG_LIST.file), "utf8").split("\n").filter((l) => l.startsWith("--")));
  const value = (c: ContainerSpec, flag: string): string | undefined => {
    const i = c.command.indexOf(flag);
    return i === -1 ? undefined : c.command[i + 1];
  };
  const f = VLLM_MULTI_NODE.flags;

  it("uses only flags vllm serve accepts, the multi-node ones among them", () => {
    for (const c of vllms(plan)) expect(c.command.filter((a) => a.startsWith("--") && !known.has(a))).toEqual([]);
    expect(Object.values(f).filter((flag) => !known.has(flag))).toEqual([]);
  });

  it("runs the mp executor on every node, ranks 0..n-1, all pointed at the head's store; only rank 0 serves", () => {
    const cs = vllms(plan).sort((a, b) => a.placement!.nodeRank! - b.placement!.nodeRank!);
    const head = cs.find((c) => c.placement!.nodeRank === VLLM_MULTI_NODE.headRank)!;
    const headAddress = plan.hosts!.find((h) => h.name === head.placement!.host)!.address;
    for (const c of cs) {
      const me = plan.hosts!.find((h) => h.name === c.placement!.host)!;
      expect([
        value(c, f.distributedExecutorBackend),
        value(c, f.nnodes),
        value(c, f.nodeRank),
        value(c, f.masterAddr),
        value(c, f.masterPort),
        c.command.includes(f.headless),
        c.env[VLLM_MULTI_NODE.hostIpEnv],
        ...VLLM_MULTI_NODE.interfaceEnv.map((k) => c.env[k]),
      ]).toEqual([
        VLLM_MULTI_NODE.executorBackend,
        String(cs.length),
        String(c.placement!.nodeRank),
        headAddress,
        String(VLLM_MULTI_NODE.defaultMasterPort),
        c !== head,
        me.address,
        me.interface,
        me.interface,
      ]);
    }
    // vLLM runs world size / nnodes GPUs on every node (ParallelConfig.local_world_size).
    for (const c of cs) {
      const world = Number(value(c, "--tensor-parallel-size")) * Number(value(c, "--pipeline-parallel-size"));
      expect(c.deviceRequests[0]!.deviceIds).toHaveLength(world / cs.length);
    }
  });
});

describe("the rules of a replica across hosts", () => {
  it("gives a second replica headed on the same host the next port and master port", () => {
    const v = spanValues();
    v.hosts[1].gpu.vllmDevices = ["0", "1", "2", "3"];
    v.hosts[2].gpu.vllmDevices = ["0", "1", "2", "3"];
    v.model.placement.push({
      span: [
        { host: "gpu-a", devices: ["2", "3"] },
        { host: "gpu-b", devices: ["2", "3"] },
      ],
    });
    const heads = vllms(fleetPlan(v)).filter((c) => c.placement!.nodeRank === 0);
    expect(heads.map((c) => [c.name, c.listens![0]!.external, c.command[c.command.indexOf("--master-port") + 1]])).toEqual([
      ["llm-multimodal-stack-fleet-vllm-gpu-a-0", 8000, "29501"],
      ["llm-multimodal-stack-fleet-vllm-gpu-a-1", 8001, "29502"],
    ]);
  });

  it("holds the head's API port, which it binds without publishing, against the other ports of its host", () => {
    const v = spanValues();
    // The gateway (with the data stores and monitoring, which go with it) on the head's host.
    v.hosts = v.hosts.slice(1);
    v.hosts[0].roles = ["gpu", "gateway", "state", "monitoring"];
    v.gateway.port = 8000;
    expect(errorOf(v)).toBe(
      "Pulumi.fleet.yaml: host port 8000/tcp is published twice, by vllm on 10.20.0.11 and by gateway-tls on 0.0.0.0; " +
        "give llmstack:gateway.port another port",
    );
  });

  it("refuses a member host without an interface, naming the key and how to find it", () => {
    const v = spanValues();
    delete v.hosts[2].interface;
    expect(errorOf(v)).toBe(
      "Pulumi.fleet.yaml: the model's replicas cannot be placed:\n" +
        "  - model.placement[0].span: gpu-b has no interface; a replica across hosts sets NCCL_SOCKET_IFNAME and " +
        "GLOO_SOCKET_IFNAME to the interface that owns the host's address 10.20.0.12: set llmstack:hosts[2].interface " +
        'to the name "ip -o addr show to 10.20.0.12" prints on gpu-b',
    );
  });

  it("refuses tensor parallelism across hosts on Ethernet", () => {
    const v = spanValues();
    v.model.placement[0].across = "tensor";
    v.hosts[1].fabric = "infiniband";
    expect(errorOf(v)).toBe(
      "Pulumi.fleet.yaml: the model's replicas cannot be placed:\n" +
        "  - model.placement[0]: across: tensor splits every layer across gpu-a, gpu-b, which needs InfiniBand or " +
        "RoCE between them, but the fabric is gpu-b ethernet (hosts[].fabric, ethernet when left out); use across: " +
        "pipeline (the default: pipeline stages across hosts, tensor parallel within each), or set fabric: " +
        "infiniband or roce on hosts that have it",
    );
  });

  it("runs tensor parallelism across hosts that declare InfiniBand or RoCE, without a warning", () => {
    const v = spanValues();
    v.model.placement[0].across = "tensor";
    v.hosts[1].fabric = "infiniband";
    v.hosts[2].fabric = "roce";
    const plan = fleetPlan(v);
    const layout = (c: ContainerSpec) => c.command.slice(c.command.indexOf("--tensor-parallel-size"), c.command.indexOf("--tensor-parallel-size") + 4);
    expect(vllms(plan).map(layout)).toEqual([
      ["--tensor-parallel-size", "4", "--pipeline-parallel-size", "1"],
      ["--tensor-parallel-size", "4", "--pipeline-parallel-size", "1"],
    ]);
    expect(plan.warnings).toBeUndefined();
  });

  it("runs a pipeline over InfiniBand without a warning", () => {
    const v = spanValues();
    v.hosts[1].fabric = "infiniband";
    v.hosts[2].fabric = "infiniband";
    expect(fleetPlan(v).warnings).toBeUndefined();
  });

  it("refuses member hosts with different replica shapes, and one host twice", () => {
    const v = spanValues();
    v.hosts[2].gpu.tensorParallelSize = 1;
    v.hosts[2].gpu.pipelineParallelSize = 2;
    v.model.placement[0].span.push({ host: "gpu-a", devices: ["0", "1"] });
    expect(errorOf(v)).toBe(
      "Pulumi.fleet.yaml: the model's replicas cannot be placed:\n" +
        "  - model.placement[0].span[2]: GPU 0 of gpu-a is already taken by model.placement[0].span[0]; every GPU is used at most once: pin another GPU\n" +
        "  - model.placement[0].span[2]: GPU 1 of gpu-a is already taken by model.placement[0].span[0]; every GPU is used at most once: pin another GPU\n" +
        "  - model.placement[0].span lists gpu-a twice; a replica across hosts has one member per host: pin all its GPUs on gpu-a in one member\n" +
        "  - model.placement[0].span: its hosts run tensorParallelSize × pipelineParallelSize 2 × 1 (gpu-a), 1 × 2 (gpu-b); " +
        "vLLM runs the same number of GPUs on every node: give the member hosts the same tensorParallelSize and pipelineParallelSize",
    );
  });

  it("refuses the model pinned to one host, which cannot hold it, and names the fix", () => {
    const v = spanValues();
    v.model.placement = [{ host: "gpu-a", devices: ["0", "1"] }];
    expect(errorOf(v)).toMatch(
      /^Pulumi\.fleet\.yaml: the model's replicas cannot be placed:\n {2}- replica gpu-a-0 on gpu-a GPU 0,1: .+; give the host's replicas more GPUs/,
    );
  });

  it("names the member whose host cannot hold its share", () => {
    const v = spanValues();
    v.hosts[2].gpu.memoryMiB = 8192;
    v.hosts[2].gpu.gpuName = "NVIDIA GeForce RTX 3070";
    expect(errorOf(v)).toMatch(
      /^Pulumi\.fleet\.yaml: the model's replicas cannot be placed:\n {2}- replica gpu-a-0, its member on gpu-b GPU 0,1: .+; add a host to the span \(pipeline stages split the weights across hosts\), give each member more GPUs, or lower model\.maxModelLen$/,
    );
  });
});

describe("the stack file's shape of a replica across hosts", () => {
  it.each<[string, (v: Record<string, any>) => void, string]>([
    [
      "a misspelt key of a pin",
      (v) => (v.model.placement = [{ host: "gpu-a", device: ["0", "1"] }]),
      "llmstack:model.placement[0].device: unknown key; allowed keys here are host, devices, span, across; check the spelling or remove it",
    ],
    [
      "a span of one member",
      (v) => (v.model.placement[0].span = [{ host: "gpu-a", devices: ["0", "1"] }]),
      'llmstack:model.placement[0].span: must list at least two members (one per host); a replica on one host is a plain {host, devices} pin (got [{"host":"gpu-a","devices":["0","1"]}])',
    ],
    [
      "an unknown fabric",
      (v) => (v.hosts[1].fabric = "wifi"),
      'llmstack:hosts[1].fabric: Invalid option: expected one of "ethernet"|"infiniband"|"roce" (got "wifi")',
    ],
  ])("rejects %s with one clear line", (_, edit, line) => {
    const v = spanValues();
    edit(v);
    expect(errorOf(v).split("\n")).toContain(`  - ${line}`);
  });
});
