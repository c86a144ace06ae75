/**
 * One streaming chat completion against an OpenAI-compatible endpoint, timed: when the request left,
 * when the first content token arrived, when the stream ended, and how many tokens came back.
 * Server-sent events: https://platform.openai.com/docs/api-reference/chat-streaming
 */
import type { Sample } from "./stats";

export interface ChatRequest {
  /** Base URL without /v1, e.g. http://localhost:4000. */
  readonly url: string;
  readonly apiKey: string;
  readonly model: string;
  readonly prompt: string;
  readonly maxTokens: number;
  readonly timeoutMs: number;
}

/**
 * A prompt of about `tokens` tokens: "hello" is one token in the common BPE vocabularies (GPT, Llama,
 * Qwen), so n repetitions come to about n tokens plus the chat template's own.
 */
export function promptOf(tokens: number): string {
  return Array.from({ length: tokens }, () => "hello").join(" ");
}

export function chatBody(req: Pick<ChatRequest, "model" | "prompt" | "maxTokens">): Record<string, unknown> {
  return {
    model: req.model,
    messages: [{ role: "user", content: req.prompt }],
    max_tokens: req.maxTokens,
    stream: true,
    stream_options: { include_usage: true },
    // vLLM's sampling extras: produce exactly max_tokens so runs compare like for like
    // (https://docs.vllm.ai/en/stable/serving/openai_compatible_server/#extra-parameters).
    ignore_eos: true,
    min_tokens: req.maxTokens,
    temperature: 0,
  };
}

interface StreamChunk {
  choices?: { delta?: { content?: string | null } }[];
  usage?: { completion_tokens?: number } | null;
}

export async function timedChat(req: ChatRequest, now: () => number): Promise<Sample> {
  const startMs = now();
  let firstTokenMs: number | undefined;
  let contentChunks = 0;
  let usageTokens: number | undefined;
  const fail = (error: string): Sample => ({ startMs, endMs: now(), outputTokens: 0, ok: false, error });
  try {
    const res = await fetch(`${req.url.replace(/\/+$/, "")}/v1/chat/completions`, {
      method: "POST",
      headers: { "content-type": "application/json", authorization: `Bearer ${req.apiKey}` },
      body: JSON.stringify(chatBody(req)),
      signal: AbortSignal.timeout(req.timeoutMs),
    });
    if (!res.ok || !res.body) {
      const text = (await res.text()).slice(0, 200);
      return fail(`HTTP ${res.status}: ${text}`);
    }
    const decoder = new TextDecoder();
    let buffer = "";
    for await (const part of res.body as unknown as AsyncIterable<Uint8Array>) {
      buffer += decoder.decode(part, { stream: true });
      let nl: number;
      while ((nl = buffer.indexOf("\n")) >= 0) {
        const line = buffer.slice(0, nl).trim();
        buffer = buffer.slice(nl + 1);
        if (!line.startsWith("data:")) continue;
        const data = line.slice(5).trim();
        if (data === "[DONE]") continue;
        const chunk = JSON.parse(data) as StreamChunk;
        if (chunk.usage?.completion_tokens !== undefined) usageTokens = chunk.usage.completion_tokens;
        const content = chunk.choices?.[0]?.delta?.content;
        if (content) {
          contentChunks += 1;
          firstTokenMs ??= now();
        }
      }
    }
    // The server's own count when it sends usage; else one token per content chunk (vLLM streams one each).
    return {
      startMs,
      ...(firstTokenMs !== undefined ? { firstTokenMs } : {}),
      endMs: now(),
      outputTokens: usageTokens ?? contentChunks,
      ok: true,
    };
  } catch (err) {
    return fail(err instanceof Error ? `${err.name}: ${err.message}` : String(err));
  }
}
