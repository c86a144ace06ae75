/**
 * The cpu-mode development stack on a real Docker daemon: exactly the containers, network and volumes the
 * program registers (read under Pulumi mocks), applied as @pulumi/docker's provider applies them by the
 * test applier (test/integration/applier), on stand-in images that reproduce the upstream images'
 * recorded facts (test/integration/images). Each upstream image's own program is replaced; each image's
 * users, entrypoint and programs are not, so a health check, an upload's owner and mode, an alias, a
 * volume or a port the plan gets wrong fails here as it would on a host.
 */
import type Dockerode from "dockerode";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { realExec } from "../../src/cli/io";
import { imageFactsFor } from "../../src/facts/images";
import type { StackPlan } from "../../src/plan/types";
import { gatherStatus } from "../../src/status/gather";
import { exitCodeOf, problemsOf } from "../../src/status/report";
import { TEST_SECRETS } from "../helpers/pulumiMocks";
import { planFromValues, rawValues } from "../helpers/stacks";
import { Applier, type UpResult } from "./applier/apply";
import { registeredStack, type StackInputs } from "./applier/inputs";
import { freePort, requireDaemon, testDocker } from "./daemon";
import { buildStandins } from "./images/build";
import {
  containerOf,
  envOf,
  http,
  postgresSql,
  qdrant,
  redisCli,
  s3,
  s3Identity,
} from "./stackData";

/**
 * The development stack in cpu mode, on the test daemon, with the gateway on a free port. It runs no
 * multimodal worker or retrieval proxy, as every stack whose images do not name them: those are the
 * user's own images, with no upstream image for a stand-in to reproduce.
 */
async function cpuStack(
  host: string,
): Promise<{ stack: StackInputs; plan: StackPlan; port: number }> {
  const port = await freePort();
  const base = rawValues("development");
  const edits: Record<string, unknown> = {
    dockerHost: host,
    gpu: { mode: "cpu" },
    gateway: { bindAddress: "127.0.0.1", port },
  };
  const overrides = Object.fromEntries(Object.entries(edits).map(([k, v]) => [`llmstack:${k}`, v]));
  const stack = await registeredStack("development", overrides, TEST_SECRETS);
  return { stack, plan: planFromValues({ ...base, ...edits }, "development"), port };
}

/** Leftovers of an earlier run of this test (its containers, network and volumes), removed before and after. */
async function purge(docker: Dockerode, stack: StackInputs): Promise<void> {
  for (const c of stack.containers)
    await docker
      .getContainer(c.name)
      .remove({ force: true })
      .catch(() => undefined);
  await docker
    .getNetwork(stack.network.name)
    .remove()
    .catch(() => undefined);
  for (const v of stack.volumes)
    await docker
      .getVolume(v.name)
      .remove()
      .catch(() => undefined);
}

function failureReport(r: UpResult): string {
  return (
    [...r.failures].map(([name, why]) => `${name}: ${why}`).join("\n\n") +
    (r.skipped.length ? `\nnot created: ${r.skipped.join(", ")}` : "")
  );
}

/** Each container's create starts only after every container it depends on is healthy (or has run). */
function orderViolations(stack: StackInputs, r: UpResult): string[] {
  const seq = (name: string, kinds: string[]) =>
    r.events.find((e) => e.container === name && kinds.includes(e.kind))?.seq;
  return stack.containers.flatMap((c) =>
    c.dependsOn.flatMap((d) => {
      const ready = seq(d, ["healthy", "exited"]);
      const created = seq(c.name, ["created"]);
      return ready !== undefined && created !== undefined && ready < created
        ? []
        : [`${c.name} was created before ${d} was ready`];
    }),
  );
}

const TOKEN = `persisted-${process.pid}`;

describe("the cpu-mode stack on a real Docker daemon", () => {
  let docker: Dockerode;
  let applier: Applier;
  let stack: StackInputs;
  let plan: StackPlan;
  let port: number;
  let first: UpResult;

  beforeAll(async () => {
    const host = requireDaemon();
    docker = testDocker(host);
    await buildStandins(docker);
    ({ stack, plan, port } = await cpuStack(host));
    // The stand-ins are healthy within seconds; three minutes is ample and keeps a failing run short.
    applier = new Applier(docker, 180);
    await purge(docker, stack);
    first = await applier.up(stack);
  });

  afterAll(async () => {
    if (stack && docker) await purge(docker, stack);
  });

  it("registers the containers of a cpu-mode stack, each waiting for what the plan says it depends on", () => {
    expect(
      stack.containers.map((c) => c.name.replace(`${stack.network.name}-`, "")).sort(),
    ).toEqual([
      "litellm",
      "model-download",
      "object-store",
      "postgres",
      "qdrant",
      "redis",
      "smoke-test",
      "vllm",
    ]);
    const nameOf = (service: string) => plan.containers.find((c) => c.service === service)!.name;
    const planned = Object.fromEntries(
      plan.containers.map((c) => [c.name, c.dependsOn.map(nameOf).sort()]),
    );
    expect(
      Object.fromEntries(stack.containers.map((c) => [c.name, [...c.dependsOn].sort()])),
    ).toEqual(planned);
    expect(planned[nameOf("litellm")]).toEqual([nameOf("postgres"), nameOf("vllm")]);
  });

  it("turns every container healthy (one-shots exit 0), each created only after what it depends on", () => {
    expect(failureReport(first)).toBe("");
    const healthy = first.events
      .filter((e) => e.kind === "healthy")
      .map((e) => e.container)
      .sort();
    const oneShots = stack.containers.filter((c) => c.inputs.attach === true).map((c) => c.name);
    expect(healthy).toEqual(
      stack.containers
        .filter((c) => !oneShots.includes(c.name))
        .map((c) => c.name)
        .sort(),
    );
    expect(
      first.events.filter((e) => e.kind === "exited").map((e) => [e.container, e.exitCode]),
    ).toEqual(expect.arrayContaining(oneShots.map((n) => [n, 0])));
    expect(orderViolations(stack, first)).toEqual([]);
  });

  it("runs each service as the user its image's record says its entrypoint drops to", async () => {
    const users: Record<string, string> = {};
    const expected: Record<string, string> = {};
    for (const c of stack.containers.filter((x) => x.inputs.attach !== true)) {
      const top = (await docker.getContainer(c.name).top({ ps_args: "-o pid,uid,gid" })) as {
        Processes: string[][];
      };
      users[c.name] = [...new Set(top.Processes.map((p) => `${p[1]}:${p[2]}`))].join(",");
      const { user } = imageFactsFor(c.inputs.image as string);
      expected[c.name] = `${user.uid}:${user.gid}`;
    }
    expect(users).toEqual(expected);
    expect(users[containerOf(stack, "redis").name]).toBe("999:999");
  });

  it("passes the smoke request through the gateway", async () => {
    const smoke = containerOf(stack, "smoke-test");
    expect(first.logs.get(smoke.name)?.trim()).toBe(
      "smoke test passed: qwen2.5-1.5b-instruct answered 'OK'",
    );
    const key = envOf(smoke, "LITELLM_MASTER_KEY");
    const body = JSON.stringify({
      model: "qwen2.5-1.5b-instruct",
      messages: [{ role: "user", content: "Reply with OK." }],
    });
    const url = `http://127.0.0.1:${port}/v1/chat/completions`;
    const ok = await http(
      url,
      "POST",
      { "content-type": "application/json", authorization: `Bearer ${key}` },
      body,
    );
    expect([
      ok.status,
      (JSON.parse(ok.body) as { choices: { message: { content: string } }[] }).choices[0]!.message
        .content,
    ]).toEqual([200, "OK"]);
    const wrong = await http(
      url,
      "POST",
      { "content-type": "application/json", authorization: "Bearer sk-wrong" },
      body,
    );
    expect(wrong.status).toBe(401);
  });

  it("publishes no port but the gateway's", async () => {
    const published: Record<string, unknown> = {};
    for (const c of stack.containers) {
      const info = await docker.getContainer(c.name).inspect();
      const bindings = Object.entries(info.HostConfig.PortBindings ?? {}).filter(
        ([, b]) => (b as unknown[] | null)?.length,
      );
      if (bindings.length > 0) published[c.name] = Object.fromEntries(bindings);
    }
    expect(published).toEqual({
      [containerOf(stack, "litellm").name]: {
        "4000/tcp": [{ HostIp: "127.0.0.1", HostPort: String(port) }],
      },
    });
  });

  it("keeps the data volumes through a destroy, and a second up finds the data written before", async () => {
    const identity = s3Identity(stack);
    expect(
      (
        await postgresSql(
          docker,
          stack,
          `CREATE TABLE proof (k text PRIMARY KEY, v text); INSERT INTO proof VALUES ('k', '${TOKEN}')`,
        )
      ).code,
    ).toBe(0);
    const wrongPassword = await postgresSql(docker, stack, "SELECT 1", (url) =>
      url.replace(/:[^:@/]+@/, ":not-the-password@"),
    );
    expect(wrongPassword.out).toContain('password authentication failed for user "litellm"');
    expect((await redisCli(docker, stack, "SET", "proof", TOKEN)).out.trim()).toBe("OK");
    expect((await s3(docker, stack, "PUT", "/proof", identity)).status).toBe(200);
    expect((await s3(docker, stack, "PUT", "/proof/object.txt", identity, TOKEN)).status).toBe(200);
    const wrongSecret = await s3(docker, stack, "GET", "/proof/object.txt", {
      ...identity,
      secretKey: "not-the-secret",
    });
    expect([wrongSecret.status, /<Code>(\w+)<\/Code>/.exec(wrongSecret.body)?.[1]]).toEqual([
      403,
      "SignatureDoesNotMatch",
    ]);
    expect(
      (
        await qdrant(docker, stack, "PUT", "/collections/proof", {
          vectors: { size: 2, distance: "Cosine" },
        })
      ).status,
    ).toBe(200);
    expect(
      (
        await qdrant(docker, stack, "PUT", "/collections/proof/points?wait=true", {
          points: [{ id: 1, vector: [0.1, 0.2], payload: { v: TOKEN } }],
        })
      ).status,
    ).toBe(200);

    const destroyed = await applier.destroy(stack);
    expect(destroyed).toEqual({
      removedVolumes: [],
      keptVolumes: stack.volumes.map((v) => v.name),
    });
    const left = await docker.listContainers({
      all: true,
      filters: { name: [stack.network.name] },
    });
    expect(left.map((c) => c.Names)).toEqual([]);
    const volumes = (await docker.listVolumes()).Volumes.map((v) => v.Name);
    expect(stack.volumes.filter((v) => !volumes.includes(v.name))).toEqual([]);

    const second = await applier.up(stack);
    expect(failureReport(second)).toBe("");
    expect((await postgresSql(docker, stack, "SELECT v FROM proof WHERE k = 'k'")).out.trim()).toBe(
      TOKEN,
    );
    expect((await redisCli(docker, stack, "GET", "proof")).out.trim()).toBe(TOKEN);
    expect(await s3(docker, stack, "GET", "/proof/object.txt", identity)).toEqual({
      status: 200,
      body: TOKEN,
    });
    const point = await qdrant(docker, stack, "GET", "/collections/proof/points/1");
    expect(
      (JSON.parse(point.body) as { result: { payload: { v: string } } }).result.payload.v,
    ).toBe(TOKEN);
  });

  it("status reads the stack as healthy and planned, then a killed container as down (exit 1)", async () => {
    const host = requireDaemon();
    const deps = { exec: realExec, now: Date.now, fetch: (url: string, init: RequestInit) => fetch(url, init), apiKey: TEST_SECRETS.litellmMasterKey };
    const before = await gatherStatus(plan, deps);
    expect(problemsOf(before)).toEqual([]);
    expect(before.containers.map((c) => c.image?.matches)).toEqual(plan.containers.map(() => true));
    expect(before.gpu).toEqual({ kind: "skipped", why: "no container of this stack uses a GPU (cpu mode)" });
    expect(before.gateway.kind === "ok" ? before.gateway.models : before.gateway).toEqual(["qwen2.5-1.5b-instruct"]);

    const redis = containerOf(stack, "redis").name;
    // SIGKILL: exit code 128 + 9, and Docker does not restart a container killed through its API.
    await docker.getContainer(redis).kill();
    const after = await gatherStatus(plan, deps);
    expect(problemsOf(after)).toEqual([
      { kind: "down", line: `${redis} exited with code 137; run "docker --host ${host} logs ${redis}"` },
    ]);
    expect(exitCodeOf(problemsOf(after))).toBe(1);
  });
});
