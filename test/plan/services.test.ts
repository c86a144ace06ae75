import { parse } from "yaml";
import { describe, expect, it } from "vitest";
import { envList, MASK, planJson } from "../../src/plan/render";
import { orderByDependencies } from "../../src/plan/order";
import { container, planFromValues, planOf, rawValues, STACKS, withAppImages } from "../helpers/stacks";

const mask = (): string => MASK;
/** Monitoring containers (on in staging and production) are covered by test/monitoring. */
const MONITORING: readonly string[] = ["dcgm-exporter", "alertmanager", "prometheus", "grafana"];
const WORKERS = { development: "8", staging: "8", production: "8" } as const;

describe.each(STACKS)("the %s stack's other services", (stack) => {
  const plan = planOf(stack);
  /** The same stack with your worker and retrieval proxy images set. */
  const withApps = planFromValues(withAppImages(rawValues(stack)), stack);
  const served = stack === "development" ? "qwen2.5-1.5b-instruct" : "qwen2.5-7b-instruct";

  it("renders LiteLLM's config routing the served model to vLLM, with keys from the environment", () => {
    const litellm = container(plan, "litellm");
    expect(litellm.uploads).toHaveLength(1);
    expect(litellm.uploads[0]!.file).toBe("/app/config.yaml");
    expect(parse(litellm.uploads[0]!.content as string)).toEqual({
      model_list: [
        {
          model_name: served,
          litellm_params: {
            model: `hosted_vllm/${served}`,
            api_base: "http://vllm:8000/v1",
            api_key: "os.environ/VLLM_API_KEY",
          },
        },
      ],
      litellm_settings:
        stack === "development"
          ? { drop_params: true }
          : { drop_params: true, callbacks: ["prometheus"], require_auth_for_metrics_endpoint: true },
      general_settings: { master_key: "os.environ/LITELLM_MASTER_KEY", database_url: "os.environ/DATABASE_URL" },
    });
    expect(litellm.command).toEqual([
      "--config", "/app/config.yaml", "--host", "0.0.0.0", "--port", "4000", "--num_workers", WORKERS[stack],
    ]);
    expect(envList(litellm.env, mask)).toEqual([
      `DATABASE_URL=postgresql://litellm:${MASK}@postgres:5432/litellm`,
      `LITELLM_MASTER_KEY=${MASK}`,
      `LITELLM_SALT_KEY=${MASK}`,
      // The metrics of LiteLLM's workers meet in one directory when monitoring is on.
      ...(stack === "development" ? [] : ["PROMETHEUS_MULTIPROC_DIR=/prometheus_multiproc"]),
      "STORE_MODEL_IN_DB=False",
      `VLLM_API_KEY=${MASK}`,
    ]);
    expect(litellm.healthcheck?.tests).toEqual([
      "CMD",
      "python3",
      "-c",
      'import urllib.request; urllib.request.urlopen("http://localhost:4000/health/liveliness", timeout=5)',
    ]);
  });

  it("publishes only the gateway: LiteLLM on loopback, or Caddy with TLS beyond it", () => {
    const published = plan.containers.filter((c) => c.ports.length > 0 && !MONITORING.includes(c.service));
    if (stack === "development") {
      expect(published.map((c) => c.service)).toEqual(["litellm"]);
      expect(container(plan, "litellm").ports).toEqual([{ internal: 4000, external: 4000, ip: "127.0.0.1", protocol: "tcp" }]);
      expect(plan.gatewayUrl).toBe("http://127.0.0.1:4000");
    } else {
      expect(published.map((c) => c.service)).toEqual(["gateway-tls"]);
      expect(container(plan, "gateway-tls").ports).toEqual([{ internal: 443, external: 443, ip: "0.0.0.0", protocol: "tcp" }]);
      expect(container(plan, "litellm").ports).toEqual([]);
      expect(plan.gatewayUrl).toBe("https://localhost:443");
    }
  });

  it("runs neither the worker nor the retrieval proxy: the checked-in stack sets no image for them", () => {
    expect(plan.containers.map((c) => c.service).filter((s) => s === "multimodal-worker" || s === "retrieval-proxy")).toEqual([]);
    expect(plan.gpuMap).toEqual([{ service: "vllm", hostDevices: ["0", "1"], cudaVisibleDevices: "0,1" }]);
  });

  it("gives the multimodal worker host GPU 1 as its cuda:0, after vLLM is healthy", () => {
    const worker = container(withApps, "multimodal-worker");
    expect(worker.image).toBe("registry.example.com/acme/multimodal-worker:1.0.0");
    expect(worker.deviceRequests).toEqual([{ driver: "nvidia", deviceIds: ["1"], capabilities: ["gpu"] }]);
    expect(worker.env.CUDA_VISIBLE_DEVICES).toBe("0");
    expect(worker.env.NVIDIA_VISIBLE_DEVICES).toBe("1");
    expect(worker.env.DEVICE).toBe("cuda:0");
    expect(worker.env.WORKER_PROCESSES).toBe("4");
    expect(worker.env.WORKER_GPU_MEMORY_FRACTION).toBe({ development: "0.1", staging: "0.04", production: "0.04" }[stack]);
    expect(worker.dependsOn).toEqual(["vllm", "postgres", "redis", "qdrant", "object-store"]);
    expect(worker.entrypoints?.[0]).toBe("/bin/sh");
    expect(worker.entrypoints?.[2]).toContain("VLLM_HEALTH_URL");
    expect(worker.env.VLLM_HEALTH_URL).toBe("http://vllm:8000/health");
    expect(worker.command).toEqual(["python3", "-m", "multimodal_worker"]);
    expect(withApps.gpuMap).toEqual([
      { service: "vllm", hostDevices: ["0", "1"], cudaVisibleDevices: "0,1" },
      { service: "multimodal-worker", hostDevices: ["1"], cudaVisibleDevices: "0" },
    ]);
  });

  it("runs the retrieval proxy with 8 workers and the stores' addresses", () => {
    const proxy = container(withApps, "retrieval-proxy");
    expect(proxy.image).toBe("registry.example.com/acme/retrieval-proxy:1.0.0");
    expect(envList(proxy.env, mask)).toEqual([
      `DATABASE_URL=postgresql://litellm:${MASK}@postgres:5432/litellm`,
      "MULTIMODAL_WORKER_URL=http://multimodal-worker:8090",
      "PORT=8080",
      `QDRANT_API_KEY=${MASK}`,
      "QDRANT_URL=http://qdrant:6333",
      `REDIS_URL=redis://:${MASK}@redis:6379/0`,
      "RETRIEVAL_WORKERS=8",
      "S3_ACCESS_KEY_ID=llmstack",
      "S3_ENDPOINT_URL=http://object-store:8333",
      `S3_SECRET_ACCESS_KEY=${MASK}`,
      "VLLM_API_KEY=" + MASK,
      "VLLM_BASE_URL=http://vllm:8000/v1",
    ]);
  });

  it("orders containers so each starts after what it depends on", () => {
    const core = withApps.containers.filter((c) => !MONITORING.includes(c.service));
    expect(orderByDependencies(core).map((c) => c.service)).toEqual([
      "model-download",
      "vllm",
      "postgres",
      "redis",
      "qdrant",
      "object-store",
      "litellm",
      "multimodal-worker",
      "retrieval-proxy",
      ...(stack === "development" ? [] : ["gateway-tls"]),
      "smoke-test",
    ]);
    expect(container(plan, "litellm").dependsOn).toEqual(["vllm", "postgres"]);
  });

  it("gives every long-running service a health check, log rotation and no-new-privileges", () => {
    for (const c of plan.containers.filter((x) => !x.oneShot && !MONITORING.includes(x.service))) {
      expect(c.healthcheck?.tests.length, c.service).toBeGreaterThan(1);
      expect(c.logOpts, c.service).toEqual({ "max-size": "50m", "max-file": "3" });
      expect(c.securityOpts, c.service).toEqual(["no-new-privileges:true"]);
      expect(c.restart, c.service).toBe("unless-stopped");
      // Containers without a GPU have a memory limit; GPU containers are limited by their GPU.
      expect(c.memory === undefined, c.service).toBe(c.gpu);
    }
  });

  it("keeps Redis's password out of every command line", () => {
    const redis = container(plan, "redis");
    expect(redis.command).toEqual(["redis-server", "/usr/local/etc/redis/redis.conf"]);
    expect(redis.env.REDISCLI_AUTH).toEqual({ secret: "redisPassword" });
    expect(redis.healthcheck?.tests).toEqual(["CMD-SHELL", "redis-cli ping | grep -q PONG"]);
    expect(planJson(plan).containers).toSatisfy((cs: { uploads: { content: string }[] }[]) =>
      cs.every((c) => c.uploads.every((u) => !/requirepass (?!"\*{8}"\n)/.test(u.content))),
    );
  });

  it("scopes names to the stack and keeps data in named volumes", () => {
    expect(plan.containers.map((c) => c.name)).toEqual(
      plan.containers.map((c) => `llm-multimodal-stack-${stack}-${c.service}`),
    );
    expect(plan.network.name).toBe(`llm-multimodal-stack-${stack}`);
    const keys = ["hf-cache", "postgres-data", "redis-data", "qdrant-data", "object-store-data"];
    if (stack !== "development") keys.push("tls-data");
    expect(plan.volumes.slice(0, keys.length).map((v) => [v.name, v.retainOnDelete, v.protect])).toEqual(
      keys.map((k) => [
        `llm-multimodal-stack-${stack}-${k}`,
        true,
        stack === "production",
      ]),
    );
  });
});

describe("the gateway's TLS proxy", () => {
  it("serves LiteLLM with Caddy's internal CA in production, and not Grafana's login page", () => {
    const caddy = container(planOf("production"), "gateway-tls");
    expect(caddy.uploads[0]).toEqual({
      file: "/etc/caddy/Caddyfile",
      content:
        "{\n\tadmin off\n\tauto_https disable_redirects\n\tdefault_sni localhost\n}\n\n" +
        "localhost:443, 127.0.0.1:443 {\n\ttls internal\n" +
        "\treverse_proxy litellm:4000\n}\n\n:8081 {\n\trespond /healthz 200\n}\n",
      permissions: "0444",
      // Caddy 2.10.2 runs as root (src/facts/imageRecords.ts).
      owner: "0",
      group: "0",
    });
    expect(caddy.volumes).toEqual([{ volume: "tls-data", containerPath: "/data" }]);
  });

  it("serves Grafana under /grafana/ only when monitoring.grafana.viaGateway asks", () => {
    const values = rawValues("production") as Record<string, any>;
    values.monitoring = { enabled: true, grafana: { viaGateway: true } };
    const caddy = container(planFromValues(values), "gateway-tls");
    expect(caddy.uploads[0]!.content).toBe(
      "{\n\tadmin off\n\tauto_https disable_redirects\n\tdefault_sni localhost\n}\n\n" +
        "localhost:443, 127.0.0.1:443 {\n\ttls internal\n" +
        "\treverse_proxy /grafana* grafana:3000\n\treverse_proxy litellm:4000\n}\n\n:8081 {\n\trespond /healthz 200\n}\n",
    );
  });

  it("gets a certificate by ACME for a domain, with port 80 for the challenge", () => {
    const values = rawValues("production") as Record<string, any>;
    values.gateway = { bindAddress: "0.0.0.0", port: 443, tls: { mode: "acme", domain: "llm.example.org", email: "ops@example.org" } };
    values.monitoring = { enabled: false };
    const plan = planFromValues(values);
    const caddy = container(plan, "gateway-tls");
    expect(caddy.ports).toEqual([
      { internal: 443, external: 443, ip: "0.0.0.0", protocol: "tcp" },
      { internal: 80, external: 80, ip: "0.0.0.0", protocol: "tcp" },
    ]);
    expect(caddy.uploads[0]!.content).toBe(
      "{\n\tadmin off\n}\n\nllm.example.org {\n\ttls ops@example.org\n\treverse_proxy litellm:4000\n}\n\n" +
        ":8081 {\n\trespond /healthz 200\n}\n",
    );
    expect(plan.gatewayUrl).toBe("https://llm.example.org:443");
  });

  it("serves the PEM files from the stack's secrets in certificate mode, and needs them", () => {
    const values = rawValues("production") as Record<string, any>;
    values.gateway = { bindAddress: "0.0.0.0", port: 8443, tls: { mode: "certificate" } };
    const plan = planFromValues(values);
    const caddy = container(plan, "gateway-tls");
    expect(caddy.uploads.slice(1)).toEqual([
      { file: "/etc/caddy/tls/cert.pem", content: { parts: [{ secret: "tlsCertificate" }] }, permissions: "0444", owner: "0", group: "0" },
      { file: "/etc/caddy/tls/key.pem", content: { parts: [{ secret: "tlsPrivateKey" }] }, permissions: "0400", owner: "0", group: "0" },
    ]);
    expect(plan.secrets.filter((s) => s.name.startsWith("tls")).map((s) => [s.name, s.optional])).toEqual([
      ["tlsCertificate", false],
      ["tlsPrivateKey", false],
    ]);
  });
});

describe("the smoke test", () => {
  it("sends one chat completion through LiteLLM with the master key after every other service", () => {
    const plan = planFromValues(withAppImages(rawValues("production")));
    const smoke = container(plan, "smoke-test");
    expect(smoke.oneShot).toBe(true);
    expect(smoke.entrypoints?.slice(0, 2)).toEqual(["python3", "-c"]);
    expect(envList(smoke.env, mask).filter((e) => !e.startsWith("PLAN_REVISION="))).toEqual([
      "GATEWAY_URL=http://litellm:4000",
      `LITELLM_MASTER_KEY=${MASK}`,
      "MODEL=qwen2.5-7b-instruct",
      "SMOKE_TIMEOUT_SECONDS=300",
    ]);
    expect(smoke.dependsOn).toEqual([
      "vllm", "postgres", "redis", "qdrant", "object-store", "litellm", "multimodal-worker", "retrieval-proxy", "gateway-tls",
    ]);
  });

  it("runs again when another container changes, and not otherwise", () => {
    const revision = (values: Record<string, unknown>): unknown => container(planFromValues(values), "smoke-test").env.PLAN_REVISION;
    const base = rawValues("production");
    const changed = rawValues("production") as Record<string, any>;
    changed.gpu.memoryUtilization = 0.85;
    expect(revision(base)).toBe(revision(rawValues("production")));
    expect(revision(changed)).not.toBe(revision(base));
  });

  it("is left out when smokeTest.enabled is false", () => {
    const values = rawValues("production");
    values.smokeTest = { enabled: false };
    expect(planFromValues(values).containers.map((c) => c.service)).not.toContain("smoke-test");
  });
});

describe("worker counts by GPU mode", () => {
  it.each([
    ["multi", "8", "4", "8"],
    ["single", "4", "2", "4"],
    ["cpu", "2", "1", "2"],
  ])("%s: LiteLLM %s, multimodal worker %s, retrieval proxy %s", (mode, litellm, worker, retrieval) => {
    const values = withAppImages(rawValues("development")) as Record<string, any>;
    if (mode === "single") {
      values.gpu = { ...values.gpu, mode, vllmDevices: ["0"], nvlink: false, tensorParallelSize: 1 };
    } else if (mode === "cpu") {
      values.gpu = { mode: "cpu" };
    }
    const plan = planFromValues(values, "development");
    expect(container(plan, "litellm").command.at(-1)).toBe(litellm);
    expect(container(plan, "multimodal-worker").env.WORKER_PROCESSES).toBe(worker);
    expect(container(plan, "retrieval-proxy").env.RETRIEVAL_WORKERS).toBe(retrieval);
  });
});

describe("your application images are the switch", () => {
  it("runs each of the worker and the retrieval proxy only when its image is set", () => {
    const services = (images: Record<string, string>): string[] => {
      const values = rawValues("production");
      values.images = { ...(values.images as object), ...images };
      return planFromValues(values).containers.map((c) => c.service).filter((s) => s === "multimodal-worker" || s === "retrieval-proxy");
    };
    expect(services({})).toEqual([]);
    expect(services({ multimodalWorker: "registry.example.com/acme/multimodal-worker:1.0.0" })).toEqual(["multimodal-worker"]);
    expect(services({ retrievalProxy: "registry.example.com/acme/retrieval-proxy:1.0.0" })).toEqual(["retrieval-proxy"]);
  });

  it("leaves out the worker and the retrieval proxy without their images, and the worker's GPU share with them", () => {
    const values = rawValues("production") as Record<string, any>;
    // Over budget with the worker, but the worker does not run.
    values.gpu.workerMemoryFraction = 0.5;
    const plan = planFromValues(values);
    expect(plan.containers.map((c) => c.service)).not.toContain("multimodal-worker");
    expect(plan.containers.map((c) => c.service)).not.toContain("retrieval-proxy");
    expect(container(plan, "smoke-test").dependsOn).toEqual([
      "vllm", "postgres", "redis", "qdrant", "object-store", "litellm", "gateway-tls",
    ]);
    expect(plan.gpuMap).toEqual([{ service: "vllm", hostDevices: ["0", "1"], cudaVisibleDevices: "0,1" }]);
  });
});
