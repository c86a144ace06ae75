/**
 * Which Qdrant releases can open storage another release wrote, and where a host tells which release that
 * was. Pure data and functions: the preflight check `qdrant.data` (src/preflight/qdrantData.ts) applies them.
 */
import { parseImage } from "../config/images";

/**
 * Qdrant's upgrade rule (https://qdrant.tech/documentation/upgrades/): "When upgrading Qdrant, upgrade to
 * the latest patch version of each intermediate minor version first. For example, if you are running version
 * 1.15 and want to upgrade to 1.17, you must first upgrade all cluster nodes to 1.16.3 before upgrading to
 * 1.17. [...] If you run a single node cluster, you also can not skip versions to ensure that all data
 * migrations are properly applied." The page promises nothing for going back to an older release.
 */
export const QDRANT_UPGRADE_SOURCE = "https://qdrant.tech/documentation/upgrades/";

/**
 * Qdrant's storage does not record the release that wrote it in a single-node deployment:
 * - each collection directory (`collections/<name>/`, lib/storage/src/content_manager/toc/mod.rs
 *   COLLECTIONS_DIR at v1.15.5) holds `version.info` (lib/common/io/src/storage_version.rs VERSION_FILE at
 *   v1.15.5: the bare semver text, no newline), but what it holds is the version of the `collection` crate
 *   (lib/collection/src/collection/mod.rs, `CollectionVersion::current_raw` is its CARGO_PKG_VERSION), which
 *   lib/collection/Cargo.toml keeps at 0.4.2 at every tag from v1.10.0 to v1.17.0: the collection format, not
 *   the release. At start-up Qdrant skips a collection directory without `config.json` (COLLECTION_CONFIG_FILE,
 *   lib/collection/src/config.rs) and stops on one with a config but no `version.info`.
 * - the release of each peer is kept in `raft_state.json` (peer_metadata_by_id), filled through consensus,
 *   which runs only with cluster mode on (src/main.rs at v1.15.5); the stack runs Qdrant as a single node.
 * So the release that last served the data is read from the stack's own Qdrant container: its image's label.
 */
export const QDRANT_COLLECTIONS_DIR = "collections";
export const QDRANT_COLLECTION_FILES = { config: "config.json", version: "version.info" } as const;

/**
 * The label Qdrant's release builds put on every image they push: `--label
 * "org.opencontainers.image.version"=$RELEASE_VERSION`, the git tag (e.g. `v1.15.5`), for the plain and the
 * -unprivileged tags alike (.github/workflows/docker-image.yml at v1.15.5). It names the release also when
 * a container was created from an image ID, as the Docker provider does.
 */
export const QDRANT_VERSION_LABEL = "org.opencontainers.image.version";

/** The docs section that spells out stepping through releases. */
export const QDRANT_UPGRADE_DOC = "docs/operations.md#upgrading-qdrant";

export interface QdrantVersion {
  readonly major: number;
  readonly minor: number;
  /** Null for a tag that names only major.minor (`v1.15`, which Qdrant's release moves with each patch). */
  readonly patch: number | null;
}

/**
 * A Qdrant release from a tag or label: `v1.15.5`, `1.15.5`, `v1.15`, `v1.15.5-unprivileged`,
 * `v1.15.5-gpu-nvidia`. Null for anything else (`latest`, `dev`, `v1`).
 */
export function parseQdrantVersion(text: string): QdrantVersion | null {
  const m = /^v?(\d+)\.(\d+)(?:\.(\d+))?(?:-[\w.-]+)?$/.exec(text.trim());
  if (m === null) return null;
  return { major: Number(m[1]), minor: Number(m[2]), patch: m[3] === undefined ? null : Number(m[3]) };
}

/** The release an image reference names in its tag (a digest after it is ignored); null when none. */
export function qdrantImageVersion(ref: string): QdrantVersion | null {
  const { tag } = parseImage(ref);
  return tag === null ? null : parseQdrantVersion(tag);
}

export function formatQdrantVersion(v: QdrantVersion): string {
  return v.patch === null ? `${v.major}.${v.minor}` : `${v.major}.${v.minor}.${v.patch}`;
}

/** How a move from the release that wrote the storage to the planned one stands against the rule. */
export type QdrantMove =
  | { readonly kind: "same" }
  /** A later patch of the same minor, or the next minor: what the rule allows. */
  | { readonly kind: "upgrade" }
  /** More than one minor ahead: `between` are the minors to run first, in order. */
  | { readonly kind: "skips"; readonly between: readonly string[] }
  /** A new major version: the rule speaks of minors only. */
  | { readonly kind: "major" }
  /** An older patch of the same minor. */
  | { readonly kind: "older-patch" }
  /** An older minor or major. */
  | { readonly kind: "downgrade" };

export function qdrantMove(from: QdrantVersion, to: QdrantVersion): QdrantMove {
  if (to.major < from.major || (to.major === from.major && to.minor < from.minor)) return { kind: "downgrade" };
  if (to.major > from.major) return { kind: "major" };
  if (to.minor > from.minor + 1) {
    const between: string[] = [];
    for (let minor = from.minor + 1; minor < to.minor; minor++) between.push(`${to.major}.${minor}`);
    return { kind: "skips", between };
  }
  if (to.minor === from.minor + 1) return { kind: "upgrade" };
  if (from.patch === null || to.patch === null || to.patch === from.patch) return { kind: "same" };
  return to.patch > from.patch ? { kind: "upgrade" } : { kind: "older-patch" };
}
