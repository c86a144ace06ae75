/**
 * The preflight probe's output is a capture too: the host's nvidia-smi query, topo -m, nvlink --status,
 * compute apps, the stack's container PIDs and the NVIDIA hook lookup, between markers. Damaged copies of
 * real probe outputs (built from the captures in test/fixtures/nvidia-smi, each with its source) give the
 * gate a verdict, never a crash, and no verdict shows NaN, Infinity or "undefined". Fixed seed; the count
 * is printed.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { parseStackConfig } from "../../src/config/parse";
import { gateVerdict } from "../../src/preflight/gate";
import { parseComputeApps, parseStackPids } from "../../src/preflight/gpuChecks";
import { parseDf, parseListeners } from "../../src/preflight/hostChecks";
import { stackNeeds } from "../../src/preflight/needs";
import { transportFor } from "../../src/preflight/probe";
import { planOf, rawValues } from "../helpers/stacks";
import { HOOK_FOUND, HOOK_MISSING, HOST_A100, IDLE_REFERENCE_HOST_PROBE, probeOutput, RIG_3090, RIG_3090_UUIDS } from "../preflight/probeOutput";
import { damaged } from "./smiDamage";
import { tryAll } from "./fuzzing";

const RUNS = 2000;

const APPS = `4242, 23000, ${RIG_3090_UUIDS[0]}\n4243, 22800, ${RIG_3090_UUIDS[1]}\n`;
const PIDS = "llm-multimodal-stack-production-vllm 4242\nllm-multimodal-stack-production-vllm 4243\n";

const OUTPUTS = [
  IDLE_REFERENCE_HOST_PROBE,
  probeOutput({
    hook: HOOK_FOUND,
    ...RIG_3090,
    apps: { text: APPS },
    stackpids: { text: PIDS },
  }),
  probeOutput({ hook: HOOK_MISSING, cdi: { text: "spec /etc/cdi/nvidia.yaml nvidia.com/gpu\n" }, ...HOST_A100, apps: { text: "" } }),
];

/** The compute apps and the stack's PIDs damaged on their own, inside an otherwise whole probe output. */
const sectionsDamaged = fc
  .tuple(damaged([APPS]), damaged([PIDS]))
  .map(([apps, stackpids]) => probeOutput({ hook: HOOK_FOUND, ...RIG_3090, apps: { text: apps }, stackpids: { text: stackpids } }));

const needs = stackNeeds(parseStackConfig(rawValues("production"), "Pulumi.production.yaml"), planOf("production"));

function verdictProblems(text: string): string[] {
  let shown: string;
  try {
    const v = gateVerdict(needs, text, transportFor("unix:///var/run/docker.sock"), false);
    shown = [v.skipped ?? "", v.error ?? "", ...v.results.map((r) => `${r.check} ${r.status} ${r.found} ${r.fix ?? ""}`)].join("\n");
    if (v.error === null && v.results.length === 0 && v.skipped === null) return ["no verdict"];
  } catch (err) {
    return [`crashed with ${(err as Error)?.constructor?.name}: ${(err as Error)?.message}`];
  }
  // A word the damage itself wrote into the capture may be quoted back; one the gate made up may not.
  return ["NaN", "Infinity", "undefined", "[object Object]"]
    .filter((w) => shown.includes(w) && !text.includes(w))
    .map((w) => `verdict shows ${w}`);
}

describe("damaged preflight probe outputs", () => {
  it(`${RUNS} damaged probe outputs each give the gate a verdict, with no NaN, Infinity or undefined in it`, () => {
    const { tried, failures } = tryAll(fc.oneof(damaged(OUTPUTS), sectionsDamaged), RUNS, (text) => {
      const p = verdictProblems(text);
      return p.length === 0 ? null : `${p.join("; ")}: ${JSON.stringify(text).slice(0, 400)}`;
    });
    console.log(`fuzz: ${tried} damaged preflight probe outputs tried through the gate, ${failures.length} mishandled`);
    expect(tried).toBe(RUNS);
    expect(failures.slice(0, 3)).toEqual([]);
  });
});

describe("probe damage the fuzzing found mishandled", () => {
  const huge = "9".repeat(400);

  it("reads a memory use or PID too long to be a number as unknown, not Infinity", () => {
    expect(parseComputeApps({ rc: 0, text: `4242, ${huge}, ${RIG_3090_UUIDS[0]}\n${huge}, 100, ${RIG_3090_UUIDS[1]}\n` })).toEqual([
      { pid: 4242, usedMiB: null, gpuUuid: RIG_3090_UUIDS[0] },
    ]);
    expect([...parseStackPids({ rc: 0, text: `vllm ${huge}\nvllm 7\n` })]).toEqual([[7, "vllm"]]);
    const out = probeOutput({ hook: HOOK_FOUND, ...RIG_3090, apps: { text: `4242, ${huge}, ${RIG_3090_UUIDS[0]}\n` }, stackpids: { text: "" } });
    const v = gateVerdict(needs, out, transportFor("unix:///var/run/docker.sock"), false);
    expect(v.error).not.toContain("Infinity");
  });

  it("skips a listener on a port that cannot be one, and a disk size too long to be a number", () => {
    const ss = `LISTEN 0 511 127.0.0.1:4000 0.0.0.0:* users:(("node",pid=1234,fd=21))\nLISTEN 0 511 0.0.0.0:${huge} 0.0.0.0:*\nLISTEN 0 5 0.0.0.0:70000 0.0.0.0:*\n`;
    expect(parseListeners({ rc: 0, text: ss })).toEqual([{ ip: "127.0.0.1", port: 4000, process: "node", pid: 1234 }]);
    const df = `Filesystem 1024-blocks Used Available Capacity Mounted on\n/dev/sda1 1 1 ${huge} 1% /\n`;
    expect(parseDf({ rc: 0, text: df }, "/var/lib/docker")).toBe(null);
  });
});
