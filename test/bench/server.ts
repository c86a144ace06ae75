/**
 * A local OpenAI-compatible chat server for the benchmark tests: it streams `tokens` content chunks
 * (SSE) after `firstTokenDelayMs`, then one every `tokenDelayMs`, then a usage chunk and [DONE].
 * It answers on 127.0.0.1 only, checks the bearer key, and records each request body.
 */
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";

export interface FakeServerOptions {
  readonly key: string;
  readonly tokens: number;
  readonly firstTokenDelayMs: number;
  readonly tokenDelayMs: number;
  /** Every n-th request (1-based) answers 500 instead. */
  readonly failEvery?: number;
}

export interface FakeServer {
  readonly url: string;
  readonly bodies: Record<string, unknown>[];
  /** Most requests in flight at once. */
  readonly maxInFlight: () => number;
  close(): Promise<void>;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

export async function startFakeServer(o: FakeServerOptions): Promise<FakeServer> {
  const bodies: Record<string, unknown>[] = [];
  let inFlight = 0;
  let maxInFlight = 0;
  let count = 0;
  const server: Server = createServer((req, res) => {
    let raw = "";
    req.on("data", (d: Buffer) => (raw += d.toString()));
    req.on("end", () => {
      void (async () => {
        count += 1;
        const n = count;
        if (req.url !== "/v1/chat/completions" || req.headers.authorization !== `Bearer ${o.key}`) {
          res.writeHead(401, { "content-type": "application/json" }).end('{"error":"bad key or path"}');
          return;
        }
        bodies.push(JSON.parse(raw) as Record<string, unknown>);
        if (o.failEvery !== undefined && n % o.failEvery === 0) {
          res.writeHead(500, { "content-type": "application/json" }).end('{"error":"injected"}');
          return;
        }
        inFlight += 1;
        maxInFlight = Math.max(maxInFlight, inFlight);
        res.writeHead(200, { "content-type": "text/event-stream", "cache-control": "no-cache" });
        const send = (obj: unknown): boolean => res.write(`data: ${JSON.stringify(obj)}\n\n`);
        send({ choices: [{ index: 0, delta: { role: "assistant" } }] });
        await sleep(o.firstTokenDelayMs);
        for (let i = 0; i < o.tokens; i += 1) {
          if (i > 0) await sleep(o.tokenDelayMs);
          send({ choices: [{ index: 0, delta: { content: ` t${i}` } }] });
        }
        send({ choices: [], usage: { prompt_tokens: 10, completion_tokens: o.tokens, total_tokens: 10 + o.tokens } });
        res.end("data: [DONE]\n\n");
        inFlight -= 1;
      })();
    });
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    bodies,
    maxInFlight: () => maxInFlight,
    close: () => new Promise((r) => server.close(() => r())),
  };
}
