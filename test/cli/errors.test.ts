/**
 * Every error the command line prints ends with the command that fixes it: representative errors of
 * every command, with their exact text and exit code, each ending with `run "<command>"`. The fix uses the
 * stack, files and directories the command line named (more cases in ./errorCases.ts).
 */
import { copyFileSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { configureGpuCli } from "../../src/cli/configureGpu";
import { errorText, runnable } from "../../src/cli/fixes";
import { main } from "../../src/cli/main";
import { WriteError } from "../../src/config/writeFile";
import { unpinnedImages, unpinnedImagesMessage } from "../../src/plan/digests";
import { fakeIo } from "../helpers/fakeIo";
import { ROOT } from "../helpers/root";
import { planOf } from "../helpers/stacks";
import { backupCases } from "./backupErrorCases";
import { appendTo, capacityCases, captureCases, project, rollbackCases, setupCases, SMI, tools, type Case } from "./errorCases";

function cases(dir: string): Record<string, Case> {
  const oneGpu = project((d) => {
    mkdirSync(join(d, "caps"));
    copyFileSync(join(SMI, "topo-1x5090-single-nic.txt"), join(d, "caps", "topo.txt"));
  });
  const badKey = project(appendTo("Pulumi.staging.yaml", "  llmstack:gatway: {}\n"));
  const plain = project(appendTo("Pulumi.staging.yaml", "  llmstack:hfToken: hf_abc\n"));
  const badLocal = project((d) => writeFileSync(join(d, "Pulumi.local.yaml"), "config:\n  llmstack:environment: testing\n"));
  // The example fleet asking for one replica more than its GPU hosts hold.
  const crowdedFleet = project((d) =>
    writeFileSync(
      join(d, "Pulumi.fleet.yaml"),
      readFileSync(join(ROOT, "examples", "fleet", "Pulumi.fleet.yaml"), "utf8").replace("    replicas: 2\n", "    replicas: 3\n"),
    ),
  );
  const fleet = project((d) => copyFileSync(join(ROOT, "examples", "fleet", "Pulumi.fleet.yaml"), join(d, "Pulumi.fleet.yaml")));
  // The example fleet pinning both replicas to one GPU of gpu-b.
  const twiceFleet = project((d) =>
    writeFileSync(
      join(d, "Pulumi.fleet.yaml"),
      readFileSync(join(ROOT, "examples", "fleet", "Pulumi.fleet.yaml"), "utf8").replace(
        "    replicas: 2\n",
        '    placement:\n      - { host: gpu-b, devices: ["0"] }\n      - { host: gpu-b, devices: ["0"] }\n',
      ),
    ),
  );
  return {
    ...captureCases(),
    ...capacityCases(),
    ...setupCases(),
    ...Object.fromEntries(Object.entries(rollbackCases()).map(([k, c]) => [k, { ...c, text: c.text.replace("DIR", dir) }])),
    ...backupCases(),
    "bench without --stack": {
      argv: ["bench"],
      code: 2,
      text: 'llmstack bench: --stack is required: the stack whose file is Pulumi.<name>.yaml; run "llmstack bench --stack production"\n',
      fix: "llmstack bench --stack production",
    },
    "bench without the gateway key": {
      argv: ["bench", "--stack", "staging"],
      code: 1,
      text:
        "llmstack bench: LITELLM_MASTER_KEY is not set: export the gateway's key first, or name another variable with " +
        '--api-key-env; run "export LITELLM_MASTER_KEY=$(pulumi config get --stack staging llmstack:litellmMasterKey)"\n',
      fix: "export LITELLM_MASTER_KEY=$(pulumi config get --stack staging llmstack:litellmMasterKey)",
    },
    "bench --scaling on a stack without hosts": {
      argv: ["bench", "--stack", "staging", "--scaling"],
      env: { VLLM_API_KEY: "sk-test" },
      code: 1,
      text:
        "llmstack bench: --scaling: stack staging lists no llmstack:hosts in Pulumi.staging.yaml, so it runs one vLLM and " +
        'has no replicas to add; measure its gateway without --scaling; run "llmstack bench --stack staging"\n',
      fix: "llmstack bench --stack staging",
    },
    "bench --scaling with more replicas than the stack has": {
      argv: ["bench", "--stack", "fleet", "--scaling", "--replicas", "5"],
      dir: fleet,
      env: { VLLM_API_KEY: "sk-test" },
      code: 1,
      text:
        "llmstack bench: --replicas 5: stack fleet has 2 replicas (gpu-a-0, gpu-b-0); measure at most 2, or raise " +
        'llmstack:model.replicas in Pulumi.fleet.yaml and deploy first; run "llmstack bench --stack fleet --scaling --replicas 2"\n',
      fix: "llmstack bench --stack fleet --scaling --replicas 2",
    },
    "capacity without --model": {
      argv: ["capacity", "--gpu", "T4"],
      code: 2,
      text:
        "llmstack capacity: --model is required: a Hugging Face repository ID, a model directory or a config.json path; " +
        'run "llmstack capacity --model Qwen/Qwen2.5-7B-Instruct --gpu T4"\n',
      fix: "llmstack capacity --model Qwen/Qwen2.5-7B-Instruct --gpu T4",
    },
    "capacity with a bad number": {
      argv: ["capacity", "--model", "Qwen/Qwen2.5-7B-Instruct", "--gpu", "T4", "--tp", "two"],
      code: 2,
      text: 'llmstack capacity: --tp "two": must be a whole number from 1 to 64; run "llmstack capacity --help"\n',
      fix: "llmstack capacity --help",
    },
    "configure-gpu multi on one GPU": {
      argv: ["configure-gpu", "multi", "--stack", "production", "--from-dir", "caps"],
      dir: oneGpu,
      code: 1,
      text:
        "llmstack configure-gpu: mode multi needs at least two GPUs, but the host has one (GPU 0); use single (or auto); " +
        'run "llmstack configure-gpu single --stack production"\n',
      fix: "llmstack configure-gpu single --stack production",
    },
    "configure-gpu for a stack without a file": {
      argv: ["configure-gpu", "cpu", "--stack", "qa"],
      code: 1,
      text:
        `llmstack configure-gpu: Pulumi.qa.yaml: no such stack file in ${dir}; create it (copy Pulumi.development.yaml) ` +
        'or pick another --stack; run "cp Pulumi.development.yaml Pulumi.qa.yaml"\n',
      fix: "cp Pulumi.development.yaml Pulumi.qa.yaml",
    },
    "gpu with an unknown action": {
      argv: ["gpu", "list"],
      code: 2,
      text: 'llmstack gpu: unknown action "list"; the only one is "detect"; run "llmstack gpu detect"\n',
      fix: "llmstack gpu detect",
    },
    "gpu detect without nvidia-smi": {
      argv: ["gpu", "detect"],
      code: 1,
      text:
        "llmstack gpu detect: nvidia-smi: nvidia-smi is not installed (exit code 127), so the NVIDIA driver is missing. " +
        "Install the NVIDIA driver (it ships nvidia-smi; https://docs.nvidia.com/datacenter/tesla/driver-installation-guide/), " +
        'or run the stack without a GPU; run "llmstack configure-gpu cpu --stack <name>"\n',
      fix: "llmstack configure-gpu cpu --stack <name>",
    },
    "images with an unknown action": {
      argv: ["images", "list"],
      code: 2,
      text: 'llmstack images: the only action is "pin"; run "llmstack images pin --stack production"\n',
      fix: "llmstack images pin --stack production",
    },
    "plan with a misspelt option": {
      argv: ["plan", "--stack", "production", "--jsn"],
      code: 1,
      text: `llmstack plan: unknown option '--jsn' (did you mean --json?); run "llmstack plan --help"\n`,
      fix: "llmstack plan --help",
    },
    "plan of a stack without a file": {
      argv: ["plan", "--stack", "qa"],
      code: 1,
      text:
        `llmstack plan: Pulumi.qa.yaml: no such stack file in ${dir}; create it (copy Pulumi.development.yaml) or pick ` +
        'another --stack; run "cp Pulumi.development.yaml Pulumi.qa.yaml"\n',
      fix: "cp Pulumi.development.yaml Pulumi.qa.yaml",
    },
    "plan of a stack file with a misspelt key": {
      argv: ["plan", "--stack", "staging"],
      dir: badKey,
      code: 1,
      text:
        "llmstack plan: Pulumi.staging.yaml: invalid stack config:\n  - llmstack:gatway: unknown key; allowed keys here are " +
        "environment, dockerHost, gpu, hosts, model, vllm, images, gateway, services, data, smokeTest, monitoring, preflight, rollout, backup; " +
        "check the spelling or remove it\nFix these keys in Pulumi.staging.yaml (every key is in docs/configuration.md); " +
        'run "llmstack plan --stack staging"\n',
      fix: "llmstack plan --stack staging",
    },
    "plan of a fleet with more replicas than its GPU hosts hold": {
      argv: ["plan", "--stack", "fleet"],
      dir: crowdedFleet,
      code: 1,
      text:
        "llmstack plan: Pulumi.fleet.yaml: the model's replicas cannot be placed:\n" +
        "  - model.replicas is 3, but the GPU hosts hold 2 replica(s): gpu-a 1 (2 GPU(s), 2 per replica), gpu-b 1 " +
        "(1 GPU(s), 1 per replica); set model.replicas to 2 or fewer, or add GPUs or a GPU host; " +
        'run "llmstack plan --stack fleet"\n',
      fix: "llmstack plan --stack fleet",
    },
    "validate of a fleet whose pins use one GPU twice": {
      argv: ["validate", "--stack", "fleet"],
      dir: twiceFleet,
      code: 1,
      text:
        "llmstack validate: Pulumi.fleet.yaml: the model's replicas cannot be placed:\n" +
        "  - model.placement[1]: GPU 0 of gpu-b is already taken by model.placement[0]; every GPU is used at most once: " +
        'pin another GPU; run "llmstack plan --stack fleet"\n',
      fix: "llmstack plan --stack fleet",
    },
    "plan of a stack file with a credential in plain text": {
      argv: ["plan", "--stack", "staging"],
      dir: plain,
      code: 1,
      text:
        "llmstack plan: Pulumi.staging.yaml: a credential is stored in plain text, where anyone who can read the file has " +
        "it; store it encrypted:\n  - llmstack:hfToken: store it encrypted (pulumi asks for the value); " +
        'run "pulumi config set --secret llmstack:hfToken --stack staging"\n',
      fix: "pulumi config set --secret llmstack:hfToken --stack staging",
    },
    "quickstart with a bad option": {
      argv: ["quickstart", "--dryrun"],
      code: 2,
      text: `llmstack quickstart: unknown option '--dryrun' (did you mean --dry-run?); run "llmstack quickstart --help"\n`,
      fix: "llmstack quickstart --help",
    },
    "quickstart with a broken local stack file": {
      argv: ["quickstart", "--dry-run"],
      dir: badLocal,
      exec: tools,
      code: 1,
      text:
        "llmstack quickstart: Pulumi.local.yaml: invalid stack config:\n" +
        '  - llmstack:environment: Invalid option: expected one of "development"|"staging"|"production" (got "testing")\n' +
        "  - llmstack:gpu: required, but missing (expected object)\n" +
        "  - llmstack:model: required, but missing (expected object)\n" +
        "  - llmstack:gateway: required, but missing (expected object)\n" +
        'Fix these keys in Pulumi.local.yaml (every key is in docs/configuration.md); run "llmstack plan --stack local"\n',
      fix: "llmstack plan --stack local",
    },
    "secrets with an unknown action": {
      argv: ["secrets", "list", "--stack", "production"],
      code: 2,
      text: 'llmstack secrets: the only action is "init"; run "llmstack secrets init --stack production"\n',
      fix: "llmstack secrets init --stack production",
    },
    "secrets init without Pulumi": {
      argv: ["secrets", "init", "--stack", "production"],
      code: 1,
      text:
        "llmstack secrets: secrets init stores the secrets with the Pulumi CLI, which is not installed: install it " +
        "(https://www.pulumi.com/docs/iac/download-install/), open a new shell and run this again; " +
        'run "curl -fsSL https://get.pulumi.com | sh"\n',
      fix: "curl -fsSL https://get.pulumi.com | sh",
    },
    "status without --stack": {
      argv: ["status"],
      code: 2,
      text: 'llmstack status: --stack is required: the stack whose file is Pulumi.<name>.yaml; run "llmstack status --stack production"\n',
      fix: "llmstack status --stack production",
    },
    "status with a --gateway-url that is not an http(s) URL": {
      argv: ["status", "--stack", "production", "--gateway-url", "127.0.0.1:4000"],
      code: 2,
      text: 'llmstack status: --gateway-url "127.0.0.1:4000": must be an http(s) URL such as http://localhost:4000; run "llmstack status --help"\n',
      fix: "llmstack status --help",
    },
    "status of a host without Docker": {
      argv: ["status", "--stack", "production"],
      code: 1,
      stdout: true,
      text:
        "13 containers could not be inspected on unix:///var/run/docker.sock: not found; " +
        'run "docker --host unix:///var/run/docker.sock info"\n',
      fix: "docker --host unix:///var/run/docker.sock info",
    },
    "validate of a host without Docker": {
      argv: ["validate", "--stack", "production"],
      code: 1,
      stdout: true,
      text:
        "Pulumi.production.yaml: 2 check(s) failed: docker.daemon, host.reach; fix each as its line says; " +
        'run "llmstack validate --stack production"\n',
      fix: "llmstack validate --stack production",
    },
    "validate with a --dir that is not there": {
      argv: ["validate", "--stack", "production", "--dir", "nowhere"],
      code: 2,
      text: `llmstack validate: --dir "nowhere": no such directory (looked for ${join(dir, "nowhere")}); run "llmstack validate --help"\n`,
      fix: "llmstack validate --help",
    },
    "up with images that have no digest": {
      argv: ["up", "--stack", "production"],
      code: 1,
      text: `up: ${unpinnedImagesMessage(planOf("production"), unpinnedImages(planOf("production")))}\n`,
      fix: "npx llmstack images pin --stack production",
    },
    "up on a host that fails a check": {
      argv: ["up", "--stack", "development"],
      code: 1,
      text: 'up: the host failed a check above, so pulumi up was not run; fix it as its line says; run "llmstack up --stack development"\n',
      fix: "llmstack up --stack development",
    },
    "an unknown command": {
      argv: ["deploy"],
      code: 1,
      text:
        "llmstack: unknown command 'deploy'; the commands are backup, bench, capacity, configure-gpu, gpu, images, " +
        'plan, quickstart, restore, rollback, secrets, status, validate, up; run "llmstack --help"\n',
      fix: "llmstack --help",
    },
  };
}

describe("every error ends with the command that fixes it", () => {
  const dir = project();
  const all = cases(dir);

  it("covers every command", () => {
    const commands = new Set(Object.values(all).map((c) => c.argv[0]));
    expect([...commands].sort()).toEqual(
      ["backup", "bench", "capacity", "configure-gpu", "deploy", "gpu", "images", "plan", "quickstart", "restore", "rollback", "secrets", "status", "up", "validate"],
    );
  });

  it.each(Object.entries(all))("%s", async (_name, c) => {
    const io = fakeIo(c.dir ?? dir, c.exec, c.env ?? {});
    const code = await main([...c.argv], io);
    const printed = c.stdout
      ? `${io.out().trimEnd().split("\n").at(-1)}\n`
      : c.firstLine
        ? `${io.err().split("\n")[0]}\n`
        : io.err();
    expect(code).toBe(c.code);
    expect(printed).toBe(c.text);
    expect(printed.endsWith(`; run "${c.fix}"\n`)).toBe(true);
  });
});

describe("errors the fake hosts above cannot produce", () => {
  const ctx = { command: "configure-gpu", argv: ["auto", "--stack", "production", "--from-dir", "caps"], define: configureGpuCli, cwd: ROOT };

  it("a file that could not be written changed nothing: the same command again, once the disk or permission is fixed", () => {
    const err = new WriteError("Pulumi.production.yaml: could not be written (ENOSPC: no space left on device, write); it was left as it was", null);
    expect(errorText(err, ctx)).toBe(
      "Pulumi.production.yaml: could not be written (ENOSPC: no space left on device, write); it was left as it was; " +
        'run "llmstack configure-gpu auto --stack production --from-dir caps"',
    );
  });

  it("a command with a double-quoted word is shown single-quoted, so the quotes around it stay unambiguous", () => {
    expect(runnable('hf download acme/x --include "*.json" --revision v1')).toBe("hf download acme/x --include '*.json' --revision v1");
  });
});
