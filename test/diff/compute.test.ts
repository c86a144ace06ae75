import { describe, expect, it } from "vitest";
import {
  argvChanges,
  diffContainer,
  diffPlans,
  effectOf,
  envChanges,
  labelChanges,
  lineChanges,
  uploadChanges,
} from "../../src/diff/compute";
import { diffMarkdown } from "../../src/diff/markdown";
import { diffText, formatChange } from "../../src/diff/render";
import type { ContainerJson, PlanDoc } from "../../src/diff/types";
import { planJson } from "../../src/plan/render";
import { planFromValues, rawValues } from "../helpers/stacks";

function doc(values: Record<string, unknown>, stack = "production"): PlanDoc {
  return planJson(planFromValues(values, stack)) as unknown as PlanDoc;
}

function production(edit: (v: Record<string, any>) => void = () => undefined): PlanDoc {
  const v = rawValues("production") as Record<string, any>;
  edit(v);
  return doc(v);
}

const services = (d: PlanDoc): string[] => d.containers.map((c) => c.service);

function envOf(d: PlanDoc, service: string, key: string): string {
  const envs = d.containers.find((c) => c.service === service)!.envs as string[];
  return envs.find((e) => e.startsWith(`${key}=`))!.slice(key.length + 1);
}

describe("diffPlans on plans of the checked-in production stack", () => {
  it("utilisation 0.9 → 0.85 replaces vLLM (downtime) and re-runs the smoke test; nothing else", () => {
    const before = production();
    const after = production((v) => (v.gpu.memoryUtilization = 0.85));
    const d = diffPlans({ stack: "production", base: "main", before, after });
    const changed = d.containers.filter((c) => c.action !== "unchanged");
    // The utilisation feeds vLLM's argv, and its label, which restates the flag and so shows under it, once
    // (the worker carries its own fraction; Prometheus's GPU memory rule has a fixed threshold). The smoke
    // test's PLAN_REVISION is a hash of every other container: it runs after any change.
    expect(changed).toEqual([
      {
        service: "vllm",
        name: "llm-multimodal-stack-production-vllm",
        action: "replace",
        downtime: true,
        rerun: false,
        secrets: [],
        changes: [{ field: "command --gpu-memory-utilization", effect: "replace", old: "0.9", new: "0.85" }],
      },
      {
        service: "smoke-test",
        name: "llm-multimodal-stack-production-smoke-test",
        action: "replace",
        downtime: false,
        rerun: true,
        secrets: [],
        changes: [
          {
            field: "envs[PLAN_REVISION]",
            effect: "replace",
            old: envOf(before, "smoke-test", "PLAN_REVISION"),
            new: envOf(after, "smoke-test", "PLAN_REVISION"),
          },
        ],
      },
    ]);
    expect(envOf(before, "smoke-test", "PLAN_REVISION")).not.toBe(envOf(after, "smoke-test", "PLAN_REVISION"));
    expect(d.counts).toEqual({ create: 0, update: 0, replace: 2, delete: 0, unchanged: services(after).length - 2 });
    expect(d.changed).toBe(true);
  });

  it("identical plans change nothing", () => {
    const d = diffPlans({ stack: "production", base: "HEAD", before: production(), after: production() });
    expect(d.changed).toBe(false);
    expect(d.containers.every((c) => c.action === "unchanged" && c.changes.length === 0)).toBe(true);
  });

  it("a stack missing at the base creates every container; a removed one deletes them", () => {
    const after = production();
    const added = diffPlans({ stack: "production", base: "main", before: null, after });
    expect(added.stackAdded).toBe(true);
    expect(added.containers.map((c) => c.action)).toEqual(services(after).map(() => "create"));
    const removed = diffPlans({ stack: "production", base: "main", before: after, after: null });
    expect(removed.stackRemoved).toBe(true);
    expect(removed.containers.map((c) => c.action)).toEqual(services(after).map(() => "delete"));
  });
});

describe("diffContainer: which fields Docker changes in place", () => {
  const base: ContainerJson = {
    service: "litellm",
    name: "p-litellm",
    image: "ghcr.io/berriai/litellm:v1.84.0",
    command: ["--port", "4000"],
    envs: ["A=1", "LITELLM_MASTER_KEY=********"],
    restart: "unless-stopped",
    memory: 4096,
    gpu: false,
    dependsOn: ["vllm"],
  };

  it("restart policy and memory limit update in place", () => {
    const d = diffContainer(base, { ...base, restart: "no", memory: 2048 });
    expect(d).toEqual({
      service: "litellm",
      name: "p-litellm",
      action: "update",
      downtime: false,
      rerun: false,
      secrets: [],
      changes: [
        { field: "restart", effect: "update", old: "unless-stopped", new: "no" },
        { field: "memory", effect: "update", old: 4096, new: 2048 },
      ],
    });
  });

  it("a replacing field wins over in-place ones and is listed first", () => {
    const d = diffContainer(base, { ...base, memory: 2048, image: "ghcr.io/berriai/litellm:v1.85.0" });
    expect(d.action).toBe("replace");
    expect(d.changes.map((c) => [c.field, c.effect])).toEqual([
      ["image", "replace"],
      ["memory", "update"],
    ]);
  });

  it("plan-only facts (dependsOn, gpu, deleteBeforeReplace, service) change nothing on the host", () => {
    expect(diffContainer(base, { ...base, dependsOn: [], deleteBeforeReplace: false }).action).toBe("unchanged");
  });

  it("a replaced GPU container is downtime; a replaced CPU one is not", () => {
    expect(diffContainer({ ...base, gpu: true }, { ...base, gpu: true, command: ["--port", "1"] }).downtime).toBe(true);
    expect(diffContainer(base, { ...base, command: ["--port", "1"] }).downtime).toBe(false);
    expect(diffContainer({ ...base, gpu: true }, { ...base, gpu: true, memory: 1 }).downtime).toBe(false);
  });

  it("effectOf follows the provider: restart/memory in place, everything else replaces", () => {
    expect(["restart", "memory", "memorySwap", "cpuShares", "wait", "waitTimeout"].map(effectOf)).toEqual(
      Array(6).fill("update"),
    );
    expect(["image", "envs", "command", "ports", "shmSize", "ipcMode", "healthcheck", "host"].map(effectOf)).toEqual(
      Array(8).fill("replace"),
    );
  });
});

describe("envChanges and argvChanges", () => {
  it("shows each env entry, masked secrets stay masked, added and removed keys named", () => {
    expect(
      envChanges(
        ["NCCL_P2P_LEVEL=NVL", "KEY=********", "OLD=1", "URL=a=b"],
        ["NCCL_P2P_LEVEL=PHB", "KEY=********", "NEW=2", "URL=a=c"],
      ),
    ).toEqual([
      { field: "envs[NCCL_P2P_LEVEL]", effect: "replace", old: "NVL", new: "PHB" },
      { field: "envs[NEW]", effect: "replace", new: "2" },
      { field: "envs[OLD]", effect: "replace", old: "1" },
      { field: "envs[URL]", effect: "replace", old: "a=b", new: "a=c" },
    ]);
  });

  it("names argv changes by flag, by --flag=value, or by index; a new length shows the whole list", () => {
    expect(argvChanges("command", ["serve", "--tp", "2", "--x=1"], ["serve2", "--tp", "4", "--x=3"], "replace")).toEqual([
      { field: "command[0]", effect: "replace", old: "serve", new: "serve2" },
      { field: "command --tp", effect: "replace", old: "2", new: "4" },
      { field: "command --x", effect: "replace", old: "--x=1", new: "--x=3" },
    ]);
    expect(argvChanges("command", ["a"], ["a", "--flag"], "replace")).toEqual([
      { field: "command", effect: "replace", old: ["a"], new: ["a", "--flag"] },
    ]);
  });
});

describe("labels", () => {
  const vllm = (tp: string, labels: { label: string; value: string }[]): ContainerJson => ({
    service: "vllm",
    name: "p-vllm",
    command: ["--tensor-parallel-size", tp],
    labels,
  });
  const tpLabel = (value: string) => ({ label: "llmstack.vllm.tensor-parallel-size", value });

  it("are compared per key, added and removed keys named, and replace the container", () => {
    expect(labelChanges([tpLabel("2"), { label: "x", value: "a" }], [tpLabel("4"), { label: "y", value: "b" }])).toEqual([
      { field: "labels[llmstack.vllm.tensor-parallel-size]", effect: "replace", old: "2", new: "4" },
      { field: "labels[x]", effect: "replace", old: "a" },
      { field: "labels[y]", effect: "replace", new: "b" },
    ]);
  });

  it("a label that restates a flag shows once, under the flag, when both change alike", () => {
    expect(diffContainer(vllm("2", [tpLabel("2")]), vllm("4", [tpLabel("4")])).changes).toEqual([
      { field: "command --tensor-parallel-size", effect: "replace", old: "2", new: "4" },
    ]);
  });

  it("a label change without its flag's (a program change) still shows: it replaces the container", () => {
    const d = diffContainer(vllm("2", []), vllm("2", [tpLabel("2")]));
    expect(d.action).toBe("replace");
    expect(d.changes).toEqual([{ field: "labels[llmstack.vllm.tensor-parallel-size]", effect: "replace", new: "2" }]);
  });
});

describe("render", () => {
  const before = production();
  const after = production((v) => (v.gpu.memoryUtilization = 0.85));
  const d = diffPlans({ stack: "production", base: "origin/main", before, after });

  it("text: one line per container, the changed fields under it, a summary", () => {
    const lines = diffText(d).split("\n");
    expect(lines[0]).toBe("stack production: changes since origin/main");
    const i = lines.findIndex((l) => l.includes(" vllm "));
    expect(lines[i]).toMatch(
      /^-\/\+ vllm +replace \(restart with downtime: GPU container, frees its GPUs and reloads the model\)$/,
    );
    expect(lines[i + 1]).toBe("      command --gpu-memory-utilization: 0.9 → 0.85 (forces replacement)");
    expect(lines[i + 2]).toMatch(/^= /);
    expect(lines.at(-2)).toBe(`2 to replace, 0 to update in place, 0 to create, 0 to delete, ${services(after).length - 2} unchanged`);
  });

  it("markdown: marker for in-place updates, a downtime warning, a table and the old → new values", () => {
    const md = diffMarkdown(d);
    expect(md.split("\n").slice(0, 4)).toEqual([
      "<!-- llmstack-plan-diff:production -->",
      "### Plan diff for stack `production`",
      "",
      "Compared with `origin/main`, rendered offline by `llmstack plan --diff`: `origin/main` was rendered by " +
        "its own program (its code ran), the working tree by this checkout's program.",
    ]);
    expect(md).toContain(
      "> `vllm`: restart with downtime: GPU container, frees its GPUs and reloads the model.",
    );
    expect(md).toContain(
      "| -/+ | `vllm` | replace (restart with downtime: GPU container, frees its GPUs and reloads the model) | " +
        "`command --gpu-memory-utilization` |",
    );
    expect(md).toContain("| = | `litellm` | unchanged | - |");
    expect(md).toContain("| -/+ | `smoke-test` | replace (one-shot container: runs again) | `envs[PLAN_REVISION]` |");
    expect(md).toContain("```text\ncommand --gpu-memory-utilization: 0.9 → 0.85 (forces replacement)\n");
  });

  it("formatChange: added, removed and quoted values", () => {
    expect(formatChange({ field: "envs[X]", effect: "replace", new: "" })).toBe('envs[X]: added "" (forces replacement)');
    expect(formatChange({ field: "memory", effect: "update", old: 1 })).toBe("memory: removed 1 (in place)");
    expect(formatChange({ field: "command", effect: "replace", old: ["a b"], new: ["c"] })).toBe(
      'command: "a b" → c (forces replacement)',
    );
  });
});

describe("uploads are compared per file, by line", () => {
  it("shows only the lines that changed in an uploaded file", () => {
    const before = [{ file: "/etc/caddy/Caddyfile", content: "{\n\tadmin off\n}\n\n:443 {\n\ttls internal\n}\n", permissions: "0444" }];
    const after = [{ file: "/etc/caddy/Caddyfile", content: "{\n\tadmin off\n\tdefault_sni localhost\n}\n\nlocalhost:443 {\n\ttls internal\n}\n", permissions: "0444" }];
    expect(uploadChanges(before, after)).toEqual([
      {
        field: "uploads[/etc/caddy/Caddyfile] lines",
        effect: "replace",
        old: [":443 {"],
        new: ["\tdefault_sni localhost", "localhost:443 {"],
      },
    ]);
  });

  it("names an added or removed file, and a permissions change", () => {
    const a = [{ file: "/a", content: "x", permissions: "0444" }];
    const b = [{ file: "/a", content: "x", permissions: "0400" }, { file: "/b", content: "y" }];
    expect(uploadChanges(a, b)).toEqual([
      { field: "uploads[/a] permissions", effect: "replace", old: "0444", new: "0400" },
      { field: "uploads[/b]", effect: "replace", new: "y" },
    ]);
  });

  it("finds the lines only in each side, in order", () => {
    expect(lineChanges("a\nb\nc\nd", "a\nc\nd\ne")).toEqual({ removed: ["b"], added: ["e"] });
    expect(lineChanges("same", "same")).toEqual({ removed: [], added: [] });
  });
});
