/**
 * `llmstack bench --scaling` on the example fleet (examples/fleet/Pulumi.fleet.yaml: replicas gpu-a-0 at
 * 10.20.0.11:8000 and gpu-b-0 at 10.20.0.12:8000). The exact table comes from a fake clock and a scripted
 * replica; the request counts from local streaming servers on 127.0.0.1, which stand in for the replicas'
 * addresses (the request function sends each replica's requests to its stand-in). No assertion on
 * wall-clock time.
 */
import { performance } from "node:perf_hooks";
import { afterEach, describe, expect, it, vi } from "vitest";
import { timedChat } from "../../src/bench/client";
import type { BenchDeps } from "../../src/bench/run";
import type { ScalingResult } from "../../src/bench/scaling";
import type { Sample } from "../../src/bench/stats";
import { benchCommand } from "../../src/cli/bench";
import type { CliIo, UsageError } from "../../src/cli/io";
import { fakeIo as recordingIo } from "../helpers/fakeIo";
import { FLEET_DIR } from "../helpers/fleet";
import { ROOT } from "../helpers/root";
import { startFakeServer, type FakeServer } from "./server";

const KEY = "sk-vllm-test-77c2";
const GPU_A = "http://10.20.0.11:8000";
const GPU_B = "http://10.20.0.12:8000";

function fakeIo(env: Record<string, string> = { VLLM_API_KEY: KEY }, cwd = FLEET_DIR) {
  const io = recordingIo(cwd, () => { throw new Error("bench runs no programs"); }, env);
  return { io, out: io.out, err: io.err };
}

let servers: FakeServer[] = [];
afterEach(async () => {
  await Promise.all(servers.map((s) => s.close()));
  servers = [];
});

/**
 * A replica under the fake clock that serves one request at a time in `serviceMs` (queued requests wait
 * their turn), answering `tokens` tokens: so two replicas finish the same load in half the time.
 */
function serialReplicas(serviceMs: number, tokens: number): BenchDeps["chat"] {
  const busyUntil = new Map<string, number>();
  return async (req, now): Promise<Sample> => {
    const startMs = now();
    const endMs = Math.max(startMs, busyUntil.get(req.url) ?? 0) + serviceMs;
    busyUntil.set(req.url, endMs);
    await new Promise<void>((r) => setTimeout(r, endMs - startMs));
    return { startMs, firstTokenMs: endMs, endMs, outputTokens: req.maxTokens === 1 ? 1 : tokens, ok: true };
  };
}

/** Local stand-ins for the replicas: each replica URL of the stack goes to one server on 127.0.0.1. */
function standIns(map: Record<string, string>): BenchDeps {
  return { now: () => performance.now(), chat: (req, now) => timedChat({ ...req, url: map[req.url] ?? req.url }, now) };
}

const ARGS = ["--stack", "fleet", "--scaling", "--requests", "8", "--concurrency", "4", "--output-tokens", "10"];

describe("bench --scaling under a fake clock", () => {
  it("prints the table of 1 and 2 replicas: twice the rate, half the latency, 2.00×", async () => {
    vi.useFakeTimers({ toFake: ["setTimeout", "Date"], now: 0 });
    try {
      const { io, out, err } = fakeIo();
      const run = benchCommand(ARGS, io, false, { now: () => Date.now(), chat: serialReplicas(100, 10) });
      await vi.runAllTimersAsync();
      expect(await run).toBe(0);
      // One replica: 8 requests of 100 ms each in 800 ms, 4 waiting at a time (latencies 100, 200, 300, 400,
      // then 400 × 4). Two: 400 ms (100, 100, then 200 × 6).
      expect(out().split("\n")).toEqual([
        "scaling benchmark of qwen2.5-7b-instruct on stack fleet: the same load against 1 to 2 replicas, dialled directly",
        "  each step: 8 requests, concurrency 4, ~256 prompt / 10 output tokens each, spread round robin",
        "  replicas in order: gpu-a-0 (http://10.20.0.11:8000), gpu-b-0 (http://10.20.0.12:8000)",
        "replicas  requests/s  output tokens/s  p50 latency  p95 latency  speed-up vs 1",
        "1         10.00       100.0            400 ms       400 ms       1.00×",
        "2         20.00       200.0            200 ms       200 ms       2.00×",
        "",
      ]);
      expect(err().split("\n").filter((l) => !l.startsWith("["))).toEqual([
        "1 of 2 replicas: gpu-a-0",
        "2 of 2 replicas: gpu-a-0, gpu-b-0",
        "",
      ]);
    } finally {
      vi.useRealTimers();
    }
  });
});

describe("bench --scaling against local servers", () => {
  it("spreads each step's requests evenly over its replicas, with the vLLM key", async () => {
    servers = await Promise.all([1, 2].map(() => startFakeServer({ key: KEY, tokens: 10, firstTokenDelayMs: 1, tokenDelayMs: 1 })));
    const { io, out } = fakeIo();
    const code = await benchCommand(
      ["--stack", "fleet", "--scaling", "--requests", "12", "--concurrency", "4", "--output-tokens", "10", "--json"],
      io,
      false,
      standIns({ [GPU_A]: servers[0]!.url, [GPU_B]: servers[1]!.url }),
    );
    expect(code).toBe(0);
    const r = JSON.parse(out()) as ScalingResult;
    expect(r.replicas).toEqual([
      { id: "gpu-a-0", url: GPU_A },
      { id: "gpu-b-0", url: GPU_B },
    ]);
    expect(r.steps.map((s) => [s.replicas, s.requestsPerReplica, s.summary.requests, s.summary.failed, s.summary.outputTokens])).toEqual([
      [1, [12], 12, 0, 120],
      [2, [6, 6], 12, 0, 120],
    ]);
    // What each server saw: one probe each, then its share of each step.
    expect(servers.map((s) => s.bodies.length)).toEqual([1 + 12 + 6, 1 + 6]);
    expect(servers[0]!.bodies[0]).toMatchObject({ model: "qwen2.5-7b-instruct", max_tokens: 1 });
    expect(servers[1]!.bodies[1]).toMatchObject({ model: "qwen2.5-7b-instruct", max_tokens: 10, stream: true });
    expect(r.steps[0]!.speedup).toBe(1);
  });

  it("prints the table's head and one row per step", async () => {
    servers = await Promise.all([1, 2].map(() => startFakeServer({ key: KEY, tokens: 3, firstTokenDelayMs: 1, tokenDelayMs: 1 })));
    const { io, out } = fakeIo();
    expect(await benchCommand(ARGS, io, false, standIns({ [GPU_A]: servers[0]!.url, [GPU_B]: servers[1]!.url }))).toBe(0);
    const lines = out().split("\n");
    expect(lines[3]).toBe("replicas  requests/s  output tokens/s  p50 latency  p95 latency  speed-up vs 1");
    expect(lines[4]).toMatch(/^1 {9}\d+\.\d\d +\d+\.\d +\d+ ms +\d+ ms +1\.00×$/);
    expect(lines[5]).toMatch(/^2 {9}\d+\.\d\d +\d+\.\d +\d+ ms +\d+ ms +\d+\.\d\d×$/);
    expect(lines.slice(6)).toEqual([""]);
  });
});

async function refusal(argv: string[], io: CliIo, deps?: BenchDeps): Promise<[string, string | undefined]> {
  const err = (await benchCommand(argv, io, false, deps).then(
    () => new Error("no error"),
    (e: unknown) => e,
  )) as UsageError;
  return [err.message, err.fix];
}

describe("bench --scaling refuses", () => {
  it("a stack without hosts", async () => {
    expect(await refusal(["--stack", "staging", "--scaling"], fakeIo(undefined, ROOT).io)).toEqual([
      "--scaling: stack staging lists no llmstack:hosts in Pulumi.staging.yaml, so it runs one vLLM and has no replicas to add; measure its gateway without --scaling",
      "llmstack bench --stack staging",
    ]);
  });

  it("more replicas than the stack has", async () => {
    expect(await refusal(["--stack", "fleet", "--scaling", "--replicas", "3"], fakeIo().io)).toEqual([
      "--replicas 3: stack fleet has 2 replicas (gpu-a-0, gpu-b-0); measure at most 2, or raise llmstack:model.replicas in Pulumi.fleet.yaml and deploy first",
      "llmstack bench --stack fleet --scaling --replicas 2",
    ]);
  });

  it("a replica that does not answer, before any load, ending with its container's log", async () => {
    servers = [await startFakeServer({ key: KEY, tokens: 1, firstTokenDelayMs: 1, tokenDelayMs: 1 })];
    // A port nothing listens on: a server's, once closed.
    const gone = await startFakeServer({ key: KEY, tokens: 1, firstTokenDelayMs: 1, tokenDelayMs: 1 });
    await gone.close();
    expect(await refusal(["--stack", "fleet", "--scaling"], fakeIo().io, standIns({ [GPU_A]: servers[0]!.url, [GPU_B]: gone.url }))).toEqual([
      "replica gpu-b-0 at http://10.20.0.12:8000 does not answer (TypeError: fetch failed); the benchmark dials each replica on its host's address, so run it where those addresses are reachable and check that the replica is up",
      "docker --host tcp://10.20.0.12:2376 logs --tail 50 llm-multimodal-stack-fleet-vllm-gpu-b-0",
    ]);
    expect(servers[0]!.bodies).toHaveLength(1);
  });

  it("a key a replica refuses, ending with the export of the stack's vLLM key", async () => {
    servers = [await startFakeServer({ key: KEY, tokens: 1, firstTokenDelayMs: 1, tokenDelayMs: 1 })];
    const io = fakeIo({ VLLM_API_KEY: "sk-wrong" }).io;
    expect(await refusal(["--stack", "fleet", "--scaling"], io, standIns({ [GPU_A]: servers[0]!.url }))).toEqual([
      'replica gpu-a-0 at http://10.20.0.11:8000 refused the key in VLLM_API_KEY (HTTP 401: {"error":"bad key or path"}); export the stack\'s vLLM key',
      "export VLLM_API_KEY=$(pulumi config get --stack fleet llmstack:vllmApiKey)",
    ]);
  });

  it("no key, and --url beside --scaling", async () => {
    expect(await refusal(["--stack", "fleet", "--scaling"], fakeIo({}).io)).toEqual([
      "VLLM_API_KEY is not set: export the stack's vLLM key first, or name another variable with --api-key-env",
      "export VLLM_API_KEY=$(pulumi config get --stack fleet llmstack:vllmApiKey)",
    ]);
    expect(await refusal(["--stack", "fleet", "--scaling", "--url", "http://10.20.0.10:4000"], fakeIo().io)).toEqual([
      "--url does not go with --scaling, which dials each replica at the address the stack gives it and compares the steps itself; drop --url",
      "llmstack bench --stack fleet --scaling",
    ]);
  });
});
