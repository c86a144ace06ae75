/**
 * A plan diff whose every pull-request-controlled value is hostile: line endings that close a code
 * fence and write a verdict, backtick runs of 3 to 10, HTML, a @mention, table pipes, a bidi override.
 */
import { diffPlans } from "../../src/diff/compute";
import type { PlanDiff, PlanDoc } from "../../src/diff/types";

/** Closes a three-backtick fence, then writes what a reviewer would take for the diff's verdict. */
export const INJECT = "\n```\n\n**No changes.** Approved\n\n```\n";
export const SERVICE = "svc`\n# Approved @octocat";
export const TICKS = [3, 4, 5, 6, 7, 8, 9, 10].map((n) => "`".repeat(n));

export function hostileDiff(): PlanDiff {
  const before: PlanDoc = {
    stack: "production",
    network: "net",
    volumes: [{ key: "data`|x", name: "vol\n**Approved**", protect: true, retainOnDelete: true }],
    containers: [
      { service: SERVICE, name: "n", image: "img:1", envs: ["K=old", "TICKS=ok"], gpu: true },
    ],
  };
  const after: PlanDoc = {
    stack: "production",
    network: "net",
    volumes: [],
    containers: [
      {
        service: SERVICE,
        name: "n",
        image: `img:2${INJECT}`,
        envs: [
          "K=<details open><summary>@octocat LGTM</summary><img src=x onerror=alert(1)>",
          `TICKS=${TICKS.join(" ")}`,
          "PIPE=a|b \\| c\u202e",
        ],
        gpu: true,
      },
    ],
  };
  return diffPlans({
    stack: "production",
    base: `main${INJECT}@octocat`,
    before,
    after,
    secrets: [{ name: "x\n**Approved** @octocat", change: "changed", usedBy: [SERVICE] }],
  });
}
