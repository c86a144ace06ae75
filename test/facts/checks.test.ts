/**
 * The checks themselves: which programs a command or a shell script runs, when an upload is readable,
 * and the exact problems they report for the containers that failed on a real host.
 */
import { describe, expect, it } from "vitest";
import { providerProblems, PROVIDER_RULES } from "../../src/facts/dockerProvider";
import { imageProblems, programsCalled, uploadReadableBy } from "../../src/facts/imageChecks";
import { imageFactsFor, OWN_IMAGE_CONTRACT } from "../../src/facts/images";
import { durationMinutes, type PlannedContainer } from "../../src/facts/planned";
import { programsInArgv, programsInScript } from "../../src/facts/shellPrograms";
import { WAIT_FOR_VLLM } from "../../src/plan/apps";
import { containerJson } from "../../src/plan/render";
import { APP_IMAGES, container, planFromValues, rawValues, withAppImages } from "../helpers/stacks";

/** Production with your own worker and retrieval proxy images, so every service is planned. */
const prod = planFromValues(withAppImages(rawValues("production")));
const planned = (service: Parameters<typeof container>[1]): PlannedContainer =>
  containerJson(container(prod, service), prod) as unknown as PlannedContainer;

describe("the programs a command runs", () => {
  it("reads pipelines, lists, loops, redirections and exec \"$@\"", () => {
    expect(programsInScript("redis-cli ping | grep -q PONG")).toEqual(["redis-cli", "grep"]);
    expect(
      programsInScript("exec 3<>/dev/tcp/127.0.0.1/6333 && printf 'GET /readyz HTTP/1.0\\r\\n\\r\\n' >&3 && grep -q ' 200 ' <&3"),
    ).toEqual(["grep"]);
    expect(programsInScript(WAIT_FOR_VLLM)).toEqual(["python3", "sleep", "$@"]);
    expect(programsInScript("X=1 FOO='a b' curl -fsS http://x/ 2> /dev/null || wget -q -O - http://x/")).toEqual(["curl", "wget"]);
  });

  it("follows sh -c to its positional arguments and timeout to the command it runs", () => {
    expect(programsInArgv(["/bin/sh", "-c", WAIT_FOR_VLLM, "wait-for-vllm", "python3", "-m", "worker"])).toEqual([
      "sh",
      "python3",
      "sleep",
    ]);
    expect(programsInArgv(["timeout", "-k", "10", "7200", "python3", "-c", "print(1)"])).toEqual(["timeout", "python3"]);
    expect(programsCalled(planned("redis"), imageFactsFor("redis:7.4.6"))).toEqual([
      { where: "command", program: "redis-server" },
      { where: "healthcheck", program: "sh" },
      { where: "healthcheck", program: "redis-cli" },
      { where: "healthcheck", program: "grep" },
    ]);
    // LiteLLM's command is arguments to the image's own entrypoint: only the health check runs a program.
    expect(programsCalled(planned("litellm"), imageFactsFor("ghcr.io/berriai/litellm:v1.84.0"))).toEqual([
      { where: "healthcheck", program: "python3" },
    ]);
    expect(programsCalled(planned("multimodal-worker"), OWN_IMAGE_CONTRACT).map((p) => p.program)).toEqual([
      "sh",
      "python3",
      "sleep",
      "python3",
    ]);
  });
});

describe("what the checks report", () => {
  it("reports a root-owned redis.conf at 0400, as the program planned it before, as unreadable by redis", () => {
    const redis = planned("redis");
    const before = { ...redis, uploads: redis.uploads.map((u) => ({ file: u.file, permissions: "0400" })) };
    expect(imageProblems(before, imageFactsFor("redis:7.4.6"))).toEqual([
      "redis: /usr/local/etc/redis/redis.conf (owner 0, group 0, mode 0400) is not readable by redis (999:999), " +
        "the user redis:7.4.6 runs as",
    ]);
    expect(uploadReadableBy({ file: "/x", permissions: "0400", owner: "999", group: "999" }, { uid: 999, gid: 999 })).toBe(true);
    expect(uploadReadableBy({ file: "/x", permissions: "0440", owner: "0", group: "0" }, { uid: 472, gid: 0 })).toBe(true);
    expect(uploadReadableBy({ file: "/x" }, { uid: 65534, gid: 65534 })).toBe(true);
    expect(uploadReadableBy({ file: "/x", permissions: "0640" }, { uid: 65534, gid: 65534 })).toBe(false);
  });

  it("reports the model download's empty revision and a missing timeout, as the program planned it before", () => {
    const download = planned("model-download");
    const { customTimeouts: _, ...untimed } = download;
    const before = { ...untimed, command: ["Qwen/Qwen2.5-7B-Instruct", ""] };
    expect(providerProblems(before)).toEqual([
      "model-download: command[1] is an empty string, which the provider refuses (provider rule command-not-empty)",
      "model-download: has no create timeout of its own, so the provider's 20 minutes apply (provider rule create-timeouts)",
    ]);
    expect(imageProblems(before, imageFactsFor("vllm/vllm-openai:v0.21.0"))).toEqual([
      "model-download: command[1] is an empty string",
    ]);
  });

  it("reports the VLLM_* environment vLLM does not read, as the program planned it before", () => {
    const vllm = planned("vllm");
    const before = {
      ...vllm,
      envs: [
        ...vllm.envs,
        "GPU_COUNT=2",
        "VLLM_GPU_MEMORY_UTILIZATION=0.9",
        "VLLM_PIPELINE_PARALLEL_SIZE=1",
        "VLLM_TENSOR_PARALLEL_SIZE=2",
      ],
    };
    const why = "(of VLLM_* it reads VLLM_API_KEY, VLLM_CPU_KVCACHE_SPACE, VLLM_HOST_IP) and it warns about it at start; pass the " +
      "setting as a flag, or as a label for people";
    expect(imageProblems(before, imageFactsFor("vllm/vllm-openai:v0.21.0"))).toEqual([
      `vllm: env VLLM_GPU_MEMORY_UTILIZATION is not one vllm/vllm-openai:v0.21.0 reads ${why}`,
      `vllm: env VLLM_PIPELINE_PARALLEL_SIZE is not one vllm/vllm-openai:v0.21.0 reads ${why}`,
      `vllm: env VLLM_TENSOR_PARALLEL_SIZE is not one vllm/vllm-openai:v0.21.0 reads ${why}`,
    ]);
    // What the plan sets now: the API key only; the GPU layout is argv, and labels for people.
    expect(vllm.envs.filter((e) => e.startsWith("VLLM_"))).toEqual(["VLLM_API_KEY=********"]);
    expect(imageProblems(vllm, imageFactsFor("vllm/vllm-openai:v0.21.0"))).toEqual([]);
  });

  it("reports a vLLM create that ends before its health wait", () => {
    const vllm = { ...planned("vllm"), customTimeouts: { create: "20m" } };
    expect(providerProblems(vllm)).toEqual([
      "vllm: its create timeout 20 min does not cover its 1200 s wait plus 5 min to create, upload and start; " +
        "it needs 25 min (provider rule create-covers-wait)",
    ]);
  });

  it("reports a health check that calls a program the image lacks, an empty env value and a named owner", () => {
    const qdrant = planned("qdrant");
    const curl = {
      ...qdrant,
      envs: [...qdrant.envs, "EMPTY="],
      healthcheck: { ...qdrant.healthcheck!, tests: ["CMD-SHELL", "curl -fsS http://127.0.0.1:6333/readyz"] },
    };
    expect(imageProblems(curl, imageFactsFor("qdrant/qdrant:v1.15.5"))).toEqual([
      "qdrant: its healthcheck calls curl, which qdrant/qdrant:v1.15.5 does not have (it has bash, chown, cp, grep, mkdir, mv, rm, sh, sleep, timeout)",
      "qdrant: the value of env EMPTY is an empty string",
    ]);
    const named = { ...planned("redis"), uploads: [{ file: "/usr/local/etc/redis/redis.conf", owner: "redis", group: "999" }] };
    expect(providerProblems(named)).toEqual([
      'redis: upload /usr/local/etc/redis/redis.conf has owner "redis", a name the Pulumi host would resolve; use the ' +
        "numeric id (provider rule upload-mode-owner)",
    ]);
  });

  it("reports an upload into the user's own image, whose user is unknown", () => {
    const worker = { ...planned("multimodal-worker"), uploads: [{ file: "/app/config.yaml" }] };
    expect(imageProblems(worker, OWN_IMAGE_CONTRACT)).toEqual([
      `multimodal-worker: uploads /app/config.yaml, but ${APP_IMAGES.multimodalWorker} ` +
        "(the user's own image) has no record of the user it runs as",
    ]);
  });

  it("names a source for every provider rule and reads Pulumi durations", () => {
    expect(PROVIDER_RULES.map((r) => r.id)).toEqual([
      "command-not-empty",
      "create-timeouts",
      "create-covers-wait",
      "wait-timeout-default",
      "wait-needs-healthcheck",
      "upload-mode-owner",
    ]);
    for (const r of PROVIDER_RULES) expect(r.source).toMatch(/\.go|input\.d\.ts/);
    expect([durationMinutes("25m"), durationMinutes("1h30m"), durationMinutes("90s")]).toEqual([25, 90, 1.5]);
  });
});
