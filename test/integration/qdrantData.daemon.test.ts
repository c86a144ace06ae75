/**
 * `qdrant.data` on a real Docker daemon (.ci/start-dockerd.sh): the script `validate` and the gate run reads
 * the release label of the image that served a real volume (through its container, created from the image ID
 * as the Docker provider creates it) and the collections a stand-in wrote into it, refuses a jump over a minor
 * release, and creates no volume that is not there. The images are busybox imported under Qdrant-like tags with
 * Qdrant's release label (nothing can be pulled here): the check needs only `sh` and `head` in them, which
 * Qdrant's Debian image has too.
 */
import { execFileSync } from "node:child_process";
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, symlinkSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { realExec } from "../../src/cli/io";
import { QDRANT_VERSION_LABEL } from "../../src/facts/qdrant";
import { checkQdrantData, parseQdrantData, qdrantDataScript, type QdrantDataNeed } from "../../src/preflight/qdrantData";
import { requireDaemon } from "./daemon";

const REPO = "llmstack-test-qdrant";
const VOLUME = `llmstack-test-qdrant-storage-${process.pid}`;
const MISSING = `llmstack-test-qdrant-storage-missing-${process.pid}`;
const SERVED_BY = `llmstack-test-qdrant-${process.pid}`;
const GONE = `${SERVED_BY}-gone`;

let host = "";

function docker(...args: string[]): string {
  return execFileSync("docker", ["--host", host, ...args], { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });
}

function need(volume: string, release: string, containerName = SERVED_BY): QdrantDataNeed {
  return { volume, image: `${REPO}:${release}`, containerName };
}

async function check(n: QdrantDataNeed) {
  const res = await realExec("sh", ["-s"], { input: qdrantDataScript(n, ["--host", host]), timeoutMs: 120_000 });
  return checkQdrantData(n, parseQdrantData(res.stdout, n.containerName));
}

beforeAll(() => {
  host = requireDaemon();
  const rootfs = mkdtempSync(join(tmpdir(), "llmstack-rootfs-"));
  mkdirSync(join(rootfs, "bin"));
  copyFileSync("/bin/busybox", join(rootfs, "bin", "busybox"));
  for (const applet of ["sh", "head", "mkdir"]) symlinkSync("busybox", join(rootfs, "bin", applet));
  // Each release labelled as Qdrant's release build labels it; `latest` without a label.
  for (const release of ["v1.13.2", "v1.14.1", "v1.15.5", "latest"]) {
    const label = release === "latest" ? "" : `--change 'LABEL ${QDRANT_VERSION_LABEL}=${release}'`;
    execFileSync("sh", ["-c", `tar -C ${rootfs} -c . | docker --host ${host} import ${label} - ${REPO}:${release}`]);
  }
  rmSync(rootfs, { recursive: true, force: true });
  docker("volume", "create", VOLUME);
  // A stand-in writes a collection as Qdrant lays one out: collections/<name>/config.json and version.info.
  docker(
    "run", "--rm", "-v", `${VOLUME}:/qdrant/storage`, `${REPO}:v1.13.2`, "sh", "-c",
    "mkdir -p /qdrant/storage/collections/docs && echo '{}' > /qdrant/storage/collections/docs/config.json && " +
      "printf 0.4.2 > /qdrant/storage/collections/docs/version.info",
  );
  // The container that served it, created (not started) from the image ID, as the Docker provider creates it.
  const id = docker("image", "inspect", "--format", "{{.Id}}", `${REPO}:v1.13.2`).trim();
  docker("create", "--name", SERVED_BY, "-v", `${VOLUME}:/qdrant/storage`, id, "sh");
});

afterAll(() => {
  if (host === "") return;
  docker("rm", "-f", SERVED_BY);
  docker("volume", "rm", "-f", VOLUME);
});

const LABELLED = `the label ${QDRANT_VERSION_LABEL} of the image of the container ${SERVED_BY}`;

describe("qdrant.data on a real daemon", () => {
  it("refuses 1.15.5 on a volume last served by 1.13.2, naming the release to step through", async () => {
    const r = await check(need(VOLUME, "v1.15.5"));
    expect(r.status).toBe("fail");
    expect(r.found).toBe(
      `the volume ${VOLUME} holds 1 Qdrant collection (docs), last served by Qdrant 1.13.2 (${LABELLED}), but ` +
        `llmstack:images.qdrant is ${REPO}:v1.15.5 (Qdrant 1.15.5): Qdrant migrates its storage one minor release ` +
        "at a time, so 1.13.2 to 1.15.5 skips 1.14",
    );
  });

  it("passes the next minor release, and leaves no container behind", async () => {
    const before = docker("ps", "-aq").trim();
    const r = await check(need(VOLUME, "v1.14.1"));
    expect(r.found).toBe(
      `the volume ${VOLUME} holds 1 Qdrant collection (docs), last served by Qdrant 1.13.2 (${LABELLED}); ` +
        `${REPO}:v1.14.1 is Qdrant 1.14.1, which migrates it in place`,
    );
    expect(r.status).toBe("pass");
    expect(docker("ps", "-aq").trim()).toBe(before);
  });

  it("warns when the container that served the volume is gone", async () => {
    const r = await check(need(VOLUME, "v1.15.5", GONE));
    expect(r.status).toBe("warn");
    expect(r.found).toBe(
      `the volume ${VOLUME} holds 1 Qdrant collection (docs), but the stack's Qdrant container ${GONE} is gone, or its ` +
        "image names no release, and Qdrant's storage does not record the release that wrote it, so the move to 1.15.5 is not checked",
    );
  });

  it("warns on an unlabelled image whose tag names no release", async () => {
    const r = await check(need(VOLUME, "latest"));
    expect(r.status).toBe("warn");
    expect(r.found).toBe(
      `the volume ${VOLUME} holds 1 Qdrant collection (docs), but llmstack:images.qdrant is ${REPO}:latest, whose tag ` +
        `names no Qdrant release (nor does a ${QDRANT_VERSION_LABEL} label of it on the host), so a release jump is not checked`,
    );
  });

  it("passes a volume that does not exist, and does not create it", async () => {
    const r = await check(need(MISSING, "v1.15.5"));
    expect(r.found).toBe(`the volume ${MISSING} does not exist yet: ${REPO}:v1.15.5 creates a new Qdrant storage in it`);
    expect(docker("volume", "ls", "-q", "--filter", `name=${MISSING}`).trim()).toBe("");
  });
});
