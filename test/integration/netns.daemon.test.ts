/**
 * The multi-host harness (test/integration/fleet/netns.ts) on its own: two Docker daemons, each in its own
 * network namespace with its own address, answer over tcp:// only with the test CA's client certificate;
 * a port one host publishes on its address is reached from a container on the other host; stop() leaves
 * no namespace, link or directory behind.
 */
import { existsSync } from "node:fs";
import { spawnSync } from "node:child_process";
import Dockerode from "dockerode";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { requireDaemon, testDocker } from "./daemon";
import { startNetnsFleet, type NetnsFleet } from "./fleet/netns";
import { buildStandins } from "./images/build";
import { projectImages } from "./images/facts";
import { execIn } from "./stackData";

const REDIS = projectImages().redis!;

describe("two Docker daemons in their own network namespaces", () => {
  let fleet: NetnsFleet | undefined;

  beforeAll(async () => {
    const main = testDocker(requireDaemon());
    await buildStandins(main);
    fleet = await startNetnsFleet({ tag: "nst", subnet: 2, hosts: ["one", "two"], images: { from: main, references: [REDIS] } });
  });

  afterAll(async () => {
    await fleet?.stop();
  });

  it("answers on each host's own address over TLS, and refuses a client without the test certificate", async () => {
    const f = fleet!;
    expect(f.hosts.map((h) => [h.name, h.address, h.endpoint])).toEqual([
      ["one", "10.213.2.11", "tcp://10.213.2.11:2376"],
      ["two", "10.213.2.12", "tcp://10.213.2.12:2376"],
    ]);
    for (const h of f.hosts) {
      const url = new URL(h.endpoint.replace(/^tcp:/, "https:"));
      const withCert = new Dockerode({ host: url.hostname, port: Number(url.port), protocol: "https", ...f.tls });
      // Each endpoint is its own daemon: the data root of that host's directory (the engine ID is not
      // per daemon: dockerd 20.10 keeps it in /etc/docker/key.json).
      expect((await withCert.info()).DockerRootDir).toBe(`/tmp/llmstack-fleet-nst/${h.name}/data`);
      const noCert = new Dockerode({ host: url.hostname, port: Number(url.port), protocol: "https", ca: f.tls.ca });
      await expect(noCert.ping()).rejects.toThrow();
    }
  });

  it("lets a container on one host reach a port the other host publishes on its address", async () => {
    const [one, two] = fleet!.hosts;
    for (const h of [one!, two!]) await h.docker.createNetwork({ Name: "nst-net", Driver: "bridge" });
    const server = await two!.docker.createContainer({
      name: "nst-redis",
      Image: REDIS,
      Cmd: ["redis-server", "--protected-mode", "no"],
      ExposedPorts: { "6379/tcp": {} },
      HostConfig: { NetworkMode: "nst-net", PortBindings: { "6379/tcp": [{ HostIp: two!.address, HostPort: "6379" }] } },
    });
    await server.start();
    const client = await one!.docker.createContainer({
      name: "nst-client",
      Image: REDIS,
      Entrypoint: ["sleep", "600"],
      HostConfig: { NetworkMode: "nst-net" },
    });
    await client.start();
    let answer = { code: -1, out: "" };
    for (let i = 0; i < 20 && answer.out.trim() !== "PONG"; i++) {
      answer = await execIn(one!.docker, "nst-client", ["redis-cli", "-h", two!.address, "ping"]);
      if (answer.out.trim() !== "PONG") await new Promise((r) => setTimeout(r, 500));
    }
    expect(answer).toEqual({ code: 0, out: "PONG\n" });
    // The published port is on two's address only: one's address has nothing there.
    const wrong = await execIn(one!.docker, "nst-client", ["redis-cli", "-h", one!.address, "ping"]);
    expect(wrong.out).toContain("Connection refused");
  });

  it("stop() removes the daemons, namespaces, links and files", async () => {
    await fleet!.stop();
    const netns = spawnSync("ip", ["netns", "list"], { encoding: "utf8" }).stdout;
    const links = spawnSync("ip", ["-o", "link", "show"], { encoding: "utf8" }).stdout;
    expect([
      netns.split("\n").filter((l) => l.startsWith("nst-")),
      links.split("\n").filter((l) => /^\d+: nst(\d+h|br)[:@]/.test(l)),
      existsSync("/tmp/llmstack-fleet-nst"),
    ]).toEqual([[], [], false]);
    fleet = undefined;
  });
});
