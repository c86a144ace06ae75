/** The gateway's LiteLLM config held against LiteLLM's recorded settings (src/facts/litellmRouter.ts). */
import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import { LITELLM_COOLDOWN, LITELLM_ROUTER_SETTINGS, type LitellmSection } from "../../src/facts/litellmRouter";
import { GATEWAY_ROUTING, LITELLM_CONFIG_PATH } from "../../src/plan/litellm";
import { fleetPlan } from "../helpers/fleet";

const SECTIONS: readonly LitellmSection[] = ["router_settings", "general_settings", "litellm_settings"];

describe("LiteLLM's router settings", () => {
  const litellm = fleetPlan().containers.find((c) => c.service === "litellm")!;
  const doc = parse(litellm.uploads.find((u) => u.file === LITELLM_CONFIG_PATH)!.content as string) as Record<string, any>;

  it("puts each routing setting in the section LiteLLM reads it from, and nowhere else", () => {
    for (const [key, value] of Object.entries(GATEWAY_ROUTING)) {
      const fact = LITELLM_ROUTER_SETTINGS[key as keyof typeof LITELLM_ROUTER_SETTINGS];
      expect([key, doc[fact.section]?.[key]]).toEqual([key, value]);
      for (const other of SECTIONS.filter((s) => s !== fact.section)) {
        expect([key, other, Object.hasOwn(doc[other] ?? {}, key)]).toEqual([key, other, false]);
      }
    }
  });

  it("records the sections LiteLLM v1.84.0 documents", () => {
    expect(Object.entries(LITELLM_ROUTER_SETTINGS).map(([k, f]) => [k, f.section])).toEqual([
      ["routing_strategy", "router_settings"],
      ["num_retries", "router_settings"],
      ["allowed_fails", "router_settings"],
      ["cooldown_time", "router_settings"],
      ["background_health_checks", "general_settings"],
      ["health_check_interval", "general_settings"],
      ["enable_health_check_routing", "general_settings"],
      ["redis_host", "router_settings"],
    ]);
  });

  it("names a source for every setting", () => {
    for (const fact of Object.values(LITELLM_ROUTER_SETTINGS)) {
      expect(fact.source).toMatch(/^BerriAI\/litellm docs\/my-website\/docs\/proxy\/(config_settings|health_check_routing)\.md \(read at [0-9a-f]{40}\)/);
    }
  });

  it("leaves allowed_fails unset: at LiteLLM's default it changes nothing, any other value swaps the ratio rule for a count", () => {
    for (const section of SECTIONS) expect([section, Object.hasOwn(doc[section] ?? {}, "allowed_fails")]).toEqual([section, false]);
    // The rest after a failure is cooldown_time's, which the gateway sets.
    expect(doc.router_settings[LITELLM_COOLDOWN.restSetting]).toBe(60);
  });

  it("sets no key of router_settings that LiteLLM's table does not place there", () => {
    const placed = Object.entries(LITELLM_ROUTER_SETTINGS)
      .filter(([, f]) => f.section === "router_settings")
      .map(([k]) => k);
    expect(Object.keys(doc.router_settings).filter((k) => !placed.includes(k))).toEqual([]);
  });
});
