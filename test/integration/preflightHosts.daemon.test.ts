/**
 * `llmstack validate` across hosts on three real Docker daemons, each in its own network namespace with its
 * own address, reached over tcp:// with TLS (test/integration/fleet/netns.ts). The docker CLI takes the
 * harness's client certificate as a user gives it one (DOCKER_TLS_VERIFY, DOCKER_CERT_PATH). It shows that
 * validate passes on a good fleet (the gateway host reaches both replicas' ports through a real listener),
 * and fails with the fix on a port already bound on a GPU host, a GPU used twice and a host that does not
 * answer. The hosts have no GPU and their daemons are reached over tcp://, so nvidia-smi is not run there
 * (a warning, as on a single tcp:// host).
 */
import { copyFileSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { stringify } from "yaml";
import { realExec, type CliIo } from "../../src/cli/io";
import { main } from "../../src/cli/main";
import type { CheckResult } from "../../src/preflight/types";
import { ROOT } from "../helpers/root";
import { rawValues } from "../helpers/stacks";
import { requireDaemon, testDocker } from "./daemon";
import { requireNetnsTools, startNetnsFleet, type NetnsFleet } from "./fleet/netns";
import { dockerCertDir, FLEET_HOSTS, holdPort, loadStackImages, ONE_H100 } from "./fleet/stackHosts";
import { buildStandins } from "./images/build";

const HOSTS = FLEET_HOSTS;
const GPU = ONE_H100;

interface Validated {
  readonly code: number;
  readonly out: string;
  readonly err: string;
  readonly json: { ok: boolean; hosts: { name: string; checks: CheckResult[] }[]; checks: CheckResult[] } | null;
}

describe("validate across hosts on three Docker daemons in their own network namespaces", () => {
  let fleet: NetnsFleet;
  let dir = "";
  let certs = "";

  /** The development stack as a fleet of the harness's hosts; `edit` changes the values before they are written. */
  const writeStack = (name: string, edit: (v: Record<string, any>) => void = () => undefined): void => {
    const base = rawValues("development") as Record<string, any>;
    delete base.dockerHost;
    delete base.gpu;
    const h = (n: string) => fleet.host(n);
    const values: Record<string, any> = {
      ...base,
      hosts: [
        { name: "control", endpoint: h("control").endpoint, address: h("control").address, roles: ["gateway", "state"] },
        { name: "gpu-a", endpoint: h("gpu-a").endpoint, address: h("gpu-a").address, roles: ["gpu"], gpu: GPU },
        { name: "gpu-b", endpoint: h("gpu-b").endpoint, address: h("gpu-b").address, roles: ["gpu"], gpu: GPU },
      ],
      model: { ...base.model, replicas: 2 },
      gateway: { bindAddress: "127.0.0.1", port: 4000 },
    };
    edit(values);
    const config = Object.fromEntries(Object.entries(values).map(([k, v]) => [`llmstack:${k}`, v]));
    writeFileSync(join(dir, `Pulumi.${name}.yaml`), stringify({ config }));
  };

  /** `llmstack validate --stack <name> [--json]`, the docker CLI with the harness's client certificate. */
  const validate = async (name: string, json = false): Promise<Validated> => {
    let out = "";
    let err = "";
    const env = { ...process.env, DOCKER_TLS_VERIFY: "1", DOCKER_CERT_PATH: certs };
    const io: CliIo = {
      env,
      cwd: dir,
      stdout: (t) => (out += t),
      stderr: (t) => (err += t),
      exec: (file, args, opts) => realExec(file, args, { ...opts, env: { ...env, ...opts?.env } }),
    };
    const code = await main(["validate", "--stack", name, ...(json ? ["--json"] : [])], io);
    return { code, out, err, json: json && out.startsWith("{") ? (JSON.parse(out) as Validated["json"]) : null };
  };

  const checksOf = (v: Validated, host: string): CheckResult[] => v.json!.hosts.find((h) => h.name === host)!.checks;
  const line = (r: CheckResult): string => `${r.status} ${r.check}`;

  beforeAll(async () => {
    requireNetnsTools();
    const source = testDocker(requireDaemon());
    await buildStandins(source);
    fleet = await startNetnsFleet({ tag: "pfh", subnet: 9, hosts: HOSTS });
    await loadStackImages(source, fleet);
    dir = mkdtempSync(join(tmpdir(), "llmstack-preflight-hosts-"));
    copyFileSync(join(ROOT, "Pulumi.yaml"), join(dir, "Pulumi.yaml"));
    certs = dockerCertDir(dir, fleet);
  }, 900_000);

  afterAll(async () => {
    await fleet?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it("passes on a good fleet: every daemon answers and the gateway host reaches both replicas' ports", async () => {
    writeStack("good");
    const v = await validate("good", true);
    expect([v.code, v.err, v.json!.ok]).toEqual([0, "", true]);
    expect(v.json!.hosts.map((h) => [h.name, h.checks.map(line)])).toEqual([
      ["control", ["pass docker.daemon", "pass docker.api", "pass docker.images", "pass postgres.data", "pass qdrant.data", "warn host.reach"]],
      ["gpu-a", ["pass docker.daemon", "pass docker.api", "pass docker.images", "warn host.reach", "warn replica.gpus", "pass replica.port", "pass replica.reach"]],
      ["gpu-b", ["pass docker.daemon", "pass docker.api", "pass docker.images", "warn host.reach", "warn replica.gpus", "pass replica.port", "pass replica.reach"]],
    ]);
    const a = fleet.host("gpu-a").address;
    expect(checksOf(v, "gpu-a").filter((r) => r.check.startsWith("replica.") && r.status === "pass").map((r) => r.found)).toEqual([
      `${a}:8000 (replica gpu-a-0 on gpu-a) is free on gpu-a`,
      `the gateway host control reaches ${a}:8000 (replica gpu-a-0 on gpu-a)`,
    ]);
    // The listener and its network are gone again.
    const left = await fleet.host("gpu-a").docker.listContainers({ all: true });
    const networks = await fleet.host("gpu-a").docker.listNetworks();
    expect([left.map((c) => c.Names[0]), networks.map((n) => n.Name).filter((n) => n.includes("preflight"))]).toEqual([[], []]);
    // The text output groups the checks per host.
    const text = await validate("good");
    expect(text.out.split("\n").filter((l) => l.startsWith("host "))).toEqual(
      HOSTS.map((h) => `host ${h} (${fleet.host(h).endpoint}; ${h === "control" ? "gateway, state" : "gpu"})`),
    );
    expect(text.out.endsWith("Pulumi.good.yaml: the hosts can run this stack (21 checks on 3 hosts, none failed)\n")).toBe(true);
  });

  it("fails on a port already bound on a GPU host, with the fix", async () => {
    writeStack("blocked");
    const b = fleet.host("gpu-b");
    // Another program on gpu-b listening on the replica's port at gpu-b's address.
    const squatter = await holdPort(b, 8000);
    try {
      const v = await validate("blocked", true);
      expect([v.code, v.json!.ok]).toEqual([1, false]);
      const failed = v.json!.hosts.flatMap((h) => h.checks.filter((r) => r.status === "fail").map((r) => `${h.name} ${r.check}: ${r.found}`));
      // Docker's own words after the prefix (docker-proxy's bind: "... address already in use").
      const prefix = `gpu-b replica.port: ${b.address}:8000 (replica gpu-b-0 on gpu-b) is blocked: Docker could not publish it on gpu-b: `;
      expect(failed).toEqual([expect.stringMatching(new RegExp(`^${prefix.replace(/[.()]/g, "\\$&")}.*address already in use`))]);
      const port = checksOf(v, "gpu-b").find((r) => r.check === "replica.port")!;
      expect(port.fix).toBe(
        `stop what holds port 8000 on gpu-b (docker --host ${b.endpoint} ps --filter publish=8000 shows a container that ` +
          "publishes it; ss -tlnp 'sport = :8000' on the host shows a process), then run validate again",
      );
      const text = await validate("blocked");
      expect(text.out.endsWith('Pulumi.blocked.yaml: 1 check(s) failed: gpu-b replica.port; fix each as its line says; run "llmstack validate --stack blocked"\n')).toBe(true);
    } finally {
      squatter.kill();
    }
    // The listener that could not start is gone again.
    expect((await b.docker.listContainers({ all: true })).map((c) => c.Names[0])).toEqual([]);
  });

  it("fails on a GPU used twice, with the fix", async () => {
    writeStack("twice", (v) => {
      v.model = { ...v.model, replicas: undefined, placement: [{ host: "gpu-a", devices: ["0"] }, { host: "gpu-a", devices: ["0"] }] };
      delete v.model.replicas;
    });
    const v = await validate("twice");
    expect([v.code, v.out, v.err]).toEqual([
      1,
      "",
      "llmstack validate: Pulumi.twice.yaml: the model's replicas cannot be placed:\n" +
        "  - model.placement[1]: GPU 0 of gpu-a is already taken by model.placement[0]; every GPU is used at most once: " +
        'pin another GPU; run "llmstack plan --stack twice"\n',
    ]);
  });

  it("fails on a host whose daemon does not answer: one failure naming it, its endpoint and the fix", async () => {
    // An address on the fleet's network that no host owns.
    const nowhere = fleet.host("gpu-b").address.replace(/\.\d+$/, ".99");
    writeStack("unreachable", (v) => {
      v.hosts[2].endpoint = `tcp://${nowhere}:2376`;
    });
    const v = await validate("unreachable", true);
    expect([v.code, v.json!.ok]).toEqual([1, false]);
    const gpuB = checksOf(v, "gpu-b");
    expect(gpuB.map(line)).toEqual(["fail docker.daemon"]);
    expect(gpuB[0]!.found).toMatch(
      new RegExp(`^gpu-b: the Docker daemon at tcp://${nowhere.replace(/\./g, "\\.")}:2376 does not answer: .+; nothing else on gpu-b was checked$`),
    );
    expect(gpuB[0]!.fix).toBe(
      `start Docker on gpu-b listening on ${nowhere}:2376 with TLS (dockerd --tlsverify), let this machine reach that port, and give ` +
        "the docker CLI the host's client certificate (DOCKER_TLS_VERIFY=1 and DOCKER_CERT_PATH=<a directory with ca.pem, cert.pem, " +
        `key.pem>), or fix llmstack:hosts[2].endpoint ("tcp://${nowhere}:2376") in Pulumi.unreachable.yaml`,
    );
    // The other hosts are checked as before, gpu-a's replica with its reach.
    expect(v.json!.hosts.flatMap((h) => h.checks.filter((r) => r.status === "fail").map((r) => `${h.name} ${r.check}`))).toEqual(["gpu-b docker.daemon"]);
    expect(checksOf(v, "gpu-a").filter((r) => r.check === "replica.reach").map(line)).toEqual(["pass replica.reach"]);
  });
});
