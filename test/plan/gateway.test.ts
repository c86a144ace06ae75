/** The gateway on a stack with hosts: LiteLLM lists every replica of the model (src/plan/litellm.ts). */
import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import { LITELLM_CONFIG_PATH } from "../../src/plan/litellm";
import type { StackPlan } from "../../src/plan/types";
import { fleetPlan, fleetValues } from "../helpers/fleet";

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
      allowed_fails: 3,
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
    expect(doc.litellm_settings).toEqual({ drop_params: true });
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
