/**
 * Blue-green vLLM (`llmstack:rollout: {strategy: blue-green}`). Every vLLM the stack plans has a name of
 * its own, `<project>-<stack>-vllm-<generation>`, the generation being a hash of its container settings,
 * and is replaced create-first (deleteBeforeReplace off). A changed vLLM is then a new container beside
 * the running one:
 * - Pulumi creates the replacement first and deletes the old resource only after that
 *   (https://www.pulumi.com/docs/iac/concepts/options/deletebeforereplace/: "By default, Pulumi creates
 *   the replacement resource before deleting the old one");
 * - the Docker provider's create of the new vLLM waits for its health check (`wait`, src/plan/render.ts),
 *   so it succeeds only once the new vLLM answers /health;
 * - LiteLLM, which depends on vLLM, reaches vLLM by that generation's container name (Docker's DNS on a
 *   user-defined network resolves container names: https://docs.docker.com/engine/network/drivers/bridge/),
 *   so its config changes with the generation and it is replaced only after the new vLLM is healthy.
 * The old vLLM holds its GPUs until it is deleted, so the new one must fit beside it: this file checks
 * that against the running vLLM's config (the stack's last good config) with the one GPU budget rule,
 * gpuBookings() (src/config/gpuBookings.ts).
 */
import { createHash } from "node:crypto";
import { canonical } from "../config/canonical";
import { StackConfigError } from "../config/errors";
import { gpuBookings, problemText, sectionTenants, type GpuTenant } from "../config/gpuBookings";
import { isBlueGreen } from "../config/rolloutSchema";
import type { GpuModeConfig, StackConfig } from "../config/schema";
import { serviceRuns } from "../config/services";
import { physicalName, type PlanContext } from "./common";
import { planVllm } from "./vllm";

/** The name the budget gives the vLLM that runs until the new one is healthy. */
export const RUNNING_VLLM = "the running vLLM";

/** The vLLM container's settings hashed, its name aside: equal settings, one generation. */
export function vllmGeneration(ctx: PlanContext): string {
  const { name: _name, ...settings } = planVllm({ ...ctx, vllmName: undefined });
  return createHash("sha256").update(canonical(settings)).digest("hex").slice(0, 8);
}

/** The context the planner uses: with a blue-green rollout, vLLM's generation name. */
export function withVllmName(ctx: PlanContext): PlanContext {
  if (!isBlueGreen(ctx.config)) return ctx;
  return { ...ctx, vllmName: `${physicalName(ctx, "vllm")}-${vllmGeneration(ctx)}` };
}

const gpuSection = (config: StackConfig): GpuModeConfig | null => (config.gpu.mode === "cpu" ? null : config.gpu);

/** "01" and "1" are one index; UUIDs compare without letter case (as gpuBookings names GPUs offline). */
const gpuKey = (id: string): string => (/^\d+$/.test(id) ? id.replace(/^0+(?=\d)/, "") : id.toLowerCase());

/**
 * Refuses a blue-green update whose new vLLM cannot run beside the running one: a GPU both use, or a GPU
 * the budget rule overbooks with both (and the worker) on it. `running` is the running stack's config;
 * undefined when nothing runs yet. Nothing to check when vLLM does not change.
 */
export function checkBlueGreen(ctx: PlanContext, running: StackConfig | undefined): void {
  if (!isBlueGreen(ctx.config) || running === undefined) return;
  const before: PlanContext = { ...ctx, config: running };
  if (vllmGeneration(before) === vllmGeneration(ctx)) return;
  const now = gpuSection(ctx.config);
  const old = gpuSection(running);
  if (now === null || old === null) return;
  const where = `${ctx.stackFile}: llmstack:rollout.strategy blue-green starts the new vLLM beside the running one`;
  const shared = now.vllmDevices.filter((id) => old.vllmDevices.some((o) => gpuKey(o) === gpuKey(id)));
  if (shared.length > 0) {
    throw new StackConfigError(
      `${where}, so they cannot share a GPU, but gpu.vllmDevices [${now.vllmDevices.join(", ")}] and the running ` +
        `vLLM's [${old.vllmDevices.join(", ")}] share GPU ${shared.join(", ")}; give gpu.vllmDevices GPUs the running ` +
        "vLLM does not use, or set llmstack:rollout.strategy to replace (vLLM stops before the new one starts)",
    );
  }
  const running_: GpuTenant = {
    name: RUNNING_VLLM,
    key: "memoryUtilization",
    devicesKey: "vllmDevices",
    devices: old.vllmDevices,
    fraction: old.memoryUtilization,
    // It may restart (restart: unless-stopped) while the new one runs: its own start-up check counts too.
    checksFreeAtStart: true,
  };
  const runs = (s: Parameters<typeof serviceRuns>[1]) => serviceRuns(ctx.config.images, s);
  const budget = gpuBookings([...sectionTenants(now, runs), running_], { memoryMiB: now.memoryMiB ?? old.memoryMiB });
  if (budget.problems.length > 0) {
    throw new StackConfigError(
      `${where}, and the GPUs do not hold both at once:\n` +
        budget.problems.map((p) => `  - gpu.${p.key}: ${problemText(p)}`).join("\n") +
        "\nFree GPUs for the new vLLM, or set llmstack:rollout.strategy to replace (vLLM stops before the new one starts).",
    );
  }
}
