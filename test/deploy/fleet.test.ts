/**
 * The example fleet under Pulumi's mocks: one Docker provider per host, and every Docker resource
 * registered with its host's provider. Pulumi's engine enforces `pulumi:disable-default-providers`
 * (Pulumi.yaml), mocks do not, so this test asserts that no Docker resource goes without a provider.
 */
import { mkdtempSync, readFileSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { beforeAll, describe, expect, it, vi } from "vitest";
import { knownHostsLine } from "../../src/config/hosts";
import { dockerTlsProblems } from "../../src/deploy/hosts";
import { FLEET_DIR, fleetPlan, fleetValues } from "../helpers/fleet";
import { runProgram, TEST_SECRETS, unwrap, type MockRun } from "../helpers/pulumiMocks";
import { spanValues } from "../helpers/span";

const PEM = (what: string) => `-----BEGIN ${what}-----\nMIIB\n-----END ${what}-----\n`;
const TLS = JSON.stringify({ "gpu-b": { ca: PEM("CERTIFICATE"), cert: PEM("CERTIFICATE"), key: PEM("PRIVATE KEY") } });
const PROVIDER = "pulumi:providers:docker";

// ssh finds ~ in the password database (src/deploy/hosts.ts), which a test cannot change: the home the
// program writes to comes from os.userInfo(), replaced here by a temporary directory.
const home = vi.hoisted(() => ({ dir: "" }));
vi.mock("node:os", async (importOriginal) => {
  const os = await importOriginal<typeof import("node:os")>();
  return { ...os, userInfo: () => ({ ...os.userInfo(), homedir: home.dir }) };
});

describe("the example fleet under Pulumi mocks (preview)", () => {
  let run: MockRun;
  beforeAll(async () => {
    home.dir = mkdtempSync(join(tmpdir(), "llmstack-fleet-home-"));
    run = await runProgram("fleet", {}, { ...TEST_SECRETS, dockerTls: TLS }, true, FLEET_DIR);
  });

  it("registers one Docker provider per host, each reached as its host says", () => {
    expect(run.error).toBeUndefined();
    const providers = run.registrations.filter((r) => r.type === PROVIDER);
    expect(providers.map((p) => p.name)).toEqual(["fleet-docker-control", "fleet-docker-gpu-a", "fleet-docker-gpu-b"]);
    const ssh = [
      "-o", "StrictHostKeyChecking=yes",
      "-o", "UserKnownHostsFile=~/.llmstack/known_hosts/llm-multimodal-stack-fleet",
      "-o", "GlobalKnownHostsFile=/dev/null",
      "-o", "BatchMode=yes",
    ];
    expect(providers[0]!.inputs.host).toBe("ssh://deploy@10.20.0.10");
    expect(providers[0]!.inputs.sshOpts).toEqual(JSON.stringify(ssh));
    expect(providers[1]!.inputs.sshOpts).toEqual(JSON.stringify(ssh));
    expect(providers[2]!.inputs.host).toBe("tcp://10.20.0.12:2376");
    expect(providers[2]!.inputs.sshOpts).toBeUndefined();
    expect(Object.keys(providers[2]!.inputs).filter((k) => k.endsWith("Material")).sort()).toEqual([
      "caMaterial",
      "certMaterial",
      "keyMaterial",
    ]);
  });

  it("binds every Docker resource to its own host's provider, and none to a default provider", () => {
    const docker = run.registrations.filter((r) => r.type.startsWith("docker:"));
    expect(docker.length).toBeGreaterThan(20);
    const without = docker.filter((r) => r.provider === undefined || r.provider.includes("::default_"));
    expect(without.map((r) => r.name)).toEqual([]);
    const hostOf = (r: { provider?: string }) => /fleet-docker-([a-z0-9-]+)::/.exec(r.provider!)![1];
    const containers = docker.filter((r) => r.type === "docker:index/container:Container");
    const plan = fleetPlan();
    // Each planned container is registered once, through the provider of the host the plan places it on.
    expect(containers.map((c) => [c.inputs.name, hostOf(c)]).sort()).toEqual(
      plan.containers.map((c) => [c.name, c.placement!.host]).sort(),
    );
    // Its image is pulled on the same host, and its volumes and network live there too.
    for (const c of containers) {
      const image = docker.find((r) => r.type === "docker:index/remoteImage:RemoteImage" && r.name === c.name.replace(/-container$/, "-image"));
      expect([c.name, hostOf(image!)]).toEqual([c.name, hostOf(c)]);
    }
    const volumes = docker.filter((r) => r.type === "docker:index/volume:Volume").map((v) => [v.name, hostOf(v)]);
    expect(volumes.sort()).toEqual(plan.volumes.map((v) => [`fleet-${v.key}-${v.host}`, v.host]).sort());
    const networks = docker.filter((r) => r.type === "docker:index/network:Network").map((n) => [n.name, hostOf(n)]);
    expect(networks.sort()).toEqual([
      ["fleet-network-control", "control"],
      ["fleet-network-gpu-a", "gpu-a"],
      ["fleet-network-gpu-b", "gpu-b"],
    ]);
  });

  it("pulls the model once per GPU host and runs each replica under its own component, through its host's provider", () => {
    const named = (re: RegExp) =>
      run.registrations
        .filter((r) => r.type === "docker:index/container:Container" && re.test(r.name))
        .map((r) => [r.name, /fleet-docker-([a-z0-9-]+)::/.exec(r.provider!)![1]])
        .sort();
    expect(named(/model-download/)).toEqual([
      ["fleet-model-download-gpu-a-container", "gpu-a"],
      ["fleet-model-download-gpu-b-container", "gpu-b"],
    ]);
    expect(named(/^fleet-vllm-/)).toEqual([
      ["fleet-vllm-gpu-a-0-container", "gpu-a"],
      ["fleet-vllm-gpu-b-0-container", "gpu-b"],
    ]);
  });

  it("runs a DCGM exporter on each GPU host under a name that carries the host, and the rest of monitoring on the control host", () => {
    const named = (re: RegExp) =>
      run.registrations
        .filter((r) => r.type === "docker:index/container:Container" && re.test(r.name))
        .map((r) => [r.name, /fleet-docker-([a-z0-9-]+)::/.exec(r.provider!)![1]])
        .sort();
    expect(named(/^fleet-(dcgm-exporter|prometheus|alertmanager|grafana)/)).toEqual([
      ["fleet-alertmanager-container", "control"],
      ["fleet-dcgm-exporter-gpu-a-container", "gpu-a"],
      ["fleet-dcgm-exporter-gpu-b-container", "gpu-b"],
      ["fleet-grafana-container", "control"],
      ["fleet-prometheus-container", "control"],
    ]);
  });

  it("writes the stack's known_hosts file with the pinned keys, readable by its owner only", () => {
    const file = join(home.dir, ".llmstack", "known_hosts", "llm-multimodal-stack-fleet");
    expect(readFileSync(file, "utf8")).toBe(
      "10.20.0.10 ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAINVzW1Z76vKDtTZ+hThU+pzitM37mZTEKdf5A1bpBqhb\n" +
        "10.20.0.11 ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOZTnr5j37i8kNzadr+m52xYr8ww59ioeCk5Qzu56JYj\n",
    );
    expect(statSync(file).mode & 0o777).toBe(0o600);
  });
});

describe("a scheduled backup on the example fleet under Pulumi mocks (preview)", () => {
  let run: MockRun;
  beforeAll(async () => {
    home.dir = mkdtempSync(join(tmpdir(), "llmstack-fleet-home-"));
    const backup = { schedule: "03:30", keep: 7, to: "/srv/llmstack-backups" };
    run = await runProgram("fleet", { "llmstack:backup": backup }, { ...TEST_SECRETS, dockerTls: TLS }, true, FLEET_DIR);
  });

  it("creates its three containers through the state host's provider", () => {
    expect(run.error).toBeUndefined();
    const backup = run.registrations
      .filter((r) => r.type === "docker:index/container:Container" && /^fleet-backup/.test(r.name))
      .map((r) => [r.name, /fleet-docker-([a-z0-9-]+)::/.exec(r.provider!)![1]]);
    expect(backup.sort()).toEqual([
      ["fleet-backup-container", "control"],
      ["fleet-backup-postgres-container", "control"],
      ["fleet-backup-redis-container", "control"],
    ]);
  });
});

describe("a replica across hosts under Pulumi mocks (preview)", () => {
  let run: MockRun;
  beforeAll(async () => {
    home.dir = mkdtempSync(join(tmpdir(), "llmstack-fleet-home-"));
    const v = spanValues();
    run = await runProgram(
      "fleet",
      { "llmstack:hosts": v.hosts, "llmstack:model": v.model },
      { ...TEST_SECRETS, dockerTls: TLS },
      true,
      FLEET_DIR,
    );
  });

  it("creates each member under the replica's name, through its own host's provider, on the host's network", () => {
    expect(run.error).toBeUndefined();
    const vllms = run.registrations
      .filter((r) => r.type === "docker:index/container:Container" && r.name.startsWith("fleet-vllm-"))
      .map((r) => [r.name, /fleet-docker-([a-z0-9-]+)::/.exec(r.provider!)![1], r.inputs.name, r.inputs.networkMode, r.inputs.networksAdvanced, r.inputs.ports]);
    expect(vllms.sort()).toEqual([
      ["fleet-vllm-gpu-a-0-container", "gpu-a", "llm-multimodal-stack-fleet-vllm-gpu-a-0", "host", undefined, []],
      ["fleet-vllm-gpu-a-0-gpu-b-container", "gpu-b", "llm-multimodal-stack-fleet-vllm-gpu-a-0-gpu-b", "host", undefined, []],
    ]);
    const downloads = run.registrations
      .filter((r) => r.type === "docker:index/container:Container" && r.name.includes("model-download"))
      .map((r) => [r.name, /fleet-docker-([a-z0-9-]+)::/.exec(r.provider!)![1]]);
    expect(downloads.sort()).toEqual([
      ["fleet-model-download-gpu-a-container", "gpu-a"],
      ["fleet-model-download-gpu-b-container", "gpu-b"],
    ]);
  });

  it("starts the head after its host's download and the headless member", async () => {
    const head = run.options.find((o) => o.name === "fleet-vllm-gpu-a-0-container")!;
    const after = (await unwrap(head.opts.dependsOn as never)) as unknown as { __name?: string }[];
    expect(after.map((r) => r.__name).sort()).toEqual(["fleet-model-download-gpu-a-container", "fleet-vllm-gpu-a-0-gpu-b-container"]);
    const member = run.options.find((o) => o.name === "fleet-vllm-gpu-a-0-gpu-b-container")!;
    const before = (await unwrap(member.opts.dependsOn as never)) as unknown as { __name?: string }[];
    expect(before.map((r) => r.__name)).toEqual(["fleet-model-download-gpu-b-container"]);
  });
});

describe("a stack with hosts under Pulumi mocks", () => {
  it("runs pulumi up once the preflight across its hosts passed (test/deploy/fleetGate.test.ts), every replica on its host", async () => {
    const run = await runProgram("fleet", {}, { ...TEST_SECRETS, dockerTls: TLS }, false, FLEET_DIR);
    expect(run.error).toBeUndefined();
    expect(run.containers().filter((c) => c.name.includes("-vllm-")).map((c) => [c.name, /fleet-docker-([a-z0-9-]+)::/.exec(c.provider!)![1]])).toEqual([
      ["fleet-vllm-gpu-a-0-container", "gpu-a"],
      ["fleet-vllm-gpu-b-0-container", "gpu-b"],
    ]);
  });

  it("previews vLLM's router on the gateway host under its own component (model.router: cache_aware)", async () => {
    const model = { ...fleetValues().model, router: "cache_aware" };
    const run = await runProgram("fleet", { "llmstack:model": model }, { ...TEST_SECRETS, dockerTls: TLS }, true, FLEET_DIR);
    expect(run.error).toBeUndefined();
    expect(run.registrations.filter((r) => r.type === "llmstack:service:VllmRouter").map((r) => r.name)).toEqual(["fleet-vllm-router"]);
    const router = run.registrations.filter((r) => r.type === "docker:index/container:Container" && r.name === "fleet-vllm-router-container");
    expect(router.map((r) => [r.inputs.name, /fleet-docker-([a-z0-9-]+)::/.exec(r.provider!)![1]])).toEqual([
      ["llm-multimodal-stack-fleet-vllm-router", "control"],
    ]);
    expect(router[0]!.inputs.command).toEqual([
      "vllm-router", "--host", "0.0.0.0", "--port", "8080", "--policy", "cache_aware",
      "--worker-startup-timeout-secs", "1200", "--worker-urls", "http://10.20.0.11:8000", "http://10.20.0.12:8000",
    ]);
  });

  it("refuses a tcp:// host without its CA before registering anything, naming the host and field", async () => {
    const tls = JSON.stringify({ "gpu-b": { cert: PEM("CERTIFICATE"), key: PEM("PRIVATE KEY") } });
    const run = await runProgram("fleet", {}, { ...TEST_SECRETS, dockerTls: tls }, true, FLEET_DIR);
    expect(run.error?.message).toBe(
      "Pulumi.fleet.yaml: the TLS material of its tcp:// hosts:\n" +
        "  - llmstack:dockerTls.gpu-b.ca: gpu-b (tcp://10.20.0.12:2376) needs its ca as PEM text; " +
        "pulumi config set --secret llmstack:dockerTls --stack fleet < docker-tls.json",
    );
    expect(run.registrations).toEqual([]);
  });
});

describe("the hosts' connection helpers", () => {
  it.each([
    ["ssh://deploy@10.0.0.5", "10.0.0.5 ssh-ed25519 AAAA"],
    ["ssh://deploy@10.0.0.5:22", "10.0.0.5 ssh-ed25519 AAAA"],
    ["ssh://deploy@gpu.lan:2222", "[gpu.lan]:2222 ssh-ed25519 AAAA"],
  ])("writes the known_hosts line of %s as ssh looks it up", (endpoint, line) => {
    expect(knownHostsLine(endpoint, "ssh-ed25519 AAAA")).toBe(line);
  });

  it("asks for the dockerTls secret when a tcp:// host has none, and for JSON when it is not", () => {
    const plan = fleetPlan();
    expect(dockerTlsProblems(plan, undefined)).toEqual([
      "llmstack:dockerTls is not set; store the hosts' TLS material: pulumi config set --secret llmstack:dockerTls --stack fleet < docker-tls.json (docs/fleet.md)",
    ]);
    expect(dockerTlsProblems(plan, "-----BEGIN CERTIFICATE-----")).toEqual([
      'llmstack:dockerTls is not JSON; store {"<host>": {"ca": PEM, "cert": PEM, "key": PEM}}: pulumi config set --secret llmstack:dockerTls --stack fleet < docker-tls.json',
    ]);
    expect(dockerTlsProblems(plan, TLS)).toEqual([]);
  });
});
