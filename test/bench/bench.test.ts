/**
 * `llmstack bench` against a local streaming server with a known delay and token count. Every expected
 * figure is derived from those delays; the tolerances allow for timer and scheduling slack only.
 */
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { benchCommand } from "../../src/cli/bench";
import type { CliIo } from "../../src/cli/io";
import { percentile } from "../../src/bench/stats";
import type { BenchResult } from "../../src/bench/report";
import { ROOT } from "../helpers/pulumiMocks";
import { startFakeServer, type FakeServer } from "./server";

const KEY = "sk-bench-test-4f1a";
// Timers fire late, never early; a loaded CI box adds tens of milliseconds.
const SLACK_S = 0.15;

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

describe("llmstack bench against a local server", () => {
  const firstTokenDelayMs = 60;
  const tokenDelayMs = 10;
  const tokens = 20;
  // Request time as the server schedules it: first token after the first delay, then tokens - 1 gaps.
  const ttft = firstTokenDelayMs / 1000;
  const latency = (firstTokenDelayMs + (tokens - 1) * tokenDelayMs) / 1000;

  it("reports throughput, tokens/s, time to first token and latency percentiles from the stream", async () => {
    server = await startFakeServer({ key: KEY, tokens, firstTokenDelayMs, tokenDelayMs });
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
    for (const p of [s.timeToFirstToken.p50, s.timeToFirstToken.p90, s.timeToFirstToken.p99]) {
      expect(p).toBeGreaterThanOrEqual(ttft - 0.005);
      expect(p).toBeLessThan(ttft + SLACK_S);
    }
    for (const p of [s.latency.p50, s.latency.p90, s.latency.p99]) {
      expect(p).toBeGreaterThanOrEqual(latency - 0.005);
      expect(p).toBeLessThan(latency + SLACK_S);
    }
    // C requests in flight at a time: requests / C waves of one request's latency each.
    const waves = requests / concurrency;
    expect(s.durationSeconds).toBeGreaterThanOrEqual(waves * latency - 0.01);
    expect(s.durationSeconds).toBeLessThan(waves * (latency + SLACK_S));
    expect(s.requestsPerSecond).toBeCloseTo(requests / s.durationSeconds, 9);
    expect(s.requestsPerSecond).toBeLessThanOrEqual(concurrency / latency + 0.5);
    expect(s.requestsPerSecond).toBeGreaterThan(concurrency / (latency + SLACK_S));
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

  it("compares with a saved run and prints the speedup of the faster server", async () => {
    const dir = mkdtempSync(join(tmpdir(), "llmstack-bench-"));
    const args = (url: string) => ["--stack", "staging", "--url", url, "--requests", "8", "--concurrency", "4", "--output-tokens", "10"];
    // "One GPU": 20 ms per token; "two GPUs": 10 ms per token. Expected speedup from the delays alone.
    server = await startFakeServer({ key: KEY, tokens: 10, firstTokenDelayMs: 20, tokenDelayMs: 20 });
    const slow = fakeIo();
    expect(await benchCommand([...args(server.url), "--json"], slow.io, false)).toBe(0);
    writeFileSync(join(dir, "one-gpu.json"), slow.out());
    await server.close();
    server = await startFakeServer({ key: KEY, tokens: 10, firstTokenDelayMs: 10, tokenDelayMs: 10 });
    const fast = fakeIo(undefined, ROOT);
    expect(await benchCommand([...args(server.url), "--compare", join(dir, "one-gpu.json")], fast.io, false)).toBe(0);
    const before = JSON.parse(readFileSync(join(dir, "one-gpu.json"), "utf8")) as BenchResult;
    const m = fast.out().match(/speedup: ([\d.]+)× output tokens\/s/);
    expect(m).not.toBeNull();
    const speedup = Number(m![1]);
    const slowLatency = (20 + 9 * 20) / 1000;
    const fastLatency = (10 + 9 * 10) / 1000;
    // Bounds from the two schedules with the slack on either side.
    expect(speedup).toBeGreaterThan(slowLatency / (fastLatency + SLACK_S / 2));
    expect(speedup).toBeLessThan((slowLatency + SLACK_S / 2) / fastLatency);
    expect(fast.out()).toContain(`comparison with ${join(dir, "one-gpu.json")} (staging, ${before.model})`);
  });

  it("counts failed requests, reports the first error, and exits 1", async () => {
    server = await startFakeServer({ key: KEY, tokens: 2, firstTokenDelayMs: 1, tokenDelayMs: 1, failEvery: 2 });
    const { io, out } = fakeIo();
    const code = await benchCommand(["--stack", "staging", "--url", server.url, "--requests", "4", "--concurrency", "1", "--json"], io, false);
    expect(code).toBe(1);
    const s = (JSON.parse(out()) as BenchResult).summary;
    expect([s.requests, s.failed, s.outputTokens, s.firstError]).toEqual([4, 2, 4, 'HTTP 500: {"error":"injected"}']);
  });

  it("reads the key from --api-key-env and explains a missing key and bad options", async () => {
    server = await startFakeServer({ key: KEY, tokens: 1, firstTokenDelayMs: 1, tokenDelayMs: 1 });
    const { io } = fakeIo({ BENCH_KEY: KEY });
    expect(await benchCommand(["--stack", "staging", "--url", server.url, "--requests", "1", "--api-key-env", "BENCH_KEY"], io, false)).toBe(0);
    await expect(benchCommand(["--stack", "staging"], fakeIo({}).io, false)).rejects.toThrow(
      "LITELLM_MASTER_KEY is not set: export the gateway's key first (pulumi config get --stack staging llmstack:litellmMasterKey), or name another variable with --api-key-env",
    );
    await expect(benchCommand(["--stack", "staging", "--requests", "0"], fakeIo().io, false)).rejects.toThrow(
      '--requests "0": must be a whole number from 1 to 100000',
    );
    await expect(benchCommand(["--requests", "3"], fakeIo().io, false)).rejects.toThrow(
      "--stack is required, e.g. llmstack bench --stack production",
    );
    const dir = mkdtempSync(join(tmpdir(), "llmstack-bench-"));
    writeFileSync(join(dir, "x.json"), '{"hello": 1}');
    await expect(
      benchCommand(["--stack", "staging", "--compare", join(dir, "x.json")], fakeIo().io, false),
    ).rejects.toThrow(`--compare ${join(dir, "x.json")}: not an llmstack bench result (expected "format": "llmstack-bench/1" and a summary)`);
  });
});
