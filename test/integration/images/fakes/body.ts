/**
 * A request's whole body, for the stand-ins that serve HTTP (Node built-ins only: it runs inside the
 * stand-in images beside them).
 */
import type { IncomingMessage } from "node:http";

export function readBody(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => resolve(Buffer.concat(chunks)));
    req.on("error", reject);
  });
}
