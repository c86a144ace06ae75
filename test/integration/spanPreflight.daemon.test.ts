/**
 * `llmstack validate` of a replica across hosts on three real Docker daemons, each in its own network
 * namespace with its own address (test/integration/fleet/netns.ts), reached over tcp:// with TLS: the model
 * pinned as one replica across gpu-a (the head) and gpu-b. It shows the span checks on real daemons: each
 * member's interface (the namespace's eth0) owns its address, read by a container on the host's network;
 * gpu-b connects to a real listener at the head's address and master port; a master port another program
 * holds on the head's host fails as blocked; a different vLLM image on one member fails naming both; the
 * model's files, written into each host's cache volume, compare equal, and a file of another size fails.
 */
import { execFileSync } from "node:child_process";
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
const MODEL_DIR = "hub/models--Qwen--Qwen2.5-1.5B-Instruct";

interface Validated {
  readonly code: number;
  readonly err: string;
  readonly json: { ok: boolean; hosts: { name: string; checks: CheckResult[] }[] } | null;
}

describe("validate of a replica across hosts on three Docker daemons in their own network namespaces", () => {
  let fleet: NetnsFleet;
  let dir = "";
  let certs = "";
  let vllm = "";

  /** The development stack as a fleet with one replica across gpu-a and gpu-b. */
  const writeStack = (name: string): void => {
    const base = rawValues("development") as Record<string, any>;
    delete base.dockerHost;
    delete base.gpu;
    const h = (n: string) => fleet.host(n);
    const gpu = (n: string) => ({ name: n, endpoint: h(n).endpoint, address: h(n).address, interface: "eth0", roles: ["gpu"], gpu: GPU });
    const values: Record<string, any> = {
      ...base,
      hosts: [{ name: "control", endpoint: h("control").endpoint, address: h("control").address, roles: ["gateway", "state"] }, gpu("gpu-a"), gpu("gpu-b")],
      model: { ...base.model, placement: [{ span: [{ host: "gpu-a", devices: ["0"] }, { host: "gpu-b", devices: ["0"] }] }] },
      gateway: { bindAddress: "127.0.0.1", port: 4000 },
    };
    const config = Object.fromEntries(Object.entries(values).map(([k, v]) => [`llmstack:${k}`, v]));
    writeFileSync(join(dir, `Pulumi.${name}.yaml`), stringify({ config }));
  };

  const validate = async (name: string): Promise<Validated> => {
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
    const code = await main(["validate", "--stack", name, "--json"], io);
    return { code, err, json: out.startsWith("{") ? (JSON.parse(out) as Validated["json"]) : null };
  };

  const span = (v: Validated): CheckResult[] => v.json!.hosts.find((h) => h.name === "gpu-a")!.checks.filter((r) => r.check.startsWith("span."));

  /** The docker CLI on a host's own socket, for the test's setup. */
  const docker = (host: string, ...args: string[]): string =>
    execFileSync("docker", ["--host", fleet.host(host).socket, ...args], { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });

  /** Writes the model's snapshot into a host's cache volume, as the model download leaves it (files by size). */
  const writeModel = (host: string, volume: string, files: Record<string, number>): void => {
    const program = [
      "import os, sys, json",
      `snap = '/c/${MODEL_DIR}/snapshots/0123abcd'`,
      "os.makedirs(snap, exist_ok=True)",
      `os.makedirs('/c/${MODEL_DIR}/refs', exist_ok=True)`,
      `open('/c/${MODEL_DIR}/refs/main', 'w').write('0123abcd')`,
      "for name, size in json.loads(sys.argv[1]).items():",
      "    open(os.path.join(snap, name), 'wb').write(b'x' * size)",
    ].join("\n");
    docker(host, "run", "--rm", "--network", "none", "--user", "0", "-v", `${volume}:/c`, "--entrypoint", "python3", vllm, "-c", program, JSON.stringify(files));
  };

  beforeAll(async () => {
    requireNetnsTools();
    const source = testDocker(requireDaemon());
    await buildStandins(source);
    fleet = await startNetnsFleet({ tag: "spn", subnet: 12, hosts: HOSTS });
    vllm = await loadStackImages(source, fleet);
    dir = mkdtempSync(join(tmpdir(), "llmstack-span-preflight-"));
    copyFileSync(join(ROOT, "Pulumi.yaml"), join(dir, "Pulumi.yaml"));
    certs = dockerCertDir(dir, fleet);
  }, 900_000);

  afterAll(async () => {
    await fleet?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it("passes: the interfaces own the addresses, gpu-b reaches the head's store, the image is the same; no model yet is a warning", async () => {
    writeStack("good");
    const v = await validate("good");
    const a = fleet.host("gpu-a").address;
    const b = fleet.host("gpu-b").address;
    const id = docker("gpu-a", "image", "inspect", "--format", "{{.Id}}", vllm).trim();
    expect([v.code, v.err, v.json!.ok]).toEqual([0, "", true]);
    expect(span(v).map((r) => [r.status, r.check, r.found])).toEqual([
      ["pass", "span.interface", `gpu-a: eth0 owns ${a} (replica gpu-a-0, node 0)`],
      ["pass", "span.interface", `gpu-b: eth0 owns ${b} (replica gpu-a-0, node 1)`],
      ["pass", "span.reach", `gpu-b reaches ${a}:29501 (replica gpu-a-0's torch.distributed store on gpu-a)`],
      ["pass", "span.image", `replica gpu-a-0's members gpu-a, gpu-b have the same ${vllm} (${id})`],
      [
        "warn",
        "span.model",
        "Qwen/Qwen2.5-1.5B-Instruct@main is not in the model cache of gpu-a, gpu-b yet (replica gpu-a-0); the model download " +
          "fetches it there at deploy, so its files are compared once they are there",
      ],
    ]);
    // The listener is gone again, and no volume was created by reading.
    expect((await fleet.host("gpu-a").docker.listContainers({ all: true })).map((c) => c.Names[0])).toEqual([]);
    expect((await fleet.host("gpu-a").docker.listVolumes()).Volumes ?? []).toEqual([]);
  });

  it("fails when another program holds the master port at the head's address", async () => {
    writeStack("blocked");
    const a = fleet.host("gpu-a");
    const squatter = await holdPort(a, 29501);
    try {
      const v = await validate("blocked");
      expect([v.code, v.json!.ok]).toEqual([1, false]);
      expect(span(v).filter((r) => r.check === "span.reach")).toEqual([
        {
          check: "span.reach",
          status: "fail",
          found: `${a.address}:29501 (replica gpu-a-0's torch.distributed store on gpu-a) is blocked: the port is taken on gpu-a: [Errno 98] Address already in use`,
          fix:
            "stop what holds port 29501 on gpu-a (ss -tlnp 'sport = :29501' on the host shows it; a container on the host's " +
            `network holds it too: docker --host ${a.endpoint} ps), then run validate again`,
        },
      ]);
    } finally {
      squatter.kill();
    }
    expect((await a.docker.listContainers({ all: true })).map((c) => c.Names[0])).toEqual([]);
  });

  it("compares the model files in each host's cache volume: the same, then one of another size", async () => {
    writeStack("model");
    const volume = "llm-multimodal-stack-model-hf-cache";
    const files = { "config.json": 660, "model.safetensors": 4096, "tokenizer.json": 1200 };
    for (const h of ["gpu-a", "gpu-b"]) writeModel(h, volume, files);
    const same = await validate("model");
    expect(span(same).filter((r) => r.check === "span.model").map((r) => [r.status, r.found])).toEqual([
      ["pass", "replica gpu-a-0's members gpu-a, gpu-b hold the same 3 files of Qwen/Qwen2.5-1.5B-Instruct@main (0.0 GiB)"],
    ]);
    writeModel("gpu-b", volume, { "model.safetensors": 2048 });
    const differ = await validate("model");
    expect(span(differ).filter((r) => r.check === "span.model").map((r) => [r.status, r.found])).toEqual([
      [
        "fail",
        "replica gpu-a-0's members hold different files of Qwen/Qwen2.5-1.5B-Instruct@main: model.safetensors (gpu-a 4096 bytes, gpu-b 2048 bytes)",
      ],
    ]);
  });

  it("fails when a member has another vLLM image under the same tag, naming both", async () => {
    writeStack("image");
    const original = docker("gpu-b", "image", "inspect", "--format", "{{.Id}}", vllm).trim();
    // Another image under the tag: the same one with one more label.
    docker("gpu-b", "create", "--name", "span-image", vllm);
    docker("gpu-b", "commit", "--change", "LABEL llmstack.test=other", "span-image", vllm);
    docker("gpu-b", "rm", "span-image");
    const other = docker("gpu-b", "image", "inspect", "--format", "{{.Id}}", vllm).trim();
    try {
      const v = await validate("image");
      expect([v.code, v.json!.ok]).toEqual([1, false]);
      expect(span(v).filter((r) => r.check === "span.image")).toEqual([
        {
          check: "span.image",
          status: "fail",
          found: `replica gpu-a-0's members have different ${vllm} images: gpu-a ${original}, gpu-b ${other}`,
          fix:
            `pin the image by digest (llmstack images pin --stack image), or pull the same image on every member (docker --host ` +
            `${fleet.host("gpu-a").endpoint} pull ${vllm}; docker --host ${fleet.host("gpu-b").endpoint} pull ${vllm})`,
        },
      ]);
    } finally {
      docker("gpu-b", "tag", original, vllm);
    }
  });
});
