/**
 * Bad input harms nothing: generated invalid stack configs each get one clear StackConfigError naming a
 * key (and the program registers nothing), and damaged nvidia-smi captures each give a valid reading or
 * the parser's own clear error, never a TypeError or RangeError. Each property prints how many cases it
 * tried, so CI shows it. Fixed seeds keep a failure reproducible.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { StackConfigError } from "../../src/config/errors";
import { parseStackConfig, SECRET_KEYS } from "../../src/config/parse";
import { fromEntries } from "../../src/config/stackFile";
import { detectFromCaptures } from "../../src/gpu/detect";
import { CaptureError, NvidiaSmiError } from "../../src/gpu/errors";
import { parseNvlinkStatus } from "../../src/gpu/nvlinkStatus";
import { parseQueryCsv } from "../../src/gpu/query";
import { parseSmiTable } from "../../src/gpu/smiTable";
import { parseTopo } from "../../src/gpu/topo";
import type { NvlinkGpu, QueryGpu, Topology } from "../../src/gpu/types";
import { runProgram } from "../helpers/pulumiMocks";
import { rawValues, STACKS } from "../helpers/stacks";
import { asOverrides, invalidStackConfig, type InvalidCase } from "./configMutations";
import { CAPTURES, damaged, NOHEADER_FIELDS } from "./smiDamage";
import { byKind, SEED, tryAll } from "./fuzzing";
import { settle } from "./walker";

const CONFIG_RUNS = 12_000;
const PROGRAM_RUNS = 200;
const CREDENTIAL_RUNS = 3_000;
/** A ceiling for a busy machine, not an expectation: the counts above take seconds on two idle cores. */
const FUZZ_TIMEOUT_MS = 300_000;

/** Problems with the error an invalid case got; empty when it is the one clear error we want. */
function configErrorProblems(c: InvalidCase, err: unknown): string[] {
  if (!(err instanceof StackConfigError)) {
    return [`threw ${err instanceof Error ? `${err.constructor.name}: ${err.message}` : String(err)}, not a StackConfigError`];
  }
  const file = `Pulumi.${c.stack}.yaml`;
  const lines = err.message.split("\n");
  const problems: string[] = [];
  if (lines[0] !== `${file}: invalid stack config:`) problems.push(`first line "${lines[0]}"`);
  if (lines[lines.length - 1] !== `Fix these keys in ${file} (every key is in docs/configuration.md).`) {
    problems.push(`last line "${lines[lines.length - 1]}"`);
  }
  const issues = lines.slice(1, -1);
  if (issues.length === 0) problems.push("no issue lines");
  for (const l of issues) if (!/^ {2}- llmstack:[^\s:]+(\s|:)/.test(l)) problems.push(`issue line names no key: "${l}"`);
  // YAML's .inf and .nan once read "expected number, received number"; a value is shown escaped.
  for (const l of issues) if (/expected number, received (number|NaN)/.test(l)) problems.push(`non-finite number unexplained: "${l}"`);
  // eslint-disable-next-line no-control-regex -- finding control characters is the point
  if (/[\x00-\x09\x0b-\x1f\x7f-\x9f]/.test(err.message)) problems.push("a raw control character in the message");
  if (!c.tops.some((t) => err.message.includes(`llmstack:${t}`))) {
    problems.push(`names none of the keys it changed (${c.tops.map((t) => `llmstack:${t}`).join(", ")})`);
  }
  return problems;
}

function rejectionOf(c: InvalidCase): string[] {
  try {
    parseStackConfig(structuredClone(c.values), `Pulumi.${c.stack}.yaml`);
  } catch (err) {
    return configErrorProblems(c, err);
  }
  return ["was accepted"];
}

describe("invalid stack configs", () => {
  it(`each of ${CONFIG_RUNS} gets one StackConfigError naming the file and an llmstack: key`, () => {
    const kinds = new Map<string, number>();
    const { tried, failures } = tryAll(invalidStackConfig, CONFIG_RUNS, (c) => {
      kinds.set(c.kind, (kinds.get(c.kind) ?? 0) + 1);
      const problems = rejectionOf(c);
      return problems.length === 0 ? null : `${c.stack} (${c.kind}): ${problems.join("; ")}: ${JSON.stringify(c.values)}`;
    });
    console.log(
      `fuzz: ${tried} invalid stack configs tried, ${failures.length} not rejected as they should be ` +
        `(${[...kinds].sort().map(([k, n]) => `${k}: ${n}`).join(", ")})` +
        (failures.length > 0 ? `; not rejected: ${byKind(failures)}` : ""),
    );
    expect(tried).toBe(CONFIG_RUNS);
    expect(failures.slice(0, 3)).toEqual([]);
  }, FUZZ_TIMEOUT_MS);

  it(`the program registers nothing for ${PROGRAM_RUNS} of them and fails with a StackConfigError`, async () => {
    const cases = fc.sample(invalidStackConfig, { seed: SEED + 1, numRuns: PROGRAM_RUNS });
    const failures: string[] = [];
    for (const c of cases) {
      const run = await runProgram(c.stack, asOverrides(c));
      await settle();
      const file = `Pulumi.${c.stack}.yaml`;
      if (!(run.error instanceof StackConfigError)) failures.push(`${c.kind}: ${String(run.error)}`);
      else if (!run.error.message.startsWith(`${file}: invalid stack config:\n  - llmstack:`)) {
        failures.push(`${c.kind}: ${run.error.message.split("\n")[0]}`);
      }
      if (run.registrations.length > 0) failures.push(`${c.kind}: registered ${run.registrations.length} resources`);
    }
    console.log(`fuzz: ${cases.length} invalid stack configs run through the program under mocks`);
    expect(failures).toEqual([]);
  }, FUZZ_TIMEOUT_MS);
});

/** Each checked-in stack's entries as a stack file holds them (`llmstack:gpu`, ...). */
const ENTRIES: Readonly<Record<string, Record<string, unknown>>> = Object.fromEntries(
  STACKS.map((s) => [s, Object.fromEntries(Object.entries(rawValues(s)).map(([k, v]) => [`llmstack:${k}`, v]))]),
);

/** A stack file's entries with credentials among them, some in plain text, as the reader receives them. */
const credentialEntries = fc
  .record({
    stack: fc.constantFrom(...STACKS),
    plain: fc.uniqueArray(fc.constantFrom(...SECRET_KEYS), { minLength: 1, maxLength: 4 }),
    encrypted: fc.uniqueArray(fc.constantFrom(...SECRET_KEYS), { maxLength: 4 }),
    value: fc.oneof(
      fc.string({ minLength: 1, maxLength: 40 }),
      fc.integer(),
      fc.boolean(),
      fc.dictionary(fc.constantFrom("securee", "Secure", "value", "x"), fc.string(), { minKeys: 1, maxKeys: 2 }),
      fc.array(fc.string(), { minLength: 1, maxLength: 2 }),
    ),
  })
  .map((c) => ({ ...c, encrypted: c.encrypted.filter((k) => !c.plain.includes(k)) }));

describe("plain-text credentials", () => {
  it(`each of ${CREDENTIAL_RUNS} stack files with one is refused, naming each key and its fix`, () => {
    const { tried, failures } = tryAll(credentialEntries, CREDENTIAL_RUNS, (c) => {
      const file = `Pulumi.${c.stack}.yaml`;
      const entries: Record<string, unknown> = { ...ENTRIES[c.stack] };
      for (const k of c.encrypted) entries[`llmstack:${k}`] = { secure: "v1:cipher" };
      for (const k of c.plain) entries[`llmstack:${k}`] = c.value;
      try {
        fromEntries("llm-multimodal-stack", c.stack, file, {}, entries);
      } catch (err) {
        if (!(err instanceof StackConfigError)) return `threw ${String(err)}: ${JSON.stringify(c)}`;
        // Each key's line ends with the command that stores it encrypted.
        const lines = err.message.split("\n");
        const missing = c.plain.filter(
          (k) =>
            !lines.some(
              (l) => l.startsWith(`  - llmstack:${k}: `) && l.endsWith(`; run "pulumi config set --secret llmstack:${k} --stack ${c.stack}"`),
            ),
        );
        const wrong = c.encrypted.filter((k) => err.message.includes(`llmstack:${k}:`));
        if (!err.message.startsWith(`${file}: `) || missing.length > 0 || wrong.length > 0) {
          return `message misses ${missing.join(", ")} or names encrypted ${wrong.join(", ")}: ${err.message}`;
        }
        return null;
      }
      return `accepted: ${JSON.stringify(c)}`;
    });
    console.log(`fuzz: ${tried} stack files with plain-text credentials tried, ${failures.length} mishandled`);
    expect(tried).toBe(CREDENTIAL_RUNS);
    expect(failures.slice(0, 3)).toEqual([]);
  }, FUZZ_TIMEOUT_MS);
});

const safeCount = (n: number | null): boolean => n === null || (Number.isSafeInteger(n) && n >= 0);

function queryProblems(gpus: readonly QueryGpu[]): string[] {
  const p: string[] = [];
  if (gpus.length === 0) p.push("no GPUs");
  for (const g of gpus) {
    if (!safeCount(g.index)) p.push(`index ${g.index}`);
    if (!safeCount(g.memoryMiB)) p.push(`memoryMiB ${g.memoryMiB}`);
    if (!safeCount(g.memoryUsedMiB)) p.push(`memoryUsedMiB ${g.memoryUsedMiB}`);
  }
  return p;
}

function topoProblems(t: Topology): string[] {
  const n = t.gpus.length;
  const p: string[] = [];
  if (n === 0 || t.links.length !== n || t.links.some((r) => r.length !== n)) p.push(`a ${n}-GPU topology is not ${n}×${n}`);
  t.links.forEach((row, i) =>
    row.forEach((c, j) => {
      if ((i === j) !== (c.type === "X")) p.push(`cell ${i},${j} ${c.raw}`);
      if (c.type === "NV" && !(Number.isSafeInteger(c.nvlinks) && c.nvlinks! >= 1)) p.push(`${c.raw} → ${c.nvlinks} links`);
    }),
  );
  if (t.gpus.some((g) => !safeCount(g.numaNode))) p.push("bad NUMA node");
  return p;
}

function nvlinkProblems(gpus: readonly NvlinkGpu[]): string[] {
  const p: string[] = [];
  if (gpus.length === 0) p.push("no GPUs");
  for (const g of gpus) {
    if (!safeCount(g.index)) p.push(`index ${g.index}`);
    if (g.activeLinks !== g.links.filter((l) => l.speedGBs !== null).length) p.push(`GPU ${g.index} active link count`);
    for (const l of g.links) {
      if (!safeCount(l.link)) p.push(`GPU ${g.index} link ${l.link}`);
      if (l.speedGBs !== null && !(Number.isFinite(l.speedGBs) && l.speedGBs >= 0)) p.push(`GPU ${g.index} link ${l.link} speed ${l.speedGBs}`);
    }
    if (g.linkSpeedGBs !== null && !Number.isFinite(g.linkSpeedGBs)) p.push(`GPU ${g.index} speed ${g.linkSpeedGBs}`);
  }
  return p;
}

/** Runs one parser on one damaged capture; returns what is wrong (empty: a valid reading or a clear error). */
function judge<T>(parse: () => T, validate: (r: T) => string[], names: readonly string[]): string[] {
  let result: T;
  try {
    result = parse();
  } catch (err) {
    const clear = err instanceof NvidiaSmiError || err instanceof CaptureError || (err instanceof Error && err.constructor === Error);
    if (!clear) return [`crashed with ${(err as Error)?.constructor?.name}: ${(err as Error)?.message}`];
    if (!names.some((n) => (err as Error).message.includes(n))) return [`error names no capture: ${(err as Error).message}`];
    return [];
  }
  return validate(result).map((p) => `accepted with ${p}`);
}

interface SmiCase {
  readonly label: string;
  readonly runs: number;
  readonly arb: fc.Arbitrary<string>;
  readonly check: (text: string) => string[];
}

const SMI_CASES: SmiCase[] = [
  {
    label: "query CSV",
    runs: 3000,
    arb: damaged(CAPTURES.query),
    check: (t) => judge(() => parseQueryCsv(t, "query.csv", NOHEADER_FIELDS), queryProblems, ["query.csv:"]),
  },
  {
    label: "plain nvidia-smi table",
    runs: 1000,
    arb: damaged(CAPTURES.table),
    check: (t) => judge(() => parseSmiTable(t, "smi.txt"), queryProblems, ["smi.txt:"]),
  },
  {
    label: "topo -m",
    runs: 3000,
    arb: damaged(CAPTURES.topo),
    check: (t) => judge(() => parseTopo(t, "topo.txt"), topoProblems, ["topo.txt:"]),
  },
  {
    label: "nvlink --status",
    runs: 3000,
    arb: damaged(CAPTURES.nvlink),
    check: (t) => judge(() => parseNvlinkStatus(t, "nvlink.txt"), nvlinkProblems, ["nvlink.txt:"]),
  },
];

describe("damaged nvidia-smi captures", () => {
  it.each(SMI_CASES)("$label: $runs damaged captures give a valid reading or the parser's clear error", (c) => {
    const { tried, failures } = tryAll(c.arb, c.runs, (text) => {
      const problems = c.check(text);
      return problems.length === 0 ? null : `${problems.join("; ")}: ${JSON.stringify(text).slice(0, 600)}`;
    });
    console.log(
      `fuzz: ${tried} damaged ${c.label} captures tried, ${failures.length} mishandled` +
        (failures.length > 0 ? ` (${byKind(failures)})` : ""),
    );
    expect(tried).toBe(c.runs);
    expect(failures.slice(0, 3)).toEqual([]);
  });

  it("detection over three damaged captures at once gives a detection or one clear error naming a capture", () => {
    const names = { query: "q.csv", topo: "t.txt", nvlink: "n.txt" };
    const arb = fc.record({
      query: damaged(CAPTURES.query.slice(0, 1)),
      topo: damaged(CAPTURES.topo.slice(0, 1)),
      nvlink: damaged(CAPTURES.nvlink.slice(0, 1)),
    });
    const { tried, failures } = tryAll(arb, 1000, (caps) => {
      const problems = judge(
        () => detectFromCaptures({ ...caps, names }),
        (d) => (d.gpus.every((g, i) => g.index === i) ? [] : ["GPU indices out of order"]),
        Object.values(names),
      );
      return problems.length === 0 ? null : `${problems.join("; ")}: ${JSON.stringify(caps).slice(0, 600)}`;
    });
    console.log(`fuzz: ${tried} sets of damaged captures tried through detection, ${failures.length} mishandled`);
    expect(failures.slice(0, 3)).toEqual([]);
    expect(tried).toBe(1000);
  });
});

/** One case per defect the fuzzing found, so each shows on its own. */
describe("damage the fuzzing found mishandled", () => {
  it.each(["staging", "production"])("%s rejects a monitoring image with a floating tag", (stack) => {
    const values = rawValues(stack) as Record<string, unknown>;
    (values.monitoring as Record<string, unknown>).images = { grafana: "grafana/grafana:nightly" };
    expect(() => parseStackConfig(values, `Pulumi.${stack}.yaml`)).toThrow(StackConfigError);
    expect(() => parseStackConfig(values, `Pulumi.${stack}.yaml`)).toThrow(
      /llmstack:monitoring\.images\.grafana: .*"grafana\/grafana:nightly"/,
    );
  });

  it("rejects a stack file that publishes Grafana on its own", () => {
    const values = rawValues("development");
    values.monitoring = { enabled: true, grafana: { bindAddress: "0.0.0.0", port: 3000 } };
    expect(() => parseStackConfig(values, "Pulumi.development.yaml")).toThrow(
      "Pulumi.development.yaml: invalid stack config:\n" +
        "  - llmstack:monitoring.grafana.bindAddress, llmstack:monitoring.grafana.port: unknown key; allowed keys " +
        "here are viaGateway; check the spelling or remove it\n",
    );
  });

  it("rejects an NVLink speed with two decimal points instead of reading NaN GB/s", () => {
    const text = "GPU 0: NVIDIA GeForce RTX 3090 (UUID: GPU-1aff65f8-8897-eaee-29e4-6871ef7491a0)\n\t Link 0: 14.0.62 GB/s\n";
    expect(() => parseNvlinkStatus(text, "nvlink.txt")).toThrow(
      'nvlink.txt: line 2 "Link 0: 14.0.62 GB/s" under GPU 0 is neither "Link n: <speed> GB/s", ' +
        '"Link n: <inactive>" nor NVML\'s "all links are inActive" message; capture `nvidia-smi nvlink --status` again',
    );
  });

  it("rejects a memory size too long to be a number instead of reading Infinity MiB", () => {
    const digits = "9".repeat(400);
    const text = `index, memory.total [MiB]\n0, ${digits} MiB\n`;
    expect(() => parseQueryCsv(text, "query.csv")).toThrow(
      `query.csv: row 1: memory.total "${digits} MiB" is not a size in MiB such as "24576 MiB"`,
    );
  });

  it("rejects a query capture cut off after its header instead of reading no GPUs", () => {
    const header = CAPTURES.query[0]!.split("\n")[0]!;
    expect(() => parseQueryCsv(`${header}\n`, "query.csv")).toThrow(/^query\.csv: .*no GPU rows/);
  });

  it("reads a capture with 200,000 link lines without overflowing the stack", () => {
    const lines = Array.from({ length: 200_000 }, (_, i) => `\t Link ${i}: 14.062 GB/s`);
    const gpus = parseNvlinkStatus(`GPU 0: NVIDIA GeForce RTX 3090\n${lines.join("\n")}\n`, "nvlink.txt");
    expect([gpus[0]!.activeLinks, gpus[0]!.linkSpeedGBs]).toEqual([200_000, 14.062]);
  });
});
