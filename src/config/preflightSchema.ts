/**
 * `llmstack:preflight` in a stack file: whether `pulumi up` checks the host's GPUs before it registers any
 * GPU container. Turn it off only for hosts checked another way (the gate then logs that it is off).
 */
import { z } from "zod";

export const preflightSchema = z.strictObject({
  /** Run the GPU checks inside `pulumi up`/`preview`; default true. */
  enabled: z.boolean().default(true),
});
export type PreflightConfig = z.infer<typeof preflightSchema>;
