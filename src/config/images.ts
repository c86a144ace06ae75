/**
 * Image references: their form, and whether one is pinned. A floating tag (none, latest, stable-alpine,
 * main-4f2a, a variant name such as alpine) can change under a running stack; a major-only tag (`16`,
 * `16-alpine`) moves with every minor release. A digest pins whatever the tag says.
 */
import { z } from "zod";

/**
 * The reference grammar of distribution/reference (reference.go at v0.6.0, the package Docker parses
 * references with): `[domain[:port]/]path[:tag][@digest]`, path components lowercase alphanumerics
 * joined by ".", "_", "__" or dashes, a tag of at most 128 word characters, "." and "-" starting with a
 * word character, at most 255 characters before the tag. Digests are held to sha256.
 */
const DOMAIN_COMPONENT = "(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])";
const HOST = `(?:${DOMAIN_COMPONENT}(?:\\.${DOMAIN_COMPONENT})*|\\[[a-fA-F0-9:]+\\])`;
const PATH_COMPONENT = "[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*";
const NAME = `(?:${HOST}(?::[0-9]+)?/)?${PATH_COMPONENT}(?:/${PATH_COMPONENT})*`;
const REFERENCE = new RegExp(`^(${NAME})(?::[\\w][\\w.-]{0,127})?(?:@sha256:[0-9a-f]{64})?$`);
const NAME_TOTAL_LENGTH_MAX = 255;

export function isImageRef(ref: string): boolean {
  const m = REFERENCE.exec(ref);
  return m !== null && m[1]!.length <= NAME_TOTAL_LENGTH_MAX;
}

/** An image reference: repository[:tag][@sha256:digest]. */
export const imageRef = z
  .string()
  .refine(isImageRef, {
    message:
      "must be an image reference such as postgres:16.4 or registry.example.org/team/name:1.2.3@sha256:<64 hex>: " +
      'a lowercase repository, then one ":tag" and optionally "@sha256:<digest>"',
  })
  .meta({ pattern: REFERENCE.source });

export type TagProblem = "floating" | "major-only";

export interface ParsedImage {
  readonly repository: string;
  readonly tag: string | null;
  readonly digest: string | null;
}

export function parseImage(ref: string): ParsedImage {
  const at = ref.indexOf("@");
  const digest = at >= 0 ? ref.slice(at + 1) : null;
  const name = at >= 0 ? ref.slice(0, at) : ref;
  const slash = name.lastIndexOf("/");
  const colon = name.lastIndexOf(":");
  // A colon before the last slash belongs to a registry host:port, not a tag.
  if (colon > slash) return { repository: name.slice(0, colon), tag: name.slice(colon + 1), digest };
  return { repository: name, tag: null, digest };
}

export const DOCKER_HUB = "docker.io";
/** Docker Hub's API host (moby/moby daemon/pkg/registry/config.go, DefaultRegistryHost). */
export const DOCKER_HUB_API_HOST = "registry-1.docker.io";

export interface RegistryLocation {
  /** The registry as references name it (`docker.io`, `ghcr.io`, `nvcr.io`). */
  readonly domain: string;
  /** The host that serves its API. */
  readonly apiHost: string;
  /** The repository in the registry (`library/postgres`). */
  readonly name: string;
}

/**
 * The registry and repository of a reference's repository part, as distribution/reference normalizes
 * them (normalize.go, splitDockerDomain at v0.6.0): no domain, or a first part without "." or ":" that is
 * not "localhost" and has no upper case, is Docker Hub, `docker.io` (also written `index.docker.io`),
 * whose single-part names live under `library/`.
 */
export function registryLocation(repository: string): RegistryLocation {
  const slash = repository.indexOf("/");
  const first = slash < 0 ? "" : repository.slice(0, slash);
  const isDomain = first === "localhost" || /[.:]/.test(first) || first.toLowerCase() !== first;
  let domain = isDomain ? first : DOCKER_HUB;
  let name = isDomain ? repository.slice(slash + 1) : repository;
  if (domain === "index.docker.io") domain = DOCKER_HUB;
  if (domain === DOCKER_HUB && !name.includes("/")) name = `library/${name}`;
  return { domain, apiHost: domain === DOCKER_HUB ? DOCKER_HUB_API_HOST : domain, name };
}

/** Tags that name a channel, not a release, as their first word: `latest`, `stable-alpine`, `main-4f2a`. */
const FLOATING_WORD = /^(latest|stable|nightly|edge|dev|develop|release|canary|lts|current|rolling|unstable|testing|main.*|master.*)$/i;

export function imageTagProblem(ref: string): TagProblem | null {
  const { tag, digest } = parseImage(ref);
  if (digest !== null) return null;
  if (tag === null) return "floating";
  const words = tag.split(/[-._]/);
  if (FLOATING_WORD.test(words[0]!)) return "floating";
  // A tag without a number names a variant (alpine, slim, bookworm), which follows the newest release.
  if (!/\d/.test(tag)) return "floating";
  // The release number is the leading run of numeric words: 16-alpine has only a major version.
  const end = words.findIndex((w, i) => !(i === 0 ? /^v?\d+$/ : /^\d+$/).test(w));
  if ((end === -1 ? words.length : end) === 1) return "major-only";
  return null;
}
