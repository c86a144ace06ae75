/**
 * Preflight across hosts (`llmstack validate` on a stack with hosts): every host's daemon, each GPU host's
 * GPUs and NVLink against its own section, each replica's GPUs on its host, its port free there and the
 * gateway host's connection to it, grouped per host. The hosts answer through a fake exec (./fleetHosts.ts)
 * with real nvidia-smi captures; every text is asserted exactly.
 */
import { describe, expect, it } from "vitest";
import { main } from "../../src/cli/main";
import { hostDaemonCheck } from "../../src/preflight/fleetChecks";
import { formatFleetResults, runFleetPreflight } from "../../src/preflight/fleetRun";
import { listenerName, parseReach, reachScript } from "../../src/preflight/replicaReach";
import type { CheckResult } from "../../src/preflight/types";
import { FLEET_DIR, fleetValues } from "../helpers/fleet";
import { RIG_3090_UUIDS } from "./probeOutput";
import { fleetIo, GPU_A_PCIE_PROBE, needsOf, sshFleetValues, type FleetAnswers } from "./fleetHosts";

async function groups(values: Record<string, unknown>, answers: FleetAnswers = {}) {
  const io = fleetIo(answers);
  return { groups: await runFleetPreflight(needsOf(values), io.exec, io.env), io };
}

/** The results that are not a pass, as "<host> <check>" → result. */
async function problems(values: Record<string, unknown>, answers: FleetAnswers = {}): Promise<[string, CheckResult][]> {
  const { groups: g } = await groups(values, answers);
  return g.flatMap((x) => x.results.filter((r) => r.status !== "pass").map((r): [string, CheckResult] => [`${x.host} ${r.check}`, r]));
}

describe("validate across hosts: a good fleet", () => {
  it("checks every host, each replica under its host, and passes", async () => {
    const { groups: g } = await groups(sshFleetValues());
    expect(g.map((x) => [x.host, x.results.map((r) => `${r.status} ${r.check}`)])).toEqual([
      ["control", ["pass docker.daemon", "pass docker.api", "pass docker.images", "pass postgres.data", "pass qdrant.data", "pass host.ports"]],
      [
        "gpu-a",
        [
          "pass docker.daemon", "pass docker.api", "pass docker.images", "pass docker.nvidia", "pass gpu.driver", "pass gpu.devices",
          "pass gpu.budget", "pass gpu.size", "pass gpu.nvlink", "pass gpu.memory-in-use", "pass host.ports", "pass host.disk",
          "pass replica.gpus", "pass replica.port", "pass replica.reach",
        ],
      ],
      [
        "gpu-b",
        [
          "pass docker.daemon", "pass docker.api", "pass docker.images", "pass docker.nvidia", "pass gpu.driver", "pass gpu.devices",
          "pass gpu.budget", "pass gpu.size", "pass gpu.memory-in-use", "pass host.ports", "pass host.disk",
          "pass replica.gpus", "pass replica.port", "pass replica.reach",
        ],
      ],
      [null, ["pass pulumi.cli"]],
    ]);
    const gpuA = g[1]!.results;
    expect(gpuA.filter((r) => r.check.startsWith("replica.")).map((r) => r.found)).toEqual([
      "replica gpu-a-0 on gpu-a GPU 0 (NVIDIA GeForce RTX 3090), GPU 1 (NVIDIA GeForce RTX 3090)",
      "10.20.0.11:8000 (replica gpu-a-0 on gpu-a) is free on gpu-a",
      "the gateway host control reaches 10.20.0.11:8000 (replica gpu-a-0 on gpu-a)",
    ]);
    // The host's own section: its two GPUs, one replica of tensor parallel 2, joined by NVLink.
    expect(gpuA.find((r) => r.check === "gpu.size")!.found).toBe(
      "Qwen/Qwen2.5-7B-Instruct weights, about 7263 MiB per vLLM GPU, fit in 0.9 of GPU 0 (NVIDIA GeForce RTX 3090) 24576 MiB, " +
        "GPU 1 (NVIDIA GeForce RTX 3090) 24576 MiB",
    );
    expect(gpuA.find((r) => r.check === "gpu.nvlink")!.found).toBe("vLLM's GPUs 0, 1 are joined by NVLink");
    // The gateway's published port is checked on the gateway host; the replicas' ports by the reach check.
    expect(g[0]!.results.find((r) => r.check === "host.ports")!.found).toBe("0.0.0.0:443 free");
  });

  it("runs one reach script per replica, here, with each host's docker --host", async () => {
    const { io } = await groups(sshFleetValues());
    const scripts = io.calls.filter((c) => c.file === "sh" && c.opts?.input?.includes("-preflight")).map((c) => c.opts!.input!);
    expect(scripts.map((s) => /-p '([^']+)'/.exec(s)?.[1])).toEqual(["10.20.0.11:8000:8000", "10.20.0.12:8000:8000"]);
    expect(scripts.every((s) => s.includes("'docker' '--host' 'ssh://deploy@10.20.0.10' run --rm --network host --entrypoint python3"))).toBe(true);
  });

  it("prints the checks grouped per host, and exit code 0", async () => {
    const io = fleetIo();
    expect(await main(["validate", "--stack", "fleet", "--dir", FLEET_DIR], io)).toBe(0);
    const out = io.out();
    expect(out.split("\n").filter((l) => l.startsWith("host ") || l === "this machine")).toEqual([
      "host control (ssh://deploy@10.20.0.10; gateway, state, monitoring)",
      "host gpu-a (ssh://deploy@10.20.0.11; gpu)",
      "host gpu-b (tcp://10.20.0.12:2376; gpu)",
      "this machine",
    ]);
    expect(out.endsWith("Pulumi.fleet.yaml: the hosts can run this stack (29 checks on 3 hosts, none failed)\n")).toBe(true);
  });

  it("prints JSON with the checks of each host", async () => {
    const io = fleetIo();
    expect(await main(["validate", "--stack", "fleet", "--dir", FLEET_DIR, "--json"], io)).toBe(0);
    const j = JSON.parse(io.out()) as { stack: string; ok: boolean; hosts: { name: string; endpoint: string; checks: CheckResult[] }[]; checks: CheckResult[] };
    expect([j.stack, j.ok, j.hosts.map((h) => [h.name, h.endpoint, h.checks.length]), j.checks.map((c) => c.check)]).toEqual([
      "fleet",
      true,
      [["control", "ssh://deploy@10.20.0.10", 6], ["gpu-a", "ssh://deploy@10.20.0.11", 15], ["gpu-b", "tcp://10.20.0.12:2376", 7]],
      ["pulumi.cli"],
    ]);
  });
});

const NO_ROUTE =
  'error during connect: Get "http://docker.example.com/v1.51/version": command [ssh -o ConnectTimeout=30 -T -- deploy@10.20.0.12 ' +
  "docker system dial-stdio] has exited with exit status 255, make sure the URL is valid, and Docker 18.09 or later is installed " +
  "on the remote host: stderr=ssh: connect to host 10.20.0.12 port 22: No route to host";

describe("validate across hosts: an unreachable host", () => {
  it("is one failure naming the host, its endpoint and the fix; nothing else of it is checked", async () => {
    const { groups: g } = await groups(sshFleetValues(), {
      version: { "ssh://deploy@10.20.0.12": { code: 1, stdout: "", stderr: `${NO_ROUTE}\n` } },
    });
    expect(g[2]).toEqual({
      host: "gpu-b",
      endpoint: "ssh://deploy@10.20.0.12",
      roles: ["gpu"],
      results: [
        {
          check: "docker.daemon",
          status: "fail",
          found: `gpu-b: the Docker daemon at ssh://deploy@10.20.0.12 does not answer: ${NO_ROUTE}; nothing else on gpu-b was checked`,
          fix:
            "start Docker on gpu-b (sudo systemctl start docker) and check that `ssh deploy@10.20.0.12 docker version` answers " +
            'without a prompt, or fix llmstack:hosts[2].endpoint ("ssh://deploy@10.20.0.12") in Pulumi.fleet.yaml',
        },
      ],
    });
    expect(g.flatMap((x) => x.results).filter((r) => r.status === "fail")).toHaveLength(1);
  });

  it.each([
    [
      "tcp://10.20.0.12:2376",
      "start Docker on gpu-b listening on 10.20.0.12:2376 with TLS (dockerd --tlsverify), let this machine reach that port, and " +
        "give the docker CLI the host's client certificate (DOCKER_TLS_VERIFY=1 and DOCKER_CERT_PATH=<a directory with ca.pem, " +
        'cert.pem, key.pem>), or fix llmstack:hosts[2].endpoint ("tcp://10.20.0.12:2376") in Pulumi.fleet.yaml',
    ],
    [
      "ssh://deploy@10.20.0.12:2222",
      "start Docker on gpu-b (sudo systemctl start docker) and check that `ssh -p 2222 deploy@10.20.0.12 docker version` answers " +
        'without a prompt, or fix llmstack:hosts[2].endpoint ("ssh://deploy@10.20.0.12:2222") in Pulumi.fleet.yaml',
    ],
    [
      "unix:///var/run/docker.sock",
      'start the Docker daemon (sudo systemctl start docker), or fix llmstack:hosts[2].endpoint ("unix:///var/run/docker.sock") in Pulumi.fleet.yaml',
    ],
  ])("the fix for %s", (endpoint, fix) => {
    const check = hostDaemonCheck("Pulumi.fleet.yaml", { name: "gpu-b", endpoint, index: 2 });
    expect(check({ host: endpoint, serverVersion: null, apiVersion: null, error: "connection refused" })).toEqual({
      check: "docker.daemon",
      status: "fail",
      found: `gpu-b: the Docker daemon at ${endpoint} does not answer: connection refused; nothing else on gpu-b was checked`,
      fix,
    });
  });

  it("an answering host reads as the single-host check", () => {
    const check = hostDaemonCheck("Pulumi.fleet.yaml", { name: "gpu-b", endpoint: "tcp://10.20.0.12:2376", index: 2 });
    expect(check({ host: "tcp://10.20.0.12:2376", serverVersion: "28.2.2", apiVersion: "1.50", error: null })).toEqual({
      check: "docker.daemon",
      status: "pass",
      found: "Docker 28.2.2 answers at tcp://10.20.0.12:2376 (API 1.50)",
      fix: null,
    });
  });
});

const BLOCKED =
  "docker: Error response from daemon: failed to set up container networking: driver failed programming external connectivity " +
  "on endpoint llm-multimodal-stack-fleet-vllm-gpu-a-0-preflight (0a1b): failed to bind host port for 10.20.0.11:8000:172.18.0.2:8000/tcp: " +
  "address already in use";
const ALLOCATED =
  "docker: Error response from daemon: driver failed programming external connectivity on endpoint " +
  "llm-multimodal-stack-fleet-vllm-gpu-a-0-preflight (0a1b): Bind for 10.20.0.11:8000 failed: port is already allocated";

describe("validate across hosts: each replica's port and the gateway's connection", () => {
  it.each([["a process on the host", BLOCKED], ["another container", ALLOCATED]])("a port held by %s is blocked", async (_name, error) => {
    expect(await problems(sshFleetValues(), { reach: { "gpu-a-0": `listen image vllm/vllm-openai:v0.21.0\nlisten error ${error}\n` } })).toEqual([
      [
        "gpu-a replica.port",
        {
          check: "replica.port",
          status: "fail",
          found: `10.20.0.11:8000 (replica gpu-a-0 on gpu-a) is blocked: Docker could not publish it on gpu-a: ${error}`,
          fix:
            "stop what holds port 8000 on gpu-a (docker --host ssh://deploy@10.20.0.11 ps --filter publish=8000 shows a container " +
            "that publishes it; ss -tlnp 'sport = :8000' on the host shows a process), then run validate again",
        },
      ],
    ]);
  });

  it("a replica the gateway host cannot reach", async () => {
    const reach = "listen image vllm/vllm-openai:v0.21.0\nlistening\ndial image ghcr.io/berriai/litellm:v1.84.0\ndial error timed out\ndone\n";
    expect(await problems(sshFleetValues(), { reach: { "gpu-b-0": reach } })).toEqual([
      [
        "gpu-b replica.reach",
        {
          check: "replica.reach",
          status: "fail",
          found: "the gateway host control (10.20.0.10) cannot reach 10.20.0.12:8000 (replica gpu-b-0 on gpu-b) within 10 s: timed out",
          fix:
            "let control connect to TCP port 8000 on gpu-b's 10.20.0.12 (a firewall between them drops it: open the port to " +
            "10.20.0.10), and check that llmstack:hosts[2].address is an address gpu-b owns",
        },
      ],
    ]);
  });

  it("a listener that does not start for another reason", async () => {
    const reach = "listen image vllm/vllm-openai:v0.21.0\nlisten error docker: Error response from daemon: cannot assign requested address\n";
    expect(await problems(sshFleetValues(), { reach: { "gpu-b-0": reach } })).toEqual([
      [
        "gpu-b replica.port",
        {
          check: "replica.port",
          status: "fail",
          found:
            "10.20.0.12:8000 (replica gpu-b-0 on gpu-b): the listener did not start on gpu-b: docker: Error response from daemon: " +
            "cannot assign requested address",
          fix: "check that Docker on gpu-b can publish a port on 10.20.0.12 (llmstack:hosts[2].address must be an address the host owns)",
        },
      ],
    ]);
  });

  it("the replica's own running container is dialed instead of a listener", async () => {
    const reach = "own llm-multimodal-stack-fleet-vllm-gpu-b-0\ndial image ghcr.io/berriai/litellm:v1.84.0\ndial ok\ndone\n";
    const { groups: g } = await groups(sshFleetValues(), { reach: { "gpu-b-0": reach } });
    expect(g[2]!.results.filter((r) => r.check.startsWith("replica.")).map((r) => `${r.status} ${r.found}`)).toEqual([
      "pass replica gpu-b-0 on gpu-b GPU 0 (NVIDIA H100 80GB HBM3)",
      "pass 10.20.0.12:8000 (replica gpu-b-0 on gpu-b) is held by the replica's own llm-multimodal-stack-fleet-vllm-gpu-b-0",
      "pass the gateway host control reaches 10.20.0.12:8000 (replica gpu-b-0 on gpu-b)",
    ]);
  });

  it("warns, with the pull, when no image to listen or dial with is on a host yet", async () => {
    expect(
      await problems(sshFleetValues(), {
        reach: {
          "gpu-a-0": "listen no image\n",
          "gpu-b-0": "listen image vllm/vllm-openai:v0.21.0\nlistening\ndial no image\ndone\n",
        },
      }),
    ).toEqual([
      [
        "gpu-a replica.port",
        {
          check: "replica.port",
          status: "warn",
          found: "10.20.0.11:8000 (replica gpu-a-0 on gpu-a) not checked: none of vllm/vllm-openai:v0.21.0 is on gpu-a yet to listen with",
          fix: "pull one of them there first: docker --host ssh://deploy@10.20.0.11 pull vllm/vllm-openai:v0.21.0",
        },
      ],
      [
        "gpu-b replica.reach",
        {
          check: "replica.reach",
          status: "warn",
          found:
            "10.20.0.12:8000 (replica gpu-b-0 on gpu-b) not dialed: none of ghcr.io/berriai/litellm:v1.84.0 is on the gateway host " +
            "control yet to dial from",
          fix: "pull one of them there first: docker --host ssh://deploy@10.20.0.10 pull ghcr.io/berriai/litellm:v1.84.0",
        },
      ],
    ]);
  });

  it("a script cut off before it finished", async () => {
    expect(await problems(sshFleetValues(), { reach: { "gpu-b-0": "listen image vllm/vllm-openai:v0.21.0\nlistening\n" } })).toEqual([
      [
        "gpu-b replica.reach",
        {
          check: "replica.reach",
          status: "fail",
          found: "10.20.0.12:8000 (replica gpu-b-0 on gpu-b): the check stopped before it finished: no output",
          fix: "run validate again; if it stops again, run the listener by hand on gpu-b",
        },
      ],
    ]);
  });
});

describe("validate across hosts: GPUs and NVLink per host", () => {
  it("one GPU under two names on one host: the budget and the replicas both say so", async () => {
    const values = sshFleetValues();
    const a = values.hosts.find((h: { name: string }) => h.name === "gpu-a");
    a.gpu = { ...a.gpu, vllmDevices: ["0", RIG_3090_UUIDS[0]], tensorParallelSize: 1, nvlink: false };
    values.model.replicas = 3;
    expect(await problems(values)).toEqual([
      [
        "gpu-a gpu.budget",
        {
          check: "gpu.budget",
          status: "fail",
          found: `vllmDevices: lists GPU 0 twice, as "0" and "${RIG_3090_UUIDS[0]}"`,
          fix: "list each GPU once (Pulumi.fleet.yaml: llmstack:hosts[1].gpu)",
        },
      ],
      [
        "gpu-a replica.gpus",
        {
          check: "replica.gpus",
          status: "fail",
          found: `replica gpu-a-1 uses GPU 0 of gpu-a as "${RIG_3090_UUIDS[0]}", which replica gpu-a-0 already uses as "0"`,
          fix: "every GPU is used at most once: name each GPU once in llmstack:hosts[1].gpu.vllmDevices and llmstack:model.placement in Pulumi.fleet.yaml",
        },
      ],
    ]);
  });

  it("a replica on a GPU its host does not have", async () => {
    const values = sshFleetValues();
    const b = values.hosts.find((h: { name: string }) => h.name === "gpu-b");
    b.gpu = { ...b.gpu, vllmDevices: ["1"], workerDevices: ["1"] };
    expect(await problems(values)).toEqual([
      [
        "gpu-b gpu.devices",
        {
          check: "gpu.devices",
          status: "fail",
          found: "the stack asks for GPU 1 (vllm), which this host does not have; it has 1 GPU(s): 0 = GPU-5c9b1e2a-0d41-4a7e-9a52-2f0c3c1d7e11 (NVIDIA H100 80GB HBM3)",
          fix: "list GPUs this host has in Pulumi.fleet.yaml: llmstack:hosts[2].gpu.vllmDevices (and in llmstack:model.placement where it pins them)",
        },
      ],
      [
        "gpu-b replica.gpus",
        {
          check: "replica.gpus",
          status: "fail",
          found: "replica gpu-b-0 is placed on gpu-b GPU 1, which gpu-b does not have; it has 1 GPU(s): 0 = GPU-5c9b1e2a-0d41-4a7e-9a52-2f0c3c1d7e11",
          fix: "list GPUs gpu-b has in llmstack:hosts[2].gpu.vllmDevices (and in llmstack:model.placement where it pins them) in Pulumi.fleet.yaml",
        },
      ],
    ]);
  });

  it("a host whose section says NVLink but whose GPUs talk over PCIe", async () => {
    expect(await problems(sshFleetValues(), { probe: { "deploy@10.20.0.11": GPU_A_PCIE_PROBE } })).toEqual([
      [
        "gpu-a gpu.nvlink",
        {
          check: "gpu.nvlink",
          status: "fail",
          found: "Pulumi.fleet.yaml says nvlink: true, but vLLM's GPUs 0, 1 are not all joined by NVLink on this host: GPU 0–GPU 1 (PHB)",
          fix: "set llmstack:hosts[1].gpu.nvlink to false in Pulumi.fleet.yaml, or seat the NVLink bridge",
        },
      ],
    ]);
  });

  it("a tcp:// host: its GPUs cannot be read, which is a warning", async () => {
    expect(await problems(fleetValues())).toEqual([
      [
        "gpu-b host.reach",
        {
          check: "host.reach",
          status: "warn",
          found: "tcp://10.20.0.12:2376 is a tcp:// Docker host, so nvidia-smi, ports and disk cannot be checked on it",
          fix: "use an ssh://user@host Docker host to let preflight run host commands",
        },
      ],
      [
        "gpu-b replica.gpus",
        { check: "replica.gpus", status: "warn", found: "replica gpu-b-0's GPU 0 not compared with gpu-b's GPUs: nvidia-smi could not run there", fix: null },
      ],
    ]);
  });
});

describe("the reach script", () => {
  const needs = needsOf(sshFleetValues());
  const replica = needs.replicas[0]!;
  const script = reachScript({
    replica,
    replicaDocker: ["--host", "ssh://deploy@10.20.0.11"],
    gatewayDocker: ["--host", "ssh://deploy@10.20.0.10"],
    listenImages: ["vllm/vllm-openai:v0.21.0"],
    dialImages: ["ghcr.io/berriai/litellm:v1.84.0"],
  });

  it("publishes the replica's port on its host's address from a listener, and dials it from the gateway host", () => {
    expect(listenerName(replica)).toBe("llm-multimodal-stack-fleet-vllm-gpu-a-0-preflight");
    const lines = script.split("\n").map((l) => l.trim());
    expect(lines.find((l) => l.startsWith("out=$('docker' '--host' 'ssh://deploy@10.20.0.11' run"))!.split(" -c ")[0]).toBe(
      "out=$('docker' '--host' 'ssh://deploy@10.20.0.11' run -d --rm --name 'llm-multimodal-stack-fleet-vllm-gpu-a-0-preflight' " +
        "--network 'llm-multimodal-stack-fleet-vllm-gpu-a-0-preflight' -p '10.20.0.11:8000:8000' --entrypoint python3 \"$img\"",
    );
    // The dialer's program is one quoted word over several lines; its arguments follow it.
    expect(script).toContain(`' '10.20.0.11' 8000 10 "$mode" 2>&1 | tail -n 1)\n`);
    expect(lines.find((l) => l.startsWith("last=$("))!.startsWith(
      "last=$('docker' '--host' 'ssh://deploy@10.20.0.10' run --rm --network host --entrypoint python3 \"$img\" -c ",
    )).toBe(true);
  });

  it("removes the listener and its network before and after", () => {
    const cleanup =
      "'docker' '--host' 'ssh://deploy@10.20.0.11' rm -f 'llm-multimodal-stack-fleet-vllm-gpu-a-0-preflight' >/dev/null 2>&1; " +
      "'docker' '--host' 'ssh://deploy@10.20.0.11' network rm 'llm-multimodal-stack-fleet-vllm-gpu-a-0-preflight' >/dev/null 2>&1";
    expect(script.split(cleanup).length - 1).toBe(3);
  });

  it.each([
    ["listen no image\n", { kind: "no-listen-image" }],
    [`listen image x\nlisten error ${ALLOCATED}\n`, { kind: "blocked", error: ALLOCATED }],
    ["listen image x\nlisten error Error response from daemon: network with name x already exists\n", { kind: "listen-failed", error: "Error response from daemon: network with name x already exists" }],
    ["listen image x\nlisten error\n", { kind: "listen-failed", error: "docker run printed no error" }],
    ["listen image x\nlistening\ndial no image\ndone\n", { kind: "no-dial-image", own: false }],
    ["listen image x\nlistening\ndial image y\ndial ok\ndone\n", { kind: "dialed", own: false, ok: true, error: "" }],
    ["own c\ndial image y\ndial error [Errno 111] Connection refused\ndone\n", { kind: "dialed", own: true, ok: false, error: "[Errno 111] Connection refused" }],
    ["listen image x\nlistening\ndial image y\n", { kind: "cut-off", last: "no output" }],
  ])("reads %j", (text, facts) => {
    expect(parseReach(text)).toEqual(facts);
  });
});

describe("the grouped output", () => {
  it("names each host with its endpoint and roles, and lines the columns up across groups", () => {
    expect(
      formatFleetResults([
        { host: "gpu-a", endpoint: "ssh://deploy@10.20.0.11", roles: ["gpu"], results: [{ check: "replica.port", status: "fail", found: "blocked", fix: "stop it" }] },
        { host: null, endpoint: null, roles: [], results: [{ check: "pulumi.cli", status: "pass", found: "installed", fix: null }] },
      ]),
    ).toBe(
      "host gpu-a (ssh://deploy@10.20.0.11; gpu)\n  FAIL  replica.port  blocked\n        fix: stop it\n\nthis machine\n  PASS  pulumi.cli    installed",
    );
  });
});
