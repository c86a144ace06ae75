/**
 * `llmstack plan --diff` end to end on a stack with hosts: the example fleet committed in a temporary
 * repository, one replica fewer in the working tree; the text and the markdown are shown host by host.
 */
import { cpSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { FLEET_DIR, FLEET_FILE } from "../helpers/fleet";
import { commit, edit, projectRepo, run, useScratch } from "./repo";

const scratch = useScratch();

describe("plan --diff on the example fleet", () => {
  it("prints the change host by host, as text and as markdown, and exits 2", async () => {
    const repo = projectRepo(scratch(), "fleet");
    cpSync(join(FLEET_DIR, FLEET_FILE), join(repo, FLEET_FILE));
    commit(repo, "the example fleet");
    edit(join(repo, FLEET_FILE), "    replicas: 2\n", "    replicas: 1\n");
    const text = await run(["plan", "--stack", "fleet", "--diff", "HEAD", "--render-with", "current"], repo);
    expect([text.code, text.stderr]).toEqual([2, ""]);
    const lines = text.stdout.split("\n");
    expect(lines.filter((l) => l.startsWith("host "))).toEqual([
      "host control (ssh://deploy@10.20.0.10)",
      "host gpu-a (ssh://deploy@10.20.0.11): no changes",
      "host gpu-b (tcp://10.20.0.12:2376)",
    ]);
    expect(lines.slice(lines.indexOf("host gpu-b (tcp://10.20.0.12:2376)"))).toEqual([
      "host gpu-b (tcp://10.20.0.12:2376)",
      "-   model-download  delete",
      "-   vllm gpu-b-0    delete (restart with downtime: GPU container, frees its GPUs and reloads the model)",
      "-   DATA volume hf-cache (llm-multimodal-stack-fleet-hf-cache): removed from the program — retained: the data stays on the host, orphaned",
      "    unchanged: dcgm-exporter",
      "",
      "3 to replace, 0 to update in place, 0 to create, 2 to delete, 11 unchanged; volumes: 1 to delete",
      "",
    ]);
    const md = await run(["plan", "--stack", "fleet", "--diff", "HEAD", "--render-with", "current", "--markdown"], repo);
    expect(md.code).toBe(2);
    expect(md.stdout.split("\n").filter((l) => l.startsWith("#### "))).toEqual([
      "#### Host `control` (`ssh://deploy@10.20.0.10`)",
      "#### Host `gpu-a` (`ssh://deploy@10.20.0.11`): no changes",
      "#### Host `gpu-b` (`tcp://10.20.0.12:2376`)",
    ]);
  });
});
