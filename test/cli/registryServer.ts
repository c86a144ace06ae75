/**
 * A registry on 127.0.0.1 that answers as Docker Hub, ghcr.io and nvcr.io do for `images pin` (the
 * token flow of distribution/distribution docs/content/spec/auth/token.md): a manifest GET without a
 * token gets 401 and a Bearer challenge naming /token; /token hands out a token for the scope (asking
 * for Basic credentials for a private repository); a GET with the token gets the manifest, its media
 * type and its Docker-Content-Digest. Every manifest is made up for the test, so are its digests.
 */
import { createHash } from "node:crypto";
import { createServer, type IncomingMessage, type Server } from "node:http";
import type { AddressInfo } from "node:net";

export const INDEX_TYPE = "application/vnd.oci.image.index.v1+json";

export interface RegistryRequest {
  readonly path: string;
  readonly authorization: string | undefined;
  readonly accept: string | undefined;
}

export interface FakeRegistry {
  readonly url: string;
  readonly requests: RegistryRequest[];
  /** Repositories whose token needs these Basic credentials (user:password). */
  readonly privateRepos: Map<string, string>;
  /** `name:tag` → what the registry claims in Docker-Content-Digest instead of the true digest. */
  readonly lies: Map<string, string>;
  /** `name:tag` the registry does not have. */
  readonly missing: Set<string>;
  /** `name:tag` → a generation; bumping it re-pushes the tag with other content. */
  readonly generation: Map<string, number>;
  manifest(nameTag: string): string;
  digest(nameTag: string): string;
  close(): Promise<void>;
}

export async function startRegistry(): Promise<FakeRegistry> {
  const requests: RegistryRequest[] = [];
  const registry = {
    requests,
    privateRepos: new Map<string, string>(),
    lies: new Map<string, string>(),
    missing: new Set<string>(),
    generation: new Map<string, number>(),
    manifest: (nameTag: string) =>
      JSON.stringify({
        schemaVersion: 2,
        mediaType: INDEX_TYPE,
        manifests: [],
        annotations: { test: nameTag, generation: String(registry.generation.get(nameTag) ?? 0) },
      }),
    digest: (nameTag: string) => `sha256:${createHash("sha256").update(registry.manifest(nameTag)).digest("hex")}`,
  };
  let base = "";
  const server: Server = createServer((req: IncomingMessage, res) => {
    const url = new URL(req.url ?? "/", base);
    requests.push({ path: `${url.pathname}${url.search}`, authorization: req.headers.authorization, accept: req.headers.accept });
    if (url.pathname === "/token") {
      const name = /^repository:(.+):pull$/.exec(url.searchParams.get("scope") ?? "")?.[1] ?? "";
      const needed = registry.privateRepos.get(name);
      if (url.searchParams.get("service") !== "registry.test") return void res.writeHead(400).end();
      if (needed !== undefined && req.headers.authorization !== `Basic ${Buffer.from(needed).toString("base64")}`) {
        return void res.writeHead(401).end();
      }
      res.writeHead(200, { "Content-Type": "application/json" }).end(JSON.stringify({ token: `token-for:${name}` }));
      return;
    }
    const m = /^\/v2\/(.+)\/manifests\/([^/]+)$/.exec(url.pathname);
    if (!m) return void res.writeHead(404).end();
    const [, name, tag] = m as unknown as [string, string, string];
    if (req.headers.authorization !== `Bearer token-for:${name}`) {
      res
        .writeHead(401, {
          "WWW-Authenticate": `Bearer realm="${base}/token",service="registry.test",scope="repository:${name}:pull"`,
        })
        .end();
      return;
    }
    const nameTag = `${name}:${decodeURIComponent(tag)}`;
    if (registry.missing.has(nameTag)) return void res.writeHead(404).end();
    res
      .writeHead(200, {
        "Content-Type": INDEX_TYPE,
        "Docker-Content-Digest": registry.lies.get(nameTag) ?? registry.digest(nameTag),
      })
      .end(registry.manifest(nameTag));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    ...registry,
    url: base,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}
