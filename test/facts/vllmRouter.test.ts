/** vLLM's router as planned, held against its recorded facts (src/facts/vllmRouter.ts, imageRecords.ts). */
import { describe, expect, it } from "vitest";
import { imageFactsFor } from "../../src/facts/images";
import {
  CACHE_AWARE_POLICY,
  VLLM_ROUTER_FLAGS,
  VLLM_ROUTER_FORWARDS_AUTHORIZATION,
  VLLM_ROUTER_IMAGE_PORT,
  VLLM_ROUTER_LIVENESS_PATH,
  VLLM_ROUTER_RELEASE,
} from "../../src/facts/vllmRouter";
import { INTERNAL_PORTS } from "../../src/plan/common";
import { fleetPlan, fleetValues } from "../helpers/fleet";

describe("vLLM's router against its facts", () => {
  const values = fleetValues();
  values.model.router = "cache_aware";
  const router = fleetPlan(values).containers.find((c) => c.service === "vllm-router")!;
  const record = imageFactsFor(router.image);

  it("pins the recorded release, whose image runs the Rust binary as its command", () => {
    expect(router.image).toBe(`vllm/vllm-router:${VLLM_ROUTER_RELEASE.tag}`);
    expect(record.ref).toBe(router.image);
    expect([record.entrypoint, record.commandRole, record.cmd[0]]).toEqual([[], "program", "vllm-router"]);
    expect(router.command[0]).toBe(record.cmd[0]);
    expect(record.programs).toContain("vllm-router");
  });

  it("passes only recorded flags, and listens where the image's CMD does", () => {
    const flags = router.command.filter((a) => a.startsWith("--"));
    expect(flags).toEqual([
      VLLM_ROUTER_FLAGS.host,
      VLLM_ROUTER_FLAGS.port,
      VLLM_ROUTER_FLAGS.policy,
      VLLM_ROUTER_FLAGS.workerStartupTimeoutSecs,
      VLLM_ROUTER_FLAGS.workerUrls,
    ]);
    const at = (flag: string) => router.command[router.command.indexOf(flag) + 1];
    expect(at(VLLM_ROUTER_FLAGS.policy)).toBe(CACHE_AWARE_POLICY);
    expect(at(VLLM_ROUTER_FLAGS.port)).toBe(String(VLLM_ROUTER_IMAGE_PORT));
    expect(INTERNAL_PORTS.vllmRouter).toBe(VLLM_ROUTER_IMAGE_PORT);
    expect(record.cmd).toEqual(["vllm-router", "--host", "0.0.0.0", "--port", String(VLLM_ROUTER_IMAGE_PORT)]);
    // The worker URLs are the last arguments: the flag takes every value after it.
    expect(router.command.slice(router.command.indexOf(VLLM_ROUTER_FLAGS.workerUrls) + 1)).toEqual([
      "http://10.20.0.11:8000",
      "http://10.20.0.12:8000",
    ]);
  });

  it("checks the router's liveness route with a program its image has", () => {
    expect(router.healthcheck!.tests[1]).toBe("python3");
    expect(record.programs).toContain("python3");
    expect(router.healthcheck!.tests[3]).toContain(`:${VLLM_ROUTER_IMAGE_PORT}${VLLM_ROUTER_LIVENESS_PATH}"`);
  });

  it("carries no secret: LiteLLM's Authorization header is handed on to vLLM", () => {
    expect(VLLM_ROUTER_FORWARDS_AUTHORIZATION.forwards).toBe(true);
    expect(router.env).toEqual({});
    expect(router.command.some((a) => a.includes("api-key"))).toBe(false);
  });
});
