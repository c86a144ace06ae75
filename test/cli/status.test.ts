/**
 * `llmstack status`: the command line over a fake Docker host and gateway. The judging of each fact is
 * tested in test/status/status.test.ts; here, the exit codes cron and CI read, --json and --watch.
 */
import { describe, expect, it } from "vitest";
import { main } from "../../src/cli/main";
import { statusCommand, WATCH_SECONDS } from "../../src/cli/status";
import { fakeIo, type FakeIo } from "../helpers/fakeIo";
import { ROOT } from "../helpers/root";
import { planOf } from "../helpers/stacks";
import { answer, fakeGateway, healthyHost, probeText, steppingClock, type FakeHost } from "../status/fakeHost";

const DEV = "llm-multimodal-stack-development";
const SOCKET = "unix:///var/run/docker.sock";

function setUp(edit: (h: FakeHost) => void = () => undefined): { io: FakeIo; host: FakeHost } {
  const host = healthyHost(planOf("development"));
  host.probe = probeText(["4242, 30012, GPU-aaa"], [`${DEV}-vllm 4242`]);
  edit(host);
  const io = { ...fakeIo(ROOT, (c) => answer(host, c), { LITELLM_MASTER_KEY: "sk-test" }), fetch: fakeGateway(["qwen2.5-1.5b-instruct"]).fetch };
  return { io, host };
}

function change(h: FakeHost, service: string, to: object): void {
  const name = `${DEV}-${service}`;
  h.containers.set(name, { ...(h.containers.get(name) as object), ...to } as never);
}

const lastLine = (io: FakeIo): string => io.out().trimEnd().split("\n").at(-1) ?? "";

describe("llmstack status", () => {
  it("exits 0 when every container is healthy and as planned, with the gateway's models and GPU processes", async () => {
    const { io } = setUp();
    expect(await main(["status", "--stack", "development"], io)).toBe(0);
    expect(io.out()).toContain(`\n${"GPU PROCESS".padEnd(`${DEV}-vllm`.length)}  PID   GPU      MEMORY\n${DEV}-vllm  4242  GPU-aaa  30012 MiB\n`);
    expect(io.out()).toContain("\ngateway: models qwen2.5-1.5b-instruct; a 1-token request took ");
    expect(lastLine(io)).toBe("development: every container is healthy and runs the plan's image");
    expect(io.err()).toBe("");
  });

  it.each([
    ["a stopped container", "redis", { state: "exited", exitCode: 137 }, 1, `${DEV}-redis exited with code 137; run "docker --host ${SOCKET} logs ${DEV}-redis"`],
    [
      "an unhealthy container",
      "vllm",
      { health: "unhealthy", healthOutput: "curl: (7) Failed to connect to localhost port 8000" },
      1,
      `${DEV}-vllm is unhealthy (last check: curl: (7) Failed to connect to localhost port 8000); run "docker --host ${SOCKET} logs ${DEV}-vllm"`,
    ],
    [
      "an image drifted from the plan",
      "litellm",
      { imageId: `sha256:${"f".repeat(64)}` },
      3,
      `${DEV}-litellm runs sha256:${"f".repeat(64)}, not the plan's ghcr.io/berriai/litellm:v1.84.0; run "llmstack up --stack development"`,
    ],
  ])("reports %s with the command that fixes it", async (_what, service, to, code, line) => {
    const { io } = setUp((h) => change(h, service, to));
    expect(await main(["status", "--stack", "development"], io)).toBe(code);
    expect(lastLine(io)).toBe(line);
  });

  it("prints the same as JSON with --json", async () => {
    const { io } = setUp((h) => change(h, "redis", { state: "exited", exitCode: 137 }));
    expect(await main(["status", "--stack", "development", "--json"], io)).toBe(1);
    const json = JSON.parse(io.out()) as { stack: string; exitCode: number; problems: unknown[]; containers: { name: string }[] };
    expect(json.stack).toBe("development");
    expect(json.exitCode).toBe(1);
    expect(json.problems).toEqual([{ kind: "down", line: `${DEV}-redis exited with code 137; run "docker --host ${SOCKET} logs ${DEV}-redis"` }]);
    expect(json.containers.map((c) => c.name)).toEqual(planOf("development").containers.map((c) => c.name));
  });

  it("shows it again every --watch seconds until stopped, exiting with the last round's code", async () => {
    const { io, host } = setUp();
    const sleeps: number[] = [];
    const clock = {
      now: steppingClock(),
      sleep: async (ms: number) => {
        sleeps.push(ms);
        // Between the rounds the redis container stops; after the second round, the watch is interrupted.
        change(host, "redis", { state: "exited", exitCode: 1 });
        return sleeps.length < 2;
      },
    };
    expect(await statusCommand(["--stack", "development", "--watch", "5"], io, clock)).toBe(1);
    expect(sleeps).toEqual([5000, 5000]);
    const rounds = io.out().split(/^2026-12-02T\d\d:\d\d:\d\d\.\d{3}Z\n/m);
    expect(rounds).toHaveLength(3);
    expect(rounds[1]).toMatch(/\ndevelopment: every container is healthy and runs the plan's image\n\n$/);
    expect(rounds[2]).toMatch(new RegExp(`\\n${DEV}-redis exited with code 1; run "docker --host ${SOCKET} logs ${DEV}-redis"\\n$`));
    expect(io.calls.filter((c) => c.file === "docker" && c.args[2] === "inspect")).toHaveLength(2 * planOf("development").containers.length);
  });

  it(`waits ${WATCH_SECONDS} seconds when --watch has no value`, async () => {
    const { io } = setUp();
    const sleeps: number[] = [];
    await statusCommand(["--stack", "development", "--watch"], io, { now: steppingClock(), sleep: async (ms) => (sleeps.push(ms), false) });
    expect(sleeps).toEqual([WATCH_SECONDS * 1000]);
  });

  it("asks the gateway at --gateway-url, e.g. a tunnel's end", async () => {
    const host = healthyHost(planOf("development"));
    host.probe = probeText([], []);
    const gw = fakeGateway(["qwen2.5-1.5b-instruct"]);
    const io = { ...fakeIo(ROOT, (c) => answer(host, c), { LITELLM_MASTER_KEY: "sk-test" }), fetch: gw.fetch };
    expect(await main(["status", "--stack", "development", "--gateway-url", "http://127.0.0.1:14000"], io)).toBe(0);
    expect(gw.requests.map((r) => r.url)).toEqual(["http://127.0.0.1:14000/v1/models", "http://127.0.0.1:14000/v1/chat/completions"]);
  });

  it("refuses a --watch that is not a number of seconds, before reading the host (exit 2)", async () => {
    const { io } = setUp();
    expect(await main(["status", "--stack", "development", "--watch", "soon"], io)).toBe(2);
    expect(io.err()).toBe('llmstack status: --watch "soon": must be a whole number from 1 to 86400; run "llmstack status --help"\n');
    expect(io.calls).toEqual([]);
  });

  it("says which exit code means what in --help", async () => {
    const { io } = setUp();
    expect(await main(["status", "--help"], io)).toBe(0);
    expect(io.out()).toContain("Exit status: 0 when every container runs, is healthy and runs the plan's image; 1 when one is");
    expect(io.calls).toEqual([]);
  });

  it("is listed in llmstack --help, with its exit code 3", async () => {
    const io = fakeIo(ROOT);
    expect(await main(["--help"], io)).toBe(0);
    expect(io.out()).toContain("\n  status ");
    expect(io.out().replace(/\s+/g, " ")).toContain('(plan: 1, as its 2 means "the plan changes"; status: 3 when an image drifted from the plan).');
  });
});
