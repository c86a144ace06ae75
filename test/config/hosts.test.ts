import { describe, expect, it } from "vitest";
import { StackConfigError } from "../../src/config/errors";
import { parseStackConfig } from "../../src/config/parse";
import { FLEET_FILE, fleetValues } from "../helpers/fleet";
import { rawValues } from "../helpers/stacks";

function errorOf(values: Record<string, unknown>, file = FLEET_FILE): string {
  const thrown = ((): unknown => {
    try {
      return parseStackConfig(values, file);
    } catch (err) {
      return err;
    }
  })();
  expect(thrown).toBeInstanceOf(StackConfigError);
  return (thrown as Error).message;
}

/** The one problem line of a rejected fleet (every case below breaks one rule). */
function problem(edit: (v: Record<string, any>) => void): string {
  const v = fleetValues();
  edit(v);
  const lines = errorOf(v).split("\n").filter((l) => l.startsWith("  - "));
  expect(lines).toHaveLength(1);
  return lines[0]!.slice(4);
}

describe("llmstack:hosts", () => {
  it("parses the example fleet, and hands the first GPU host's section, cut to one replica, to the one-section settings", () => {
    const config = parseStackConfig(fleetValues(), FLEET_FILE);
    expect(config.hosts?.map((h) => [h.name, h.endpoint, h.address, h.roles])).toEqual([
      ["control", "ssh://deploy@10.20.0.10", "10.20.0.10", ["gateway", "state", "monitoring"]],
      ["gpu-a", "ssh://deploy@10.20.0.11", "10.20.0.11", ["gpu"]],
      ["gpu-b", "tcp://10.20.0.12:2376", "10.20.0.12", ["gpu"]],
    ]);
    expect(config.model.replicas).toBe(2);
    // gpu-a's section as written (vllmDevices 0,1 are one replica's), the worker on the replica's first GPU.
    expect(config.gpu).toEqual({ ...config.hosts![1]!.gpu, workerDevices: ["0"] });
    expect(config.hosts![1]!.gpu).toMatchObject({ mode: "multi", vllmDevices: ["0", "1"], tensorParallelSize: 2, nvlink: true });
  });

  it.each<[string, (v: Record<string, any>) => void, string]>([
    [
      "an unknown role",
      (v) => (v.hosts[0].roles = ["gateway", "state", "router"]),
      'llmstack:hosts[0].roles[2]: Invalid option: expected one of "gpu"|"gateway"|"state"|"monitoring" (got "router")',
    ],
    [
      "no gateway host",
      (v) => (v.hosts[0].roles = ["state"]),
      'llmstack:hosts: no host has the gateway role; add "gateway" to the roles of one host (got [{"name":"control"',
    ],
    [
      "two gateway hosts",
      (v) => v.hosts[1].roles.push("gateway"),
      "llmstack:hosts: control, gpu-a all have the gateway role; exactly one host has it: keep it on one (got",
    ],
    [
      "two hosts with one name",
      (v) => (v.hosts[2].name = "gpu-a"),
      'llmstack:hosts[2]: hosts[1] and hosts[2] have the same name "gpu-a"; give each host its own name (got',
    ],
    [
      "two hosts on one daemon",
      (v) => Object.assign(v.hosts[2], { endpoint: "ssh://deploy@10.20.0.11", hostKey: v.hosts[1].hostKey }),
      'llmstack:hosts[2]: hosts[1] and hosts[2] have the same endpoint "ssh://deploy@10.20.0.11"; one Docker daemon is one host: merge their roles into one entry (got',
    ],
    [
      "an ssh endpoint without a host key",
      (v) => delete v.hosts[1].hostKey,
      'llmstack:hosts[1].hostKey: gpu-a is reached over ssh, and ssh must know its host key up front (nothing is trusted on first use); add hostKey: the key "ssh-keyscan -t ed25519 10.20.0.11" prints after the host name, checked against the host\'s own /etc/ssh/ssh_host_ed25519_key.pub (not set)',
    ],
    [
      "a host key on a tcp endpoint",
      (v) => (v.hosts[2].hostKey = v.hosts[1].hostKey),
      "llmstack:hosts[2].hostKey: gpu-b is not reached over ssh (tcp://10.20.0.12:2376); remove hostKey (got",
    ],
    [
      "a malformed host key",
      (v) => (v.hosts[1].hostKey = "AAAAC3NzaC1lZDI1NTE5"),
      'llmstack:hosts[1].hostKey: must be a host key as ssh-keyscan prints it after the host name, e.g. "ssh-ed25519 AAAAC3Nz..." (got "AAAAC3NzaC1lZDI1NTE5")',
    ],
    [
      "a GPU host without a GPU section",
      (v) => delete v.hosts[2].gpu,
      "llmstack:hosts[2].gpu: gpu-b has the gpu role but no gpu section; add one (the shape llmstack configure-gpu writes for llmstack:gpu) (not set)",
    ],
    [
      "a GPU section on a host without the gpu role",
      (v) => (v.hosts[0].gpu = v.hosts[2].gpu),
      'llmstack:hosts[0].gpu: control has a gpu section but not the gpu role; add "gpu" to its roles or remove the section (got',
    ],
    [
      "replicas that do not divide a host's GPUs",
      (v) => (v.hosts[1].gpu.vllmDevices = ["0", "1", "2"]),
      "llmstack:hosts[1].gpu.tensorParallelSize: each replica on gpu-a takes tensorParallelSize 2 × pipelineParallelSize 1 = 2 GPU(s), which does not divide the 3 GPU(s) of vllmDevices; list a multiple of 2 GPUs or change tensorParallelSize (got 2)",
    ],
    [
      "a GPU listed twice on a host",
      (v) => (v.hosts[1].gpu.vllmDevices = ["0", "0"]),
      'llmstack:hosts[1].gpu.vllmDevices: lists GPU 0 twice; every GPU is used at most once (got ["0","0"])',
    ],
    [
      "a host name that cannot be part of a resource name",
      (v) => (v.hosts[1].name = "GPU_A"),
      'llmstack:hosts[1].name: must be a lowercase name such as "gpu-a": letters, digits and "-", starting with a letter, at most 32 characters (it becomes part of container and resource names) (got "GPU_A")',
    ],
    [
      "an address that is not an IP address",
      (v) => (v.hosts[1].address = "gpu-a.lan"),
      'llmstack:hosts[1].address: must be an IPv4 or IPv6 address such as 10.0.0.11, one this host owns (not a host name) (got "gpu-a.lan")',
    ],
    [
      "a misspelt host key",
      (v) => (v.hosts[1].iface = "eth0"),
      "llmstack:hosts[1].iface: unknown key; allowed keys here are name, endpoint, hostKey, address, interface, fabric, roles, gpu; check the spelling or remove it",
    ],
    [
      "llmstack:gpu beside hosts",
      (v) => (v.gpu = v.hosts[1].gpu),
      "llmstack:gpu: a stack with hosts keeps each GPU host's section under hosts[].gpu; move llmstack:gpu there and remove it (got",
    ],
    [
      "llmstack:dockerHost beside hosts",
      (v) => (v.dockerHost = "ssh://deploy@10.20.0.11"),
      'llmstack:dockerHost: a stack with hosts takes each Docker endpoint from hosts[].endpoint; remove llmstack:dockerHost (got "ssh://deploy@10.20.0.11")',
    ],
    [
      "monitoring without a monitoring host",
      (v) => (v.hosts[0].roles = ["gateway", "state"]),
      'llmstack:hosts: monitoring.enabled is true, but no host has the monitoring role; add "monitoring" to the roles of the gateway host control (got',
    ],
    [
      "monitoring on another host than the gateway",
      (v) => {
        v.hosts[0].roles = ["gateway", "state"];
        v.hosts[2].roles = ["gpu", "monitoring"];
      },
      "llmstack:hosts: gpu-b has the monitoring role, but the gateway runs on control, and Prometheus scrapes LiteLLM over the gateway host's network; move the monitoring role to control (got",
    ],
    [
      "the data stores on another host than the gateway",
      (v) => {
        v.hosts[0].roles = ["gateway", "monitoring"];
        v.hosts[2].roles = ["gpu", "state"];
      },
      "llmstack:hosts: gpu-b has the state role, but the gateway runs on control, and LiteLLM reaches the data stores on the gateway host's Docker network; move the state role to control (got",
    ],
    [
      "pins that disagree with replicas",
      (v) => (v.model.placement = [{ host: "gpu-a", devices: ["0", "1"] }]),
      'llmstack:model.placement: pins 1 replica(s), but model.replicas is 2; pin one entry per replica or remove model.replicas (got [{"host":"gpu-a","devices":["0","1"]}])',
    ],
  ])("rejects %s with one error", (_, edit, text) => {
    // Values shown after "(got" may be long (a whole list); the sentence before them is asserted exactly.
    const line = problem(edit);
    expect(line.startsWith(text) ? text : line).toBe(text);
  });

  it("accepts the monitoring role on any host while monitoring is off", () => {
    const v = fleetValues();
    v.monitoring = { enabled: false };
    v.hosts[0].roles = ["gateway", "state"];
    v.hosts[2].roles = ["gpu", "monitoring"];
    expect(parseStackConfig(v, FLEET_FILE).hosts?.map((h) => h.roles)).toEqual([["gateway", "state"], ["gpu"], ["gpu", "monitoring"]]);
  });

  it("rejects replicas on a single-host stack, naming the key and the fix", () => {
    const v = rawValues("production") as Record<string, any>;
    v.model.replicas = 2;
    expect(errorOf(v, "Pulumi.production.yaml")).toContain(
      "  - llmstack:model.replicas: a single-host stack runs one vLLM; list llmstack:hosts to run replicas, or remove model.replicas (got 2)\n",
    );
  });

  it("still requires llmstack:gpu on a stack without hosts, in the key's place", () => {
    const v = rawValues("production") as Record<string, any>;
    delete v.gpu;
    delete v.gateway;
    expect(errorOf(v, "Pulumi.production.yaml")).toBe(
      "Pulumi.production.yaml: invalid stack config:\n" +
        "  - llmstack:gpu: required, but missing (expected object)\n" +
        "  - llmstack:gateway: required, but missing (expected object)\n" +
        "Fix these keys in Pulumi.production.yaml (every key is in docs/configuration.md).",
    );
  });
});
