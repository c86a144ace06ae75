import { describe, expect, it } from "vitest";
import { mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { readProjectConfig } from "../../src/config/stackFile";
import { vllmRelease } from "../../src/facts/vllmRelease";
import { ROOT } from "../helpers/root";
import { capacityCommand } from "../../src/cli/capacity";
import { main } from "../../src/cli/main";
import type { CliIo } from "../../src/cli/io";

function fakeIo(cwd = process.cwd()) {
  const out: string[] = [];
  const err: string[] = [];
  const io: CliIo = {
    env: {},
    cwd,
    stdout: (t) => out.push(t),
    stderr: (t) => err.push(t),
    exec: async () => ({ code: 127, stdout: "", stderr: "not used" }),
  };
  return { io, out, err };
}

describe("llmstack capacity", () => {
  it("--json prints the budget of the reference stack", async () => {
    const { io, out } = fakeIo();
    const code = await capacityCommand(
      ["--model", "Qwen/Qwen2.5-7B-Instruct", "--gpu", "RTX 3090", "--gpus", "2", "--util", "0.9", "--max-model-len", "32768", "--json"],
      io,
    );
    expect(code).toBe(0);
    expect(JSON.parse(out.join(""))).toEqual({
      weightsGiBPerGpu: 7.09,
      kvCacheGiBPerGpu: 11.61,
      kvCacheTokens: 434816,
      maxConcurrency: 13.27,
      decodeTokensPerSecondUpperBound: 122.91,
      violations: [],
    });
  });

  it("prints a readable budget, labelling the decode speed as an upper bound", async () => {
    const { io, out } = fakeIo();
    const code = await capacityCommand(["--model", "Qwen/Qwen2.5-7B-Instruct", "--gpu", "3090", "--max-model-len", "8192"], io);
    expect(code).toBe(0);
    expect(out.join("")).toBe(
      [
        "Qwen/Qwen2.5-7B-Instruct on 1 × RTX 3090 (TP 1, PP 1), utilisation 0.9, max model length 8192, vLLM 0.21.0",
        "  per GPU: 21.21 GiB of 23.57 GiB usable",
        "    weights          14.19 GiB",
        "    runtime overhead 2.51 GiB (activations 0.58, non-torch 0.25, CUDA graphs 1.68)",
        "    KV cache         4.52 GiB",
        "  KV cache: 84592 tokens (57344 bytes per token per GPU)",
        "  max concurrency at 8192 tokens: 10.33x",
        "  decode speed upper bound (bandwidth ÷ weight bytes per token, one stream): 61.45 tokens/s",
        "",
      ].join("\n"),
    );
  });

  it("exits 1 with the violation when TP 3 does not divide the heads", async () => {
    const { io, err } = fakeIo();
    const code = await capacityCommand(["--model", "Qwen/Qwen2.5-7B-Instruct", "--gpu", "24576", "--tp", "3"], io);
    expect(code).toBe(1);
    expect(err[0]).toBe(
      "error [tp-attention-heads]: tensor parallel size 3 does not divide Qwen/Qwen2.5-7B-Instruct's 28 attention heads " +
        '(28 % 3 = 1); use a tensor parallel size from 1, 2, 4, 7, 14, 28; run "llmstack capacity --model ' +
        'Qwen/Qwen2.5-7B-Instruct --gpu 24576 --tp 2"\n',
    );
  });

  it("reads a config.json path relative to the working directory, with an older vLLM", async () => {
    const { io, out } = fakeIo(join(__dirname, "../fixtures"));
    const code = await capacityCommand(
      ["--model", "capacity/opt-125m.config.json", "--gpu", "T4", "--max-model-len", "2048", "--vllm-version", "0.6.4", "--json"],
      io,
    );
    expect(code).toBe(0);
    const r = JSON.parse(out.join("")) as { weightsGiBPerGpu: number; violations: unknown[] };
    expect([r.weightsGiBPerGpu, r.violations]).toEqual([0.23, []]);
  });

  it("takes vLLM's scheduler limits: fewer sequences capture fewer CUDA graphs", async () => {
    const { io, out } = fakeIo();
    const code = await capacityCommand(
      ["--model", "Qwen/Qwen2.5-7B-Instruct", "--gpu", "RTX 3090", "--max-model-len", "8192", "--max-num-seqs", "8", "--json"],
      io,
    );
    expect(code).toBe(0);
    // 8 sequences: piecewise sizes 1, 2, 4, 8, 16 and full sizes 1, 2, 4, 8 = 9 graphs × 20 MiB = 0.1758 GiB
    // instead of 1.68; the sampler peak (8 × 152064 × 16 B) drops below the 2048-token activations
    // (2048 × 137,216 B = 0.2617 GiB). KV = 21.2133 − 14.1852 − (0.2617 + 0.25 + 0.1758) = 6.3406 GiB
    // ÷ 917,504 B per block = 7,420 blocks = 118,720 tokens.
    expect((JSON.parse(out.join("")) as { kvCacheTokens: number }).kvCacheTokens).toBe(118720);
  });

  it("says how to give the memory for an unknown name, through the main command table (a usage error, exit 2)", async () => {
    const { io, err } = fakeIo();
    const code = await main(["capacity", "--model", "facebook/opt-125m", "--gpu", "RTX 9999"], io);
    expect(code).toBe(2);
    expect(err.join("")).toBe(
      'llmstack capacity: --gpu: GPU "RTX 9999" is not in the catalog and its memory is not known; pass --gpu with ' +
        "its memory.total in MiB (nvidia-smi --query-gpu=memory.total --format=csv,noheader,nounits), or run " +
        "`llmstack configure-gpu` to write gpu.gpuName and gpu.memoryMiB into the stack file (docs/capacity.md lists " +
        'the cards the catalog knows); run "llmstack capacity --model facebook/opt-125m --gpu <memory.total in MiB>"\n',
    );
  });

  it("takes nvidia-smi's own name for a card (--gpu \"NVIDIA H100 80GB HBM3\" is the SXM H100)", async () => {
    const { io, out } = fakeIo();
    const code = await capacityCommand(
      ["--model", "Qwen/Qwen2.5-7B-Instruct", "--gpu", "NVIDIA H100 80GB HBM3", "--max-model-len", "8192"],
      io,
    );
    expect(code).toBe(0);
    expect(out.join("").split("\n")[0]).toBe(
      "Qwen/Qwen2.5-7B-Instruct on 1 × H100 SXM (TP 1, PP 1), utilisation 0.9, max model length 8192, vLLM 0.21.0",
    );
  });

  it("rejects bad flag values with what is allowed", async () => {
    const { io } = fakeIo();
    await expect(
      capacityCommand(["--model", "facebook/opt-125m", "--gpu", "T4", "--quantization", "q4"], io),
    ).rejects.toThrow('--quantization "q4": must be one of none, fp8, int8, awq, gptq');
    await expect(capacityCommand(["--gpu", "T4"], io)).rejects.toThrow(
      "--model is required: a Hugging Face repository ID, a model directory or a config.json path",
    );
    await expect(
      capacityCommand(["--model", "facebook/opt-125m", "--gpu", "T4", "--gpus", "2", "--tp", "4"], io),
    ).rejects.toThrow("--tp 4 × --pp 1 = 4 GPUs, but --gpus is 2; vLLM uses TP × PP GPUs");
  });

  describe("the default --vllm-version: the release in the tag of Pulumi.yaml's vLLM image", () => {
    const project = (vllm: string): string => {
      const dir = mkdtempSync(join(tmpdir(), "llmstack-capacity-"));
      writeFileSync(join(dir, "Pulumi.yaml"), `name: p\nconfig:\n  llmstack:images:\n    value:\n      vllm: ${vllm}\n`);
      return dir;
    };
    const args = ["--model", "Qwen/Qwen2.5-7B-Instruct", "--gpu", "RTX 3090", "--max-model-len", "8192"];

    it("reads the working directory's project, a digest-pinned tag included", async () => {
      const { io, out } = fakeIo(project(`vllm/vllm-openai:v0.20.1-cu129@sha256:${"c".repeat(64)}`));
      expect(await capacityCommand(args, io)).toBe(0);
      // v0.20 counts no CUDA-graph memory: 1.68 GiB more KV cache than the same card under v0.21.0.
      expect(out.join("").split("\n").slice(0, 2)).toEqual([
        "Qwen/Qwen2.5-7B-Instruct on 1 × RTX 3090 (TP 1, PP 1), utilisation 0.9, max model length 8192, vLLM 0.20.1",
        "  per GPU: 21.21 GiB of 23.57 GiB usable",
      ]);
      expect(out.join("")).toContain("    runtime overhead 0.83 GiB (activations 0.58, non-torch 0.25, CUDA graphs 0)\n");
    });

    it("outside a project, this program's own Pulumi.yaml", async () => {
      const empty = mkdtempSync(join(tmpdir(), "llmstack-capacity-"));
      mkdirSync(join(empty, "sub"));
      const { io, out } = fakeIo(join(empty, "sub"));
      expect(await capacityCommand(args, io)).toBe(0);
      const pinned = vllmRelease((readProjectConfig(ROOT).images as { vllm: string }).vllm);
      expect(out.join("").split("\n")[0]).toMatch(new RegExp(`, vLLM ${pinned!.replaceAll(".", "\\.")}$`));
    });

    it("refuses to guess when the image names no vLLM release", async () => {
      const dir = project("registry.example.com/acme/vllm:custom");
      await expect(capacityCommand(args, fakeIo(dir).io)).rejects.toThrow(
        `--vllm-version: ${join(dir, "Pulumi.yaml")} sets llmstack:images.vllm to "registry.example.com/acme/vllm:custom", ` +
          "which names no vLLM release (vllm/vllm-openai:v<release>); give the release it runs with --vllm-version",
      );
      const { io, out } = fakeIo(dir);
      expect(await capacityCommand([...args, "--vllm-version", "0.21.0"], io)).toBe(0);
      expect(out.join("").split("\n")[0]).toMatch(/, vLLM 0\.21\.0$/);
    });
  });
});

/**
 * Each violation ends with the command that clears it: the user's own command line with the flag its
 * advice names changed to a value the estimate accepts. The test runs each printed command again.
 */
describe("a violation ends with the re-run that clears it", () => {
  const violations = async (argv: readonly string[]): Promise<string[]> => {
    const { io, err } = fakeIo();
    await capacityCommand([...argv], io);
    return err.filter((l) => l.startsWith("error ["));
  };
  const QWEN = ["--model", "Qwen/Qwen2.5-7B-Instruct", "--gpu", "24576"];
  const LLAMA = ["--model", "meta-llama/Llama-3.1-8B-Instruct", "--gpu", "24576"];

  it.each([
    [
      "a TP the heads do not allow: the nearest that they do, fewer GPUs first, with --gpus to match",
      [...QWEN, "--tp", "3", "--gpus", "3"],
      [
        "error [tp-attention-heads]: tensor parallel size 3 does not divide Qwen/Qwen2.5-7B-Instruct's 28 attention heads " +
          '(28 % 3 = 1); use a tensor parallel size from 1, 2, 4, 7, 14, 28; run "llmstack capacity --model ' +
          'Qwen/Qwen2.5-7B-Instruct --gpu 24576 --tp 2 --gpus 2"\n',
        "error [tp-kv-heads]: tensor parallel size 3 and Qwen/Qwen2.5-7B-Instruct's 4 KV heads do not divide each other; " +
          "vLLM needs TP to divide the KV heads or the KV heads to divide TP (e.g. 1, 2, 4 or a multiple of 4); " +
          'run "llmstack capacity --model Qwen/Qwen2.5-7B-Instruct --gpu 24576 --tp 2 --gpus 2"\n',
      ],
    ],
    [
      "more pipeline stages than layers: one per layer",
      [...QWEN, "--pp", "40"],
      [
        "error [pp-layers]: pipeline parallel size 40 exceeds Qwen/Qwen2.5-7B-Instruct's 28 layers; use at most 28 pipeline " +
          'stages; run "llmstack capacity --model Qwen/Qwen2.5-7B-Instruct --gpu 24576 --pp 28"\n',
      ],
    ],
    [
      "a context past the model's, written --max-model-len=N: the model's own",
      [...QWEN, "--max-model-len=200000"],
      [
        "error [max-model-len]: max model length 200000 exceeds Qwen/Qwen2.5-7B-Instruct's max_position_embeddings 32768; " +
          'set maxModelLen to at most 32768; run "llmstack capacity --model Qwen/Qwen2.5-7B-Instruct --gpu 24576 --max-model-len 32768"\n',
        "error [kv-too-small]: one sequence of max model length 200000 needs 10.68 GiB of KV cache per GPU but only 4.52 GiB " +
          "(84592 tokens) is left; lower maxModelLen to at most 84592, or add GPUs (tensor parallelism); " +
          'run "llmstack capacity --model Qwen/Qwen2.5-7B-Instruct --gpu 24576 --max-model-len 32768"\n',
      ],
    ],
    [
      "a KV cache too small for one sequence: the longest context it holds, the number the advice names",
      [...LLAMA, "--max-model-len", "131072"],
      [
        "error [kv-too-small]: one sequence of max model length 131072 needs 16.00 GiB of KV cache per GPU but only 3.84 GiB " +
          "(31424 tokens) is left; lower maxModelLen to at most 31424, or add GPUs (tensor parallelism); " +
          'run "llmstack capacity --model meta-llama/Llama-3.1-8B-Instruct --gpu 24576 --max-model-len 31424"\n',
      ],
    ],
    [
      "no memory for the KV cache: the utilisation the advice names",
      [...QWEN, "--util", "0.6"],
      [
        "error [no-kv-memory]: no memory is left for the KV cache: weights and runtime overhead take 16.69 GiB per GPU but " +
          "utilisation 0.6 allows 14.14 GiB; raise memoryUtilization to at least 0.79, quantize the model or add GPUs (tensor " +
          'parallelism); run "llmstack capacity --model Qwen/Qwen2.5-7B-Instruct --gpu 24576 --util 0.79"\n',
      ],
    ],
    [
      "no memory for the KV cache even at the highest utilisation: the fewest more GPUs that fit",
      ["--model", "Qwen/Qwen2.5-7B-Instruct", "--gpu", "16384", "--util", "0.5"],
      [
        "error [no-kv-memory]: no memory is left for the KV cache: weights and runtime overhead take 16.69 GiB per GPU but " +
          "utilisation 0.5 allows 7.79 GiB; quantize the model, use a smaller one or add GPUs (tensor parallelism); " +
          'run "llmstack capacity --model Qwen/Qwen2.5-7B-Instruct --gpu 16384 --util 0.5 --tp 4"\n',
      ],
    ],
  ])("%s", async (_name, argv, lines) => {
    expect(await violations(argv)).toEqual(lines);
    for (const line of lines) {
      const code = /^error \[([\w-]+)\]/.exec(line)![1]!;
      const fix = /; run "llmstack capacity ([^"]+)"\n$/.exec(line)![1]!;
      // No word of these fixes needs quoting, so the command splits on spaces as a shell would.
      const again = await violations(fix.split(" "));
      expect(again.filter((l) => l.startsWith(`error [${code}]`))).toEqual([]);
    }
  });
});
