/**
 * The pack over the example fleet (examples/fleet): what its hosts publish for each other passes, the GPU
 * budget is per host, and a replica published on every address is still refused.
 */
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { beforeAll, describe, expect, it, vi } from "vitest";
import { CONTAINER } from "../../policy/policies";
import { PEER_PUBLISHED_SERVICES, serviceOf, type ContainerInputs } from "../../policy/rules";
import { FLEET_DIR } from "../helpers/fleet";
import { spanValues } from "../helpers/span";
import { runPolicies, unwrapSecrets } from "../helpers/policy";
import { runProgram, TEST_SECRETS, type Registration } from "../helpers/pulumiMocks";

const PEM = (what: string) => `-----BEGIN ${what}-----\nMIIB\n-----END ${what}-----\n`;
const TLS = JSON.stringify({ "gpu-b": { ca: PEM("CERTIFICATE"), cert: PEM("CERTIFICATE"), key: PEM("PRIVATE KEY") } });

// The program writes the stack's known_hosts under the password database's home (src/deploy/hosts.ts).
const home = vi.hoisted(() => ({ dir: "" }));
vi.mock("node:os", async (importOriginal) => {
  const os = await importOriginal<typeof import("node:os")>();
  return { ...os, userInfo: () => ({ ...os.userInfo(), homedir: home.dir }) };
});

describe("the policy pack over the example fleet", () => {
  let regs: Registration[];
  beforeAll(async () => {
    home.dir = mkdtempSync(join(tmpdir(), "llmstack-policy-fleet-"));
    const run = await runProgram("fleet", {}, { ...TEST_SECRETS, dockerTls: TLS }, true, FLEET_DIR);
    if (run.error) throw run.error;
    regs = run.registrations;
  });

  it("passes: replicas and exporters on their host's own address, GPU 0 of gpu-a and of gpu-b booked apart", () => {
    expect(runPolicies(regs, "staging")).toEqual([]);
  });

  it("passes with a scheduled backup on the state host", async () => {
    const backup = { schedule: "03:30", keep: 7, to: "/srv/llmstack-backups" };
    const run = await runProgram("fleet", { "llmstack:backup": backup }, { ...TEST_SECRETS, dockerTls: TLS }, true, FLEET_DIR);
    if (run.error) throw run.error;
    expect(run.registrations.filter((r) => r.type === CONTAINER && r.name.startsWith("fleet-backup")).length).toBe(3);
    expect(runPolicies(run.registrations, "staging")).toEqual([]);
  });

  it("the services published on a host's address are exactly the policy's list", () => {
    const published = regs
      .filter((r) => r.type === CONTAINER)
      .map((r) => unwrapSecrets(r.inputs) as ContainerInputs)
      .filter((c) => (c.ports ?? []).some((p) => p.ip !== undefined && p.ip.startsWith("10.20.0.")))
      .map((c) => `${serviceOf(c)} ${c.ports!.map((p) => `${p.ip}:${p.external}`).join(",")}`);
    expect(published.sort()).toEqual([
      "dcgm-exporter 10.20.0.11:9400",
      "dcgm-exporter 10.20.0.12:9400",
      "vllm 10.20.0.11:8000",
      "vllm 10.20.0.12:8000",
    ]);
    expect([...new Set(published.map((p) => p.split(" ")[0]))].sort()).toEqual([...PEER_PUBLISHED_SERVICES].sort());
  });

  it("a replica published on every address, or a data store on its host's address, is refused", () => {
    const bad = regs.map((r) => {
      const c = r.inputs as ContainerInputs;
      if (r.type !== CONTAINER) return r;
      if (c.name === "llm-multimodal-stack-fleet-vllm-gpu-b-0") {
        return { ...r, inputs: { ...r.inputs, ports: [{ internal: 8000, external: 8000, ip: "0.0.0.0", protocol: "tcp" }] } };
      }
      if (c.name === "llm-multimodal-stack-fleet-postgres") {
        return { ...r, inputs: { ...r.inputs, ports: [{ internal: 5432, external: 5432, ip: "10.20.0.10", protocol: "tcp" }] } };
      }
      return r;
    });
    expect(runPolicies(bad, "staging")).toEqual([
      {
        policy: "only-gateway-published",
        level: "mandatory",
        message:
          "container llm-multimodal-stack-fleet-postgres publishes port 5432 on 10.20.0.10:5432; only the gateway " +
          "(litellm, gateway-tls) may listen on a non-loopback address: bind it to 127.0.0.1 or remove the port and reach it on the stack network",
      },
      {
        policy: "only-gateway-published",
        level: "mandatory",
        message:
          "container llm-multimodal-stack-fleet-vllm-gpu-b-0 publishes port 8000 on every address (0.0.0.0:8000); on a stack " +
          "with hosts it may listen on its host's own address only: publish it on hosts[].address",
      },
    ]);
  });
});

describe("the policy pack over a replica across hosts", () => {
  let regs: Registration[];
  beforeAll(async () => {
    home.dir = mkdtempSync(join(tmpdir(), "llmstack-policy-span-"));
    const values = spanValues();
    const overrides = Object.fromEntries(Object.entries(values).map(([k, v]) => [`llmstack:${k}`, v]));
    const run = await runProgram("fleet", overrides, { ...TEST_SECRETS, dockerTls: TLS }, true, FLEET_DIR);
    if (run.error) throw run.error;
    regs = run.registrations;
  });

  it("passes: its members run on their hosts' networks", () => {
    const hostNetwork = regs
      .filter((r) => r.type === CONTAINER && (r.inputs as ContainerInputs).networkMode === "host")
      .map((r) => (r.inputs as ContainerInputs).name);
    expect(hostNetwork).toEqual(["llm-multimodal-stack-fleet-vllm-gpu-a-0-gpu-b", "llm-multimodal-stack-fleet-vllm-gpu-a-0"]);
    expect(runPolicies(regs, "staging")).toEqual([]);
  });

  it("refuses any other container on the host's network", () => {
    const bad = regs.map((r) =>
      r.type === CONTAINER && (r.inputs as ContainerInputs).name === "llm-multimodal-stack-fleet-redis"
        ? { ...r, inputs: { ...r.inputs, networkMode: "host" } }
        : r,
    );
    expect(runPolicies(bad, "staging")).toEqual([
      {
        policy: "only-gateway-published",
        level: "mandatory",
        message:
          'container llm-multimodal-stack-fleet-redis runs on the host\'s network (networkMode "host"), where every port it opens is ' +
          "on every address of the host; only a member of a vLLM replica across hosts (vllm serve --nnodes) may: put it on the stack network",
      },
    ]);
  });
});
