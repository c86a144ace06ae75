/**
 * `llmstack images pin` against a registry on 127.0.0.1 (./registryServer.ts) that stands in for
 * Docker Hub, ghcr.io and nvcr.io: every image of the checked-in files resolves through the token flow,
 * the digests land in the files with their comments and layout kept, and any failure writes nothing.
 */
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { imagesCommand } from "../../src/cli/images";
import { NODE_FS, type WriteFs } from "../../src/config/writeFile";
import { main } from "../../src/cli/main";
import { dockerConfigCredentials, parseChallenge, registryLocation } from "../../src/cli/registry";
import { fakeIo } from "../helpers/fakeIo";
import { ROOT } from "../helpers/root";
import { startRegistry, type FakeRegistry } from "./registryServer";

/**
 * Every image of Pulumi.yaml with its registry repository, as `docker pull` would name it. The multimodal
 * worker and retrieval proxy have none there: they run only when a stack sets their image.
 */
const PROJECT_IMAGES: [string, string][] = [
  ["vllm/vllm-openai:v0.21.0", "vllm/vllm-openai:v0.21.0"],
  ["vllm/vllm-openai-cpu:v0.21.0", "vllm/vllm-openai-cpu:v0.21.0"],
  ["ghcr.io/berriai/litellm:v1.84.0", "berriai/litellm:v1.84.0"],
  ["vllm/vllm-router:v0.1.16", "vllm/vllm-router:v0.1.16"],
  ["postgres:16.10", "library/postgres:16.10"],
  ["redis:7.4.6", "library/redis:7.4.6"],
  ["qdrant/qdrant:v1.15.5", "qdrant/qdrant:v1.15.5"],
  ["chrislusf/seaweedfs:3.97", "chrislusf/seaweedfs:3.97"],
  ["caddy:2.10.2", "library/caddy:2.10.2"],
];
const MONITORING_IMAGES: [string, string, string][] = [
  ["dcgmExporter", "nvcr.io/nvidia/k8s/dcgm-exporter:4.2.3-4.1.3-ubuntu22.04", "nvidia/k8s/dcgm-exporter:4.2.3-4.1.3-ubuntu22.04"],
  ["prometheus", "prom/prometheus:v3.5.0", "prom/prometheus:v3.5.0"],
  ["alertmanager", "prom/alertmanager:v0.28.1", "prom/alertmanager:v0.28.1"],
  ["grafana", "grafana/grafana:12.2.0", "grafana/grafana:12.2.0"],
];

let registry: FakeRegistry;
let dir: string;
let home: string;
const hostsAsked: string[] = [];

beforeEach(async () => {
  registry = await startRegistry();
  dir = mkdtempSync(join(tmpdir(), "images-pin-"));
  home = mkdtempSync(join(tmpdir(), "images-home-"));
  for (const f of ["Pulumi.yaml", "Pulumi.production.yaml", "Pulumi.development.yaml"]) {
    writeFileSync(join(dir, f), readFileSync(join(ROOT, f), "utf8"));
  }
  hostsAsked.length = 0;
});
afterEach(async () => {
  await registry.close();
  rmSync(dir, { recursive: true, force: true });
  rmSync(home, { recursive: true, force: true });
});

const read = (f: string) => readFileSync(join(dir, f), "utf8");
const original = (f: string) => readFileSync(join(ROOT, f), "utf8");

async function pin(args: string[], env: NodeJS.ProcessEnv = { HOME: home }) {
  const io = fakeIo(dir, undefined, env);
  const code = await imagesCommand(["pin", ...args, "--dir", dir], io, {
    baseUrl: (host) => {
      hostsAsked.push(host);
      return registry.url;
    },
  });
  return { code, out: io.out(), err: io.err() };
}

const pinned = (ref: string, nameTag: string) => `${ref}@${registry.digest(nameTag)}`;

/** Pulumi.yaml with every image pinned: the checked-in text, each reference followed by its digest. */
function pinnedProject(): string {
  let text = original("Pulumi.yaml");
  for (const [ref, nameTag] of PROJECT_IMAGES) text = text.replace(`: ${ref}\n`, `: ${pinned(ref, nameTag)}\n`);
  return text;
}

describe("llmstack images pin", () => {
  it("pins Pulumi.yaml and the stack's monitoring images, keeping every comment and line", async () => {
    const r = await pin(["--stack", "production"]);
    expect(r.err).toBe("");
    expect(r.code).toBe(0);
    expect(read("Pulumi.yaml")).toBe(pinnedProject());
    expect(read("Pulumi.production.yaml")).toBe(
      original("Pulumi.production.yaml") +
        "    images:\n" +
        MONITORING_IMAGES.map(([key, ref, nameTag]) => `      ${key}: ${pinned(ref, nameTag)}\n`).join(""),
    );
    expect(r.out.split("\n")).toEqual([
      ...PROJECT_IMAGES.map(
        ([ref, nameTag], i) =>
          `llmstack:images.${["vllm", "vllmCpu", "litellm", "vllmRouter", "postgres", "redis", "qdrant", "objectStore", "tlsProxy"][i]}: ${ref} -> ${pinned(ref, nameTag)}`,
      ),
      ...MONITORING_IMAGES.map(([key, ref, nameTag]) => `llmstack:monitoring.images.${key}: ${ref} -> ${pinned(ref, nameTag)}`),
      "wrote Pulumi.yaml, Pulumi.production.yaml; review the change (git diff) and commit it",
      "",
    ]);
    // Docker Hub's API host for docker.io, each image's own registry otherwise.
    expect(new Set(hostsAsked)).toEqual(new Set(["registry-1.docker.io", "ghcr.io", "nvcr.io"]));
  });

  it("asks for the manifest, answers the Bearer challenge with a token for that repository, and asks again", async () => {
    await pin([]);
    const forPostgres = registry.requests.filter((q) => /library(\/|%2F)postgres/.test(q.path));
    expect(forPostgres.map((q) => [q.path, q.authorization])).toEqual([
      ["/v2/library/postgres/manifests/16.10", undefined],
      ["/token?service=registry.test&scope=repository%3Alibrary%2Fpostgres%3Apull", undefined],
      ["/v2/library/postgres/manifests/16.10", "Bearer token-for:library/postgres"],
    ]);
    expect(forPostgres[0]!.accept).toBe(
      "application/vnd.oci.image.index.v1+json, application/vnd.docker.distribution.manifest.list.v2+json, " +
        "application/vnd.oci.image.manifest.v1+json, application/vnd.docker.distribution.manifest.v2+json",
    );
  });

  it("without --stack pins only Pulumi.yaml; a second run finds nothing to change", async () => {
    expect((await pin([])).code).toBe(0);
    expect(read("Pulumi.yaml")).toBe(pinnedProject());
    expect(read("Pulumi.production.yaml")).toBe(original("Pulumi.production.yaml"));
    const again = await pin([]);
    expect(again.code).toBe(0);
    expect(again.out.split("\n").slice(-2)).toEqual([
      "every image is pinned to the digest its tag names now; nothing to write",
      "",
    ]);
    expect(again.out).toContain(`llmstack:images.postgres: ${pinned("postgres:16.10", "library/postgres:16.10")} (already pinned)\n`);
  });

  it("re-pins a tag that moved, saying which digest it replaced", async () => {
    await pin([]);
    const before = registry.digest("library/redis:7.4.6");
    registry.generation.set("library/redis:7.4.6", 1);
    const r = await pin([]);
    expect(r.out).toContain(
      `llmstack:images.redis: redis:7.4.6@${before} -> ${pinned("redis:7.4.6", "library/redis:7.4.6")} (was ${before})\n`,
    );
    expect(read("Pulumi.yaml")).toContain(`  redis: ${pinned("redis:7.4.6", "library/redis:7.4.6")}\n`);
  });

  it("pins a stack's own images in its stack file and leaves Pulumi.yaml alone", async () => {
    const images = PROJECT_IMAGES.map(([ref], i) => `    k${i}: ${ref} # image ${i}\n`).join("");
    writeFileSync(join(dir, "Pulumi.development.yaml"), `${original("Pulumi.development.yaml")}  llmstack:images:\n${images}`);
    // The stack file sets its own keys; the schema checks them, so use the real ones.
    const real = ["vllm", "vllmCpu", "litellm", "vllmRouter", "postgres", "redis", "qdrant", "objectStore", "tlsProxy"];
    writeFileSync(join(dir, "Pulumi.development.yaml"), read("Pulumi.development.yaml").replace(/k(\d+):/g, (_, i: string) => `${real[Number(i)]}:`));
    const before = read("Pulumi.development.yaml");
    expect((await pin(["--stack", "development"])).code).toBe(0);
    expect(read("Pulumi.yaml")).toBe(original("Pulumi.yaml"));
    let expected = before;
    for (const [ref, nameTag] of PROJECT_IMAGES) expected = expected.replace(`: ${ref} #`, `: ${pinned(ref, nameTag)} #`);
    expect(read("Pulumi.development.yaml")).toBe(expected);
  });

  it("--dry-run resolves and reports but writes nothing", async () => {
    const r = await pin(["--stack", "production", "--dry-run"]);
    expect(r.code).toBe(0);
    expect(r.out.split("\n").slice(-2)).toEqual(["--dry-run: Pulumi.yaml, Pulumi.production.yaml not written", ""]);
    expect(read("Pulumi.yaml")).toBe(original("Pulumi.yaml"));
    expect(read("Pulumi.production.yaml")).toBe(original("Pulumi.production.yaml"));
  });
});

describe("llmstack images pin writes nothing unless every image resolves", () => {
  const untouched = () => {
    expect(read("Pulumi.yaml")).toBe(original("Pulumi.yaml"));
    expect(read("Pulumi.production.yaml")).toBe(original("Pulumi.production.yaml"));
    expect(readdirSync(dir).sort()).toEqual(["Pulumi.development.yaml", "Pulumi.production.yaml", "Pulumi.yaml"]);
  };

  it("refuses a registry whose Docker-Content-Digest does not match the manifest it sent", async () => {
    const claimed = `sha256:${"e".repeat(64)}`;
    registry.lies.set("library/postgres:16.10", claimed);
    const r = await pin(["--stack", "production"]);
    expect(r.code).toBe(1);
    expect(r.err).toBe(
      "images pin: 1 image(s) could not be resolved, so nothing was written:\n" +
        `  - llmstack:images.postgres: postgres:16.10: docker.io says the manifest is ${claimed}, but the manifest it ` +
        `sent hashes to ${registry.digest("library/postgres:16.10")}; nothing was pinned\n` +
        `fix each as its line says, then pin again; run "llmstack images pin --stack production --dir ${dir}"\n`,
    );
    expect(r.out).toBe("");
    untouched();
  });

  it("names a tag the registry does not have", async () => {
    registry.missing.add("berriai/litellm:v1.84.0");
    const r = await pin([]);
    expect(r.code).toBe(1);
    expect(r.err).toBe(
      "images pin: 1 image(s) could not be resolved, so nothing was written:\n" +
        '  - llmstack:images.litellm: ghcr.io/berriai/litellm:v1.84.0: ghcr.io has no tag "v1.84.0" in berriai/litellm (HTTP 404); check the image and tag\n' +
        `fix each as its line says, then pin again; run "llmstack images pin --dir ${dir}"\n`,
    );
    untouched();
  });

  it("a private repository: refused anonymously, resolved with the login in ~/.docker/config.json", async () => {
    registry.privateRepos.set("berriai/litellm", "bot:s3cret");
    const refused = await pin([]);
    expect(refused.code).toBe(1);
    expect(refused.err).toBe(
      "images pin: 1 image(s) could not be resolved, so nothing was written:\n" +
        "  - llmstack:images.litellm: ghcr.io/berriai/litellm:v1.84.0: the token service " +
        `${registry.url}/token answered HTTP 401\n` +
        `fix each as its line says, then pin again; run "llmstack images pin --dir ${dir}"\n`,
    );
    untouched();
    mkdirSync(join(home, ".docker"));
    writeFileSync(join(home, ".docker", "config.json"), JSON.stringify({ auths: { "ghcr.io": { auth: Buffer.from("bot:s3cret").toString("base64") } } }));
    expect((await pin([])).code).toBe(0);
    const token = registry.requests.filter((q) => q.path.startsWith("/token") && q.path.includes("berriai%2Flitellm"));
    expect(token.at(-1)!.authorization).toBe(`Basic ${Buffer.from("bot:s3cret").toString("base64")}`);
    // The login is for ghcr.io only: Docker Hub's token requests stay anonymous.
    expect(registry.requests.filter((q) => q.path.includes("library%2Fpostgres")).map((q) => q.authorization)).toEqual([undefined, undefined]);
  });

  it("reports a registry it cannot reach", async () => {
    const closed = registry.url;
    await registry.close();
    registry = await startRegistry();
    const io = fakeIo(dir, undefined, { HOME: home });
    const code = await imagesCommand(["pin", "--dir", dir], io, { baseUrl: () => closed });
    expect(code).toBe(1);
    expect(io.err().split("\n")[1]).toBe(
      `  - llmstack:images.vllm: vllm/vllm-openai:v0.21.0: cannot reach ${closed} (connect ECONNREFUSED ${closed.slice(7)}); run this where the registry can be reached`,
    );
    untouched();
  });

  it("a file that cannot be written leaves every file as it was", async () => {
    // The disk fills while the stack file's new text is written, after Pulumi.yaml's was staged.
    const fs: WriteFs = {
      ...NODE_FS,
      writeSync: ((fd: number, data: Uint8Array, ...rest: never[]) => {
        if (data.toString().includes("llmstack:environment")) throw new Error("ENOSPC: no space left on device, write");
        return (NODE_FS.writeSync as (...a: unknown[]) => number)(fd, data, ...rest);
      }) as WriteFs["writeSync"],
    };
    const io = fakeIo(dir, undefined, { HOME: home });
    await expect(
      imagesCommand(["pin", "--stack", "production", "--dir", dir], io, { baseUrl: () => registry.url, fs }),
    ).rejects.toThrow("Pulumi.production.yaml: could not be written (ENOSPC: no space left on device, write); no file was changed");
    expect(read("Pulumi.yaml")).toBe(original("Pulumi.yaml"));
    expect(read("Pulumi.production.yaml")).toBe(original("Pulumi.production.yaml"));
    // Pulumi.yaml's staged file and the failed one are both gone.
    expect(readdirSync(dir).filter((f) => f.endsWith(".tmp"))).toEqual([]);
  });

  it("checks the stack before asking any registry", async () => {
    writeFileSync(join(dir, "Pulumi.production.yaml"), original("Pulumi.production.yaml").replace("dtype: bfloat16", "dtype: bf17"));
    await expect(pin(["--stack", "production"])).rejects.toThrow(/^Pulumi\.production\.yaml: invalid stack config:/);
    expect(registry.requests).toEqual([]);
  });

  it("is a command of llmstack, with one subcommand", async () => {
    const io = fakeIo(dir);
    expect(await main(["images", "list"], io)).toBe(2);
    expect(io.err()).toBe('llmstack images: the only action is "pin"; run "llmstack images pin --stack production"\n');
  });
});

describe("registry names and logins", () => {
  it.each([
    ["postgres", "docker.io", "registry-1.docker.io", "library/postgres"],
    ["prom/prometheus", "docker.io", "registry-1.docker.io", "prom/prometheus"],
    ["docker.io/postgres", "docker.io", "registry-1.docker.io", "library/postgres"],
    ["index.docker.io/library/redis", "docker.io", "registry-1.docker.io", "library/redis"],
    ["ghcr.io/berriai/litellm", "ghcr.io", "ghcr.io", "berriai/litellm"],
    ["nvcr.io/nvidia/k8s/dcgm-exporter", "nvcr.io", "nvcr.io", "nvidia/k8s/dcgm-exporter"],
    ["localhost/app", "localhost", "localhost", "app"],
    ["registry.example:5000/team/app", "registry.example:5000", "registry.example:5000", "team/app"],
  ])("%s is %s (API %s), repository %s", (repo, domain, apiHost, name) => {
    expect(registryLocation(repo)).toEqual({ domain, apiHost, name });
  });

  it("reads a Bearer challenge's parameters", () => {
    expect(parseChallenge('Bearer realm="https://auth.docker.io/token",service="registry.docker.io",scope="repository:library/postgres:pull"')).toEqual({
      scheme: "bearer",
      params: { realm: "https://auth.docker.io/token", service: "registry.docker.io", scope: "repository:library/postgres:pull" },
    });
  });

  it("finds Docker Hub's login under the key docker login writes, and others by host", () => {
    mkdirSync(join(home, ".docker"));
    writeFileSync(
      join(home, ".docker", "config.json"),
      JSON.stringify({
        auths: {
          "https://index.docker.io/v1/": { auth: Buffer.from("hub:pw1").toString("base64") },
          "https://ghcr.io": { username: "gh", password: "pw2" },
          "nvcr.io": {},
        },
        credsStore: "desktop",
      }),
    );
    const creds = dockerConfigCredentials({ HOME: home });
    expect([creds("docker.io"), creds("ghcr.io"), creds("nvcr.io"), creds("quay.io")]).toEqual([
      { username: "hub", password: "pw1" },
      { username: "gh", password: "pw2" },
      undefined,
      undefined,
    ]);
    expect(dockerConfigCredentials({ DOCKER_CONFIG: join(home, "none") })("docker.io")).toBeUndefined();
  });
});
