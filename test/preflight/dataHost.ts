/**
 * A host for the data volume checks (postgres.data, qdrant.data) through `llmstack validate`'s gathering: a
 * daemon that answers and has every image, and volume scripts whose output a test gives.
 */
import { parseStackConfig } from "../../src/config/parse";
import type { ExecResult } from "../../src/exec";
import { stackNeeds, type StackNeeds } from "../../src/preflight/needs";
import { runPreflight } from "../../src/preflight/run";
import type { CheckResult } from "../../src/preflight/types";
import { fakeIo, type ExecCall } from "../helpers/fakeIo";
import { planFromValues, rawValues } from "../helpers/stacks";

/** The development stack in cpu mode, with `images` over its own. */
export function cpuNeedsWith(images: Record<string, string>): StackNeeds {
  const values = rawValues("development");
  values.gpu = { mode: "cpu" };
  values.images = { ...(values.images as object), ...images };
  return stackNeeds(parseStackConfig(values, "Pulumi.development.yaml"), planFromValues(values, "development"));
}

const ok = (stdout: string): ExecResult => ({ code: 0, stdout, stderr: "" });

/** runPreflight's results, each volume script (`sh -s`) answered with what `volumeOutput` says for it. */
export async function dataCheckResults(needs: StackNeeds, volumeOutput: (script: string) => string): Promise<CheckResult[]> {
  const handler = (c: ExecCall): ExecResult => {
    if (c.file === "sh" && c.opts?.input?.includes("volume inspect")) return ok(volumeOutput(c.opts.input));
    if (c.file !== "docker") return { code: 127, stdout: "", stderr: "not found" };
    if (c.args[2] === "version") return ok(JSON.stringify({ Server: { Version: "28.2.2", ApiVersion: "1.50" } }));
    if (c.args[2] === "image") return ok("sha256:0123\n");
    return { code: 1, stdout: "", stderr: "unexpected" };
  };
  const io = fakeIo("/nowhere", handler, { PATH: "/usr/bin" });
  return runPreflight(needs, io.exec, io.env);
}
