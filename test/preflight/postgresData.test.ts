/**
 * `postgres.data`: the Postgres version on the retained data volume against the planned image, through
 * `llmstack validate`'s gathering with a fake exec (the script's output is what the real one prints), and the
 * plan's mount path and its refusal of a tag without a major version.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { PG_INCOMPATIBLE_FATAL, postgresDataLayout, postgresMajor, POSTGRES_UPGRADE_DOC } from "../../src/facts/postgres";
import { parsePostgresData, postgresDataScript } from "../../src/preflight/postgresData";
import { ROOT } from "../helpers/root";
import { container, planFromValues, rawValues } from "../helpers/stacks";
import { cpuNeedsWith, dataCheckResults } from "./dataHost";

const VOLUME = "llm-multimodal-stack-development-postgres-data";
const CONTAINER = "llm-multimodal-stack-development-postgres";

const needsWith = (postgres: string) => cpuNeedsWith({ postgres });

/** A daemon that answers, and a host whose volume scripts print `volume`. */
async function check(postgres: string, volume: string) {
  const results = await dataCheckResults(needsWith(postgres), () => volume);
  return results.find((r) => r.check === "postgres.data");
}

const IMAGE_16 = "postgres:16.10";

describe("postgres.data", () => {
  it("passes a volume whose PG_VERSION is the planned major", async () => {
    expect(await check(IMAGE_16, `image ${IMAGE_16}\nfound PG_VERSION 16\nlisted\n`)).toEqual({
      check: "postgres.data",
      status: "pass",
      found: `the volume ${VOLUME} holds a Postgres 16 data directory, the major version of postgres:16.10`,
      fix: null,
    });
  });

  it("refuses a volume written by an older major, naming both versions and the upgrade path", async () => {
    expect(await check(IMAGE_16, `image sha256:abcd\nfound PG_VERSION 15\nlisted\n`)).toEqual({
      check: "postgres.data",
      status: "fail",
      found:
        `the volume ${VOLUME} holds a Postgres 15 data directory (PG_VERSION), but llmstack:images.postgres is ` +
        `postgres:16.10 (Postgres 16): the new server would stop with "FATAL: ${PG_INCOMPATIBLE_FATAL}"`,
      fix:
        "keep llmstack:images.postgres at Postgres 15 for now, and move the data to 16 by dump and restore: " +
        `pg_dump -Fc from the running 15 server (docker exec ${CONTAINER} pg_dump -Fc ...), then restore into a ` +
        "new 16 data volume; the steps are in docs/operations.md#upgrading-postgres",
    });
  });

  it("refuses an 18 image on a volume of the pre-18 layout: 18 would start an empty database beside the old one", async () => {
    const r = await check("postgres:18.1", `image postgres:18.1\nfound PG_VERSION 16\nlisted\n`);
    expect(r?.status).toBe("fail");
    expect(r?.found).toBe(
      `the volume ${VOLUME} holds a Postgres 16 data directory (PG_VERSION), but llmstack:images.postgres is ` +
        "postgres:18.1 (Postgres 18): Postgres 18 looks for its data at 18/docker/PG_VERSION in the volume " +
        "(mounted at /var/lib/postgresql) and would start a new, empty database beside the old one",
    );
  });

  it("passes an 18 volume of the 18 layout", async () => {
    const r = await check("postgres:18.1", `image postgres:18.1\nfound 18/docker/PG_VERSION 18\nlisted\n`);
    expect(r?.status).toBe("pass");
  });

  it("passes when the volume does not exist yet", async () => {
    expect(await check(IMAGE_16, "volume absent\n")).toEqual({
      check: "postgres.data",
      status: "pass",
      found: `the volume ${VOLUME} does not exist yet: postgres:16.10 creates a new Postgres 16 data directory in it`,
      fix: null,
    });
  });

  it("passes an existing volume without a data directory", async () => {
    const r = await check(IMAGE_16, `image ${IMAGE_16}\nlisted\n`);
    expect(r?.found).toBe(`the volume ${VOLUME} holds no Postgres data directory yet: postgres:16.10 creates a Postgres 16 one`);
    expect(r?.status).toBe("pass");
  });

  it("warns when no image to read the volume with is on the host", async () => {
    expect(await check(IMAGE_16, "no image\n")).toEqual({
      check: "postgres.data",
      status: "warn",
      found:
        `could not read the Postgres version in the volume ${VOLUME} (no image to read it with is on the host), ` +
        "so a major-version change is not checked",
      fix:
        `pull postgres:16.10 on the host and run validate again, or compare by hand: docker run --rm -v ` +
        `${VOLUME}:/data postgres:16.10 cat /data/PG_VERSION must print 16`,
    });
  });

  it("warns when reading the volume failed, quoting the daemon", async () => {
    const r = await check(IMAGE_16, "image postgres:16.10\ndocker: Error response from daemon: permission denied.\n");
    expect(r?.status).toBe("warn");
    expect(r?.found).toBe(
      `could not read the Postgres version in the volume ${VOLUME} (reading it failed: docker: Error response ` +
        "from daemon: permission denied.), so a major-version change is not checked",
    );
    expect(parsePostgresData("volume error Cannot connect to the Docker daemon\n")).toEqual({
      kind: "unreadable",
      why: "docker volume inspect failed: Cannot connect to the Docker daemon",
    });
  });

  it("reads the volume without creating, pulling or writing anything", () => {
    const needs = needsWith(IMAGE_16);
    const script = postgresDataScript(needs.postgres!, ["--host", "ssh://ops@gpu-box"]);
    // The volume is inspected before anything mounts it (a mount of a missing volume would create it).
    expect(script.indexOf("volume inspect")).toBeLessThan(script.indexOf(" run --rm"));
    expect(script).toContain(`--mount type=volume,src=${VOLUME},dst=/llmstack-volume,readonly,volume-nocopy`);
    expect(script).toContain("'docker' '--host' 'ssh://ops@gpu-box' image inspect");
    expect(script).not.toMatch(/\bpull\b|volume create|volume rm/);
  });
});

describe("the Postgres data volume's mount (src/facts/postgres.ts)", () => {
  it("reads the major version from the tag, also when a digest follows it", () => {
    const digest = `sha256:${"a".repeat(64)}`;
    expect(["postgres:16.10", `postgres:16.10@${digest}`, "postgres:18-alpine", "postgres:9.6", "postgres:latest", `postgres@${digest}`].map(postgresMajor)).toEqual([
      16, 16, 18, 9, null, null,
    ]);
  });

  it("mounts the volume where the planned major keeps its data", () => {
    const mount = (postgres: string) => {
      const values = rawValues("development");
      values.images = { ...(values.images as object), postgres };
      return container(planFromValues(values, "development"), "postgres").volumes;
    };
    expect(mount("postgres:16.10")).toEqual([{ volume: "postgres-data", containerPath: "/var/lib/postgresql/data" }]);
    expect(mount("postgres:18.1")).toEqual([{ volume: "postgres-data", containerPath: "/var/lib/postgresql" }]);
    expect(postgresDataLayout(18).pgdata).toBe("/var/lib/postgresql/18/docker");
  });

  it("refuses a Postgres tag that names no major version, with the key, the value and the fix", () => {
    const values = rawValues("development");
    values.images = { ...(values.images as object), postgres: "postgres:latest" };
    expect(() => planFromValues(values, "development")).toThrow(
      'Pulumi.development.yaml: llmstack:images.postgres is "postgres:latest", whose tag names no Postgres major ' +
        "version, so neither the data volume's mount path (the official image moved it in 18) nor a major-version " +
        "change on the retained volume can be worked out. Allowed: a tag that starts with the major version, such " +
        "as postgres:16.10 or postgres:16.10@sha256:<digest>. Fix: set llmstack:images.postgres to the version the " +
        "volume was created with (`llmstack images pin` then adds the digest and keeps the tag).",
    );
  });
});

describe("the upgrade path the check names", () => {
  it("is a section of docs/operations.md, and docs/preflight.md lists the check", () => {
    const [file, anchor] = POSTGRES_UPGRADE_DOC.split("#");
    const headings = readFileSync(join(ROOT, file!), "utf8")
      .split("\n")
      .filter((l) => l.startsWith("## "))
      .map((l) => l.slice(3).toLowerCase().replace(/ /g, "-"));
    expect(headings).toContain(anchor);
    expect(readFileSync(join(ROOT, "docs/preflight.md"), "utf8")).toContain("| `postgres.data` | every stack with Postgres");
  });
});
