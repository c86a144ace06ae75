/**
 * The fix line of a failing check names the command that fixes it, where there is one: joining the docker
 * group when the daemon refuses this user, installing an ssh key when ssh refuses the login, and the
 * capacity estimate of the stack's own layout when the model's weights do not fit.
 */
import { describe, expect, it } from "vitest";
import { parseStackConfig } from "../../src/config/parse";
import { checkDaemon } from "../../src/preflight/docker";
import { gpuCheckResults } from "../../src/preflight/gpuFacts";
import { stackNeeds } from "../../src/preflight/needs";
import { parseProbe } from "../../src/preflight/probe";
import { runPreflight } from "../../src/preflight/run";
import type { ExecResult } from "../../src/exec";
import { planFromValues, rawValues } from "../helpers/stacks";
import { HOOK_FOUND, probeOutput, RIG_3090 } from "./probeOutput";

function needsFor(stack: string, edit: (v: Record<string, unknown>) => void) {
  const values = rawValues(stack);
  edit(values);
  return stackNeeds(parseStackConfig(values, `Pulumi.${stack}.yaml`), planFromValues(values, stack));
}

describe("docker.daemon", () => {
  it("a daemon that refuses this user: join the docker group", () => {
    const error =
      "permission denied while trying to connect to the Docker daemon socket at unix:///var/run/docker.sock: " +
      'Get "http://%2Fvar%2Frun%2Fdocker.sock/v1.24/version": dial unix /var/run/docker.sock: connect: permission denied';
    expect(checkDaemon({ host: "unix:///var/run/docker.sock", serverVersion: null, apiVersion: null, error }).fix).toBe(
      "let your user use Docker on that host (sudo usermod -aG docker $USER, then log in again)",
    );
  });
  it("a daemon that does not answer: start it", () => {
    const error = "Cannot connect to the Docker daemon at unix:///var/run/docker.sock. Is the docker daemon running?";
    expect(checkDaemon({ host: "unix:///var/run/docker.sock", serverVersion: null, apiVersion: null, error }).fix).toBe(
      'start the Docker daemon on that host (sudo systemctl start docker) or fix llmstack:dockerHost ("unix:///var/run/docker.sock")',
    );
  });
});

describe("host.reach over ssh", () => {
  const reach = async (dockerHost: string, sshStderr: string) => {
    const needs = needsFor("production", (v) => (v.dockerHost = dockerHost));
    const exec = async (file: string): Promise<ExecResult> =>
      file === "ssh" ? { code: 255, stdout: "", stderr: sshStderr } : { code: 127, stdout: "", stderr: "not found" };
    return (await runPreflight(needs, exec, {})).find((r) => r.check === "host.reach");
  };
  it("a key the host refuses: ssh-copy-id", async () => {
    expect((await reach("ssh://deploy@gpu-box", "deploy@gpu-box: Permission denied (publickey).\n"))?.fix).toBe(
      "check that `ssh deploy@gpu-box` logs in without a password prompt: ssh-copy-id deploy@gpu-box",
    );
  });
  it("a host that does not answer, on its own port: one interactive ssh, which says why", async () => {
    expect((await reach("ssh://deploy@gpu-box:2222", "ssh: connect to host gpu-box port 2222: Connection refused\n"))?.fix).toBe(
      "check that `ssh deploy@gpu-box` logs in without a password prompt: ssh -p 2222 deploy@gpu-box true",
    );
  });
});

describe("gpu.size", () => {
  it("weights that do not fit: the capacity estimate of the stack's layout, to try another before editing", () => {
    const needs = needsFor("production", (v) => ((v.model as Record<string, unknown>).name = "meta-llama/Llama-3.1-70B-Instruct"));
    const sections = parseProbe(probeOutput({ hook: HOOK_FOUND, ...RIG_3090, apps: { text: "" } }));
    expect(gpuCheckResults(needs, sections, null, "gpu-box").find((r) => r.check === "gpu.size")).toEqual({
      check: "gpu.size",
      status: "fail",
      found:
        "meta-llama/Llama-3.1-70B-Instruct needs about 67285 MiB of weights per vLLM GPU, more than memoryUtilization 0.9 × " +
        "24576 MiB = 22118 MiB on GPU 0 (NVIDIA GeForce RTX 3090)",
      fix:
        "use a smaller model, more GPUs (tensorParallelSize) or GPUs with more memory in Pulumi.production.yaml; llmstack " +
        "capacity shows what fits before you change it: llmstack capacity --model meta-llama/Llama-3.1-70B-Instruct " +
        "--gpu 24576 --gpus 2 --util 0.9",
    });
  });
});
