/**
 * `qdrant.data`: the Qdrant release that last served the stack's retained storage volume against the planned
 * one. Qdrant migrates its storage one minor release at a time and documents no way back to an older release
 * (src/facts/qdrant.ts), so a jump over a minor release, or a downgrade, on a volume that holds collections is
 * refused here, before anything is replaced.
 *
 * The storage does not name the release that wrote it (src/facts/qdrant.ts), so the release comes from the
 * stack's Qdrant container, which served the volume until now: its image's version label, else a version in
 * the reference it was created from or in the image's tags. The volume itself is read as
 * src/preflight/volumeRead.ts reads one (in the planned Qdrant image, else the container's), listing the
 * collections in it; the planned image's label stands in for a tag that names no release.
 */
import { parseImage } from "../config/images";
import { shellQuote, shellWords } from "../config/shell";
import {
  formatQdrantVersion,
  parseQdrantVersion,
  qdrantImageVersion,
  qdrantMove,
  QDRANT_COLLECTIONS_DIR,
  QDRANT_COLLECTION_FILES,
  QDRANT_UPGRADE_DOC,
  QDRANT_VERSION_LABEL,
  type QdrantVersion,
} from "../facts/qdrant";
import { DATA_VOLUMES } from "../plan/dataStores";
import type { StackPlan } from "../plan/types";
import { fail, pass, warn, type CheckResult } from "./types";
import { oneShotLines, outputLines, volumeInspectLines, volumeOutcome, type VolumeProblem } from "./volumeRead";

export const QDRANT_DATA_CHECK = "qdrant.data";

/** What the stack plans for Qdrant: its storage volume and image. */
export interface QdrantDataNeed {
  /** Physical name of the storage volume. */
  readonly volume: string;
  readonly image: string;
  /** The stack's Qdrant container: it served the volume until now, and its image can read it. */
  readonly containerName: string;
}

/** Null when the plan runs no Qdrant. */
export function qdrantDataNeed(plan: StackPlan): QdrantDataNeed | null {
  const container = plan.containers.find((c) => c.service === "qdrant");
  const volume = plan.volumes.find((v) => v.key === DATA_VOLUMES.qdrant);
  if (!container || !volume) return null;
  return { volume: volume.name, image: container.image, containerName: container.name };
}

/** A Go template for `docker image inspect`: the release label, empty when the image has none. */
const LABEL_FORMAT = `{{index .Config.Labels ${JSON.stringify(QDRANT_VERSION_LABEL)}}}`;

/** A POSIX sh script that reports the release of the stack's container and the volume's collections. */
export function qdrantDataScript(need: QdrantDataNeed, dockerArgs: readonly string[]): string {
  const d = shellWords(["docker", ...dockerArgs]);
  const name = shellQuote(need.containerName);
  const label = shellQuote(LABEL_FORMAT);
  // A collection is a directory with config.json (the others Qdrant skips); its version.info names the
  // collection format (src/facts/qdrant.ts), printed as found for the record.
  const { config, version } = QDRANT_COLLECTION_FILES;
  const list =
    `for f in ${QDRANT_COLLECTIONS_DIR}/*/${config}; do [ -f "$f" ] || continue; c=\${f%/${config}}; ` +
    `v=$(head -c 64 "$c/${version}" 2>/dev/null | head -n 1); echo "collection \${v:--} \${c#${QDRANT_COLLECTIONS_DIR}/}"; done; echo listed`;
  return [
    ...volumeInspectLines(d, need.volume),
    `id=$(${d} container inspect --format '{{.Image}}' ${name} 2>/dev/null)`,
    `if [ -n "$id" ]; then`,
    `  echo "ran ref $(${d} container inspect --format '{{.Config.Image}}' ${name} 2>/dev/null)"`,
    `  echo "ran label $(${d} image inspect --format ${label} "$id" 2>/dev/null)"`,
    `  echo "ran tags $(${d} image inspect --format '{{join .RepoTags " "}}' "$id" 2>/dev/null)"`,
    `fi`,
    `echo "planned label $(${d} image inspect --format ${label} ${shellQuote(need.image)} 2>/dev/null)"`,
    ...oneShotLines(d, need.volume, `${shellQuote(need.image)} $id`, list),
  ].join("\n");
}

/** The release that last served the volume, and where it was read. */
export interface QdrantRan {
  readonly version: QdrantVersion;
  /** E.g. "the label org.opencontainers.image.version of the image of the container X". */
  readonly from: string;
}

export type QdrantVolumeRead =
  | VolumeProblem
  | {
      readonly kind: "read";
      readonly image: string;
      /** Collection names, as their directories are named. */
      readonly collections: readonly string[];
      /** Null when the stack has no Qdrant container, or nothing about its image names a release. */
      readonly ran: QdrantRan | null;
      /** The planned image's label, when that image is on the host. */
      readonly plannedLabel: QdrantVersion | null;
    };

/** The release of a container's image: the label, else the reference's tag, else the most precise tag. */
function ranVersion(lines: readonly string[], containerName: string): QdrantRan | null {
  const value = (key: string) => lines.find((l) => l.startsWith(`${key} `))?.slice(key.length + 1) ?? null;
  const of = `the image of the container ${containerName}`;
  const label = value("ran label");
  const fromLabel = label === null ? null : parseQdrantVersion(label);
  if (fromLabel !== null) return { version: fromLabel, from: `the label ${QDRANT_VERSION_LABEL} of ${of}` };
  const ref = value("ran ref");
  const fromRef = ref === null ? null : qdrantImageVersion(ref);
  if (fromRef !== null) return { version: fromRef, from: `${of}, ${ref}` };
  const tagged = (value("ran tags") ?? "")
    .split(" ")
    .flatMap((t) => {
      const v = t === "" ? null : qdrantImageVersion(t);
      return v === null ? [] : [{ tag: t, v }];
    })
    .sort((a, b) => (b.v.patch === null ? 0 : 1) - (a.v.patch === null ? 0 : 1));
  const best = tagged[0];
  return best === undefined ? null : { version: best.v, from: `${of}, tagged ${best.tag}` };
}

export function parseQdrantData(text: string, containerName: string): QdrantVolumeRead {
  const lines = outputLines(text);
  const outcome = volumeOutcome(lines);
  if (outcome.kind !== "listed") return outcome;
  const collections = lines.flatMap((l) => {
    const m = /^collection (\S+) (.+)$/.exec(l);
    return m === null ? [] : [m[2]!];
  });
  const planned = lines.find((l) => l.startsWith("planned label "))?.slice(14) ?? "";
  return {
    kind: "read",
    image: outcome.image,
    collections,
    ran: ranVersion(lines, containerName),
    plannedLabel: parseQdrantVersion(planned),
  };
}

/** The minor releases whose storage `v` reads in place: its own and the one before. */
function readsFrom(v: QdrantVersion): string {
  const own = `${v.major}.${v.minor}.x`;
  return v.minor === 0 ? own : `${v.major}.${v.minor - 1}.x or ${own}`;
}

function held(volume: string, collections: readonly string[]): string {
  const n = collections.length;
  return `the volume ${volume} holds ${n} Qdrant collection${n === 1 ? "" : "s"} (${collections.join(", ")})`;
}

export function checkQdrantData(need: QdrantDataNeed, read: QdrantVolumeRead): CheckResult {
  const C = QDRANT_DATA_CHECK;
  const { volume, image } = need;
  if (read.kind === "absent") return pass(C, `the volume ${volume} does not exist yet: ${image} creates a new Qdrant storage in it`);
  if (read.kind === "unreadable") {
    return warn(
      C,
      `could not read the Qdrant storage in the volume ${volume} (${read.why}), so a release jump is not checked`,
      `pull ${image} on the host and run validate again`,
    );
  }
  if (read.collections.length === 0) return pass(C, `the volume ${volume} holds no Qdrant collection yet: nothing for ${image} to migrate`);
  const has = held(volume, read.collections);
  const planned = qdrantImageVersion(image) ?? read.plannedLabel;
  const repo = parseImage(image).repository;
  if (planned === null) {
    return warn(
      C,
      `${has}, but llmstack:images.qdrant is ${image}, whose tag names no Qdrant release (nor does a ${QDRANT_VERSION_LABEL} ` +
        `label of it on the host), so a release jump is not checked`,
      `set llmstack:images.qdrant to a release tag, such as ${repo}:v1.15.5, then run validate again`,
    );
  }
  const to = formatQdrantVersion(planned);
  if (read.ran === null) {
    return warn(
      C,
      `${has}, but the stack's Qdrant container ${need.containerName} is gone, or its image names no release, and Qdrant's ` +
        `storage does not record the release that wrote it, so the move to ${to} is not checked`,
      `make sure the data was last served by Qdrant ${readsFrom(planned)}: Qdrant moves its storage one minor ` +
        `release at a time; the steps are in ${QDRANT_UPGRADE_DOC}`,
    );
  }
  const from = formatQdrantVersion(read.ran.version);
  const was = `${has}, last served by Qdrant ${from} (${read.ran.from})`;
  const move = qdrantMove(read.ran.version, planned);
  switch (move.kind) {
    case "same":
      return pass(C, `${was}; ${image} is the same release`);
    case "upgrade":
      return pass(C, `${was}; ${image} is Qdrant ${to}, which migrates it in place`);
    case "older-patch":
      return warn(
        C,
        `${was}, but ${image} is Qdrant ${to}, an older patch release; Qdrant documents no downgrade of its storage`,
        `set llmstack:images.qdrant to ${repo}:v${from} or later unless the ${to} release notes say it reads ${from}'s storage`,
      );
    case "major":
      return warn(
        C,
        `${was}, but ${image} is Qdrant ${to}, a new major version, which Qdrant's minor-by-minor upgrade rule does not cover`,
        `read the Qdrant ${to} release notes before the update, and keep collection snapshots taken with ${from} (${QDRANT_UPGRADE_DOC})`,
      );
    case "skips":
      return fail(
        C,
        `${was}, but llmstack:images.qdrant is ${image} (Qdrant ${to}): Qdrant migrates its storage one minor release ` +
          `at a time, so ${from} to ${to} skips ${move.between.join(", ")}`,
        `step through each minor release in between at its latest patch: set llmstack:images.qdrant to ` +
          `${move.between.map((m) => `${repo}:v${m}.<latest patch>`).join(", then ")}, running pulumi up and waiting ` +
          `for Qdrant to be ready after each, then ${image}; the steps are in ${QDRANT_UPGRADE_DOC}`,
      );
    case "downgrade":
      return fail(
        C,
        `${was}, but llmstack:images.qdrant is ${image} (Qdrant ${to}), an older release: Qdrant documents no ` +
          `downgrade of its storage, and ${from} may have migrated it already`,
        `keep llmstack:images.qdrant at ${repo}:v${from} or later; to run ${to} again, restore collection snapshots taken ` +
          `while ${to} served the data into an empty volume; the steps are in ${QDRANT_UPGRADE_DOC}`,
      );
  }
}
