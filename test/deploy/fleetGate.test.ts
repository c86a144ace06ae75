/**
 * The preflight gate across hosts inside the program, under Pulumi mocks: the example fleet (control and
 * gpu-a over ssh, gpu-b over tcp:// with TLS). The mocks' `call` handler answers each `command:local:run`
 * invoke: each host's daemon version, gpu-a's probe (the 2x3090 NVLink rig, idle), the control host's data
 * volume checks and each replica's reach script. `pulumi up` registers nothing on any host until every check
 * passed, and stops with the failures grouped per host.
 */
import * as pulumi from "@pulumi/pulumi";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import { configFor, mockResourceState, settleOrFailure, TEST_SECRETS, unwrap } from "../helpers/pulumiMocks";
import { FLEET_DIR } from "../helpers/fleet";
import { SPAN_MODEL, spanValues } from "../helpers/span";
import { GPU_A_PCIE_PROBE } from "../preflight/fleetHosts";
import { IDLE_REFERENCE_HOST_PROBE } from "../preflight/probeOutput";

// The program writes the stack's known_hosts under the home os.userInfo() names: a temporary one here.
const home = vi.hoisted(() => ({ dir: "" }));
vi.mock("node:os", async (importOriginal) => {
  const os = await importOriginal<typeof import("node:os")>();
  return { ...os, userInfo: () => ({ ...os.userInfo(), homedir: home.dir }) };
});

const PEM = (what: string) => `-----BEGIN ${what}-----\nMIIB\n-----END ${what}-----\n`;
const TLS = JSON.stringify({ "gpu-b": { ca: PEM("CERTIFICATE"), cert: PEM("CERTIFICATE"), key: PEM("PRIVATE KEY") } });
const VERSION = `@@rc 0\n${JSON.stringify({ Server: { Version: "28.2.2", ApiVersion: "1.50" } })}\n@@stderr\n`;
const SPAN_OK =
  "@@member gpu-a\npython vllm/vllm-openai:v0.21.0\niface ok 10.20.0.11\n@@member gpu-b\npython vllm/vllm-openai:v0.21.0\n" +
  "iface ok 10.20.0.12\n@@reach\nlistening\ndial gpu-b ok\ndone\n";
const REACH_OK = "listen image vllm/vllm-openai:v0.21.0\nlistening\ndial image ghcr.io/berriai/litellm:v1.84.0\ndial ok\ndone\n";

/** One invoke: what it asked, by kind. */
interface Invoke {
  readonly kind: "daemon" | "probe" | "volume" | "reach" | "span";
  /** The host (daemon), the ssh destination (probe), the replica (reach, span), the volume (volume). */
  readonly what: string;
  readonly command: string;
}

interface GateRun {
  readonly invokes: Invoke[];
  readonly containers: string[];
  readonly dockerTypes: string[];
  readonly error: Error | null;
}

function classify(command: string): Invoke {
  const script = Buffer.from(/^echo (\S+) \|/.exec(command)?.[1] ?? "", "base64").toString();
  if (command.includes("'version' '--format' 'json'")) {
    return { kind: "daemon", what: /'--host' '([^']+)'/.exec(command)![1]!, command };
  }
  if (command.includes("@@transport")) return { kind: "probe", what: /ssh .* '--' '([^']+)'/.exec(command)?.[1] ?? "local", command };
  if (script.includes("@@member ")) return { kind: "span", what: /vllm-(gpu-[ab]-\d+)-span-preflight/.exec(script)![1]!, command: script };
  if (script.includes("-preflight'")) return { kind: "reach", what: /vllm-(gpu-[ab]-\d+)-preflight/.exec(script)![1]!, command: script };
  return { kind: "volume", what: /volume inspect --format '\{\{\.Name\}\}' '([^']+)'/.exec(script)?.[1] ?? "?", command: script };
}

async function runGate(answer: (i: Invoke) => string | undefined = () => undefined, preview = false, overrides: Record<string, unknown> = {}): Promise<GateRun> {
  const invokes: Invoke[] = [];
  const containers: string[] = [];
  const dockerTypes: string[] = [];
  pulumi.runtime.setMocks(
    {
      newResource(args) {
        if (args.type.startsWith("docker:")) dockerTypes.push(args.type);
        if (args.type === "docker:index/container:Container") containers.push(String(args.inputs.name));
        return mockResourceState(args);
      },
      call(args) {
        if (args.token !== "command:local:run") return args.inputs;
        const i = classify(String(args.inputs.command));
        invokes.push(i);
        const fallback = { daemon: VERSION, probe: IDLE_REFERENCE_HOST_PROBE, volume: "volume absent\n", reach: REACH_OK, span: SPAN_OK }[i.kind];
        return { command: args.inputs.command, stdout: answer(i) ?? fallback, stderr: "", assets: {} };
      },
    },
    "llm-multimodal-stack",
    "fleet",
    preview,
  );
  const { config, secretKeys } = configFor("fleet", overrides, { ...TEST_SECRETS, dockerTls: TLS }, FLEET_DIR);
  pulumi.runtime.setAllConfig(config, secretKeys);
  const { deployStack } = await import("../../src/deploy/program");
  // A failed gate rejects the providers' host input; the runtime reports it through an unhandled rejection.
  const error = await settleOrFailure(async () => {
    const out = deployStack();
    await Promise.all([...out.component.containers.values()].map((c) => unwrap(c.id)));
  });
  return { invokes, containers, dockerTypes, error };
}

/** The gate's error, without the runtime's "error serializing property" (once per output the host input waits on). */
function message(run: GateRun): string {
  return (run.error?.message ?? "").replace(/^(error serializing property "host": )+/, "");
}

beforeAll(() => {
  home.dir = mkdtempSync(join(tmpdir(), "llmstack-fleet-gate-home-"));
});
afterAll(() => rmSync(home.dir, { recursive: true, force: true }));
afterEach(() => vi.restoreAllMocks());

describe("the preflight gate across hosts in pulumi up", () => {
  it("checks every host, gpu-a's GPUs, the state host's volumes and each replica's port, then registers the stack", async () => {
    const run = await runGate();
    expect(run.error).toBe(null);
    expect(run.invokes.map((i) => `${i.kind} ${i.what}`)).toEqual([
      "daemon ssh://deploy@10.20.0.10",
      "daemon ssh://deploy@10.20.0.11",
      "daemon tcp://10.20.0.12:2376",
      "volume llm-multimodal-stack-fleet-postgres-data",
      "volume llm-multimodal-stack-fleet-qdrant-data",
      "probe deploy@10.20.0.11",
      "reach gpu-a-0",
      "reach gpu-b-0",
    ]);
    expect(run.containers.filter((c) => c.includes("-vllm-"))).toEqual([
      "llm-multimodal-stack-fleet-vllm-gpu-a-0",
      "llm-multimodal-stack-fleet-vllm-gpu-b-0",
    ]);
  });

  it("reaches a tcp:// host with its TLS files, which are removed once the checks ran", async () => {
    const run = await runGate();
    const daemon = run.invokes.find((i) => i.what === "tcp://10.20.0.12:2376")!.command;
    const dir = /'--tlscacert' '([^']+)\/gpu-b\/ca\.pem'/.exec(daemon)![1]!;
    expect(daemon).toContain(
      `'docker' '--host' 'tcp://10.20.0.12:2376' '--tlsverify' '--tlscacert' '${dir}/gpu-b/ca.pem' '--tlscert' '${dir}/gpu-b/cert.pem' ` +
        `'--tlskey' '${dir}/gpu-b/key.pem' 'version' '--format' 'json'`,
    );
    const reach = run.invokes.find((i) => i.kind === "reach" && i.what === "gpu-b-0")!.command;
    expect(reach).toContain(`'docker' '--host' 'tcp://10.20.0.12:2376' '--tlsverify' '--tlscacert' '${dir}/gpu-b/ca.pem'`);
    expect(existsSync(dir)).toBe(false);
  });

  it("stops when a host does not answer, naming it, its endpoint and the fix, and registers nothing", async () => {
    const run = await runGate((i) =>
      i.kind === "daemon" && i.what === "tcp://10.20.0.12:2376"
        ? "@@rc 1\n\n@@stderr\nCannot connect to the Docker daemon at tcp://10.20.0.12:2376. Is the docker daemon running?\n"
        : undefined,
    );
    expect(message(run)).toBe(
      "Pulumi.fleet.yaml: preflight failed on its hosts, so no container was created and nothing was changed:\n" +
        "  gpu-b:\n" +
        "  - docker.daemon: gpu-b: the Docker daemon at tcp://10.20.0.12:2376 does not answer: Cannot connect to the Docker daemon at " +
        "tcp://10.20.0.12:2376. Is the docker daemon running?; nothing else on gpu-b was checked\n" +
        "    fix: start Docker on gpu-b listening on 10.20.0.12:2376 with TLS (dockerd --tlsverify), let this machine reach that port, " +
        "and give the docker CLI the host's client certificate (DOCKER_TLS_VERIFY=1 and DOCKER_CERT_PATH=<a directory with ca.pem, " +
        'cert.pem, key.pem>), or fix llmstack:hosts[2].endpoint ("tcp://10.20.0.12:2376") in Pulumi.fleet.yaml\n' +
        "Run `llmstack validate --stack fleet` to see every check.",
    );
    expect(run.invokes.filter((i) => i.kind === "reach").map((i) => i.what)).toEqual(["gpu-a-0"]);
    expect(run.dockerTypes).toEqual([]);
    // The TLS files are gone on a failure too.
    const daemon = run.invokes.find((i) => i.what === "tcp://10.20.0.12:2376")!.command;
    expect(existsSync(/'--tlscacert' '([^']+)\/gpu-b\/ca\.pem'/.exec(daemon)![1]!)).toBe(false);
  });

  it("stops on a blocked replica port and on a replica the gateway host cannot reach, grouped per host", async () => {
    const blocked = "docker: Error response from daemon: driver failed programming external connectivity on endpoint x: Bind for 10.20.0.11:8000 failed: port is already allocated";
    const run = await runGate((i) =>
      i.kind !== "reach"
        ? undefined
        : i.what === "gpu-a-0"
          ? `listen image vllm/vllm-openai:v0.21.0\nlisten error ${blocked}\n`
          : "listen image vllm/vllm-openai:v0.21.0\nlistening\ndial image ghcr.io/berriai/litellm:v1.84.0\ndial error [Errno 113] No route to host\ndone\n",
    );
    expect(message(run)).toBe(
      "Pulumi.fleet.yaml: preflight failed on its hosts, so no container was created and nothing was changed:\n" +
        "  gpu-a:\n" +
        `  - replica.port: 10.20.0.11:8000 (replica gpu-a-0 on gpu-a) is blocked: Docker could not publish it on gpu-a: ${blocked}\n` +
        "    fix: stop what holds port 8000 on gpu-a (docker --host ssh://deploy@10.20.0.11 ps --filter publish=8000 shows a container " +
        "that publishes it; ss -tlnp 'sport = :8000' on the host shows a process), then run validate again\n" +
        "  gpu-b:\n" +
        "  - replica.reach: the gateway host control (10.20.0.10) cannot reach 10.20.0.12:8000 (replica gpu-b-0 on gpu-b) within 10 s: " +
        "[Errno 113] No route to host\n" +
        "    fix: let control connect to TCP port 8000 on gpu-b's 10.20.0.12 (a firewall between them drops it: open the port to " +
        "10.20.0.10), and check that llmstack:hosts[2].address is an address gpu-b owns\n" +
        "Run `llmstack validate --stack fleet` to see every check.",
    );
    expect(run.dockerTypes).toEqual([]);
  });

  it("stops when a GPU host's GPUs are not what its section says (no NVLink on gpu-a)", async () => {
    const run = await runGate((i) => (i.kind === "probe" ? GPU_A_PCIE_PROBE : undefined));
    expect(message(run).split("\n")).toEqual([
      "Pulumi.fleet.yaml: preflight failed on its hosts, so no container was created and nothing was changed:",
      "  gpu-a:",
      "  - gpu.nvlink: Pulumi.fleet.yaml says nvlink: true, but vLLM's GPUs 0, 1 are not all joined by NVLink on this host: GPU 0–GPU 1 (PHB)",
      "    fix: set llmstack:hosts[1].gpu.nvlink to false in Pulumi.fleet.yaml, or seat the NVLink bridge",
      "Run `llmstack validate --stack fleet` to see every check.",
    ]);
    expect(run.dockerTypes).toEqual([]);
  });

  it("a preview skips a host that does not answer and registers the stack", async () => {
    const run = await runGate(
      (i) => (i.kind === "daemon" && i.what === "tcp://10.20.0.12:2376" ? "@@rc 1\n\n@@stderr\nconnection refused\n" : undefined),
      true,
    );
    expect(run.error).toBe(null);
    expect(run.containers.filter((c) => c.includes("-vllm-"))).toEqual([
      "llm-multimodal-stack-fleet-vllm-gpu-a-0",
      "llm-multimodal-stack-fleet-vllm-gpu-b-0",
    ]);
  });

  it("a replica across hosts: checks its members' interfaces and reach (not its image or files), then registers it", async () => {
    const span = { "llmstack:model": SPAN_MODEL, "llmstack:hosts": spanValues().hosts };
    const run = await runGate(undefined, false, span);
    expect(run.error).toBe(null);
    expect(run.invokes.filter((i) => i.kind === "span" || i.kind === "reach").map((i) => `${i.kind} ${i.what}`)).toEqual(["reach gpu-a-0", "span gpu-a-0"]);
    const script = run.invokes.find((i) => i.kind === "span")!.command;
    expect([script.includes("'enp5s0' '10.20.0.11'"), script.includes("'ens1f0' '10.20.0.12'"), script.includes("RepoDigests"), script.includes("hf-cache")]).toEqual([
      true,
      true,
      false,
      false,
    ]);
    expect(run.containers.filter((c) => c.includes("-vllm-"))).toEqual([
      "llm-multimodal-stack-fleet-vllm-gpu-a-0-gpu-b",
      "llm-multimodal-stack-fleet-vllm-gpu-a-0",
    ]);
  });

  it("a replica across hosts whose member cannot reach the head's store stops, and registers nothing", async () => {
    const span = { "llmstack:model": SPAN_MODEL, "llmstack:hosts": spanValues().hosts };
    const cut = SPAN_OK.replace("dial gpu-b ok", "dial gpu-b error timed out");
    const run = await runGate((i) => (i.kind === "span" ? cut : undefined), false, span);
    expect(message(run).split("\n").slice(0, 3)).toEqual([
      "Pulumi.fleet.yaml: preflight failed on its hosts, so no container was created and nothing was changed:",
      "  gpu-a:",
      "  - span.reach: gpu-b (10.20.0.12) cannot reach 10.20.0.11:29501 (replica gpu-a-0's torch.distributed store on gpu-a) within 10 s: timed out",
    ]);
    expect(run.dockerTypes).toEqual([]);
  });

  it("runs nothing with llmstack:preflight.enabled false", async () => {
    const run = await runGate(undefined, false, { "llmstack:preflight": { enabled: false } });
    expect([run.error, run.invokes]).toEqual([null, []]);
  });
});
