/**
 * `qdrant.data`: the Qdrant release that last served the retained storage volume against the planned one,
 * through `llmstack validate`'s gathering with a fake exec (the script's output is what the real one prints),
 * and the upgrade rule of src/facts/qdrant.ts.
 */
import { describe, expect, it } from "vitest";
import { parseQdrantVersion, qdrantImageVersion, qdrantMove, QDRANT_UPGRADE_DOC } from "../../src/facts/qdrant";
import { checkQdrantData, parseQdrantData, qdrantDataScript } from "../../src/preflight/qdrantData";
import { cpuNeedsWith, dataCheckResults } from "./dataHost";

const VOLUME = "llm-multimodal-stack-development-qdrant-data";
const CONTAINER = "llm-multimodal-stack-development-qdrant";
const LABEL = `the label org.opencontainers.image.version of the image of the container ${CONTAINER}`;
const IMAGE = "qdrant/qdrant:v1.15.5";

const needsWith = (qdrant: string) => cpuNeedsWith({ qdrant });

/** A new Postgres volume, and a Qdrant volume whose script prints `volume`. */
async function check(qdrant: string, volume: string) {
  const results = await dataCheckResults(needsWith(qdrant), (script) => (script.includes(`'${VOLUME}'`) ? volume : "volume absent\n"));
  expect(results.map((r) => r.check).slice(0, 5)).toEqual(["docker.daemon", "docker.api", "docker.images", "postgres.data", "qdrant.data"]);
  return results.find((r) => r.check === "qdrant.data");
}

/** What the script prints for a volume with `collections`, last served by an image labelled `ran`. */
function served(ran: string, collections = ["docs"]): string {
  return (
    `ran ref sha256:4f1c\nran label ${ran}\nran tags qdrant/qdrant:${ran}\nplanned label\nimage ${IMAGE}\n` +
    collections.map((c) => `collection 0.4.2 ${c}\n`).join("") +
    "listed\n"
  );
}

describe("qdrant.data", () => {
  it("passes the release that served the volume", async () => {
    expect(await check(IMAGE, served("v1.15.5"))).toEqual({
      check: "qdrant.data",
      status: "pass",
      found: `the volume ${VOLUME} holds 1 Qdrant collection (docs), last served by Qdrant 1.15.5 (${LABEL}); ${IMAGE} is the same release`,
      fix: null,
    });
  });

  it("passes the next minor release, which migrates the storage in place", async () => {
    expect(await check(IMAGE, served("v1.14.1", ["docs", "my notes"]))).toEqual({
      check: "qdrant.data",
      status: "pass",
      found:
        `the volume ${VOLUME} holds 2 Qdrant collections (docs, my notes), last served by Qdrant 1.14.1 (${LABEL}); ` +
        `${IMAGE} is Qdrant 1.15.5, which migrates it in place`,
      fix: null,
    });
  });

  it("refuses a jump over a minor release, naming the releases to step through", async () => {
    expect(await check(IMAGE, served("v1.13.2"))).toEqual({
      check: "qdrant.data",
      status: "fail",
      found:
        `the volume ${VOLUME} holds 1 Qdrant collection (docs), last served by Qdrant 1.13.2 (${LABEL}), but ` +
        `llmstack:images.qdrant is ${IMAGE} (Qdrant 1.15.5): Qdrant migrates its storage one minor release at a time, ` +
        "so 1.13.2 to 1.15.5 skips 1.14",
      fix:
        "step through each minor release in between at its latest patch: set llmstack:images.qdrant to " +
        "qdrant/qdrant:v1.14.<latest patch>, running pulumi up and waiting for Qdrant to be ready after each, then " +
        `${IMAGE}; the steps are in ${QDRANT_UPGRADE_DOC}`,
    });
  });

  it("lists every minor release a longer jump skips, in order", async () => {
    const r = await check(IMAGE, served("v1.12.6"));
    expect(r?.status).toBe("fail");
    expect(r?.fix).toBe(
      "step through each minor release in between at its latest patch: set llmstack:images.qdrant to " +
        "qdrant/qdrant:v1.13.<latest patch>, then qdrant/qdrant:v1.14.<latest patch>, running pulumi up and waiting " +
        `for Qdrant to be ready after each, then ${IMAGE}; the steps are in docs/operations.md#upgrading-qdrant`,
    );
  });

  it("refuses an older minor release", async () => {
    expect(await check(IMAGE, served("v1.16.3"))).toEqual({
      check: "qdrant.data",
      status: "fail",
      found:
        `the volume ${VOLUME} holds 1 Qdrant collection (docs), last served by Qdrant 1.16.3 (${LABEL}), but ` +
        `llmstack:images.qdrant is ${IMAGE} (Qdrant 1.15.5), an older release: Qdrant documents no downgrade of its ` +
        "storage, and 1.16.3 may have migrated it already",
      fix:
        "keep llmstack:images.qdrant at qdrant/qdrant:v1.16.3 or later; to run 1.15.5 again, restore collection snapshots taken while " +
        "1.15.5 served the data into an empty volume; the steps are in docs/operations.md#upgrading-qdrant",
    });
  });

  it("warns on an older patch release of the same minor", async () => {
    expect(await check("qdrant/qdrant:v1.15.4", served("v1.15.5"))).toEqual({
      check: "qdrant.data",
      status: "warn",
      found:
        `the volume ${VOLUME} holds 1 Qdrant collection (docs), last served by Qdrant 1.15.5 (${LABEL}), but ` +
        "qdrant/qdrant:v1.15.4 is Qdrant 1.15.4, an older patch release; Qdrant documents no downgrade of its storage",
      fix: "set llmstack:images.qdrant to qdrant/qdrant:v1.15.5 or later unless the 1.15.4 release notes say it reads 1.15.5's storage",
    });
  });

  it("passes when the volume does not exist yet", async () => {
    expect(await check(IMAGE, "volume absent\n")).toEqual({
      check: "qdrant.data",
      status: "pass",
      found: `the volume ${VOLUME} does not exist yet: ${IMAGE} creates a new Qdrant storage in it`,
      fix: null,
    });
  });

  it("passes a volume without collections, whatever served it", async () => {
    const r = await check(IMAGE, served("v1.10.0", []));
    expect(r?.found).toBe(`the volume ${VOLUME} holds no Qdrant collection yet: nothing for ${IMAGE} to migrate`);
    expect(r?.status).toBe("pass");
  });

  it("warns when no image to read the volume with is on the host", async () => {
    expect(await check(IMAGE, "planned label\nno image\n")).toEqual({
      check: "qdrant.data",
      status: "warn",
      found: `could not read the Qdrant storage in the volume ${VOLUME} (no image to read it with is on the host), so a release jump is not checked`,
      fix: `pull ${IMAGE} on the host and run validate again`,
    });
  });

  it("warns when the container that served the volume is gone: the storage does not name its release", async () => {
    expect(await check(IMAGE, `planned label v1.15.5\nimage ${IMAGE}\ncollection 0.4.2 docs\nlisted\n`)).toEqual({
      check: "qdrant.data",
      status: "warn",
      found:
        `the volume ${VOLUME} holds 1 Qdrant collection (docs), but the stack's Qdrant container ${CONTAINER} is gone, ` +
        "or its image names no release, and Qdrant's storage does not record the release that wrote it, so the move " +
        "to 1.15.5 is not checked",
      fix:
        "make sure the data was last served by Qdrant 1.14.x or 1.15.x: Qdrant moves its storage one minor release " +
        "at a time; the steps are in docs/operations.md#upgrading-qdrant",
    });
  });

  it("reads the planned release from the image's label when its tag names none, and warns when neither does", async () => {
    const latest = "qdrant/qdrant:latest";
    const labelled = served("v1.13.2").replace("planned label\n", "planned label v1.15.5\n");
    expect((await check(latest, labelled))?.found).toContain(`but llmstack:images.qdrant is ${latest} (Qdrant 1.15.5)`);
    expect(await check(latest, served("v1.13.2"))).toEqual({
      check: "qdrant.data",
      status: "warn",
      found:
        `the volume ${VOLUME} holds 1 Qdrant collection (docs), but llmstack:images.qdrant is ${latest}, whose tag ` +
        "names no Qdrant release (nor does a org.opencontainers.image.version label of it on the host), so a release " +
        "jump is not checked",
      fix: "set llmstack:images.qdrant to a release tag, such as qdrant/qdrant:v1.15.5, then run validate again",
    });
  });

  it("reads the served release from the container's reference, else the most precise tag, when the image has no label", () => {
    const byRef = parseQdrantData(`ran ref qdrant/qdrant:v1.14.1\nran label\nran tags\nimage ${IMAGE}\nlisted\n`, CONTAINER);
    expect(byRef.kind === "read" ? byRef.ran : null).toEqual({
      version: { major: 1, minor: 14, patch: 1 },
      from: `the image of the container ${CONTAINER}, qdrant/qdrant:v1.14.1`,
    });
    const byTags = parseQdrantData(
      `ran ref sha256:4f1c\nran label <no value>\nran tags qdrant/qdrant:latest qdrant/qdrant:v1.14 qdrant/qdrant:v1.14.1\nimage ${IMAGE}\nlisted\n`,
      CONTAINER,
    );
    expect(byTags.kind === "read" ? byTags.ran : null).toEqual({
      version: { major: 1, minor: 14, patch: 1 },
      from: `the image of the container ${CONTAINER}, tagged qdrant/qdrant:v1.14.1`,
    });
  });

  it("warns when reading the volume failed, quoting the daemon", async () => {
    const r = await check(IMAGE, `image ${IMAGE}\ndocker: Error response from daemon: permission denied.\n`);
    expect(r?.found).toBe(
      `could not read the Qdrant storage in the volume ${VOLUME} (reading it failed: docker: Error response from ` +
        "daemon: permission denied.), so a release jump is not checked",
    );
  });

  it("reads the volume without creating, pulling or writing anything", () => {
    const script = qdrantDataScript(needsWith(IMAGE).qdrant!, ["--host", "ssh://ops@gpu-box"]);
    // The volume is inspected before anything mounts it (a mount of a missing volume would create it).
    expect(script.indexOf("volume inspect")).toBeLessThan(script.indexOf(" run --rm"));
    expect(script).toContain(`--mount type=volume,src=${VOLUME},dst=/llmstack-volume,readonly,volume-nocopy`);
    expect(script).toContain(`'docker' '--host' 'ssh://ops@gpu-box' container inspect --format '{{.Image}}' '${CONTAINER}'`);
    expect(script).toContain(`image inspect --format '{{index .Config.Labels "org.opencontainers.image.version"}}' "$id"`);
    expect(script).not.toMatch(/\bpull\b|volume create|volume rm|\bstart\b|\bstop\b/);
  });
});

describe("qdrant.data on a new major version", () => {
  it("warns: the documented rule speaks of minor releases only", () => {
    // A constructed 2.0.0: no such release exists.
    const need = { volume: VOLUME, image: "qdrant/qdrant:v2.0.0", containerName: CONTAINER };
    expect(checkQdrantData(need, parseQdrantData(served("v1.17.1"), CONTAINER))).toEqual({
      check: "qdrant.data",
      status: "warn",
      found:
        `the volume ${VOLUME} holds 1 Qdrant collection (docs), last served by Qdrant 1.17.1 (${LABEL}), but ` +
        "qdrant/qdrant:v2.0.0 is Qdrant 2.0.0, a new major version, which Qdrant's minor-by-minor upgrade rule does not cover",
      fix: "read the Qdrant 2.0.0 release notes before the update, and keep collection snapshots taken with 1.17.1 (docs/operations.md#upgrading-qdrant)",
    });
  });
});

describe("Qdrant's upgrade rule (src/facts/qdrant.ts)", () => {
  it("reads releases from tags and labels, and nothing from moving tags", () => {
    const digest = `sha256:${"a".repeat(64)}`;
    expect(
      ["v1.15.5", "1.15.5", "v1.15", "v1.15.5-unprivileged", "v1.15.5-gpu-nvidia", "latest", "v1", "dev", ""].map(parseQdrantVersion),
    ).toEqual([
      { major: 1, minor: 15, patch: 5 },
      { major: 1, minor: 15, patch: 5 },
      { major: 1, minor: 15, patch: null },
      { major: 1, minor: 15, patch: 5 },
      { major: 1, minor: 15, patch: 5 },
      null,
      null,
      null,
      null,
    ]);
    expect([`qdrant/qdrant:v1.15.5@${digest}`, `qdrant/qdrant@${digest}`].map(qdrantImageVersion)).toEqual([
      { major: 1, minor: 15, patch: 5 },
      null,
    ]);
  });

  it.each([
    ["v1.15.5", "v1.15.5", { kind: "same" }],
    ["v1.15", "v1.15.5", { kind: "same" }],
    ["v1.15.4", "v1.15.5", { kind: "upgrade" }],
    ["v1.15.5", "v1.16.0", { kind: "upgrade" }],
    ["v1.15.5", "v1.17.1", { kind: "skips", between: ["1.16"] }],
    ["v1.15.5", "v1.15.4", { kind: "older-patch" }],
    ["v1.16.0", "v1.15.5", { kind: "downgrade" }],
    // Constructed versions: no 2.x release exists; the rule speaks of minors only.
    ["v1.17.1", "v2.0.0", { kind: "major" }],
    ["v2.0.0", "v1.17.1", { kind: "downgrade" }],
  ])("%s to %s is %o", (from, to, move) => {
    expect(qdrantMove(parseQdrantVersion(from)!, parseQdrantVersion(to)!)).toEqual(move);
  });
});
