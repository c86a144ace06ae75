/**
 * `llmstack bench`: the timing figures under a fake clock (exact values from a known schedule), and the
 * command end to end against a local streaming server (counts, tokens, the request, the report), with
 * no assertion on wall-clock time.
 */
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it, vi } from "vitest";
import { benchCommand } from "../../src/cli/bench";
import type { CliIo, UsageError } from "../../src/cli/io";
import { percentile } from "../../src/bench/stats";
import { compareText, type BenchResult } from "../../src/bench/report";
import { runBench, type BenchOptions } from "../../src/bench/run";
import type { Sample } from "../../src/bench/stats";
import { ROOT } from "../helpers/root";
import { startFakeServer, type FakeServer } from "./server";

const KEY = "sk-bench-test-4f1a";

function fakeIo(env: Record<string, string> = { LITELLM_MASTER_KEY: KEY }, cwd = ROOT) {
  const out: string[] = [];
  const err: string[] = [];
  const io: CliIo = {
    env,
    cwd,
    stdout: (t) => out.push(t),
    stderr: (t) => err.push(t),
    exec: () => Promise.reject(new Error("bench runs no programs")),
  };
  return { io, out: () => out.join(""), err: () => err.join("") };
}

let server: FakeServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

describe("percentile", () => {
  it("interpolates between closest ranks", () => {
    expect(percentile([4, 1, 3, 2], 50)).toBe(2.5);
    expect(percentile([1, 2, 3, 4, 5], 90)).toBeCloseTo(4.6, 10);
    expect(percentile([7], 99)).toBe(7);
  });
});

/**
 * A scripted request under fake timers: the first token after `firstMs`, then `tokens - 1` gaps of
 * `gapMs`, as the fake server schedules them. The clock is vitest's fake Date, so every figure is exact.
 */
function scriptedChat(firstMs: number, gapMs: number, tokens: number) {
  const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
  return async (_req: unknown, now: () => number): Promise<Sample> => {
    const startMs = now();
    await sleep(firstMs);
    const firstTokenMs = now();
    await sleep(gapMs * (tokens - 1));
    return { startMs, firstTokenMs, endMs: now(), outputTokens: tokens, ok: true };
  };
}

async function fakeClockRun(requests: number, concurrency: number, firstMs: number, gapMs: number, tokens: number) {
  vi.useFakeTimers({ toFake: ["setTimeout", "Date"], now: 0 });
  try {
    const opts: BenchOptions = {
      url: "http://unused", apiKey: KEY, model: "m", requests, concurrency, promptTokens: 32, outputTokens: tokens, timeoutMs: 1000,
    };
    const run = runBench(opts, () => undefined, { now: () => Date.now(), chat: scriptedChat(firstMs, gapMs, tokens) });
    await vi.runAllTimersAsync();
    return (await run).summary;
  } finally {
    vi.useRealTimers();
  }
}

describe("the timing figures under a fake clock", () => {
  it("derive time to first token, latency, duration and throughput from the schedule", async () => {
    // 12 requests, 4 at a time: 3 waves of one request's 60 + 19 × 10 = 250 ms.
    const s = await fakeClockRun(12, 4, 60, 10, 20);
    expect(s.timeToFirstToken).toEqual({ p50: 0.06, p90: 0.06, p99: 0.06 });
    expect(s.latency).toEqual({ p50: 0.25, p90: 0.25, p99: 0.25 });
    expect(s.durationSeconds).toBe(0.75);
    expect(s.requestsPerSecond).toBe(16);
    expect(s.outputTokensPerSecond).toBe(320);
    expect([s.requests, s.failed, s.outputTokens, s.concurrency]).toEqual([12, 0, 240, 4]);
  });

  it("compare prints the speedup of the faster schedule: twice the token rate is 2.00×", async () => {
    const result = (summary: BenchResult["summary"]): BenchResult => ({
      format: "llmstack-bench/1", stack: "staging", url: "http://unused", model: "m",
      settings: { requests: 8, concurrency: 4, promptTokens: 32, outputTokens: 10 }, summary,
    });
    const slow = result(await fakeClockRun(8, 4, 20, 20, 10));
    const fast = result(await fakeClockRun(8, 4, 10, 10, 10));
    const text = compareText(slow, fast, "one-gpu.json");
    expect(text).toContain("speedup: 2.00× output tokens/s");
    expect(text).toContain("comparison with one-gpu.json (staging, m)");
  });
});

describe("llmstack bench against a local server", () => {
  const tokens = 20;

  it("streams the requests, counts the tokens and reports figures consistent with the run", async () => {
    server = await startFakeServer({ key: KEY, tokens, firstTokenDelayMs: 5, tokenDelayMs: 1 });
    const requests = 12;
    const concurrency = 4;
    const { io, out, err } = fakeIo();
    const code = await benchCommand(
      ["--stack", "staging", "--url", server.url, "--requests", String(requests), "--concurrency", String(concurrency),
        "--prompt-tokens", "32", "--output-tokens", String(tokens), "--json"],
      io,
      false,
    );
    expect(err()).toContain(`[${"#".repeat(30)}] 12/12 requests`);
    expect(code).toBe(0);
    const r = JSON.parse(out()) as BenchResult;
    expect(r.model).toBe("qwen2.5-7b-instruct");
    expect(r.settings).toEqual({ requests, concurrency, promptTokens: 32, outputTokens: tokens });
    const s = r.summary;
    expect([s.requests, s.failed, s.outputTokens]).toEqual([requests, 0, requests * tokens]);
    expect(s.requestsPerSecond).toBeCloseTo(requests / s.durationSeconds, 9);
    expect(s.outputTokensPerSecond).toBeCloseTo((requests * tokens) / s.durationSeconds, 9);
    expect(server.maxInFlight()).toBe(concurrency);
    // The request the gateway gets: streaming, exact output length, a prompt of the asked size.
    const body = server.bodies[0]!;
    expect(body).toMatchObject({ model: "qwen2.5-7b-instruct", stream: true, max_tokens: tokens, min_tokens: tokens, ignore_eos: true });
    const prompt = (body.messages as { content: string }[])[0]!.content;
    expect(prompt.split(" ")).toHaveLength(32);
  });

  it("redraws one progress line on a terminal and prints the text report", async () => {
    server = await startFakeServer({ key: KEY, tokens: 3, firstTokenDelayMs: 5, tokenDelayMs: 1 });
    const { io, out, err } = fakeIo();
    const code = await benchCommand(["--stack", "staging", "--url", server.url, "--requests", "4", "--concurrency", "2"], io, true);
    expect(code).toBe(0);
    expect(err().split("\r").filter(Boolean)).toHaveLength(4);
    expect(err().endsWith(`\r[${"#".repeat(30)}] 4/4 requests\n`)).toBe(true);
    expect(out()).toContain(`benchmark of qwen2.5-7b-instruct at ${server.url} (stack staging)`);
    expect(out()).toMatch(/output tokens\/s\s+\d+\.\d/);
  });

  it("compares with a saved run and prints the ratio of the two runs' token rates", async () => {
    const dir = mkdtempSync(join(tmpdir(), "llmstack-bench-"));
    const args = (url: string) => ["--stack", "staging", "--url", url, "--requests", "8", "--concurrency", "4", "--output-tokens", "10"];
    server = await startFakeServer({ key: KEY, tokens: 10, firstTokenDelayMs: 2, tokenDelayMs: 2 });
    const slow = fakeIo();
    expect(await benchCommand([...args(server.url), "--json"], slow.io, false)).toBe(0);
    writeFileSync(join(dir, "one-gpu.json"), slow.out());
    const fast = fakeIo(undefined, ROOT);
    expect(await benchCommand([...args(server.url), "--json", "--compare", join(dir, "one-gpu.json")], fast.io, false)).toBe(0);
    const before = JSON.parse(readFileSync(join(dir, "one-gpu.json"), "utf8")) as BenchResult;
    const after = JSON.parse(fast.out()) as BenchResult;
    const expected = (after.summary.outputTokensPerSecond / before.summary.outputTokensPerSecond).toFixed(2);
    expect(fast.err()).toContain(`speedup: ${expected}× output tokens/s`);
    expect(fast.err()).toContain(`comparison with ${join(dir, "one-gpu.json")} (staging, ${before.model})`);
  });

  it("counts failed requests, reports the first error, and exits 1, ending with the gateway's log", async () => {
    server = await startFakeServer({ key: KEY, tokens: 2, firstTokenDelayMs: 1, tokenDelayMs: 1, failEvery: 2 });
    const { io, out, err } = fakeIo();
    const code = await benchCommand(["--stack", "staging", "--url", server.url, "--requests", "4", "--concurrency", "1", "--json"], io, false);
    expect(code).toBe(1);
    const s = (JSON.parse(out()) as BenchResult).summary;
    expect([s.requests, s.failed, s.outputTokens, s.firstError]).toEqual([4, 2, 4, 'HTTP 500: {"error":"injected"}']);
    expect(err().split("\n").at(-2)).toBe(
      'bench: 2 of 4 requests failed (the first: HTTP 500: {"error":"injected"}); ' +
        'run "docker --host unix:///var/run/docker.sock logs --tail 50 llm-multimodal-stack-staging-litellm"',
    );
  });

  it("a key the gateway refuses ends with the export of the stack's own key", async () => {
    server = await startFakeServer({ key: KEY, tokens: 1, firstTokenDelayMs: 1, tokenDelayMs: 1 });
    const { io, err } = fakeIo({ LITELLM_MASTER_KEY: "sk-wrong" });
    expect(await benchCommand(["--stack", "staging", "--url", server.url, "--requests", "1"], io, false)).toBe(1);
    expect(err().split("\n").at(-2)).toBe(
      'bench: 1 of 1 requests failed (the first: HTTP 401: {"error":"bad key or path"}); ' +
        'run "export LITELLM_MASTER_KEY=$(pulumi config get --stack staging llmstack:litellmMasterKey)"',
    );
  });

  it("reads the key from --api-key-env and explains a missing key and bad options", async () => {
    server = await startFakeServer({ key: KEY, tokens: 1, firstTokenDelayMs: 1, tokenDelayMs: 1 });
    const { io } = fakeIo({ BENCH_KEY: KEY });
    expect(await benchCommand(["--stack", "staging", "--url", server.url, "--requests", "1", "--api-key-env", "BENCH_KEY"], io, false)).toBe(0);
    const missing = await benchCommand(["--stack", "staging"], fakeIo({}).io, false).catch((err: UsageError) => err);
    expect([(missing as UsageError).message, (missing as UsageError).fix]).toEqual([
      "LITELLM_MASTER_KEY is not set: export the gateway's key first, or name another variable with --api-key-env",
      "export LITELLM_MASTER_KEY=$(pulumi config get --stack staging llmstack:litellmMasterKey)",
    ]);
    await expect(benchCommand(["--stack", "staging", "--requests", "0"], fakeIo().io, false)).rejects.toThrow(
      '--requests "0": must be a whole number from 1 to 100000',
    );
    await expect(benchCommand(["--requests", "3"], fakeIo().io, false)).rejects.toThrow(
      "--stack is required: the stack whose file is Pulumi.<name>.yaml",
    );
    const dir = mkdtempSync(join(tmpdir(), "llmstack-bench-"));
    writeFileSync(join(dir, "x.json"), '{"hello": 1}');
    await expect(
      benchCommand(["--stack", "staging", "--compare", join(dir, "x.json")], fakeIo().io, false),
    ).rejects.toThrow(`--compare ${join(dir, "x.json")}: not an llmstack bench result (expected "format": "llmstack-bench/1" and a summary)`);
  });
});
