/**
 * Which planner plans each service of the stack (the "stack" group of the service table,
 * src/config/services.ts), in the order the plan lists them. Each planner file exports the planners of
 * the services it plans; this file puts the files' maps in order, and its type makes every service of
 * the group have a planner. The monitoring services are planned by src/monitoring/plan.ts, the smoke test
 * last from all the others (./smokeTest.ts).
 */
import type { ServicesIn } from "../config/services";
import { APP_PLANNERS } from "./apps";
import type { Planner } from "./common";
import { DATA_STORE_PLANNERS } from "./dataStores";
import { GATEWAY_TLS_PLANNERS } from "./gatewayTls";
import { LITELLM_PLANNERS } from "./litellm";
import { VLLM_PLANNERS } from "./vllm";
import { VLLM_ROUTER_PLANNERS } from "./vllmRouter";

export const PLANNERS = {
  ...VLLM_PLANNERS,
  ...DATA_STORE_PLANNERS,
  ...VLLM_ROUTER_PLANNERS,
  ...LITELLM_PLANNERS,
  ...APP_PLANNERS,
  ...GATEWAY_TLS_PLANNERS,
} satisfies { readonly [S in ServicesIn<"stack">]: Planner };

/** The planned services, in plan order. */
export const PLANNED_SERVICES = Object.keys(PLANNERS) as ServicesIn<"stack">[];
