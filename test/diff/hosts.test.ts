/**
 * `llmstack plan --diff` on a stack with hosts (src/diff/hosts.ts, src/diff/hostsRender.ts): the example
 * fleet (examples/fleet/Pulumi.fleet.yaml) with one key edited, shown host by host, exact output.
 */
import { describe, expect, it } from "vitest";
import { diffPlans } from "../../src/diff/compute";
import { diffMarkdownByHost, diffTextByHost } from "../../src/diff/hostsRender";
import { diffMarkdown } from "../../src/diff/markdown";
import { diffText } from "../../src/diff/render";
import type { PlanDiff, PlanDoc } from "../../src/diff/types";
import { planJson } from "../../src/plan/render";
import { fleetPlan, fleetValues } from "../helpers/fleet";
import { planOf } from "../helpers/stacks";

function fleetDoc(edit: (v: Record<string, any>) => void = () => undefined): PlanDoc {
  const v = fleetValues();
  edit(v);
  return planJson(fleetPlan(v)) as unknown as PlanDoc;
}

/** The smoke test's PLAN_REVISION (a hash of every other container): it changes with any change. */
function revision(d: PlanDoc): string {
  const envs = d.containers.find((c) => c.service === "smoke-test")!.envs as string[];
  return envs.find((e) => e.startsWith("PLAN_REVISION="))!.slice("PLAN_REVISION=".length);
}

function fleetDiff(before: PlanDoc, after: PlanDoc): PlanDiff {
  return diffPlans({ stack: "fleet", base: "main", before, after });
}

/** gpu-a's two RTX 3090s as two replicas of one GPU each (tensor parallel 1), so a third replica fits. */
const twoOnGpuA = (v: Record<string, any>): void => {
  v.hosts[1].gpu.tensorParallelSize = 1;
};

const HEAD = [
  "stack fleet: changes since main",
  "rendered offline: main was rendered by its own program (its code ran), the working tree by this checkout's program",
];
const MD_HEAD = [
  "<!-- llmstack-plan-diff:fleet -->",
  "### Plan diff for stack `fleet`",
  "",
  "Compared with `main`, rendered offline by `llmstack plan --diff`: `main` was rendered by its own program (its code ran), the working tree by this checkout's program.",
  "",
];
const SECRETS_NOTE =
  "Secret values are never shown. Pulumi encrypts each secret with a fresh random nonce, so a secret re-encrypted with the same value looks like a new value here.";

describe("plan --diff on a stack with hosts, host by host", () => {
  it("model.replicas 2 → 3: the new replica is created on its host, the others are unchanged", () => {
    const before = fleetDoc(twoOnGpuA);
    const after = fleetDoc((v) => {
      twoOnGpuA(v);
      v.model.replicas = 3;
    });
    const d = fleetDiff(before, after);
    expect(diffTextByHost(d).split("\n")).toEqual([
      ...HEAD,
      "",
      "host control (ssh://deploy@10.20.0.10)",
      "-/+ litellm         replace",
      "      uploads[/app/config.yaml] lines: [] → \"  - model_name: qwen2.5-7b-instruct\" \"    litellm_params:\" \"      model: hosted_vllm/qwen2.5-7b-instruct\" \"      api_base: http://10.20.0.11:8001/v1\" \"      api_key: os.environ/VLLM_API_KEY\" \"    model_info:\" \"      id: gpu-a-1\" (forces replacement)",
      "-/+ smoke-test      replace (one-shot container: runs again)",
      `      envs[PLAN_REVISION]: ${revision(before)} → ${revision(after)} (forces replacement)`,
      "-/+ prometheus      replace",
      "      uploads[/etc/prometheus/prometheus.yml] lines: [] → \"      - targets:\" \"          - 10.20.0.11:8001\" \"        labels:\" \"          host: gpu-a\" \"          replica: gpu-a-1\" (forces replacement)",
      "    unchanged: postgres, redis, qdrant, object-store, gateway-tls, alertmanager, grafana",
      "",
      "host gpu-a (ssh://deploy@10.20.0.11)",
      "+   vllm gpu-a-1    create",
      "    unchanged: model-download, vllm gpu-a-0, dcgm-exporter",
      "",
      "host gpu-b (tcp://10.20.0.12:2376): no changes",
      "    unchanged: model-download, vllm gpu-b-0, dcgm-exporter",
      "",
      "3 to replace, 0 to update in place, 1 to create, 0 to delete, 13 unchanged",
      "",
    ]);
    expect(diffMarkdownByHost(d).split("\n")).toEqual([
      ...MD_HEAD,
      "**3 to replace, 0 to update in place, 1 to create, 0 to delete, 13 unchanged**",
      "",
      "#### Host `control` (`ssh://deploy@10.20.0.10`)",
      "",
      "| | Container | Action | Changed fields |",
      "|---|---|---|---|",
      "| -/+ | `litellm` | replace | `uploads[/app/config.yaml] lines` |",
      "| -/+ | `smoke-test` | replace (one-shot container: runs again) | `envs[PLAN_REVISION]` |",
      "| -/+ | `prometheus` | replace | `uploads[/etc/prometheus/prometheus.yml] lines` |",
      "",
      "Unchanged: `postgres`, `redis`, `qdrant`, `object-store`, `gateway-tls`, `alertmanager`, `grafana`.",
      "",
      "#### Host `gpu-a` (`ssh://deploy@10.20.0.11`)",
      "",
      "| | Container | Action | Changed fields |",
      "|---|---|---|---|",
      "| + | `vllm` `gpu-a-1` | create | - |",
      "",
      "Unchanged: `model-download`, `vllm` `gpu-a-0`, `dcgm-exporter`.",
      "",
      "#### Host `gpu-b` (`tcp://10.20.0.12:2376`): no changes",
      "",
      "Unchanged: `model-download`, `vllm` `gpu-b-0`, `dcgm-exporter`.",
      "",
      "<details><summary>Old → new values</summary>",
      "",
      "Container `litellm` on `control` (replace)",
      "",
      "```text",
      "uploads[/app/config.yaml] lines: [] → \"  - model_name: qwen2.5-7b-instruct\" \"    litellm_params:\" \"      model: hosted_vllm/qwen2.5-7b-instruct\" \"      api_base: http://10.20.0.11:8001/v1\" \"      api_key: os.environ/VLLM_API_KEY\" \"    model_info:\" \"      id: gpu-a-1\" (forces replacement)",
      "```",
      "",
      "Container `smoke-test` on `control` (replace)",
      "",
      "```text",
      `envs[PLAN_REVISION]: ${revision(before)} → ${revision(after)} (forces replacement)`,
      "```",
      "",
      "Container `prometheus` on `control` (replace)",
      "",
      "```text",
      "uploads[/etc/prometheus/prometheus.yml] lines: [] → \"      - targets:\" \"          - 10.20.0.11:8001\" \"        labels:\" \"          host: gpu-a\" \"          replica: gpu-a-1\" (forces replacement)",
      "```",
      "",
      "</details>",
      "",
      SECRETS_NOTE,
      "",
    ]);
  });

  it("a GPU host's memoryUtilization 0.9 → 0.85 replaces that host's replica only", () => {
    const before = fleetDoc();
    const after = fleetDoc((v) => {
      v.hosts[2].gpu.memoryUtilization = 0.85;
    });
    const d = fleetDiff(before, after);
    expect(diffTextByHost(d).split("\n")).toEqual([
      ...HEAD,
      "",
      "host control (ssh://deploy@10.20.0.10)",
      "-/+ smoke-test      replace (one-shot container: runs again)",
      `      envs[PLAN_REVISION]: ${revision(before)} → ${revision(after)} (forces replacement)`,
      "    unchanged: postgres, redis, qdrant, object-store, litellm, gateway-tls, alertmanager, prometheus, grafana",
      "",
      "host gpu-a (ssh://deploy@10.20.0.11): no changes",
      "    unchanged: model-download, vllm gpu-a-0, dcgm-exporter",
      "",
      "host gpu-b (tcp://10.20.0.12:2376)",
      "-/+ vllm gpu-b-0    replace (restart with downtime: GPU container, frees its GPUs and reloads the model)",
      "      command --gpu-memory-utilization: 0.9 → 0.85 (forces replacement)",
      "    unchanged: model-download, dcgm-exporter",
      "",
      "2 to replace, 0 to update in place, 0 to create, 0 to delete, 14 unchanged",
      "",
    ]);
    expect(diffMarkdownByHost(d).split("\n")).toEqual([
      ...MD_HEAD,
      "**2 to replace, 0 to update in place, 0 to create, 0 to delete, 14 unchanged**",
      "",
      "> [!WARNING]",
      "> `vllm` `gpu-b-0`: restart with downtime: GPU container, frees its GPUs and reloads the model.",
      "",
      "#### Host `control` (`ssh://deploy@10.20.0.10`)",
      "",
      "| | Container | Action | Changed fields |",
      "|---|---|---|---|",
      "| -/+ | `smoke-test` | replace (one-shot container: runs again) | `envs[PLAN_REVISION]` |",
      "",
      "Unchanged: `postgres`, `redis`, `qdrant`, `object-store`, `litellm`, `gateway-tls`, `alertmanager`, `prometheus`, `grafana`.",
      "",
      "#### Host `gpu-a` (`ssh://deploy@10.20.0.11`): no changes",
      "",
      "Unchanged: `model-download`, `vllm` `gpu-a-0`, `dcgm-exporter`.",
      "",
      "#### Host `gpu-b` (`tcp://10.20.0.12:2376`)",
      "",
      "| | Container | Action | Changed fields |",
      "|---|---|---|---|",
      "| -/+ | `vllm` `gpu-b-0` | replace (restart with downtime: GPU container, frees its GPUs and reloads the model) | `command --gpu-memory-utilization` |",
      "",
      "Unchanged: `model-download`, `dcgm-exporter`.",
      "",
      "<details><summary>Old → new values</summary>",
      "",
      "Container `smoke-test` on `control` (replace)",
      "",
      "```text",
      `envs[PLAN_REVISION]: ${revision(before)} → ${revision(after)} (forces replacement)`,
      "```",
      "",
      "Container `vllm` `gpu-b-0` on `gpu-b` (replace)",
      "",
      "```text",
      "command --gpu-memory-utilization: 0.9 → 0.85 (forces replacement)",
      "```",
      "",
      "</details>",
      "",
      SECRETS_NOTE,
      "",
    ]);
  });

  it("a host removed: its heading says so, with its containers and its model cache under it", () => {
    const before = fleetDoc();
    const after = fleetDoc((v) => {
      v.hosts.splice(2, 1);
      v.model.replicas = 1;
    });
    const d = fleetDiff(before, after);
    expect(d.hosts).toEqual([
      {"name": "control", "action": "unchanged", "endpoint": "ssh://deploy@10.20.0.10", "changes": []},
      {"name": "gpu-a", "action": "unchanged", "endpoint": "ssh://deploy@10.20.0.11", "changes": []},
      {"name": "gpu-b", "action": "delete", "endpoint": "tcp://10.20.0.12:2376", "changes": []},
    ]);
    expect(diffTextByHost(d).split("\n")).toEqual([
      ...HEAD,
      "",
      "host control (ssh://deploy@10.20.0.10)",
      "-/+ litellm         replace",
      "      uploads[/app/config.yaml] lines: \"  - model_name: qwen2.5-7b-instruct\" \"    litellm_params:\" \"      model: hosted_vllm/qwen2.5-7b-instruct\" \"      api_base: http://10.20.0.12:8000/v1\" \"      api_key: os.environ/VLLM_API_KEY\" \"    model_info:\" \"      id: gpu-b-0\" → [] (forces replacement)",
      "-/+ smoke-test      replace (one-shot container: runs again)",
      `      envs[PLAN_REVISION]: ${revision(before)} → ${revision(after)} (forces replacement)`,
      "-/+ prometheus      replace",
      "      uploads[/etc/prometheus/prometheus.yml] lines: \"      - targets:\" \"          - 10.20.0.12:9400\" \"        labels:\" \"          host: gpu-b\" \"      - targets:\" \"          - 10.20.0.12:8000\" \"        labels:\" \"          host: gpu-b\" \"          replica: gpu-b-0\" → [] (forces replacement)",
      "    unchanged: postgres, redis, qdrant, object-store, gateway-tls, alertmanager, grafana",
      "",
      "host gpu-a (ssh://deploy@10.20.0.11): no changes",
      "    unchanged: model-download, vllm gpu-a-0, dcgm-exporter",
      "",
      "host gpu-b (tcp://10.20.0.12:2376): removed from the stack",
      "-   model-download  delete",
      "-   vllm gpu-b-0    delete (restart with downtime: GPU container, frees its GPUs and reloads the model)",
      "-   dcgm-exporter   delete",
      "-   DATA volume hf-cache (llm-multimodal-stack-fleet-hf-cache): removed from the program — retained: the data stays on the host, orphaned",
      "",
      "3 to replace, 0 to update in place, 0 to create, 3 to delete, 10 unchanged; volumes: 1 to delete",
      "",
    ]);
    expect(diffMarkdownByHost(d).split("\n")).toEqual([
      ...MD_HEAD,
      "**3 to replace, 0 to update in place, 0 to create, 3 to delete, 10 unchanged; volumes: 1 to delete**",
      "",
      "> [!CAUTION]",
      "> - DATA volume `hf-cache` (`llm-multimodal-stack-fleet-hf-cache`) on host `gpu-b`: removed from the program — retained: the data stays on the host, orphaned.",
      "",
      "> [!WARNING]",
      "> `vllm` `gpu-b-0`: restart with downtime: GPU container, frees its GPUs and reloads the model.",
      "",
      "#### Host `control` (`ssh://deploy@10.20.0.10`)",
      "",
      "| | Container | Action | Changed fields |",
      "|---|---|---|---|",
      "| -/+ | `litellm` | replace | `uploads[/app/config.yaml] lines` |",
      "| -/+ | `smoke-test` | replace (one-shot container: runs again) | `envs[PLAN_REVISION]` |",
      "| -/+ | `prometheus` | replace | `uploads[/etc/prometheus/prometheus.yml] lines` |",
      "",
      "Unchanged: `postgres`, `redis`, `qdrant`, `object-store`, `gateway-tls`, `alertmanager`, `grafana`.",
      "",
      "#### Host `gpu-a` (`ssh://deploy@10.20.0.11`): no changes",
      "",
      "Unchanged: `model-download`, `vllm` `gpu-a-0`, `dcgm-exporter`.",
      "",
      "#### Host `gpu-b` (`tcp://10.20.0.12:2376`): removed from the stack",
      "",
      "| | Container | Action | Changed fields |",
      "|---|---|---|---|",
      "| - | `model-download` | delete | - |",
      "| - | `vllm` `gpu-b-0` | delete (restart with downtime: GPU container, frees its GPUs and reloads the model) | - |",
      "| - | `dcgm-exporter` | delete | - |",
      "",
      "| | Volume | What `pulumi up` does |",
      "|---|---|---|",
      "| - | DATA volume `hf-cache` (`llm-multimodal-stack-fleet-hf-cache`) | removed from the program — retained: the data stays on the host, orphaned |",
      "",
      "<details><summary>Old → new values</summary>",
      "",
      "Container `litellm` on `control` (replace)",
      "",
      "```text",
      "uploads[/app/config.yaml] lines: \"  - model_name: qwen2.5-7b-instruct\" \"    litellm_params:\" \"      model: hosted_vllm/qwen2.5-7b-instruct\" \"      api_base: http://10.20.0.12:8000/v1\" \"      api_key: os.environ/VLLM_API_KEY\" \"    model_info:\" \"      id: gpu-b-0\" → [] (forces replacement)",
      "```",
      "",
      "Container `smoke-test` on `control` (replace)",
      "",
      "```text",
      `envs[PLAN_REVISION]: ${revision(before)} → ${revision(after)} (forces replacement)`,
      "```",
      "",
      "Container `prometheus` on `control` (replace)",
      "",
      "```text",
      "uploads[/etc/prometheus/prometheus.yml] lines: \"      - targets:\" \"          - 10.20.0.12:9400\" \"        labels:\" \"          host: gpu-b\" \"      - targets:\" \"          - 10.20.0.12:8000\" \"        labels:\" \"          host: gpu-b\" \"          replica: gpu-b-0\" → [] (forces replacement)",
      "```",
      "",
      "</details>",
      "",
      SECRETS_NOTE,
      "",
    ]);
  });

  it("a host added, and a replica moved to it: removed on one host, created on the other", () => {
    const pinned = (v: Record<string, any>, to: string): void => {
      twoOnGpuA(v);
      v.model.placement = [
        { host: "gpu-a", devices: ["0"] },
        { host: to, devices: ["0"] },
      ];
    };
    const before = fleetDoc((v) => {
      v.hosts.splice(2, 1);
      pinned(v, "gpu-a");
      v.model.placement[1].devices = ["1"];
    });
    const after = fleetDoc((v) => pinned(v, "gpu-b"));
    const d = fleetDiff(before, after);
    expect(d.hosts!.map((h) => [h.name, h.action])).toEqual([
      ["control", "unchanged"],
      ["gpu-a", "unchanged"],
      ["gpu-b", "create"],
    ]);
    expect(d.containers.filter((c) => c.action !== "unchanged").map((c) => [c.host, c.service, c.replica, c.action])).toEqual([
      ["control", "litellm", undefined, "replace"],
      ["control", "smoke-test", undefined, "replace"],
      ["control", "prometheus", undefined, "replace"],
      ["gpu-a", "vllm", "gpu-a-1", "delete"],
      ["gpu-b", "model-download", undefined, "create"],
      ["gpu-b", "vllm", "gpu-b-0", "create"],
      ["gpu-b", "dcgm-exporter", undefined, "create"],
    ]);
    expect(diffTextByHost(d).split("\n").slice(8, 17)).toEqual([
      "-/+ prometheus      replace",
      "      uploads[/etc/prometheus/prometheus.yml] lines: \"          - 10.20.0.11:8001\" \"          host: gpu-a\" \"          replica: gpu-a-1\" → \"      - targets:\" \"          - 10.20.0.12:9400\" \"        labels:\" \"          host: gpu-b\" \"          - 10.20.0.12:8000\" \"          host: gpu-b\" \"          replica: gpu-b-0\" (forces replacement)",
      "    unchanged: postgres, redis, qdrant, object-store, gateway-tls, alertmanager, grafana",
      "",
      "host gpu-a (ssh://deploy@10.20.0.11)",
      "-   vllm gpu-a-1    delete (restart with downtime: GPU container, frees its GPUs and reloads the model)",
      "    unchanged: model-download, vllm gpu-a-0, dcgm-exporter",
      "",
      "host gpu-b (tcp://10.20.0.12:2376): added to the stack",
    ]);
  });

  it("a host's new address heads its block with the change", () => {
    const d = fleetDiff(
      fleetDoc(),
      fleetDoc((v) => {
        v.hosts[2].address = "10.20.0.22";
      }),
    );
    expect(diffTextByHost(d).split("\n")).toContain("host gpu-b (tcp://10.20.0.12:2376): address 10.20.0.12 → 10.20.0.22");
    expect(diffMarkdownByHost(d).split("\n")).toContain(
      "#### Host `gpu-b` (`tcp://10.20.0.12:2376`): `address` `10.20.0.12` → `10.20.0.22`",
    );
  });

  it("a single-host stack's diff is printed as it always was", () => {
    const before = planJson(planOf("production")) as unknown as PlanDoc;
    const v = planOf("staging");
    const d = diffPlans({ stack: "production", base: "main", before, after: planJson(v) as unknown as PlanDoc });
    expect(d.hosts).toBeUndefined();
    expect(d.containers.every((c) => c.host === undefined && c.replica === undefined)).toBe(true);
    expect(diffTextByHost(d)).toBe(diffText(d));
    expect(diffMarkdownByHost(d)).toBe(diffMarkdown(d));
  });
});
