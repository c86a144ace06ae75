/**
 * AWS Signature Version 4 for S3 requests signed in the Authorization header, as AWS documents it
 * ("Authenticating Requests: Using the Authorization Header", docs.aws.amazon.com/AmazonS3/latest/API/
 * sig-v4-header-based-auth.html). One implementation serves both sides of the test: the object store
 * stand-in verifies with it, the test signs with it, and a test holds it to AWS's own worked example.
 * Node built-ins only: it also runs inside the stand-in image.
 */
import { createHash, createHmac } from "node:crypto";

export interface SigV4Request {
  readonly method: string;
  /** The request path as sent, e.g. "/bucket/key.txt" (already URI-encoded). */
  readonly path: string;
  /** Query parameters, decoded. */
  readonly query?: Readonly<Record<string, string>>;
  /** Header names in any case; must hold every header that is signed. */
  readonly headers: Readonly<Record<string, string>>;
}

export interface SigV4Scope {
  readonly accessKey: string;
  /** YYYYMMDD */
  readonly date: string;
  readonly region: string;
  readonly service: string;
}

export function sha256Hex(data: string | Buffer): string {
  return createHash("sha256").update(data).digest("hex");
}

/** RFC 3986 encoding as SigV4 wants it (unreserved characters kept). */
function uriEncode(text: string): string {
  return encodeURIComponent(text).replace(
    /[!'()*]/g,
    (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`,
  );
}

export function canonicalRequest(req: SigV4Request, signedHeaders: readonly string[]): string {
  const lower = Object.fromEntries(
    Object.entries(req.headers).map(([k, v]) => [k.toLowerCase(), v]),
  );
  const query = Object.entries(req.query ?? {})
    .map(([k, v]) => `${uriEncode(k)}=${uriEncode(v)}`)
    .sort()
    .join("&");
  const headers = signedHeaders
    .map((h) => `${h}:${(lower[h] ?? "").trim().replace(/\s+/g, " ")}\n`)
    .join("");
  const payload = lower["x-amz-content-sha256"] ?? "UNSIGNED-PAYLOAD";
  return [req.method, req.path, query, headers, signedHeaders.join(";"), payload].join("\n");
}

/** The hex signature of `req` for `scope` with `secretKey`. */
export function signature(
  req: SigV4Request,
  signedHeaders: readonly string[],
  scope: SigV4Scope,
  secretKey: string,
): string {
  const amzDate = Object.entries(req.headers).find(([k]) => k.toLowerCase() === "x-amz-date")?.[1];
  if (amzDate === undefined) throw new Error("SigV4: the request has no x-amz-date header");
  const credentialScope = `${scope.date}/${scope.region}/${scope.service}/aws4_request`;
  const toSign = [
    "AWS4-HMAC-SHA256",
    amzDate,
    credentialScope,
    sha256Hex(canonicalRequest(req, signedHeaders)),
  ].join("\n");
  const hmac = (key: string | Buffer, data: string): Buffer =>
    createHmac("sha256", key).update(data).digest();
  const key = hmac(
    hmac(hmac(hmac(`AWS4${secretKey}`, scope.date), scope.region), scope.service),
    "aws4_request",
  );
  return createHmac("sha256", key).update(toSign).digest("hex");
}

/** The Authorization header for `req`, signing every header it carries. */
export function authorization(req: SigV4Request, scope: SigV4Scope, secretKey: string): string {
  const signed = Object.keys(req.headers)
    .map((h) => h.toLowerCase())
    .sort();
  const sig = signature(req, signed, scope, secretKey);
  const credential = `${scope.accessKey}/${scope.date}/${scope.region}/${scope.service}/aws4_request`;
  return `AWS4-HMAC-SHA256 Credential=${credential}, SignedHeaders=${signed.join(";")}, Signature=${sig}`;
}

/** The parts of an Authorization header, or null when it is not SigV4. */
export function parseAuthorization(
  header: string,
): { scope: SigV4Scope; signedHeaders: string[]; signature: string } | null {
  const m =
    /^AWS4-HMAC-SHA256\s+Credential=([^,\s]+),\s*SignedHeaders=([^,\s]+),\s*Signature=([0-9a-f]{64})$/.exec(
      header.trim(),
    );
  if (!m) return null;
  const [accessKey, date, region, service, terminator] = m[1]!.split("/");
  if (!accessKey || !date || !region || !service || terminator !== "aws4_request") return null;
  return {
    scope: { accessKey, date, region, service },
    signedHeaders: m[2]!.split(";"),
    signature: m[3]!,
  };
}
