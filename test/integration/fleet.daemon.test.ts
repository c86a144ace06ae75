/**
 * A stack with hosts on three real Docker daemons, each a host of its own: its own network namespace and
 * address, reached over tcp:// with TLS (test/integration/fleet/netns.ts). Two GPU hosts run one vLLM replica
 * each; the third is the gateway and state host. What the program registers (read under Pulumi mocks) is
 * applied resource by resource onto the daemon of the provider it was registered with, as Pulumi would.
 *
 * The program registers the same resources with the same inputs in a preview and an update; an update
 * first runs the preflight gate's commands, which the mocks only answer, so the inputs are read as a
 * preview registers them. The GPU hosts here have no GPU: the replicas' GPU requests are asserted on the
 * registered inputs and left out on the daemon (the applier's withoutDeviceRequests).
 */
import Dockerode from "dockerode";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { StackPlan } from "../../src/plan/types";
import { TEST_SECRETS } from "../helpers/pulumiMocks";
import { planFromValues, rawValues } from "../helpers/stacks";
import { Applier, providerClient, type UpResult } from "./applier/apply";
import { registeredStack, type ContainerInputs, type StackInputs } from "./applier/inputs";
import { requireDaemon, testDocker } from "./daemon";
import { startNetnsFleet, type FetchRequest, type NetnsFleet } from "./fleet/netns";
import { FLEET_HOSTS, loadStackImages, ONE_H100 } from "./fleet/stackHosts";
import { buildStandins } from "./images/build";
import { envOf } from "./stackData";

const HOSTS = FLEET_HOSTS;
const SERVED = "qwen2.5-1.5b-instruct";

const GPU = ONE_H100;

/**
 * The development stack turned into a fleet of the harness's hosts: no dockerHost and no gpu, the hosts
 * instead, two replicas (one per GPU host). The gateway stays on the control host's loopback (published
 * beyond loopback it would need the TLS proxy): requests to it are made from inside that host's namespace.
 */
function fleetValues(fleet: NetnsFleet): Record<string, unknown> {
  const base = rawValues("development");
  delete base.dockerHost;
  delete base.gpu;
  const host = (name: string) => fleet.host(name);
  return {
    ...base,
    hosts: [
      { name: "control", endpoint: host("control").endpoint, address: host("control").address, roles: ["gateway", "state"] },
      { name: "gpu-a", endpoint: host("gpu-a").endpoint, address: host("gpu-a").address, roles: ["gpu"], gpu: GPU },
      { name: "gpu-b", endpoint: host("gpu-b").endpoint, address: host("gpu-b").address, roles: ["gpu"], gpu: GPU },
    ],
    model: { ...(base.model as object), replicas: 2 },
    gateway: { bindAddress: "127.0.0.1", port: 4000 },
  };
}

function failureReport(r: UpResult): string {
  return (
    [...r.failures].map(([name, why]) => `${name}: ${why}`).join("\n\n") +
    (r.skipped.length ? `\nnot created: ${r.skipped.join(", ")}` : "")
  );
}

interface Completion {
  readonly status: number;
  readonly id?: string;
}

describe("a stack with hosts on three Docker daemons, each in its own network namespace", () => {
  let fleet: NetnsFleet;
  let stack: StackInputs;
  let plan: StackPlan;
  let applier: Applier;
  let first: UpResult;
  /** Replica host → its vLLM container. */
  let replicas: Map<string, ContainerInputs>;
  /** Container hostname → the replica host it runs on. */
  const hostnames = new Map<string, string>();

  const tcpClient = (host: string): Dockerode =>
    providerClient({ provider: host, host: fleet.host(host).endpoint, tls: fleet.tls });

  const gatewayRequest = (path: string, body?: unknown): FetchRequest => {
    const key = envOf(stack.containers.find((c) => c.name.endsWith("-litellm"))!, "LITELLM_MASTER_KEY");
    return {
      url: `http://127.0.0.1:4000${path}`,
      init: {
        method: body === undefined ? "GET" : "POST",
        headers: { authorization: `Bearer ${key}`, "content-type": "application/json" },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      },
    };
  };

  /** `n` chat completions through the gateway, one after the other, from the gateway host's namespace. */
  const complete = async (n: number): Promise<Completion[]> => {
    const request = gatewayRequest("/v1/chat/completions", { model: SERVED, messages: [{ role: "user", content: "Reply with OK." }] });
    const answers = await fleet.fetchAllFrom("control", Array.from({ length: n }, () => request));
    return answers.map((r) => (r.status === 200 ? { status: 200, id: (JSON.parse(r.body) as { id: string }).id } : { status: r.status }));
  };

  /** The replica host that answered, from the id the vLLM stand-in gives (`chatcmpl-<hostname>-<n>`). */
  const answeredBy = (c: Completion): string => {
    const m = /^chatcmpl-([0-9a-f]{12})-\d+$/.exec(c.id ?? "");
    return (m && hostnames.get(m[1]!)) ?? `unknown (${c.status} ${c.id ?? ""})`;
  };

  beforeAll(async () => {
    const main = testDocker(requireDaemon());
    await buildStandins(main);
    fleet = await startNetnsFleet({ tag: "fle", subnet: 3, hosts: HOSTS });
    await loadStackImages(main, fleet);
    const values = fleetValues(fleet);
    plan = planFromValues(values, "development");
    const tls = Object.fromEntries(HOSTS.map((h) => [h, fleet.tls]));
    const overrides: Record<string, unknown> = {
      "llmstack:dockerHost": undefined,
      "llmstack:gpu": undefined,
      "llmstack:hosts": values.hosts,
      "llmstack:model": values.model,
      "llmstack:gateway": values.gateway,
    };
    stack = await registeredStack("development", overrides, { ...TEST_SECRETS, dockerTls: JSON.stringify(tls) }, true);
    replicas = new Map(
      stack.containers.filter((c) => c.name.includes("-vllm-")).map((c) => [c.daemon!.provider.replace(/^development-docker-/, ""), c]),
    );
    // The stand-ins are healthy within seconds; three minutes is ample and keeps a failing run short. The
    // CI machine has no GPU, so the replicas' GPU requests (asserted below as registered) are left out.
    applier = Applier.perProvider(180, { withoutDeviceRequests: "no GPU on this machine" });
    first = await applier.up(stack);
    for (const [host, c] of replicas) {
      const info = await fleet.host(host).docker.getContainer(c.name).inspect().catch(() => undefined);
      if (info) hostnames.set(info.Config.Hostname, host);
    }
  });

  afterAll(async () => {
    await fleet?.stop();
  });

  it("registers a provider per host on its tcp:// endpoint with TLS, and each resource through its host's provider", () => {
    const endpoint = (host: string) => fleet.host(host).endpoint;
    const daemons = [...new Map(stack.containers.map((c) => [c.daemon!.provider, c.daemon!])).values()];
    expect(daemons.map((d) => [d.provider, d.host, d.tls]).sort()).toEqual(
      HOSTS.map((h) => [`development-docker-${h}`, endpoint(h), fleet.tls]),
    );
    expect(stack.containers.map((c) => [c.name, c.daemon!.host]).sort()).toEqual(
      plan.containers.map((c) => [c.name, endpoint(c.placement!.host)]).sort(),
    );
    expect(stack.networks.map((n) => [n.name, n.daemon!.host]).sort()).toEqual(
      HOSTS.map((h) => [plan.network.name, endpoint(h)]),
    );
    expect(stack.volumes.map((v) => [v.name, v.daemon!.host]).sort()).toEqual(
      plan.volumes.map((v) => [v.name, endpoint(v.host!)]).sort(),
    );
  });

  it("registers each replica with its GPU request, which the applier leaves out on this GPU-less machine", async () => {
    expect([...replicas.keys()].sort()).toEqual(["gpu-a", "gpu-b"]);
    for (const c of replicas.values()) {
      expect(c.inputs.deviceRequests).toEqual([{ driver: "nvidia", capabilities: ["gpu"], deviceIds: ["0"] }]);
    }
    const onDaemon = await fleet.host("gpu-a").docker.getContainer(replicas.get("gpu-a")!.name).inspect();
    expect(onDaemon.HostConfig.DeviceRequests ?? []).toEqual([]);
  });

  it("comes up: every container healthy (one-shots exit 0) and the smoke test passes through the gateway", () => {
    expect(failureReport(first)).toBe("");
    const smoke = stack.containers.find((c) => c.name.endsWith("-smoke-test"))!;
    expect(first.logs.get(smoke.name)?.trim()).toBe(`smoke test passed: ${SERVED} answered 'OK'`);
  });

  it("runs every container on its own host's daemon and on no other", async () => {
    const running: Record<string, string[]> = {};
    const expected: Record<string, string[]> = {};
    for (const h of HOSTS) {
      running[h] = (await tcpClient(h).listContainers({ all: true })).map((c) => c.Names[0]!.slice(1)).sort();
      expected[h] = plan.containers.filter((c) => c.placement!.host === h).map((c) => c.name).sort();
    }
    expect(running).toEqual(expected);
  });

  it("answers on each replica's host address from the gateway host's namespace", async () => {
    const key = TEST_SECRETS.vllmApiKey!;
    for (const h of ["gpu-a", "gpu-b"]) {
      const r = await fleet.fetchFrom("control", `http://${fleet.host(h).address}:8000/v1/models`, {
        headers: { authorization: `Bearer ${key}` },
      });
      expect([r.status, (JSON.parse(r.body) as { data: { id: string }[] }).data.map((m) => m.id)]).toEqual([200, [SERVED]]);
    }
  });

  it("spreads requests through the gateway over the replicas of both GPU hosts", async () => {
    expect([...hostnames.values()].sort()).toEqual(["gpu-a", "gpu-b"]);
    const counts: Record<string, number> = {};
    for (const c of await complete(40)) {
      const by = answeredBy(c);
      counts[by] = (counts[by] ?? 0) + 1;
    }
    // simple-shuffle picks at random: both hosts answer (the chance that one of them gets none of 40 is 2^-39).
    expect(Object.keys(counts).sort()).toEqual(["gpu-a", "gpu-b"]);
    expect(counts["gpu-a"]! + counts["gpu-b"]!).toBe(40);
  });

  it("keeps answering on the other host once a killed replica is out of rotation", async () => {
    const killed = replicas.get("gpu-a")!;
    // SIGKILL: Docker does not restart a container killed through its API.
    await fleet.host("gpu-a").docker.getContainer(killed.name).kill();
    const deadBase = `http://${fleet.host("gpu-a").address}:8000/v1`;
    const liveBase = `http://${fleet.host("gpu-b").address}:8000/v1`;
    // The gateway's health checks (every health_check_interval) find the dead replica and route around it.
    let health: { healthy_endpoints: { api_base: string }[]; unhealthy_endpoints: { api_base: string }[] } | undefined;
    for (let i = 0; i < 120; i++) {
      const r = await fleet.fetchFrom("control", gatewayRequest("/health").url, gatewayRequest("/health").init);
      health = JSON.parse(r.body) as typeof health;
      if (health!.unhealthy_endpoints.some((e) => e.api_base === deadBase)) break;
      await new Promise((res) => setTimeout(res, 1000));
    }
    expect([health!.healthy_endpoints.map((e) => e.api_base), health!.unhealthy_endpoints.map((e) => e.api_base)]).toEqual([
      [liveBase],
      [deadBase],
    ]);
    const after = (await complete(20)).map((c) => `${c.status} ${answeredBy(c)}`);
    expect(after).toEqual(Array.from({ length: 20 }, () => "200 gpu-b"));
  });
});
