import { chmodSync, cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { describe, expect, it } from "vitest";
import { parse, stringify } from "yaml";
import { main } from "../../src/cli/main";
import { PLUGINS_NOTE, PULUMI_CLI_VERSION, type PulumiInstaller } from "../../src/cli/pulumiCli";
import { UsageError } from "../../src/cli/io";
import { quickstartCommand } from "../../src/cli/quickstart";
import { renderStack } from "../../src/cli/renderStack";
import { fakeIo, type ExecCall } from "../helpers/fakeIo";
import { ROOT } from "../helpers/root";
import { APP_IMAGES } from "../helpers/stacks";

const FIXTURES = join(ROOT, "test", "fixtures", "nvidia-smi");
/** What the docker CLI says to a user outside the docker group. */
const DENIED =
  "permission denied while trying to connect to the Docker daemon socket at unix:///var/run/docker.sock: " +
  'Get "http://%2Fvar%2Frun%2Fdocker.sock/v1.51/version": dial unix /var/run/docker.sock: connect: permission denied';

function project(): string {
  const dir = mkdtempSync(join(tmpdir(), "llmstack-quickstart-"));
  for (const f of ["Pulumi.yaml", "Pulumi.production.yaml"]) cpSync(join(ROOT, f), join(dir, f));
  return dir;
}

/** A project whose Pulumi.yaml sets your worker and retrieval proxy images. */
function projectWithAppImages(): string {
  const dir = project();
  const doc = parse(readFileSync(join(dir, "Pulumi.yaml"), "utf8")) as { config: Record<string, { value: Record<string, string> }> };
  Object.assign(doc.config["llmstack:images"]!.value, APP_IMAGES);
  writeFileSync(join(dir, "Pulumi.yaml"), stringify(doc));
  return dir;
}

type Host = { pulumi: boolean; docker: "none" | "down" | "denied" | "up"; smi: "missing" | "2x3090"; appImages?: boolean };

function host(h: Host): (c: ExecCall) => { code: number; stdout: string; stderr: string } {
  return (c) => {
    if (c.file === "pulumi") return h.pulumi ? { code: 0, stdout: "v3.200.0\n", stderr: "" } : { code: 127, stdout: "", stderr: "spawn pulumi ENOENT" };
    // The project's own CLI answers once a file is there (what realExec does: ENOENT is exit 127).
    if (c.file.endsWith(join(".llmstack", "pulumi", "bin", "pulumi"))) {
      return existsSync(c.file) ? { code: 0, stdout: `v${PULUMI_CLI_VERSION}\n`, stderr: "" } : { code: 127, stdout: "", stderr: `spawn ${c.file} ENOENT` };
    }
    if (c.file === "docker") {
      if (h.docker === "none") return { code: 127, stdout: "", stderr: "spawn docker ENOENT" };
      if (h.docker === "down") return { code: 1, stdout: "", stderr: "Cannot connect to the Docker daemon at unix:///var/run/docker.sock. Is the docker daemon running?" };
      if (h.docker === "denied") return { code: 1, stdout: "", stderr: DENIED };
      if (c.args[0] === "image") {
        return h.appImages ? { code: 0, stdout: "sha256:0123\n", stderr: "" } : { code: 1, stdout: "", stderr: `Error: No such image: ${c.args.at(-1)}` };
      }
      if (c.args[0] === "manifest") {
        // What the docker CLI prints when the registry has no such image (docker/cli manifest inspect).
        return { code: 1, stdout: "", stderr: `no such manifest: ${c.args.at(-1)}\n` };
      }
      return { code: 0, stdout: "28.2.2\n", stderr: "" };
    }
    if (c.file === "nvidia-smi") {
      if (h.smi === "missing") return { code: 127, stdout: "", stderr: "spawn nvidia-smi ENOENT" };
      if (c.args.includes("topo")) return { code: 0, stdout: readFileSync(join(FIXTURES, "topo-2x3090-nvlink-nv4.txt"), "utf8"), stderr: "" };
      if (c.args.includes("nvlink")) return { code: 0, stdout: readFileSync(join(FIXTURES, "nvlink-2x3090-club3090.txt"), "utf8"), stderr: "" };
      // The reference host's facts (bus IDs and memory from topo-2x3090-nvlink-nv4.json) in the
      // 7-field query the detector asks for; the UUIDs from nvlink-2x3090-club3090.txt.
      return {
        code: 0,
        stdout:
          "0, GPU-1aff65f8-8897-eaee-29e4-6871ef7491a0, NVIDIA GeForce RTX 3090, 24576, 1, 00000000:17:00.0, 8.6\n" +
          "1, GPU-fef3f583-99bd-ac7f-c761-eddb679067e0, NVIDIA GeForce RTX 3090, 24576, 1, 00000000:65:00.0, 8.6\n",
        stderr: "",
      };
    }
    return { code: 127, stdout: "", stderr: "not found" };
  };
}

describe("llmstack quickstart", () => {
  it("says plainly when Docker is missing, its daemon is down or refuses the user, ending with the command that fixes it", async () => {
    const none = fakeIo(project(), host({ pulumi: true, docker: "none", smi: "missing" }));
    expect(await main(["quickstart"], none)).toBe(1);
    expect(none.err()).toBe(
      "llmstack quickstart: Docker is not installed, and quickstart runs the stack on this machine's Docker: install Docker " +
        "Engine (https://docs.docker.com/engine/install/; on Linux Docker's convenience script does it) and run quickstart " +
        'again; run "curl -fsSL https://get.docker.com -o get-docker.sh && sudo sh get-docker.sh"\n',
    );
    const down = fakeIo(project(), host({ pulumi: true, docker: "down", smi: "missing" }));
    expect(await main(["quickstart"], down)).toBe(1);
    expect(down.err()).toBe(
      "llmstack quickstart: Docker is installed but its daemon does not answer (Cannot connect to the Docker daemon at " +
        "unix:///var/run/docker.sock. Is the docker daemon running?): start it, then run quickstart again; " +
        'run "sudo systemctl start docker"\n',
    );
    const denied = fakeIo(project(), host({ pulumi: true, docker: "denied", smi: "missing" }));
    expect(await main(["quickstart"], denied)).toBe(1);
    expect(denied.err()).toBe(
      `llmstack quickstart: Docker's daemon does not let your user in (${DENIED}): join the docker group, then log out ` +
        'and in (or run newgrp docker) and run quickstart again; run "sudo usermod -aG docker $USER"\n',
    );
    for (const io of [none, down, denied]) expect(readdirSync(io.cwd).sort()).toEqual(["Pulumi.production.yaml", "Pulumi.yaml"]);
  });

  it("deploys CPU mode with a small model on a machine without a GPU, with local state and no passphrase", async () => {
    const dir = project();
    const before = readFileSync(join(dir, "Pulumi.production.yaml"), "utf8");
    const io = fakeIo(dir, host({ pulumi: true, docker: "up", smi: "missing" }), { HOME: "/root" });
    expect(await main(["quickstart"], io)).toBe(0);
    const plan = renderStack(dir, "local");
    expect(plan.environment).toBe("development");
    expect(plan.containers.find((c) => c.service === "vllm")?.image).toBe("vllm/vllm-openai-cpu:v0.21.0");
    expect(plan.vllmArgs.slice(0, 2)).toEqual(["--model", "Qwen/Qwen2.5-0.5B-Instruct"]);
    expect(plan.gatewayUrl).toBe("http://127.0.0.1:4000");
    const pulumiCalls = io.calls.filter((c) => c.file === "pulumi" && c.args[0] !== "version");
    // The credentials go into Pulumi.local.yaml (so the retained volumes open again after a destroy).
    expect(pulumiCalls.map((c) => c.args)).toEqual([
      ["stack", "select", "--create", "local"],
      ...["postgresPassword", "redisPassword", "qdrantApiKey", "objectStoreSecretKey", "litellmMasterKey", "litellmSaltKey", "vllmApiKey"].map(
        (n) => ["config", "set", "--secret", "--stack", "local", `llmstack:${n}`],
      ),
      ["up", "--yes", "--stack", "local"],
    ]);
    for (const c of pulumiCalls) {
      expect(c.opts?.env?.PULUMI_BACKEND_URL).toBe(`file://${join(dir, ".llmstack/state")}`);
      expect(c.opts?.env?.PULUMI_CONFIG_PASSPHRASE).toBe("");
    }
    expect(pulumiCalls.filter((c) => c.args[0] !== "config").every((c) => c.opts?.passthrough === true)).toBe(true);
    expect(readFileSync(join(dir, "Pulumi.production.yaml"), "utf8")).toBe(before);
    expect(io.out()).toContain("The stack is up. Gateway: http://127.0.0.1:4000, model \"qwen2.5-0.5b-instruct\".");
    // Pulumi.yaml sets no worker or retrieval image: neither runs, and that is said.
    expect(plan.containers.map((c) => c.service)).toEqual([
      "model-download", "vllm", "postgres", "redis", "qdrant", "object-store", "litellm", "smoke-test",
    ]);
    expect(io.out()).toContain(
      "The multimodal worker and retrieval proxy are off: they run once llmstack:images.multimodalWorker / " +
        "retrievalProxy in Pulumi.yaml name your images.\n",
    );
    expect(io.calls.filter((c) => c.file === "docker" && (c.args[0] === "image" || c.args[0] === "manifest"))).toEqual([]);
  });

  it("stops before writing anything when Pulumi.yaml sets an image of yours that cannot be had", async () => {
    const dir = projectWithAppImages();
    const io = fakeIo(dir, host({ pulumi: true, docker: "up", smi: "missing" }));
    expect(await main(["quickstart"], io)).toBe(1);
    expect(io.err()).toBe(
      "llmstack quickstart: Pulumi.yaml sets images that are neither on this machine nor pullable without a login: " +
        `llmstack:images.multimodalWorker (${APP_IMAGES.multimodalWorker}): no such manifest: ${APP_IMAGES.multimodalWorker}; ` +
        `llmstack:images.retrievalProxy (${APP_IMAGES.retrievalProxy}): no such manifest: ${APP_IMAGES.retrievalProxy}. ` +
        "Build them here (docker build -t <image> .) or pull them (docker login, then docker pull <image>), or remove them " +
        "from llmstack:images in Pulumi.yaml to run the stack without them; nothing was written; " +
        `run "docker build -t ${APP_IMAGES.multimodalWorker} <its source directory>"\n`,
    );
    expect(existsSync(join(dir, "Pulumi.local.yaml"))).toBe(false);
    expect(io.calls.filter((c) => c.file === "pulumi").map((c) => c.args[0])).toEqual(["version"]);
  });

  it("uses the GPUs it finds: two NVLinked RTX 3090s give a TP 2 stack, with your images found on this machine", async () => {
    const dir = projectWithAppImages();
    const io = fakeIo(dir, host({ pulumi: true, docker: "up", smi: "2x3090", appImages: true }));
    expect(await main(["quickstart", "--dry-run"], io)).toBe(0);
    const plan = renderStack(dir, "local");
    const vllm = plan.containers.find((c) => c.service === "vllm")!;
    expect(vllm.labels?.["llmstack.vllm.tensor-parallel-size"]).toBe("2");
    expect(vllm.command).toEqual(expect.arrayContaining(["--tensor-parallel-size", "2", "--gpu-memory-utilization", "0.8"]));
    expect(vllm.env.NCCL_P2P_LEVEL).toBe("NVL");
    expect(vllm.labels?.["llmstack.vllm.gpu-memory-utilization"]).toBe("0.8");
    expect(io.out()).toContain("mode multi.");
    expect(io.out()).not.toContain("are off");
    expect(plan.containers.map((c) => c.service)).toContain("multimodal-worker");
    expect(plan.containers.map((c) => c.service)).toContain("retrieval-proxy");
    expect(io.calls.filter((c) => c.file === "pulumi").map((c) => c.args[0])).toEqual(["version"]);
  });
});

describe("what quickstart says about its secrets", () => {
  it("says plainly that the empty passphrase protects nothing, and keeps Pulumi.local.yaml owner-only", async () => {
    const dir = project();
    const io = fakeIo(dir, host({ pulumi: true, docker: "up", smi: "missing" }), { HOME: "/root" });
    expect(await main(["quickstart"], io)).toBe(0);
    expect(statSync(join(dir, "Pulumi.local.yaml")).mode & 0o777).toBe(0o600);
    expect(statSync(join(dir, ".llmstack/state")).mode & 0o777).toBe(0o700);
    expect(readFileSync(join(dir, "Pulumi.local.yaml"), "utf8").split("\n")[1]).toBe(
      "# Its secrets are encrypted with an empty passphrase: anyone who can read this file can read them.",
    );
    expect(io.out()).toContain(
      "Pulumi.local.yaml holds the secrets encrypted with an empty passphrase: anyone who can read the file can read them. " +
        "It is now readable only by you (mode 600); do not commit it or copy it where others can read it.\n",
    );
    expect(io.out()).not.toContain("the values are encrypted");
  });

  it("makes an existing Pulumi.local.yaml owner-only too", async () => {
    const dir = project();
    const first = fakeIo(dir, host({ pulumi: true, docker: "up", smi: "missing" }));
    expect(await main(["quickstart", "--dry-run"], first)).toBe(0);
    chmodSync(join(dir, "Pulumi.local.yaml"), 0o644);
    expect(await main(["quickstart", "--dry-run"], fakeIo(dir, host({ pulumi: true, docker: "up", smi: "missing" })))).toBe(0);
    expect(statSync(join(dir, "Pulumi.local.yaml")).mode & 0o777).toBe(0o600);
  });

  it("keeps Pulumi.local.yaml and the local state git-ignored", () => {
    const ignored = readFileSync(join(ROOT, ".gitignore"), "utf8").split("\n");
    expect(ignored).toContain("Pulumi.local.yaml");
    expect(ignored).toContain(".llmstack/");
  });
});

/**
 * Stands in for PulumiCommand.install without the network: writes a `pulumi` script where the SDK's
 * installer puts the binary (ROOT/bin/pulumi, @pulumi/pulumi automation/cmd.js) and returns that path.
 */
function fakeInstaller(): { install: PulumiInstaller; roots: string[] } {
  const roots: string[] = [];
  const install: PulumiInstaller = async (root) => {
    roots.push(root);
    const command = join(root, "bin", "pulumi");
    mkdirSync(dirname(command), { recursive: true });
    writeFileSync(command, `#!/bin/sh\necho v${PULUMI_CLI_VERSION}\n`, { mode: 0o755 });
    return { command };
  };
  return { install, roots };
}

const SECRET_NAMES = ["postgresPassword", "redisPassword", "qdrantApiKey", "objectStoreSecretKey", "litellmMasterKey", "litellmSaltKey", "vllmApiKey"];

describe("quickstart without a Pulumi CLI", () => {
  it("installs the SDK's release of the CLI, the one package.json pins", () => {
    const pkg = JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8")) as { dependencies: Record<string, string> };
    expect(PULUMI_CLI_VERSION).toBe("3.248.0");
    expect(pkg.dependencies["@pulumi/pulumi"]).toBe(PULUMI_CLI_VERSION);
  });

  it("installs it into .llmstack/pulumi and runs every pulumi command by the path the installer returns", async () => {
    const dir = project();
    const { install, roots } = fakeInstaller();
    const io = fakeIo(dir, host({ pulumi: false, docker: "up", smi: "missing" }), { HOME: "/root", PATH: "/usr/bin:/bin" });
    expect(await quickstartCommand([], io, install)).toBe(0);
    expect(roots).toEqual([join(dir, ".llmstack", "pulumi")]);
    const cli = join(dir, ".llmstack", "pulumi", "bin", "pulumi");
    const pulumiCalls = io.calls.filter((c) => c.file === "pulumi" || c.file === cli);
    // PATH has none; the project has none yet; after the install, only the installed one runs.
    expect(pulumiCalls.map((c) => [c.file, ...c.args])).toEqual([
      ["pulumi", "version"],
      [cli, "version"],
      [cli, "stack", "select", "--create", "local"],
      [cli, "version"],
      ...SECRET_NAMES.map((n) => [cli, "config", "set", "--secret", "--stack", "local", `llmstack:${n}`]),
      [cli, "up", "--yes", "--stack", "local"],
    ]);
    // Its folder first on PATH, as the SDK's PulumiCommand.run does, so its bundled language host is used.
    for (const c of pulumiCalls.slice(2)) {
      expect(c.opts?.env?.PATH).toBe(`${join(dir, ".llmstack", "pulumi", "bin")}:/usr/bin:/bin`);
      expect(c.opts?.env?.PULUMI_BACKEND_URL).toBe(`file://${join(dir, ".llmstack/state")}`);
    }
    expect(io.out()).toContain(
      `The Pulumi CLI is not installed: installing v${PULUMI_CLI_VERSION} into .llmstack/pulumi with the Pulumi SDK's ` +
        "installer (it downloads from get.pulumi.com with curl and unpacks with tar).\n" +
        `Installed the Pulumi CLI v${PULUMI_CLI_VERSION} at .llmstack/pulumi/bin/pulumi. On its first run the Pulumi CLI ` +
        "downloads the provider plugins the stack uses into its plugin cache (~/.pulumi/plugins), so that run needs the " +
        "internet and takes longer.\n",
    );
    expect(io.out()).toContain(
      `Master key: PULUMI_BACKEND_URL=file://${join(dir, ".llmstack/state")} PULUMI_CONFIG_PASSPHRASE= .llmstack/pulumi/bin/pulumi ` +
        "stack output gatewayMasterKey --show-secrets --stack local\n",
    );
    expect(io.err()).toBe("");
  });

  it("uses a CLI already installed in .llmstack/pulumi without installing again", async () => {
    const dir = project();
    const first = fakeInstaller();
    expect(await quickstartCommand([], fakeIo(dir, host({ pulumi: false, docker: "up", smi: "missing" })), first.install)).toBe(0);
    const again = fakeInstaller();
    const io = fakeIo(dir, host({ pulumi: false, docker: "up", smi: "missing" }));
    expect(await quickstartCommand([], io, again.install)).toBe(0);
    expect(again.roots).toEqual([]);
    const cli = join(dir, ".llmstack", "pulumi", "bin", "pulumi");
    // (The stand-in `config set` stores nothing, so secrets init stores them again.)
    expect(io.calls.filter((c) => c.file === cli).map((c) => c.args[0])).toEqual([
      "version", "stack", "version", ...SECRET_NAMES.map(() => "config"), "up",
    ]);
    expect(io.out()).not.toContain("installing");
  });

  it("prefers a CLI on PATH and installs nothing", async () => {
    const dir = project();
    const { install, roots } = fakeInstaller();
    const io = fakeIo(dir, host({ pulumi: true, docker: "up", smi: "missing" }));
    expect(await quickstartCommand([], io, install)).toBe(0);
    expect(roots).toEqual([]);
    expect(io.calls.filter((c) => c.file === "pulumi").map((c) => c.args[0])).toEqual([
      "version", "stack", "version", ...SECRET_NAMES.map(() => "config"), "up",
    ]);
    expect(io.calls.some((c) => c.file.includes(".llmstack"))).toBe(false);
  });

  it("stops with one line naming what failed and how to install it by hand, and writes nothing", async () => {
    const dir = project();
    const io = fakeIo(dir, host({ pulumi: false, docker: "up", smi: "missing" }));
    // What the SDK's installer throws when get.pulumi.com cannot be reached (automation/download.js; the same
    // text a real PulumiCommand.install printed offline).
    const install: PulumiInstaller = () => Promise.reject(new Error("Failed to download https://get.pulumi.com/install.sh: fetch failed"));
    const err = await quickstartCommand([], io, install).then(
      () => null,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(UsageError);
    expect([(err as UsageError).message, (err as UsageError).fix]).toEqual([
      `could not install the Pulumi CLI v${PULUMI_CLI_VERSION} into .llmstack/pulumi (Failed to download ` +
        "https://get.pulumi.com/install.sh: fetch failed); Pulumi.local.yaml was not written. Install the CLI by hand " +
        "(https://www.pulumi.com/docs/iac/download-install/), open a new shell and run quickstart again",
      "curl -fsSL https://get.pulumi.com | sh",
    ]);
    expect(io.err()).toBe("");
    expect(existsSync(join(dir, "Pulumi.local.yaml"))).toBe(false);
    expect(existsSync(join(dir, ".llmstack", "state"))).toBe(false);
    expect(io.calls.filter((c) => c.file === "pulumi" || c.file.includes(".llmstack")).map((c) => c.args[0])).toEqual(["version", "version"]);
  });

  it("--dry-run says it would install the CLI, shows the commands by that path, and downloads nothing", async () => {
    const dir = project();
    const io = fakeIo(dir, host({ pulumi: false, docker: "up", smi: "missing" }));
    // Through main: the SDK's own installer is the one wired in, and a dry run never reaches it.
    expect(await main(["quickstart", "--dry-run"], io)).toBe(0);
    expect(io.out()).toContain(
      `Would install the Pulumi CLI v${PULUMI_CLI_VERSION} into .llmstack/pulumi (PulumiCommand.install, from get.pulumi.com) ` +
        `and run it as .llmstack/pulumi/bin/pulumi. ${PLUGINS_NOTE}\n` +
        `Would run with PULUMI_BACKEND_URL=file://${join(dir, ".llmstack/state")}:\n` +
        "  .llmstack/pulumi/bin/pulumi stack select --create local\n" +
        "  llmstack secrets init --stack local\n" +
        "  .llmstack/pulumi/bin/pulumi up --yes --stack local\n",
    );
    expect(io.err()).toBe("");
    expect(existsSync(join(dir, ".llmstack"))).toBe(false);
    expect(io.calls.filter((c) => c.file === "pulumi" || c.file.includes(".llmstack")).map((c) => c.args[0])).toEqual(["version", "version"]);
  });
});
