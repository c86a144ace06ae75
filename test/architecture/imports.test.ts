/**
 * The architecture's import rules, checked over the import graph of src/ and policy/ (type-only imports
 * count: a type import still couples the two sides):
 * - the core (config, facts, gpu, capacity, hub, plan, monitoring, preflight, diff, bench, status) imports no Pulumi
 *   package and nothing from the CLI or the deploy layer; the one exception is src/config/load.ts, by
 *   design the only reader of `pulumi.Config` (ARCHITECTURE.md), which turns it into a parsed StackConfig;
 * - each layer imports only the layers below it (LAYERS); config is the bottom layer and imports no other
 *   layer (facts import config to parse image references); gpu and capacity do not import the planner;
 *   the planner does not import hub, the one module that reads a model's files (the CLI and the program
 *   resolve a model's facts and hand them to the pure planner);
 * - no file imports itself through a cycle;
 * - the test helpers that plan stacks or build probe output load no Pulumi package: the SDK takes most
 *   of a second to load, in every test file that reaches it.
 * Shared types with no home in either side (ExecFn) live in src/exec.ts, which imports nothing; text
 * tables for a terminal, in src/table.ts.
 */
import { existsSync, readFileSync, statSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import * as ts from "typescript";
import { describe, expect, it } from "vitest";
import { ROOT } from "../helpers/root";
import { tsFilesUnder } from "../helpers/tsFiles";

/** What each top-level module of src/ may import (besides itself). */
const LAYERS: Record<string, readonly string[]> = {
  exec: [],
  // Text tables for a terminal (cli-table3); it makes cells printable with config's escaping.
  table: ["config"],
  // The stack file's own keys and their parsing: the bottom layer.
  config: [],
  // Facts about real images and engines; they parse image references with config's parser.
  facts: ["config"],
  gpu: ["exec", "config", "facts"],
  capacity: ["config", "facts", "gpu"],
  // Reads a model's files from the Hugging Face cache and the Hub (I/O), for capacity's estimate.
  hub: ["config", "capacity"],
  // The planner: monitoring plans the monitoring containers, and backup the scheduled backup's, with the
  // planner's own helpers.
  plan: ["config", "facts", "gpu", "capacity", "monitoring", "table", "backup"],
  monitoring: ["config", "facts", "gpu", "capacity", "plan"],
  preflight: ["exec", "config", "facts", "gpu", "capacity", "plan", "monitoring", "table"],
  diff: ["config", "facts", "plan"],
  bench: ["exec", "table"],
  // A running stack against its plan: the docker CLI, the host probe and the gateway.
  status: ["exec", "config", "plan", "preflight", "table"],
  // Backup and restore of the data stores: one-shot containers built from the plan, through the docker CLI.
  backup: ["exec", "config", "facts", "plan"],
  deploy: ["exec", "config", "facts", "gpu", "capacity", "hub", "plan", "monitoring", "preflight", "diff"],
  cli: ["exec", "config", "facts", "gpu", "capacity", "hub", "plan", "monitoring", "preflight", "diff", "bench", "status", "table", "backup"],
  index: ["deploy"],
  policy: ["config", "facts", "gpu", "capacity", "plan"],
};
/** The one core file allowed to import @pulumi/pulumi (see "the core imports no Pulumi package"). */
const PULUMI_CONFIG_READER = "src/config/load.ts";
const CORE = ["exec", "table", "config", "facts", "gpu", "capacity", "hub", "plan", "monitoring", "preflight", "diff", "bench", "status", "backup"];

interface Edge {
  readonly from: string;
  readonly to: string;
}

/** The file a relative import in `from` (an absolute path) names, if it exists. */
function importedFile(from: string, fileName: string): string | undefined {
  const base = resolve(dirname(from), fileName);
  return [`${base}.ts`, join(base, "index.ts"), base].find((p) => existsSync(p) && statSync(p).isFile());
}

function graph(): { files: string[]; edges: Edge[]; packages: Edge[] } {
  const files = [...tsFilesUnder(join(ROOT, "src")), ...tsFilesUnder(join(ROOT, "policy"))].map((f) => relative(ROOT, f));
  const edges: Edge[] = [];
  const packages: Edge[] = [];
  for (const file of files) {
    const info = ts.preProcessFile(readFileSync(join(ROOT, file), "utf8"), true, true);
    for (const { fileName } of info.importedFiles) {
      if (!fileName.startsWith(".")) {
        packages.push({ from: file, to: fileName });
        continue;
      }
      const target = importedFile(join(ROOT, file), fileName);
      if (target) edges.push({ from: file, to: relative(ROOT, target) });
    }
  }
  return { files, edges, packages };
}

/** src/<module>/... → module; src/exec.ts → exec; src/index.ts → index; policy/... → policy. */
function moduleOf(file: string): string {
  if (file.startsWith("policy/")) return "policy";
  const parts = file.split("/");
  return parts.length === 2 ? parts[1]!.replace(/\.ts$/, "") : parts[1]!;
}

describe("the import rules", () => {
  const { files, edges, packages } = graph();

  it("every module of src/ has a layer", () => {
    expect([...new Set(files.map(moduleOf))].filter((m) => !(m in LAYERS))).toEqual([]);
  });

  it("each module imports only the layers below it", () => {
    const broken = edges
      .filter((e) => moduleOf(e.from) !== moduleOf(e.to) && !LAYERS[moduleOf(e.from)]!.includes(moduleOf(e.to)))
      .map((e) => `${e.from} imports ${e.to}`);
    expect(broken).toEqual([]);
  });

  it("the core imports no Pulumi package", () => {
    const broken = packages
      .filter((p) => CORE.includes(moduleOf(p.from)) && p.to.startsWith("@pulumi/"))
      // config/load is by design the one reader of pulumi.Config (ARCHITECTURE.md): the rest of the core
      // gets the StackConfig it returns, so only this file may import the Pulumi SDK.
      .filter((p) => !(p.from === PULUMI_CONFIG_READER && p.to === "@pulumi/pulumi"))
      .map((p) => `${p.from} imports ${p.to}`);
    expect(broken).toEqual([]);
  });

  it("has no import cycles", () => {
    const next = new Map<string, string[]>();
    for (const e of edges) next.set(e.from, [...(next.get(e.from) ?? []), e.to]);
    const state = new Map<string, "open" | "done">();
    const path: string[] = [];
    const cycles: string[] = [];
    const visit = (n: string): void => {
      state.set(n, "open");
      path.push(n);
      for (const m of next.get(n) ?? []) {
        if (state.get(m) === "open") cycles.push([...path.slice(path.indexOf(m)), m].join(" → "));
        else if (!state.has(m)) visit(m);
      }
      path.pop();
      state.set(n, "done");
    };
    for (const f of files) if (!state.has(f)) visit(f);
    expect(cycles).toEqual([]);
  });
});

/** The packages `file` loads, through every relative import it makes (type-only imports count too). */
function packagesReached(file: string, seen = new Set<string>()): Set<string> {
  const out = new Set<string>();
  if (seen.has(file)) return out;
  seen.add(file);
  for (const { fileName } of ts.preProcessFile(readFileSync(file, "utf8"), true, true).importedFiles) {
    if (!fileName.startsWith(".")) {
      out.add(fileName);
      continue;
    }
    const target = importedFile(file, fileName);
    if (target) for (const p of packagesReached(target, seen)) out.add(p);
  }
  return out;
}

describe("test helpers that need no Pulumi load none", () => {
  it.each(["test/helpers/root.ts", "test/helpers/stacks.ts", "test/preflight/probeOutput.ts"])("%s", (helper) => {
    expect([...packagesReached(join(ROOT, helper))].filter((p) => p.startsWith("@pulumi/"))).toEqual([]);
  });
});
