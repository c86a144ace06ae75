import { describe, expect, it } from "vitest";
import type { ExecFn } from "../../src/exec";
import type { StackPlan } from "../../src/plan/types";
import { APPS_FIELDS } from "../../src/preflight/probe";
import { gatherStatus, type StatusDeps } from "../../src/status/gather";
import { durationText, exitCodeOf, problemsOf, statusJson, statusText } from "../../src/status/report";
import type { ExecCall } from "../helpers/fakeIo";
import { planFromValues, planOf, rawValues } from "../helpers/stacks";
import { answer, fakeGateway, healthyHost, probeText, steppingClock, type FakeHost } from "./fakeHost";

const DEV = "llm-multimodal-stack-development";
const SOCKET = "unix:///var/run/docker.sock";

function deps(host: FakeHost, calls: ExecCall[] = [], extra: Partial<StatusDeps> = {}): StatusDeps {
  const exec: ExecFn = async (file, args, opts) => {
    const call = { file, args, opts };
    calls.push(call);
    return answer(host, call);
  };
  return { exec, now: steppingClock(), ...extra };
}

async function statusOf(plan: StackPlan, edit: (h: FakeHost) => void = () => undefined, calls: ExecCall[] = []) {
  const host = healthyHost(plan);
  host.probe = probeText([], []);
  edit(host);
  return gatherStatus(plan, deps(host, calls));
}

const running = (h: FakeHost, name: string) => {
  const c = h.containers.get(name);
  if (c === undefined || c === "missing") throw new Error(`${name} is not on the fake host`);
  return c;
};

describe("the status of a stack against its plan", () => {
  it("is exit 0 when every container runs healthy on the plan's image", async () => {
    const s = await statusOf(planOf("development"));
    expect(problemsOf(s)).toEqual([]);
    expect(exitCodeOf(problemsOf(s))).toBe(0);
    expect(statusText(s)).toBe(
      [
        "CONTAINER                                        STATE       HEALTH   RESTARTS  UPTIME  IMAGE",
        `${DEV}-model-download  exited (0)  -        0         -       as planned`,
        `${DEV}-vllm            running     healthy  0         2h 0m   as planned`,
        `${DEV}-postgres        running     healthy  0         2h 0m   as planned`,
        `${DEV}-redis           running     healthy  0         2h 0m   as planned`,
        `${DEV}-qdrant          running     healthy  0         2h 0m   as planned`,
        `${DEV}-object-store    running     healthy  0         2h 0m   as planned`,
        `${DEV}-litellm         running     healthy  0         2h 0m   as planned`,
        `${DEV}-smoke-test      exited (0)  -        0         -       as planned`,
        "",
        "GPU processes: none",
        "",
        'gateway: LITELLM_MASTER_KEY is not set, so the gateway was not asked; run "export LITELLM_MASTER_KEY=$(pulumi config get --stack development llmstack:litellmMasterKey)"',
        "",
        "development: every container is healthy and runs the plan's image",
        "",
      ].join("\n"),
    );
  });

  it("reports a stopped container with the command that shows why, exit 1", async () => {
    const s = await statusOf(planOf("development"), (h) => h.containers.set(`${DEV}-redis`, { ...running(h, `${DEV}-redis`), state: "exited", exitCode: 137, health: "unhealthy" }));
    expect(problemsOf(s)).toEqual([{ kind: "down", line: `${DEV}-redis exited with code 137; run "docker --host ${SOCKET} logs ${DEV}-redis"` }]);
    expect(exitCodeOf(problemsOf(s))).toBe(1);
  });

  it("reports an unhealthy container with its last health check output, exit 1", async () => {
    const s = await statusOf(planOf("development"), (h) =>
      h.containers.set(`${DEV}-qdrant`, { ...running(h, `${DEV}-qdrant`), health: "unhealthy", restarts: 3, healthOutput: "connection refused" }),
    );
    expect(problemsOf(s)).toEqual([
      { kind: "down", line: `${DEV}-qdrant is unhealthy (last check: connection refused); run "docker --host ${SOCKET} logs ${DEV}-qdrant"` },
    ]);
    expect(statusText(s)).toContain(`${DEV}-qdrant          running     unhealthy  3         2h 0m   as planned\n`);
    expect(exitCodeOf(problemsOf(s))).toBe(1);
  });

  it("reports a missing container with the command that creates it, exit 1", async () => {
    const s = await statusOf(planOf("development"), (h) => h.containers.set(`${DEV}-litellm`, "missing"));
    expect(problemsOf(s)).toEqual([{ kind: "down", line: `${DEV}-litellm does not exist on ${SOCKET}; run "llmstack up --stack development"` }]);
    expect(statusJson(s).containers).toContainEqual(expect.objectContaining({ name: `${DEV}-litellm`, exists: false, state: null }));
  });

  it("reports a container whose tag now names another image on the host as drifted, exit 3", async () => {
    const other = `sha256:${"e".repeat(64)}`;
    const s = await statusOf(planOf("development"), (h) => h.containers.set(`${DEV}-postgres`, { ...running(h, `${DEV}-postgres`), imageId: other }));
    expect(problemsOf(s)).toEqual([
      { kind: "drift", line: `${DEV}-postgres runs ${other}, not the plan's postgres:16.10; run "llmstack up --stack development"` },
    ]);
    expect(exitCodeOf(problemsOf(s))).toBe(3);
  });

  it("compares a digest-pinned image by the digests of the container's image", async () => {
    const values = rawValues("development");
    const planned = `sha256:${"a".repeat(64)}`;
    const deployed = `sha256:${"b".repeat(64)}`;
    values.images = { ...(values.images as object), postgres: `postgres:16.10@${planned}` };
    const plan = planFromValues(values, "development");
    const calls: ExecCall[] = [];
    const same = await statusOf(plan, () => undefined, calls);
    expect(problemsOf(same)).toEqual([]);
    const id = running(healthyHost(plan), `${DEV}-postgres`).imageId;
    expect(calls).toContainEqual({ file: "docker", args: ["--host", SOCKET, "image", "inspect", "--format", "{{json .RepoDigests}}", id], opts: { timeoutMs: 60_000 } });
    const drifted = await statusOf(plan, (h) => h.images.set(id, { id, repoDigests: [`postgres@${deployed}`] }));
    expect(problemsOf(drifted)).toEqual([
      { kind: "drift", line: `${DEV}-postgres runs ${deployed}, not the plan's postgres:16.10@${planned}; run "llmstack up --stack development"` },
    ]);
  });

  it("is exit 1, not 3, when a container is down and another drifted", () => {
    expect(exitCodeOf([{ kind: "drift", line: "" }, { kind: "down", line: "" }])).toBe(1);
  });
});

describe("GPU memory by container", () => {
  it("reads nvidia-smi's compute apps and the stack's PIDs with the host probe, and maps one to the other", async () => {
    const calls: ExecCall[] = [];
    const s = await statusOf(
      planOf("development"),
      (h) => (h.probe = probeText(["4242, 30012, GPU-aaa", "999, 512, GPU-bbb"], [`${DEV}-vllm 1`, `${DEV}-vllm 4242`])),
      calls,
    );
    expect(s.gpu).toEqual({
      kind: "read",
      processes: [
        { host: SOCKET, pid: 4242, usedMiB: 30012, gpuUuid: "GPU-aaa", container: `${DEV}-vllm` },
        { host: SOCKET, pid: 999, usedMiB: 512, gpuUuid: "GPU-bbb", container: null },
      ],
      notes: [],
    });
    const probe = calls.filter((c) => c.file === "sh");
    expect(probe.map((c) => c.args)).toEqual([["-s"]]);
    expect(probe[0]?.opts?.input).toContain(`nvidia-smi --query-compute-apps=${APPS_FIELDS.join(",")} --format=csv,noheader,nounits`);
    expect(probe[0]?.opts?.input).toContain(`'docker' '--host' '${SOCKET}' top "$c" -eo pid`);
    expect(statusText(s)).toContain(`${DEV}-vllm  4242  GPU-aaa  30012 MiB\n(not this stack)                       999   GPU-bbb  512 MiB\n`);
  });

  it("goes over ssh for an ssh:// host, for docker and the probe alike", async () => {
    const values = rawValues("development");
    values.dockerHost = "ssh://deploy@gpu-box:2222";
    const calls: ExecCall[] = [];
    const s = await statusOf(planFromValues(values, "development"), () => undefined, calls);
    expect(problemsOf(s)).toEqual([]);
    expect(calls.filter((c) => c.file === "ssh").map((c) => c.args)).toEqual([
      ["-o", "BatchMode=yes", "-o", "ConnectTimeout=10", "-p", "2222", "--", "deploy@gpu-box", "sh", "-s"],
    ]);
    expect(calls.filter((c) => c.file === "ssh")[0]?.opts?.input).not.toContain("--host");
    expect(calls.filter((c) => c.file === "docker").every((c) => c.args[0] === "--host" && c.args[1] === "ssh://deploy@gpu-box:2222")).toBe(true);
  });

  it("skips GPU processes in cpu mode, without running the probe", async () => {
    const values = rawValues("development");
    values.gpu = { mode: "cpu" };
    const calls: ExecCall[] = [];
    const s = await statusOf(planFromValues(values, "development"), () => undefined, calls);
    expect(s.gpu).toEqual({ kind: "skipped", why: "no container of this stack uses a GPU (cpu mode)" });
    expect(calls.filter((c) => c.file !== "docker")).toEqual([]);
    expect(statusText(s)).toContain("\nGPU processes: skipped, no container of this stack uses a GPU (cpu mode)\n");
    expect(exitCodeOf(problemsOf(s))).toBe(0);
  });

  it("cannot run nvidia-smi on a tcp:// host, and says so without failing", async () => {
    const values = rawValues("development");
    values.dockerHost = "tcp://10.0.0.5:2376";
    const calls: ExecCall[] = [];
    const s = await statusOf(planFromValues(values, "development"), () => undefined, calls);
    expect(s.gpu).toEqual({
      kind: "read",
      processes: [],
      notes: ["tcp://10.0.0.5:2376 is a tcp:// Docker host, so nvidia-smi cannot run on it; use an ssh://user@host Docker host"],
    });
    expect(calls.filter((c) => c.file !== "docker")).toEqual([]);
  });
});

describe("the gateway", () => {
  it("lists its models with the master key and times one 1-token request", async () => {
    const plan = planOf("development");
    const host = healthyHost(plan);
    host.probe = probeText([], []);
    const gw = fakeGateway(["qwen2.5-1.5b-instruct"]);
    const s = await gatherStatus(plan, deps(host, [], { fetch: gw.fetch, apiKey: "sk-test" }));
    expect(s.gateway).toEqual({ kind: "ok", models: ["qwen2.5-1.5b-instruct"], latencyMs: 60 });
    expect(gw.requests).toEqual([
      { url: "http://127.0.0.1:4000/v1/models", method: "GET", body: null, authorization: "Bearer sk-test" },
      {
        url: "http://127.0.0.1:4000/v1/chat/completions",
        method: "POST",
        body: { model: "qwen2.5-1.5b-instruct", messages: [{ role: "user", content: "hello" }], max_tokens: 1 },
        authorization: "Bearer sk-test",
      },
    ]);
    expect(statusText(s)).toContain("\ngateway: models qwen2.5-1.5b-instruct; a 1-token request took 60 ms\n");
  });

  it("does not ask a gateway on the loopback of an ssh:// host here, and names the tunnel and the flag that reach it", async () => {
    const values = rawValues("development");
    values.dockerHost = "ssh://deploy@gpu-box:2222";
    const plan = planFromValues(values, "development");
    expect(plan.gatewayUrl).toBe("http://127.0.0.1:4000");
    const host = healthyHost(plan);
    host.probe = probeText([], []);
    const gw = fakeGateway(["qwen2.5-1.5b-instruct"]);
    const s = await gatherStatus(plan, deps(host, [], { fetch: gw.fetch, apiKey: "sk-test" }));
    expect(gw.requests).toEqual([]);
    expect(s.gateway).toEqual({
      kind: "skipped",
      why:
        "the gateway listens on 127.0.0.1:4000 of gpu-box (ssh://deploy@gpu-box:2222), which this machine cannot reach; " +
        "open a tunnel to it first: ssh -N -f -L 4000:127.0.0.1:4000 -p 2222 deploy@gpu-box",
      fix: "llmstack status --stack development --gateway-url http://127.0.0.1:4000",
    });
    expect(exitCodeOf(problemsOf(s))).toBe(0);

    const tunnelled = await gatherStatus(plan, deps(host, [], { fetch: gw.fetch, apiKey: "sk-test", gatewayUrl: "http://127.0.0.1:14000/" }));
    expect(tunnelled.gateway).toEqual({ kind: "ok", models: ["qwen2.5-1.5b-instruct"], latencyMs: 60 });
    expect(gw.requests.map((r) => r.url)).toEqual(["http://127.0.0.1:14000/v1/models", "http://127.0.0.1:14000/v1/chat/completions"]);
  });

  it("asks a loopback gateway of a tcp:// host on this machine's loopback, which is the same machine", async () => {
    const values = rawValues("development");
    values.dockerHost = "tcp://127.0.0.1:2375";
    const plan = planFromValues(values, "development");
    const host = healthyHost(plan);
    const gw = fakeGateway(["qwen2.5-1.5b-instruct"]);
    const s = await gatherStatus(plan, deps(host, [], { fetch: gw.fetch, apiKey: "sk-test" }));
    expect(s.gateway).toEqual({ kind: "ok", models: ["qwen2.5-1.5b-instruct"], latencyMs: 60 });
    expect(gw.requests[0]?.url).toBe("http://127.0.0.1:4000/v1/models");
  });

  it("is a problem when a request fails, with the gateway's logs as the fix", async () => {
    const plan = planOf("development");
    const host = healthyHost(plan);
    host.probe = probeText([], []);
    const s = await gatherStatus(plan, deps(host, [], { fetch: fakeGateway(["qwen2.5-1.5b-instruct"], 500).fetch, apiKey: "sk-test" }));
    expect(problemsOf(s)).toEqual([
      { kind: "down", line: `gateway: a 1-token request for qwen2.5-1.5b-instruct answered HTTP 500; run "docker --host ${SOCKET} logs ${DEV}-litellm"` },
    ]);
  });
});

describe("durations", () => {
  it.each([
    [45, "45s"],
    [125, "2m 5s"],
    [7260, "2h 1m"],
    [90_061, "1d 1h"],
  ])("%i seconds reads %s", (s, text) => expect(durationText(s)).toBe(text));
});

describe("a daemon that does not answer", () => {
  it("is one line for the containers it failed, not one each", async () => {
    const plan = planOf("development");
    const exec: ExecFn = async (file) =>
      file === "docker" ? { code: 1, stdout: "", stderr: "Cannot connect to the Docker daemon at unix:///var/run/docker.sock. Is the docker daemon running?\n" } : { code: 0, stdout: probeText([], []), stderr: "" };
    const s = await gatherStatus(plan, { exec, now: steppingClock() });
    expect(problemsOf(s)).toEqual([
      {
        kind: "down",
        line:
          `${plan.containers.length} containers could not be inspected on ${SOCKET}: Cannot connect to the Docker daemon at ` +
          `unix:///var/run/docker.sock. Is the docker daemon running?; run "docker --host ${SOCKET} info"`,
      },
    ]);
    expect(exitCodeOf(problemsOf(s))).toBe(1);
  });
});
