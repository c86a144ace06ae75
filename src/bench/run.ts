/** Runs N timed chat requests with C in flight at a time and summarizes them. */
import { performance } from "node:perf_hooks";
import { promptOf, timedChat } from "./client";
import { summarize, type BenchSummary, type Sample } from "./stats";

export interface BenchOptions {
  readonly url: string;
  /** Several endpoints instead of `url`: request i goes to `urls[i % urls.length]` (./scaling.ts). */
  readonly urls?: readonly string[];
  readonly apiKey: string;
  readonly model: string;
  readonly requests: number;
  readonly concurrency: number;
  readonly promptTokens: number;
  readonly outputTokens: number;
  readonly timeoutMs: number;
}

/** The clock and the request function; tests pass a fake clock and a scripted request. */
export interface BenchDeps {
  readonly now: () => number;
  readonly chat: typeof timedChat;
}

export const realDeps: BenchDeps = { now: () => performance.now(), chat: timedChat };

export async function runBench(
  opts: BenchOptions,
  onDone: (done: number, total: number) => void = () => undefined,
  deps: BenchDeps = realDeps,
): Promise<{ summary: BenchSummary; samples: Sample[] }> {
  const prompt = promptOf(opts.promptTokens);
  const samples: Sample[] = [];
  let next = 0;
  const { now, chat } = deps;
  const worker = async (): Promise<void> => {
    while (next < opts.requests) {
      const i = next;
      next += 1;
      const url = opts.urls !== undefined && opts.urls.length > 0 ? opts.urls[i % opts.urls.length]! : opts.url;
      samples.push(
        await chat(
          { url, apiKey: opts.apiKey, model: opts.model, prompt, maxTokens: opts.outputTokens, timeoutMs: opts.timeoutMs },
          now,
        ),
      );
      onDone(samples.length, opts.requests);
    }
  };
  await Promise.all(Array.from({ length: Math.min(opts.concurrency, opts.requests) }, worker));
  return { summary: summarize(samples, opts.concurrency), samples };
}
