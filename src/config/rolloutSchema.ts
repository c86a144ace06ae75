/**
 * `llmstack:rollout`: how a change to vLLM reaches the host. Its own file beside schema.ts, as the
 * monitoring and preflight sections are.
 */
import { z } from "zod";

export const ROLLOUT_STRATEGIES = ["replace", "blue-green"] as const;

export const rolloutSchema = z
  .strictObject({
    strategy: z
      .enum(ROLLOUT_STRATEGIES)
      .default("replace")
      .describe(
        "replace: a changed vLLM stops before the new one starts (its GPUs and name are freed; nothing serves the model " +
          "until the new one is healthy). blue-green: the new vLLM starts beside the running one on other GPUs, the " +
          "gateway moves to it once it is healthy, and the old one is removed after; gpu.vllmDevices must name GPUs " +
          "the running vLLM does not use, and both must fit the GPU budget at once (deploy with llmstack up)",
      ),
  })
  .describe("How a change to vLLM is rolled out (docs/operations.md, Rolling back)");

export type RolloutConfig = z.infer<typeof rolloutSchema>;

/** Whether a stack rolls vLLM changes out blue-green. */
export function isBlueGreen(config: { readonly rollout?: RolloutConfig | undefined }): boolean {
  return config.rollout?.strategy === "blue-green";
}

/** The schema's cross-field rule: a CPU stack has no GPU to bring a second vLLM up on. */
export function rolloutIssues(
  cfg: {
    readonly rollout?: RolloutConfig | undefined;
    readonly gpu?: { readonly mode: string } | undefined;
    readonly hosts?: readonly unknown[] | undefined;
  },
  ctx: z.RefinementCtx,
): void {
  if (isBlueGreen(cfg) && cfg.hosts !== undefined) {
    // The running vLLM it is checked against is one container on one host; a fleet's replicas are not.
    ctx.addIssue({
      code: "custom",
      path: ["rollout", "strategy"],
      message: "blue-green is for a single-host stack (one vLLM); a stack with hosts rolls out by replacement; use replace",
    });
    return;
  }
  if (isBlueGreen(cfg) && cfg.gpu?.mode === "cpu") {
    ctx.addIssue({
      code: "custom",
      path: ["rollout", "strategy"],
      message: "blue-green brings a second vLLM up on GPUs to spare, and a cpu stack has none; use replace",
    });
  }
}
