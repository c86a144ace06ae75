/** The gateway on a stack with hosts: LiteLLM lists every replica of the model (src/plan/litellm.ts). */
import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import { LITELLM_CONFIG_PATH } from "../../src/plan/litellm";
import type { StackPlan } from "../../src/plan/types";
import { StackConfigError } from "../../src/config/errors";
import { parseStackConfig } from "../../src/config/parse";
import { fleetPlan, fleetValues } from "../helpers/fleet";
import { planFromValues, rawValues } from "../helpers/stacks";

function litellmConfig(plan: StackPlan): Record<string, any> {
  const litellm = plan.containers.find((c) => c.service === "litellm")!;
  const content = litellm.uploads.find((u) => u.file === LITELLM_CONFIG_PATH)!.content;
  expect(typeof content).toBe("string");
  return parse(content as string) as Record<string, any>;
}

describe("LiteLLM on the example fleet", () => {
  const plan = fleetPlan();
  const doc = litellmConfig(plan);

  it("lists every replica as a deployment of the one model_name, dialled at the replica's endpoint", () => {
    expect(doc.model_list).toEqual([
      {
        model_name: "qwen2.5-7b-instruct",
        litellm_params: {
          model: "hosted_vllm/qwen2.5-7b-instruct",
          api_base: "http://10.20.0.11:8000/v1",
          api_key: "os.environ/VLLM_API_KEY",
        },
        model_info: { id: "gpu-a-0" },
      },
      {
        model_name: "qwen2.5-7b-instruct",
        litellm_params: {
          model: "hosted_vllm/qwen2.5-7b-instruct",
          api_base: "http://10.20.0.12:8000/v1",
          api_key: "os.environ/VLLM_API_KEY",
        },
        model_info: { id: "gpu-b-0" },
      },
    ]);
    // The same addresses the plan reports for the replicas.
    expect(doc.model_list.map((d: any) => d.litellm_params.api_base)).toEqual(
      plan.replicas!.map((r) => `http://${r.endpoint}/v1`),
    );
  });

  it("routes by simple-shuffle with retries and cooldowns in router_settings", () => {
    expect(doc.router_settings).toEqual({
      routing_strategy: "simple-shuffle",
      num_retries: 2,
      cooldown_time: 60,
    });
  });

  it("checks every deployment in the background and routes by the checks, in general_settings", () => {
    expect(doc.general_settings).toEqual({
      master_key: "os.environ/LITELLM_MASTER_KEY",
      database_url: "os.environ/DATABASE_URL",
      background_health_checks: true,
      health_check_interval: 30,
      enable_health_check_routing: true,
    });
  });

  it("keeps LiteLLM's own settings and names no Redis: one gateway keeps its router state in memory", () => {
    // The example fleet runs monitoring: LiteLLM's metrics settings, as on a single host.
    expect(doc.litellm_settings).toEqual({ drop_params: true, callbacks: ["prometheus"], require_auth_for_metrics_endpoint: true });
    expect(Object.keys(doc)).toEqual(["model_list", "router_settings", "litellm_settings", "general_settings"]);
    expect(JSON.stringify(doc)).not.toContain("redis");
  });

  it("dials pinned replicas on their own ports, in the order the stack pins them", () => {
    const v = fleetValues();
    v.hosts[2].gpu = { ...v.hosts[2].gpu, mode: "multi", vllmDevices: ["0", "1"], nvlink: true };
    v.model.placement = [
      { host: "gpu-b", devices: ["1"] },
      { host: "gpu-b", devices: ["0"] },
    ];
    const pinned = litellmConfig(fleetPlan(v));
    expect(pinned.model_list.map((d: any) => [d.model_info.id, d.litellm_params.api_base])).toEqual([
      ["gpu-b-1", "http://10.20.0.12:8001/v1"],
      ["gpu-b-0", "http://10.20.0.12:8000/v1"],
    ]);
  });
});

describe("vLLM's router in front of the replicas (model.router: cache_aware)", () => {
  const values = fleetValues();
  values.model.router = "cache_aware";
  const plan = fleetPlan(values);
  const router = plan.containers.find((c) => c.service === "vllm-router")!;

  it("runs one router on the gateway host, listing every replica's URL, routing by cached prefix", () => {
    expect(plan.containers.filter((c) => c.service === "vllm-router").map((c) => [c.name, c.placement, c.host])).toEqual([
      ["llm-multimodal-stack-fleet-vllm-router", { host: "control" }, "ssh://deploy@10.20.0.10"],
    ]);
    expect(router.image).toBe("vllm/vllm-router:v0.1.16");
    expect(router.entrypoints).toBeUndefined();
    expect(router.command).toEqual([
      "vllm-router",
      "--host",
      "0.0.0.0",
      "--port",
      "8080",
      "--policy",
      "cache_aware",
      "--worker-startup-timeout-secs",
      "1200",
      "--worker-urls",
      "http://10.20.0.11:8000",
      "http://10.20.0.12:8000",
    ]);
    expect(router.ports).toEqual([]);
    expect(router.env).toEqual({});
  });

  it("checks the router's own liveness endpoint", () => {
    expect(router.healthcheck).toEqual({
      tests: ["CMD", "python3", "-c", 'import urllib.request; urllib.request.urlopen("http://localhost:8080/liveness", timeout=5)'],
      interval: "15s",
      timeout: "10s",
      retries: 5,
      startPeriod: "1200s",
    });
    expect(router.waitTimeout).toBe(1200);
  });

  it("points LiteLLM's one deployment at the router, with the same routing settings", () => {
    const doc = litellmConfig(plan);
    expect(doc.model_list).toEqual([
      {
        model_name: "qwen2.5-7b-instruct",
        litellm_params: {
          model: "hosted_vllm/qwen2.5-7b-instruct",
          api_base: "http://vllm-router:8080/v1",
          api_key: "os.environ/VLLM_API_KEY",
        },
        model_info: { id: "vllm-router" },
      },
    ]);
    expect(doc.router_settings.routing_strategy).toBe("simple-shuffle");
    expect(plan.containers.find((c) => c.service === "litellm")!.dependsOn).toEqual(["vllm-router", "postgres"]);
  });

  it("is not planned with the default router, nor on a single-host stack", () => {
    expect(fleetPlan().containers.some((c) => c.service === "vllm-router")).toBe(false);
    const litellm = fleetValues();
    litellm.model.router = "litellm";
    expect(litellmConfig(fleetPlan(litellm)).model_list.map((d: any) => d.model_info.id)).toEqual(["gpu-a-0", "gpu-b-0"]);
  });
});

describe("model.router on a single-host stack", () => {
  it("refuses cache_aware, naming the file, the key, the value and the fix", () => {
    const values = rawValues("production") as Record<string, any>;
    values.model = { ...values.model, router: "cache_aware" };
    let message = "";
    try {
      parseStackConfig(values, "Pulumi.production.yaml");
    } catch (err) {
      expect(err).toBeInstanceOf(StackConfigError);
      message = (err as Error).message;
    }
    expect(message).toBe(
      "Pulumi.production.yaml: invalid stack config:\n" +
        "  - llmstack:model.router: cache_aware puts vLLM's router in front of the model's replicas, and a single-host " +
        'stack runs one vLLM; list llmstack:hosts and set model.replicas, or remove model.router (got "cache_aware")\n' +
        "Fix these keys in Pulumi.production.yaml (every key is in docs/configuration.md).",
    );
  });

  it("accepts litellm, which plans exactly as without the key", () => {
    const values = rawValues("production") as Record<string, any>;
    const plain = planFromValues(structuredClone(values));
    values.model = { ...values.model, router: "litellm" };
    expect(planFromValues(values).containers).toEqual(plain.containers);
  });
});
