/** The monitoring containers as registered under Pulumi mocks from the checked-in staging stack. */
import { beforeAll, describe, expect, it } from "vitest";
import { runProgram, TEST_SECRETS, testPinned, type MockRun } from "../helpers/pulumiMocks";

let run: MockRun;
beforeAll(async () => {
  // The host preflight runs nvidia-smi on the Docker host; it has its own tests.
  run = await runProgram("staging", { "llmstack:preflight": { enabled: false } });
}, 60_000);

const containerNamed = (service: string) => run.byName(`staging-${service}-container`);

/** Pulumi's wire form of a secret value: an object carrying this signature key. */
const SECRET_SIG = "4dabf18193072939515e22adb298388d";
function reveal(v: unknown): { secret: boolean; value: unknown } {
  if (v !== null && typeof v === "object" && SECRET_SIG in (v as object)) {
    return { secret: true, value: (v as { value: unknown }).value };
  }
  return { secret: false, value: v };
}

describe("monitoring under Pulumi mocks (staging)", () => {
  it("registers the components and containers with pinned images on the stack network", () => {
    expect(run.error).toBeUndefined();
    const types = run.registrations.map((r) => r.type);
    for (const t of ["DcgmExporter", "Prometheus", "Alertmanager", "Grafana"]) expect(types).toContain(`llmstack:service:${t}`);
    const images = ["dcgm-exporter", "prometheus", "alertmanager", "grafana"].map(
      (s) => run.byName(`staging-${s}-image`).inputs.name,
    );
    expect(images).toEqual(
      [
        "nvcr.io/nvidia/k8s/dcgm-exporter:4.2.3-4.1.3-ubuntu22.04",
        "prom/prometheus:v3.5.0",
        "prom/alertmanager:v0.28.1",
        "grafana/grafana:12.2.0",
      ].map(testPinned),
    );
    expect(containerNamed("prometheus").inputs.networksAdvanced).toEqual([
      { name: "llm-multimodal-stack-staging", aliases: ["prometheus"] },
    ]);
  });

  it("mounts the retained data volumes and uploads the config, rules and dashboards", () => {
    expect(containerNamed("prometheus").inputs.volumes).toEqual([
      { volumeName: "llm-multimodal-stack-staging-prometheus-data", containerPath: "/prometheus" },
    ]);
    expect(containerNamed("grafana").inputs.volumes).toEqual([
      { volumeName: "llm-multimodal-stack-staging-grafana-data", containerPath: "/var/lib/grafana" },
    ]);
    const files = (service: string) =>
      (reveal(containerNamed(service).inputs.uploads).value as { file: string }[]).map((u) => u.file);
    expect(files("prometheus")).toEqual([
      "/etc/prometheus/prometheus.yml",
      "/etc/prometheus/rules/llmstack.rules.yml",
      "/etc/prometheus/secrets/litellm-master-key",
    ]);
    expect(files("grafana")).toEqual([
      "/etc/grafana/provisioning/datasources/llmstack.yml",
      "/etc/grafana/provisioning/dashboards/llmstack.yml",
      "/etc/grafana/dashboards/llmstack-gpu.json",
      "/etc/grafana/dashboards/llmstack-vllm.json",
      "/etc/grafana/dashboards/llmstack-litellm.json",
    ]);
    const retained = run.options
      .filter((o) => o.type === "docker:index/volume:Volume" && /(prometheus|grafana)-data$/.test(o.name))
      .map((o) => [o.name, o.opts.retainOnDelete]);
    expect(retained).toEqual([
      ["staging-prometheus-data", true],
      ["staging-grafana-data", true],
    ]);
  });

  it("resolves Grafana's password and LiteLLM's key from the stack secrets, only as secret values", () => {
    const envs = reveal(containerNamed("grafana").inputs.envs);
    expect(envs.secret).toBe(true);
    expect(envs.value).toContain(`GF_SECURITY_ADMIN_PASSWORD=${TEST_SECRETS.grafanaAdminPassword}`);
    // A secret inside the uploads list makes Pulumi mark the whole list secret.
    const uploads = reveal(containerNamed("prometheus").inputs.uploads);
    expect(uploads.secret).toBe(true);
    expect((uploads.value as { content: string }[])[2]!.content).toBe(TEST_SECRETS.litellmMasterKey);
    const argv = JSON.stringify(containerNamed("grafana").inputs.command ?? []);
    expect(argv).not.toContain(TEST_SECRETS.grafanaAdminPassword!);
  });

  it("gives DCGM both GPUs and waits for DCGM, Prometheus and Grafana to turn healthy", () => {
    expect(containerNamed("dcgm-exporter").inputs.deviceRequests).toEqual([
      { driver: "nvidia", deviceIds: ["0", "1"], capabilities: ["gpu", "utility"] },
    ]);
    expect(containerNamed("prometheus").inputs.wait).toBe(true);
    expect(containerNamed("grafana").inputs.wait).toBe(true);
    expect(containerNamed("dcgm-exporter").inputs.wait).toBe(true);
    expect(containerNamed("dcgm-exporter").inputs.healthcheck).toEqual({
      tests: ["CMD", "bash", "-c", "exec 3<>/dev/tcp/127.0.0.1/9400"],
      interval: "15s",
      timeout: "10s",
      retries: 5,
      startPeriod: "60s",
    });
  });
});
