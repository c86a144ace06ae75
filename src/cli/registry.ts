/**
 * Resolves an image tag to its manifest digest through the registry HTTP API v2, the way `docker pull`
 * finds it, without Docker:
 * - the registry and repository come from the reference as distribution/reference normalizes them
 *   (`registryLocation`, src/config/images.ts);
 * - GET /v2/<name>/manifests/<tag> with an Accept for the OCI index, the Docker manifest list and the two
 *   single-platform manifests, so a multi-platform tag yields its index digest, as `docker pull` pins it;
 * - a 401 with `WWW-Authenticate: Bearer realm=...,service=...,scope=...` is answered by fetching a token
 *   from the realm (anonymous, or with Basic credentials) and retrying (distribution/distribution
 *   docs/content/spec/auth/token.md); `Basic` is answered with the credentials;
 * - the digest is the sha256 of the manifest bytes received; a `Docker-Content-Digest` header must agree
 *   (opencontainers/distribution-spec v1.1.1 spec.md, "Pulling manifests": a client that uses the header
 *   MUST verify it against the manifest).
 */
import { createHash } from "node:crypto";
import { existsSync, readFileSync } from "node:fs";
import { homedir } from "node:os";
import { join } from "node:path";
import { DOCKER_HUB, DOCKER_HUB_API_HOST, parseImage, registryLocation, type RegistryLocation } from "../config/images";

export { DOCKER_HUB, registryLocation, type RegistryLocation };

export const MANIFEST_TYPES = [
  "application/vnd.oci.image.index.v1+json",
  "application/vnd.docker.distribution.manifest.list.v2+json",
  "application/vnd.oci.image.manifest.v1+json",
  "application/vnd.docker.distribution.manifest.v2+json",
] as const;

/** The distribution spec asks registries to accept manifests of at least 4 MiB; none is larger. */
const MAX_MANIFEST_BYTES = 4 * 1024 * 1024;
const TIMEOUT_MS = 30_000;

export interface Credentials {
  readonly username: string;
  readonly password: string;
}

export interface RegistryDeps {
  readonly fetch: typeof fetch;
  /** The API's base URL for a host: `https://<host>`; tests point it at a local server. */
  readonly baseUrl: (apiHost: string) => string;
  /** Credentials for a registry domain, from ~/.docker/config.json; undefined: anonymous. */
  readonly credentials: (domain: string) => Credentials | undefined;
}

export class RegistryError extends Error {}

/** `sha256:<64 hex>` of the manifest that `ref`'s tag names now. */
export async function resolveDigest(ref: string, deps: RegistryDeps): Promise<string> {
  const { repository, tag } = parseImage(ref);
  if (tag === null) {
    throw new RegistryError(`${ref}: has no tag to resolve; write the version you mean, e.g. ${repository}:1.2.3`);
  }
  const loc = registryLocation(repository);
  const base = deps.baseUrl(loc.apiHost);
  const url = `${base}/v2/${loc.name}/manifests/${encodeURIComponent(tag)}`;
  const accept = MANIFEST_TYPES.join(", ");
  const creds = deps.credentials(loc.domain);
  let res = await request(deps, ref, url, { Accept: accept });
  if (res.status === 401) {
    const challenge = parseChallenge(res.headers.get("www-authenticate") ?? "");
    const authorization = await authorize(ref, loc, base, challenge, creds, deps);
    res = await request(deps, ref, url, { Accept: accept, Authorization: authorization });
  }
  if (res.status === 401 || res.status === 403) {
    throw new RegistryError(
      `${ref}: ${loc.domain} refused to show ${loc.name} (HTTP ${res.status}); for a private image log in first ` +
        `(docker login ${loc.domain}: llmstack reads the "auths" entries of ~/.docker/config.json; credential helpers are not run)`,
    );
  }
  if (res.status === 404) {
    throw new RegistryError(`${ref}: ${loc.domain} has no tag "${tag}" in ${loc.name} (HTTP 404); check the image and tag`);
  }
  if (res.status !== 200) throw new RegistryError(`${ref}: ${url} answered HTTP ${res.status}`);
  const type = (res.headers.get("content-type") ?? "").split(";")[0]!.trim();
  if (!(MANIFEST_TYPES as readonly string[]).includes(type)) {
    throw new RegistryError(`${ref}: ${loc.domain} sent a manifest of type "${type}"; expected one of ${MANIFEST_TYPES.join(", ")}`);
  }
  const body = Buffer.from(await res.arrayBuffer());
  if (body.length > MAX_MANIFEST_BYTES) {
    throw new RegistryError(`${ref}: the manifest ${loc.domain} sent is ${body.length} bytes, more than ${MAX_MANIFEST_BYTES}`);
  }
  const digest = `sha256:${createHash("sha256").update(body).digest("hex")}`;
  const claimed = res.headers.get("docker-content-digest");
  if (claimed !== null && claimed !== digest) {
    throw new RegistryError(
      `${ref}: ${loc.domain} says the manifest is ${claimed}, but the manifest it sent hashes to ${digest}; nothing was pinned`,
    );
  }
  return digest;
}

interface Challenge {
  readonly scheme: string;
  readonly params: Readonly<Record<string, string>>;
}

export function parseChallenge(header: string): Challenge {
  const m = /^\s*(\w+)\s*(.*)$/.exec(header);
  const params: Record<string, string> = {};
  for (const p of (m?.[2] ?? "").matchAll(/(\w+)="([^"]*)"/g)) params[p[1]!.toLowerCase()] = p[2]!;
  return { scheme: (m?.[1] ?? "").toLowerCase(), params };
}

async function authorize(
  ref: string,
  loc: RegistryLocation,
  base: string,
  challenge: Challenge,
  creds: Credentials | undefined,
  deps: RegistryDeps,
): Promise<string> {
  const basic = creds
    ? `Basic ${Buffer.from(`${creds.username}:${creds.password}`).toString("base64")}`
    : undefined;
  if (challenge.scheme === "basic") {
    if (basic === undefined) {
      throw new RegistryError(`${ref}: ${loc.domain} asks for a password; log in with docker login ${loc.domain} first`);
    }
    return basic;
  }
  if (challenge.scheme !== "bearer" || !challenge.params.realm) {
    throw new RegistryError(`${ref}: ${loc.domain} answered 401 without a Bearer or Basic challenge it can be given`);
  }
  let realm: URL;
  try {
    realm = new URL(challenge.params.realm);
  } catch {
    throw new RegistryError(`${ref}: ${loc.domain}'s token service "${challenge.params.realm}" is not a URL`);
  }
  // Credentials and tokens travel only over https (or the same scheme as a test registry's own URL).
  if (realm.protocol !== "https:" && realm.protocol !== new URL(base).protocol) {
    throw new RegistryError(`${ref}: ${loc.domain}'s token service ${realm.href} is not https; refusing to use it`);
  }
  if (challenge.params.service) realm.searchParams.set("service", challenge.params.service);
  realm.searchParams.set("scope", challenge.params.scope ?? `repository:${loc.name}:pull`);
  const res = await request(deps, ref, realm.href, basic ? { Authorization: basic } : {});
  if (res.status !== 200) {
    throw new RegistryError(
      `${ref}: the token service ${realm.origin}${realm.pathname} answered HTTP ${res.status}` +
        (basic ? "; the credentials in ~/.docker/config.json may be wrong" : ""),
    );
  }
  let token: unknown;
  try {
    const json = (await res.json()) as { token?: unknown; access_token?: unknown };
    token = json.token ?? json.access_token;
  } catch {
    token = undefined;
  }
  if (typeof token !== "string" || token === "") {
    throw new RegistryError(`${ref}: the token service ${realm.origin}${realm.pathname} sent no token`);
  }
  return `Bearer ${token}`;
}

async function request(
  deps: RegistryDeps,
  ref: string,
  url: string,
  headers: Record<string, string>,
): Promise<Response> {
  try {
    return await deps.fetch(url, { headers, signal: AbortSignal.timeout(TIMEOUT_MS) });
  } catch (err) {
    const cause = (err as { cause?: { message?: string } }).cause?.message ?? (err as Error).message;
    throw new RegistryError(`${ref}: cannot reach ${new URL(url).origin} (${cause}); run this where the registry can be reached`);
  }
}

/**
 * Credentials from the Docker CLI's config file ($DOCKER_CONFIG/config.json, else ~/.docker/config.json):
 * its `auths` entries, keyed by registry (`https://index.docker.io/v1/` for Docker Hub, as `docker login`
 * writes it: moby/moby daemon/pkg/registry/config.go, IndexServer), each with `auth` (base64 of
 * user:password) or `username` and `password`. Credential stores and helpers are not run.
 */
export function dockerConfigCredentials(env: NodeJS.ProcessEnv): (domain: string) => Credentials | undefined {
  const file = env.DOCKER_CONFIG
    ? join(env.DOCKER_CONFIG, "config.json")
    : join(env.HOME ?? homedir(), ".docker", "config.json");
  let auths: Record<string, { auth?: unknown; username?: unknown; password?: unknown }> | undefined;
  const load = () => {
    if (auths !== undefined) return auths;
    if (!existsSync(file)) return (auths = {});
    try {
      const json = JSON.parse(readFileSync(file, "utf8")) as { auths?: typeof auths };
      return (auths = json.auths ?? {});
    } catch (err) {
      throw new RegistryError(`${file}: not valid JSON (${(err as Error).message}); fix or move it, nothing was pinned`);
    }
  };
  const domainOf = (key: string) => {
    const host = key.replace(/^https?:\/\//, "").replace(/\/.*$/, "");
    return host === "index.docker.io" || host === DOCKER_HUB_API_HOST ? DOCKER_HUB : host;
  };
  return (domain) => {
    for (const [key, entry] of Object.entries(load())) {
      if (domainOf(key) !== domain || entry === null || typeof entry !== "object") continue;
      if (typeof entry.auth === "string" && entry.auth !== "") {
        const decoded = Buffer.from(entry.auth, "base64").toString("utf8");
        const colon = decoded.indexOf(":");
        if (colon > 0) return { username: decoded.slice(0, colon), password: decoded.slice(colon + 1) };
      }
      if (typeof entry.username === "string" && typeof entry.password === "string") {
        return { username: entry.username, password: entry.password };
      }
    }
    return undefined;
  };
}
