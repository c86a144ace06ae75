/**
 * Preflight of a replica across hosts (test/helpers/span.ts: Qwen3-30B-A3B across gpu-a, the head over ssh,
 * and gpu-b over tcp://): `span.interface`, `span.reach`, `span.image` and `span.model`, from what the span
 * script prints, through a fake exec (./fleetHosts.ts); every text is asserted exactly.
 */
import { describe, expect, it } from "vitest";
import { fleetGateVerdict, GATE_SPAN_PARTS } from "../../src/preflight/fleetGate";
import { runFleetPreflight } from "../../src/preflight/fleetRun";
import { reachScript } from "../../src/preflight/replicaReach";
import { parseSpan, spanListenerName, spanScript } from "../../src/preflight/spanScript";
import type { CheckResult } from "../../src/preflight/types";
import { spanValues } from "../helpers/span";
import { fleetIo, GPU_A_PROBE, GPU_B_PROBE, H100_UUID, needsOf, VERSION, type FleetAnswers } from "./fleetHosts";

const IMAGE = "vllm/vllm-openai:v0.21.0";
const DIGEST = "vllm/vllm-openai@sha256:5d3e0a1c7f4b9e2d8a6c1b0f3e7d9a2c4b6e8f0a1c3e5d7b9f2a4c6e8d0b2f4a";
const OTHER = "vllm/vllm-openai@sha256:0b1c2d3e4f5a6b7c8d9e0f1a2b3c4d5e6f7a8b9c0d1e2f3a4b5c6d7e8f9a0b1c";
const FILES = [
  "file 1247 config.json",
  "file 4971522456 model-00001-of-00002.safetensors",
  "file 1136420512 model-00002-of-00002.safetensors",
  "file 31548 model.safetensors.index.json",
];

interface Member {
  readonly image?: string;
  readonly python?: string;
  readonly iface?: string;
  readonly model?: readonly string[];
}

const GOOD_A: Member = { image: `sha256:9f1e ["${DIGEST}"]`, python: IMAGE, iface: "ok 10.20.0.11 fe80::a00:27ff:fe4e:66a1", model: [...FILES, "listed"] };
const GOOD_B: Member = { image: `sha256:9f1e ["${DIGEST}"]`, python: IMAGE, iface: "ok 10.20.0.12", model: [...FILES, "listed"] };

/** A span script's output: each member's section, then the reach's lines. */
function spanOut(a: Member = GOOD_A, b: Member = GOOD_B, reach: readonly string[] = ["listening", "dial gpu-b ok"]): string {
  const member = (host: string, m: Member): string[] => [
    `@@member ${host}`,
    ...(m.image !== undefined ? [`image ${m.image}`] : []),
    m.python !== undefined ? `python ${m.python}` : "python none",
    ...(m.iface !== undefined ? [`iface ${m.iface}`] : []),
    ...(m.model ?? []),
  ];
  return [...member("gpu-a", a), ...member("gpu-b", b), "@@reach", ...reach, "done", ""].join("\n");
}

async function spanResults(out: string, values: Record<string, any> = spanValues()): Promise<CheckResult[]> {
  const io = fleetIo({ span: { "gpu-a-0": out } } satisfies FleetAnswers);
  const groups = await runFleetPreflight(needsOf(values), io.exec, io.env);
  return groups.flatMap((g) => g.results).filter((r) => r.check.startsWith("span."));
}

const IFACE_FIX_B =
  'set llmstack:hosts[2].interface to the interface that owns 10.20.0.12 on gpu-b (the name `ip -o addr show to 10.20.0.12` ' +
  "prints there), or llmstack:hosts[2].address to an address of ens1f0, in Pulumi.fleet.yaml";

describe("validate: a replica across hosts", () => {
  it("passes when the interfaces own the addresses, gpu-b reaches the head's store, and the image and files match", async () => {
    expect(await spanResults(spanOut())).toEqual([
      { check: "span.interface", status: "pass", found: "gpu-a: enp5s0 owns 10.20.0.11 (replica gpu-a-0, node 0)", fix: null },
      { check: "span.interface", status: "pass", found: "gpu-b: ens1f0 owns 10.20.0.12 (replica gpu-a-0, node 1)", fix: null },
      { check: "span.reach", status: "pass", found: "gpu-b reaches 10.20.0.11:29501 (replica gpu-a-0's torch.distributed store on gpu-a)", fix: null },
      { check: "span.image", status: "pass", found: `replica gpu-a-0's members gpu-a, gpu-b have the same ${IMAGE} (${DIGEST})`, fix: null },
      {
        check: "span.model",
        status: "pass",
        found: "replica gpu-a-0's members gpu-a, gpu-b hold the same 4 files of Qwen/Qwen3-30B-A3B@main (5.7 GiB)",
        fix: null,
      },
    ]);
  });

  it("shows them under the head's host, with its GPUs sized over every member's (pipeline parallel across the hosts)", async () => {
    const io = fleetIo({ span: { "gpu-a-0": spanOut() } });
    const groups = await runFleetPreflight(needsOf(spanValues()), io.exec, io.env);
    expect(groups.map((g) => [g.host, g.results.filter((r) => r.check.startsWith("span.")).length])).toEqual([
      ["control", 0],
      ["gpu-a", 5],
      ["gpu-b", 0],
      [null, 0],
    ]);
    expect(groups.flatMap((g) => g.results).filter((r) => r.status === "fail")).toEqual([]);
    expect(groups[1]!.results.find((r) => r.check === "gpu.size")!.found).toBe(
      "Qwen/Qwen3-30B-A3B weights, about 14559 MiB per vLLM GPU, fit in 0.9 of GPU 0 (NVIDIA GeForce RTX 3090) 24576 MiB, " +
        "GPU 1 (NVIDIA GeForce RTX 3090) 24576 MiB",
    );
  });

  it("runs one span script here, reaching each member host through its own --host", async () => {
    const io = fleetIo({ span: { "gpu-a-0": spanOut() } });
    await runFleetPreflight(needsOf(spanValues()), io.exec, io.env);
    const scripts = io.calls.filter((c) => c.file === "sh" && c.opts?.input?.includes("@@member")).map((c) => c.opts!.input!);
    expect(scripts).toHaveLength(1);
    expect(scripts[0]!.match(/'--host' '[^']+'/g)!.filter((v, i, all) => all.indexOf(v) === i)).toEqual([
      "'--host' 'ssh://deploy@10.20.0.11'",
      "'--host' 'tcp://10.20.0.12:2376'",
    ]);
  });

  it("a replica on one host runs no span script and gets no span checks", async () => {
    const io = fleetIo();
    const groups = await runFleetPreflight(needsOf((await import("../helpers/fleet")).fleetValues()), io.exec, io.env);
    expect(io.calls.filter((c) => c.file === "sh" && c.opts?.input?.includes("@@member"))).toEqual([]);
    expect(groups.flatMap((g) => g.results).filter((r) => r.check.startsWith("span."))).toEqual([]);
  });
});

describe("replica.gpus: every member host's GPUs", () => {
  /** The replica's replica.gpus results, with gpu-b reached over ssh answering `gpuB` when given. */
  async function gpuResults(gpuB?: string): Promise<CheckResult[]> {
    const values = spanValues();
    if (gpuB !== undefined) {
      values.hosts[2].endpoint = "ssh://deploy@10.20.0.12";
      values.hosts[2].hostKey = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOZTnr5j37i8kNzadr+m52xYr8ww59ioeCk5Qzu56JYk";
    }
    const io = fleetIo({ span: { "gpu-a-0": spanOut() }, ...(gpuB !== undefined ? { probe: { "deploy@10.20.0.12": gpuB } } : {}) });
    const groups = await runFleetPreflight(needsOf(values), io.exec, io.env);
    return groups.flatMap((g) => g.results).filter((r) => r.check === "replica.gpus");
  }

  const HEAD_PASS = {
    check: "replica.gpus",
    status: "pass",
    found: "replica gpu-a-0 (node 0) on gpu-a GPU 0 (NVIDIA GeForce RTX 3090), GPU 1 (NVIDIA GeForce RTX 3090)",
    fix: null,
  };

  it("compares each member's GPUs with its own host's nvidia-smi", async () => {
    expect(await gpuResults(GPU_A_PROBE)).toEqual([
      HEAD_PASS,
      {
        check: "replica.gpus",
        status: "pass",
        found: "replica gpu-a-0 (node 1) on gpu-b GPU 0 (NVIDIA GeForce RTX 3090), GPU 1 (NVIDIA GeForce RTX 3090)",
        fix: null,
      },
    ]);
  });

  it("a member placed on a GPU its host does not have fails, though the head's GPUs are there", async () => {
    // gpu-b answers with its one H100, while the span places the member on GPUs 0 and 1.
    expect(await gpuResults(GPU_B_PROBE)).toEqual([
      HEAD_PASS,
      {
        check: "replica.gpus",
        status: "fail",
        found: `replica gpu-a-0 (node 1) is placed on gpu-b GPU 1, which gpu-b does not have; it has 1 GPU(s): 0 = ${H100_UUID}`,
        fix: "list GPUs gpu-b has in llmstack:hosts[2].gpu.vllmDevices (and in llmstack:model.placement where it pins them) in Pulumi.fleet.yaml",
      },
    ]);
  });

  it("a member on a tcp:// host is a warning: its GPUs cannot be read", async () => {
    expect(await gpuResults()).toEqual([
      HEAD_PASS,
      { check: "replica.gpus", status: "warn", found: "replica gpu-a-0 (node 1)'s GPU 0, 1 not compared with gpu-b's GPUs: nvidia-smi could not run there", fix: null },
    ]);
  });
});

describe("span.interface", () => {
  it("an interface that does not own the host's address", async () => {
    const results = await spanResults(spanOut(GOOD_A, { ...GOOD_B, iface: "other 192.168.7.12 fe80::1" }));
    expect(results.filter((r) => r.status !== "pass")).toEqual([
      {
        check: "span.interface",
        status: "fail",
        found: "gpu-b: interface ens1f0 does not own 10.20.0.12 (replica gpu-a-0, node 1); it has 192.168.7.12, fe80::1",
        fix: IFACE_FIX_B,
      },
    ]);
  });

  it("a host without the interface", async () => {
    const results = await spanResults(spanOut(GOOD_A, { ...GOOD_B, iface: "missing docker0 eno1 lo" }));
    expect(results.filter((r) => r.status !== "pass")).toEqual([
      {
        check: "span.interface",
        status: "fail",
        found: "gpu-b has no interface ens1f0 (replica gpu-a-0, node 1); it has docker0, eno1, lo",
        fix: IFACE_FIX_B,
      },
    ]);
  });

  it("addresses that could not be read are a warning", async () => {
    const results = await spanResults(spanOut({ ...GOOD_A, iface: "error OCI runtime create failed" }));
    expect(results.filter((r) => r.status !== "pass")).toEqual([
      {
        check: "span.interface",
        status: "warn",
        found: "gpu-a: the addresses of enp5s0 could not be read (replica gpu-a-0, node 0): OCI runtime create failed",
        fix: "run `ip -o addr show dev enp5s0` on gpu-a and check that it lists 10.20.0.11",
      },
    ]);
  });

  it("a host without an image to run the check with: a warning with the pull, for each check that needs one", async () => {
    const b: Member = { image: "missing Error response from daemon: No such image: vllm/vllm-openai:v0.21.0" };
    const results = await spanResults(spanOut(GOOD_A, b, ["listening", "dial gpu-b no image"]));
    const pull = "pull one of them there first: docker --host tcp://10.20.0.12:2376 pull vllm/vllm-openai:v0.21.0";
    expect(results.filter((r) => r.status !== "pass")).toEqual([
      {
        check: "span.interface",
        status: "warn",
        found: `gpu-b: ens1f0 not checked (replica gpu-a-0, node 1): none of ${IMAGE} is on gpu-b yet to read its addresses with`,
        fix: pull,
      },
      {
        check: "span.reach",
        status: "warn",
        found: `gpu-b → 10.20.0.11:29501 (replica gpu-a-0's torch.distributed store on gpu-a) not dialed: none of ${IMAGE} is on gpu-b yet to dial from`,
        fix: pull,
      },
      {
        check: "span.image",
        status: "fail",
        found: `${IMAGE} is not on gpu-b (replica gpu-a-0); gpu-a has ${DIGEST}; a tag pulled on each host at deploy may name different images`,
        fix: "pin the image by digest (llmstack images pin --stack fleet), or pull it on gpu-b now (docker --host tcp://10.20.0.12:2376 pull vllm/vllm-openai:v0.21.0)",
      },
      {
        check: "span.model",
        status: "warn",
        found: `gpu-b: the model cache not read (replica gpu-a-0): none of ${IMAGE} is on gpu-b yet to read it with`,
        fix: pull,
      },
    ]);
  });
});

const HEAD = "10.20.0.11:29501 (replica gpu-a-0's torch.distributed store on gpu-a)";

describe("span.reach", () => {
  it("a master port taken on the head's host is blocked", async () => {
    const results = await spanResults(spanOut(GOOD_A, GOOD_B, ["listen error [Errno 98] Address already in use"]));
    expect(results.filter((r) => r.check === "span.reach")).toEqual([
      {
        check: "span.reach",
        status: "fail",
        found: `${HEAD} is blocked: the port is taken on gpu-a: [Errno 98] Address already in use`,
        fix:
          "stop what holds port 29501 on gpu-a (ss -tlnp 'sport = :29501' on the host shows it; a container on the host's network " +
          "holds it too: docker --host ssh://deploy@10.20.0.11 ps), then run validate again",
      },
    ]);
  });

  it("a listener that cannot bind the head's address", async () => {
    const results = await spanResults(spanOut(GOOD_A, GOOD_B, ["listen error [Errno 99] Cannot assign requested address"]));
    expect(results.filter((r) => r.check === "span.reach")).toEqual([
      {
        check: "span.reach",
        status: "fail",
        found: `${HEAD}: the listener did not start on gpu-a: [Errno 99] Cannot assign requested address`,
        fix:
          "check that gpu-a owns 10.20.0.11 (llmstack:hosts[1].address in Pulumi.fleet.yaml) and that Docker on gpu-a runs a " +
          "container on the host's network (--network host)",
      },
    ]);
  });

  it("a member that cannot reach the head", async () => {
    const results = await spanResults(spanOut(GOOD_A, GOOD_B, ["listening", "dial gpu-b error timed out"]));
    expect(results.filter((r) => r.check === "span.reach")).toEqual([
      {
        check: "span.reach",
        status: "fail",
        found: `gpu-b (10.20.0.12) cannot reach ${HEAD} within 10 s: timed out`,
        fix:
          "let gpu-b connect to TCP port 29501 on gpu-a's 10.20.0.11 (a firewall between them drops it: open the port to 10.20.0.12; " +
          "NCCL and Gloo also connect between the members on ports of their own, so let the members' addresses reach each other), " +
          "and check that llmstack:hosts[1].address is an address gpu-a owns",
      },
    ]);
  });

  it("the head's own running container: the member dials its store", async () => {
    const results = await spanResults(spanOut(GOOD_A, GOOD_B, ["own llm-multimodal-stack-fleet-vllm-gpu-a-0", "dial gpu-b ok"]));
    expect(results.find((r) => r.check === "span.reach")!.found).toBe(`gpu-b reaches ${HEAD}, held by the head's own container`);
  });

  it("no image on the head's host to listen with", async () => {
    const results = await spanResults(spanOut(GOOD_A, GOOD_B, ["listen no image"]));
    expect(results.filter((r) => r.check === "span.reach")).toEqual([
      {
        check: "span.reach",
        status: "warn",
        found: `${HEAD} not checked: none of ${IMAGE} is on gpu-a yet to listen with`,
        fix: "pull one of them there first: docker --host ssh://deploy@10.20.0.11 pull vllm/vllm-openai:v0.21.0",
      },
    ]);
  });

  it("a script cut off before the member dialed", async () => {
    const results = await spanResults(spanOut(GOOD_A, GOOD_B, ["listening"]).replace("done\n", ""));
    expect(results.filter((r) => r.check === "span.reach")).toEqual([
      {
        check: "span.reach",
        status: "fail",
        found: `gpu-b → ${HEAD}: the check stopped before it finished`,
        fix: "run validate again; if it stops again, run the listener by hand on gpu-a",
      },
    ]);
  });
});

describe("span.image", () => {
  it("different digests on the members", async () => {
    const results = await spanResults(spanOut(GOOD_A, { ...GOOD_B, image: `sha256:77aa ["${OTHER}"]` }));
    expect(results.filter((r) => r.check === "span.image")).toEqual([
      {
        check: "span.image",
        status: "fail",
        found: `replica gpu-a-0's members have different ${IMAGE} images: gpu-a ${DIGEST}, gpu-b ${OTHER}`,
        fix:
          "pin the image by digest (llmstack images pin --stack fleet), or pull the same image on every member (docker --host " +
          "ssh://deploy@10.20.0.11 pull vllm/vllm-openai:v0.21.0; docker --host tcp://10.20.0.12:2376 pull vllm/vllm-openai:v0.21.0)",
      },
    ]);
  });

  it("the same Id without a digest (an image loaded on both) is the same image", async () => {
    const results = await spanResults(spanOut({ ...GOOD_A, image: "sha256:9f1e []" }, { ...GOOD_B, image: "sha256:9f1e null" }));
    expect(results.find((r) => r.check === "span.image")!.found).toBe(`replica gpu-a-0's members gpu-a, gpu-b have the same ${IMAGE} (sha256:9f1e)`);
  });

  it("an image pinned by digest that a member has not pulled yet is a warning", async () => {
    const values = spanValues();
    values.images = { ...values.images, vllm: DIGEST };
    const missing: Member = { ...GOOD_B, image: `missing Error response from daemon: No such image: ${DIGEST}` };
    const results = await spanResults(spanOut(GOOD_A, missing), values);
    expect(results.filter((r) => r.check === "span.image")).toEqual([
      {
        check: "span.image",
        status: "warn",
        found: `${DIGEST} is not on gpu-b yet (replica gpu-a-0); gpu-a has ${DIGEST}; it is pinned by digest, so the deploy pulls the same image there`,
        fix: null,
      },
    ]);
  });
});

describe("span.model", () => {
  it("different files on the members", async () => {
    const partial = [FILES[0]!, FILES[1]!, "file -1 model-00002-of-00002.safetensors", "file 31000 model.safetensors.index.json", "listed"];
    const results = await spanResults(spanOut(GOOD_A, { ...GOOD_B, model: partial }));
    expect(results.filter((r) => r.check === "span.model")).toEqual([
      {
        check: "span.model",
        status: "fail",
        found:
          "replica gpu-a-0's members hold different files of Qwen/Qwen3-30B-A3B@main: model-00002-of-00002.safetensors (gpu-a " +
          "1136420512 bytes, gpu-b its blob is missing); model.safetensors.index.json (gpu-a 31548 bytes, gpu-b 31000 bytes)",
        fix:
          "let the model download finish on every member (an interrupted download leaves files out: docker --host <endpoint> logs " +
          "<project>-<stack>-model-download-<host>), pin llmstack:model.revision to a commit in Pulumi.fleet.yaml so every host " +
          "fetches the same files, and to fetch it again on a host remove hub/models--Qwen--Qwen3-30B-A3B from its " +
          "llm-multimodal-stack-fleet-hf-cache volume",
      },
    ]);
  });

  it("a member without the model yet is a warning: the download fetches it", async () => {
    const results = await spanResults(spanOut(GOOD_A, { ...GOOD_B, model: ["model absent"] }));
    expect(results.filter((r) => r.check === "span.model")).toEqual([
      {
        check: "span.model",
        status: "warn",
        found:
          "Qwen/Qwen3-30B-A3B@main is not in the model cache of gpu-b yet (replica gpu-a-0); the model download fetches it there " +
          "at deploy, so its files are compared once they are there",
        fix: null,
      },
    ]);
  });

  it("a cache that could not be read is a warning", async () => {
    const results = await spanResults(spanOut({ ...GOOD_A, model: ["model error permission denied"] }));
    expect(results.filter((r) => r.check === "span.model")).toEqual([
      {
        check: "span.model",
        status: "warn",
        found: "gpu-a: the model cache volume llm-multimodal-stack-fleet-hf-cache could not be read (replica gpu-a-0): permission denied",
        fix: "check the volume on gpu-a: docker --host ssh://deploy@10.20.0.11 volume inspect llm-multimodal-stack-fleet-hf-cache",
      },
    ]);
  });
});

describe("the span script", () => {
  const replica = () => {
    const r = needsOf(spanValues()).replicas[0]!;
    return { ...r, span: r.span! };
  };
  const docker = (host: string) => ["--host", host === "gpu-a" ? "ssh://deploy@10.20.0.11" : "tcp://10.20.0.12:2376"];
  const lines = (parts?: typeof GATE_SPAN_PARTS) =>
    spanScript({ replica: replica(), docker, pythonImages: () => [IMAGE], ...(parts ? { parts } : {}) }).split("\n").map((l) => l.trim());

  it("listens on the head's host network at its address and master port, and dials it from gpu-b's", () => {
    const all = lines();
    expect(all.find((l) => l.includes("--name 'llm-multimodal-stack-fleet-vllm-gpu-a-0-span-preflight' --network host"))!.split(" -c ")[0]).toBe(
      "'docker' '--host' 'ssh://deploy@10.20.0.11' run --rm --name 'llm-multimodal-stack-fleet-vllm-gpu-a-0-span-preflight' " +
        '--network host --entrypoint python3 "$img0"',
    );
    // The Python programs span lines: their arguments end the command's last line.
    expect(all.filter((l) => l.endsWith(`' '10.20.0.11' 29501 30 >"$log" 2>&1 &`))).toHaveLength(1);
    expect(all.filter((l) => l.startsWith("last=$('docker' '--host' 'tcp://10.20.0.12:2376' run --rm --network host --entrypoint python3 \"$img1\" -c 'import socket, sys, time"))).toHaveLength(1);
    expect(all.filter((l) => l.endsWith(`' '10.20.0.11' 29501 10 "$mode" 2>&1 | tail -n 1)`))).toHaveLength(1);
    expect(spanListenerName(replica())).toBe("llm-multimodal-stack-fleet-vllm-gpu-a-0-span-preflight");
  });

  it("reads the interface on each member host's network, and the model cache volume read-only", () => {
    const all = lines();
    expect(all.filter((l) => / run --rm --network host --entrypoint python3 "\$img\d" -c 'import socket, struct, sys$/.test(l))).toHaveLength(2);
    expect(all.filter((l) => l.endsWith("' 'ens1f0' '10.20.0.12' 2>&1 | tail -n 1)"))).toHaveLength(1);
    expect(all.filter((l) => l.includes("--mount type=volume,src=llm-multimodal-stack-fleet-hf-cache,dst=/llmstack-volume,readonly,volume-nocopy"))).toHaveLength(2);
  });

  it("in the gate: no image or model lines, which the update pulls and downloads after it", () => {
    const gate = lines(GATE_SPAN_PARTS).join("\n");
    expect([gate.includes("{{json .RepoDigests}}"), gate.includes("volume inspect"), gate.includes("'ens1f0'"), gate.includes("29501")]).toEqual([
      false,
      false,
      true,
      true,
    ]);
  });

  it("the gateway's reach script finds the head's own container by its name: on the host's network it publishes nothing", () => {
    const r = replica();
    const head = reachScript({ replica: r, replicaDocker: docker("gpu-a"), gatewayDocker: ["--host", "ssh://deploy@10.20.0.10"], listenImages: [IMAGE], dialImages: [IMAGE] });
    expect(head.split("\n")[2]).toBe(
      "if 'docker' '--host' 'ssh://deploy@10.20.0.11' ps -q --filter 'name=^/llm-multimodal-stack-fleet-vllm-gpu-a-0$' --filter status=running 2>/dev/null | grep -q .; then",
    );
  });

  it("parses a script cut off in a member's section", () => {
    expect(parseSpan("@@member gpu-a\nimage sha256:9f1e []\npython vllm/vllm-openai:v0.21.0\n")).toEqual({
      members: new Map([["gpu-a", { python: IMAGE, image: { kind: "found", id: "sha256:9f1e", digests: [] } }]]),
      finished: false,
    });
  });
});

describe("the gate: a replica across hosts", () => {
  it("stops on a member that cannot reach the head, and on an interface that does not own its address", () => {
    const needs = needsOf(spanValues());
    const daemon = `@@rc 0\n${VERSION.stdout}\n@@stderr\n`;
    const outputs = new Map(needs.hosts.map((h) => [h.name, { daemon }]));
    const out = spanOut({ python: IMAGE, iface: "ok 10.20.0.11" }, { python: IMAGE, iface: "other 192.168.7.12" }, [
      "listening",
      "dial gpu-b error [Errno 113] No route to host",
    ]);
    const verdict = fleetGateVerdict(needs, outputs, new Map(), false, new Map([["gpu-a-0", out]]));
    expect(verdict.error).toBe(
      "Pulumi.fleet.yaml: preflight failed on its hosts, so no container was created and nothing was changed:\n" +
        "  gpu-a:\n" +
        "  - span.interface: gpu-b: interface ens1f0 does not own 10.20.0.12 (replica gpu-a-0, node 1); it has 192.168.7.12\n" +
        `    fix: ${IFACE_FIX_B}\n` +
        `  - span.reach: gpu-b (10.20.0.12) cannot reach ${HEAD} within 10 s: [Errno 113] No route to host\n` +
        "    fix: let gpu-b connect to TCP port 29501 on gpu-a's 10.20.0.11 (a firewall between them drops it: open the port to " +
        "10.20.0.12; NCCL and Gloo also connect between the members on ports of their own, so let the members' addresses reach " +
        "each other), and check that llmstack:hosts[1].address is an address gpu-a owns\n" +
        "Run `llmstack validate --stack fleet` to see every check.",
    );
  });
});
