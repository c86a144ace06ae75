/**
 * docker.images: every image of the stack is on the Docker host or pullable without a login. The docker CLI's
 * messages below are real: captured from docker 28.2.2 (`docker manifest inspect`) against a registry that
 * answers MANIFEST_UNKNOWN, one that asks for basic auth, and a host without DNS; the Docker Hub refusal is
 * the one quoted in https://github.com/collabnix/dockerlabs/issues/399.
 */
import { existsSync } from "node:fs";
import { describe, expect, it } from "vitest";
import type { ExecResult } from "../../src/exec";
import { parseStackConfig } from "../../src/config/parse";
import { imageState, registryOf } from "../../src/preflight/images";
import { stackNeeds } from "../../src/preflight/needs";
import { runPreflight } from "../../src/preflight/run";
import { fakeIo, type ExecCall } from "../helpers/fakeIo";
import { APP_IMAGES, planFromValues, rawValues, withAppImages } from "../helpers/stacks";

const HOST = "unix:///var/run/docker.sock";
const fail = (stderr: string, code = 1): ExecResult => ({ code, stdout: "", stderr });
const NOT_HERE = (ref: string): ExecResult => fail(`Error response from daemon: No such image: ${ref}\n`);
const NO_MANIFEST = (ref: string): ExecResult => fail(`no such manifest: ${ref}\n`);
const NO_DNS = (host: string): ExecResult =>
  fail(`failed to configure transport: error pinging v2 registry: Get "https://${host}/v2/": dial tcp: lookup ${host} on 10.255.255.53:53: no such host\n`);
const BASIC_AUTH = fail('Get "http://localhost:5997/v2/x/y/manifests/1": no basic auth credentials\n');
const HUB_DENIED = fail("errors:\ndenied: requested access to the resource is denied\nunauthorized: authentication required\n");

describe("imageState: the docker CLI's answers", () => {
  const ok: ExecResult = { code: 0, stdout: "sha256:0123\n", stderr: "" };
  it.each([
    ["on the host", ok, null, { kind: "on-host" }],
    ["a manifest found", NOT_HERE("a:1"), { code: 0, stdout: "{}", stderr: "" }, { kind: "pullable" }],
    ["no such manifest", NOT_HERE("a:1"), NO_MANIFEST("localhost:5998/x/y:1"), { kind: "refused", detail: "no such manifest: localhost:5998/x/y:1" }],
    ["a registry asking for basic auth", NOT_HERE("a:1"), BASIC_AUTH, { kind: "refused", detail: 'Get "http://localhost:5997/v2/x/y/manifests/1": no basic auth credentials' }],
    ["Docker Hub's refusal", NOT_HERE("a:1"), HUB_DENIED, { kind: "refused", detail: "unauthorized: authentication required" }],
    [
      "no DNS",
      NOT_HERE("a:1"),
      NO_DNS("ghcr.io"),
      {
        kind: "unreachable",
        detail: 'failed to configure transport: error pinging v2 registry: Get "https://ghcr.io/v2/": dial tcp: lookup ghcr.io on 10.255.255.53:53: no such host',
      },
    ],
    ["a registry that did not answer (killed at the timeout)", NOT_HERE("a:1"), fail("", 124), { kind: "unreachable", detail: "the registry did not answer in time" }],
    ["anything else", NOT_HERE("a:1"), fail("docker: 'manifest' is not a docker command.\n"), { kind: "error", detail: "docker: 'manifest' is not a docker command." }],
  ])("%s", (_name, inspect, manifest, state) => {
    expect(imageState(inspect, manifest)).toEqual(state);
  });

  it("names the registry as docker login takes it", () => {
    expect(["postgres:16.10", "grafana/grafana:12.2.0", "ghcr.io/berriai/litellm:v1.84.0", "localhost:5000/x:1", "nvcr.io/nvidia/k8s/dcgm-exporter:4.2.3-4.1.3-ubuntu22.04"].map(registryOf)).toEqual([
      "docker.io",
      "docker.io",
      "ghcr.io",
      "localhost:5000",
      "nvcr.io",
    ]);
  });

  it("normalizes the registry as the reference parser does, the same way `images pin` finds it", () => {
    // index.docker.io is Docker Hub; an upper-case first part is a host (distribution/reference splitDockerDomain).
    expect(["index.docker.io/vllm/vllm-openai:v0.21.0", "Registry/team/app:1.0.0", "localhost/app:1"].map(registryOf)).toEqual([
      "docker.io",
      "Registry",
      "localhost",
    ]);
  });
});

/** The development stack in cpu mode, with or without your images, and what `llmstack validate` gathers for it. */
function cpuNeeds(apps: boolean) {
  const values = rawValues("development");
  values.gpu = { mode: "cpu" };
  if (apps) withAppImages(values);
  return stackNeeds(parseStackConfig(values, "Pulumi.development.yaml"), planFromValues(values, "development"));
}

/** A host whose daemon answers and has `present` images; the registries answer per image. */
function host(present: readonly string[], registry: (ref: string) => ExecResult) {
  return (c: ExecCall): ExecResult => {
    if (c.file !== "docker") return fail("not found", 127);
    if (c.args[0] === "manifest") return registry(c.args.at(-1)!);
    const [, , cmd, sub] = c.args;
    if (cmd === "version") return { code: 0, stdout: JSON.stringify({ Server: { Version: "28.2.2", ApiVersion: "1.50" } }), stderr: "" };
    if (cmd === "info") return { code: 0, stdout: JSON.stringify({ DockerRootDir: "/var/lib/docker", Runtimes: { runc: {} } }), stderr: "" };
    if (cmd === "ps") return { code: 0, stdout: "", stderr: "" };
    if (cmd === "image" && sub === "inspect") {
      const ref = c.args.at(-1)!;
      return present.includes(ref) ? { code: 0, stdout: "sha256:0123\n", stderr: "" } : NOT_HERE(ref);
    }
    return fail(`unexpected docker ${c.args.join(" ")}`);
  };
}

async function validateImages(needs: ReturnType<typeof cpuNeeds>, present: readonly string[], registry: (ref: string) => ExecResult) {
  const io = fakeIo("/nowhere", host(present, registry), { PATH: "/usr/bin", HTTPS_PROXY: "http://proxy:3128" });
  const results = await runPreflight(needs, io.exec, io.env);
  return { check: results.find((r) => r.check === "docker.images"), calls: io.calls };
}

const CPU_IMAGES = [
  "vllm/vllm-openai-cpu:v0.21.0",
  "postgres:16.10",
  "redis:7.4.6",
  "qdrant/qdrant:v1.15.5",
  "chrislusf/seaweedfs:3.97",
  "ghcr.io/berriai/litellm:v1.84.0",
];

describe("docker.images in llmstack validate (fake docker CLI)", () => {
  it("passes when each image is on the host or its registry serves it without a login", async () => {
    const { check, calls } = await validateImages(cpuNeeds(false), CPU_IMAGES.slice(0, 4), () => ({ code: 0, stdout: "{}", stderr: "" }));
    expect(check).toEqual({
      check: "docker.images",
      status: "pass",
      found: "all 6 images can be had: 4 on the host, 2 pullable without a login",
      fix: null,
    });
    // The host is asked for every image; the registry only for those the host lacks, without --host.
    expect(calls.filter((c) => c.args.includes("image")).map((c) => c.args.at(-1))).toEqual(CPU_IMAGES);
    expect(calls.filter((c) => c.args[0] === "manifest").map((c) => c.args)).toEqual([
      ["manifest", "inspect", "chrislusf/seaweedfs:3.97"],
      ["manifest", "inspect", "ghcr.io/berriai/litellm:v1.84.0"],
    ]);
  });

  it("asks the registry without the user's credentials, keeping the rest of the environment", async () => {
    const { calls } = await validateImages(cpuNeeds(false), [], () => ({ code: 0, stdout: "{}", stderr: "" }));
    const manifest = calls.find((c) => c.args[0] === "manifest")!;
    const dir = manifest.opts?.env?.DOCKER_CONFIG;
    expect(dir).toMatch(/llmstack-no-credentials-/);
    expect(dir).not.toBe(process.env.DOCKER_CONFIG);
    expect(manifest.opts?.env?.PATH).toBe("/usr/bin");
    expect(manifest.opts?.env?.HTTPS_PROXY).toBe("http://proxy:3128");
    expect(manifest.opts?.timeoutMs).toBe(30_000);
    // The empty config directory is gone once the check is done.
    expect(existsSync(dir!)).toBe(false);
  });

  it("names each image that is neither on the host nor pullable, with its fix", async () => {
    const registry = (ref: string): ExecResult =>
      ref.startsWith("ghcr.io/") ? NO_DNS("ghcr.io") : ref === "chrislusf/seaweedfs:3.97" ? NO_MANIFEST(`docker.io/${ref}`) : { code: 0, stdout: "{}", stderr: "" };
    const { check } = await validateImages(cpuNeeds(false), CPU_IMAGES.slice(0, 3), registry);
    expect(check).toEqual({
      check: "docker.images",
      status: "fail",
      found:
        "chrislusf/seaweedfs:3.97 (llmstack:images.objectStore) is not on the host and docker.io does not serve it without " +
        "a login: no such manifest: docker.io/chrislusf/seaweedfs:3.97; " +
        "ghcr.io/berriai/litellm:v1.84.0 (llmstack:images.litellm) is not on the host and ghcr.io cannot be reached from this " +
        'machine: failed to configure transport: error pinging v2 registry: Get "https://ghcr.io/v2/": dial tcp: lookup ghcr.io on ' +
        "10.255.255.53:53: no such host",
      fix:
        `if it is private: docker login docker.io, then docker --host ${HOST} pull chrislusf/seaweedfs:3.97 (the Docker ` +
        "provider pulls without credentials and uses the host's copy); if it does not exist: build and push it, or set " +
        "llmstack:images.objectStore to an image that exists; " +
        `pull or load it on the Docker host (docker --host ${HOST} pull ghcr.io/berriai/litellm:v1.84.0, or docker load), ` +
        "or check this machine's network or proxy",
    });
  });

  it("offers to unset your own images, and says how to log in for a private one", async () => {
    const registry = (ref: string): ExecResult =>
      ref === APP_IMAGES.multimodalWorker ? HUB_DENIED : ref === APP_IMAGES.retrievalProxy ? NO_MANIFEST(ref) : { code: 0, stdout: "{}", stderr: "" };
    const { check } = await validateImages(cpuNeeds(true), CPU_IMAGES, registry);
    expect(check).toEqual({
      check: "docker.images",
      status: "fail",
      found:
        `${APP_IMAGES.multimodalWorker} (llmstack:images.multimodalWorker) is not on the host and registry.example.com does ` +
        "not serve it without a login: unauthorized: authentication required; " +
        `${APP_IMAGES.retrievalProxy} (llmstack:images.retrievalProxy) is not on the host and registry.example.com does not ` +
        `serve it without a login: no such manifest: ${APP_IMAGES.retrievalProxy}`,
      fix:
        `if it is private: docker login registry.example.com, then docker --host ${HOST} pull ${APP_IMAGES.multimodalWorker} ` +
        "(the Docker provider pulls without credentials and uses the host's copy); if it does not exist: build and push it, " +
        "or set llmstack:images.multimodalWorker to an image that exists, or unset llmstack:images.multimodalWorker to run " +
        "the stack without it; " +
        `if it is private: docker login registry.example.com, then docker --host ${HOST} pull ${APP_IMAGES.retrievalProxy} ` +
        "(the Docker provider pulls without credentials and uses the host's copy); if it does not exist: build and push it, " +
        "or set llmstack:images.retrievalProxy to an image that exists, or unset llmstack:images.retrievalProxy to run the " +
        "stack without it",
    });
  });

  it("asks nothing of images when the daemon does not answer (docker.daemon says so)", async () => {
    const io = fakeIo("/nowhere", (c) => (c.file === "docker" ? fail("Cannot connect to the Docker daemon at unix:///var/run/docker.sock. Is the docker daemon running?") : fail("", 127)));
    const results = await runPreflight(cpuNeeds(false), io.exec, io.env);
    expect(results.map((r) => r.check)).not.toContain("docker.images");
    expect(io.calls.filter((c) => c.args.includes("inspect"))).toEqual([]);
  });
});
