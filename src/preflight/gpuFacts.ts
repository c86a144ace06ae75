/**
 * Turns the probe's nvidia-smi sections into GPU check results, with the parsers from GPU discovery.
 * Shared by `llmstack validate` and the gate inside `pulumi up`, so both say the same thing.
 */
import { detectFromCaptures } from "../gpu/detect";
import { smiFailure } from "../gpu/errors";
import type { Detection } from "../gpu/types";
import { checkNvidiaRuntime, parseRuntime, type InfoFacts } from "./docker";
import { checkDriver } from "./driver";
import {
  checkGpuBudget,
  checkGpuMemoryInUse,
  checkGpusPresent,
  checkGpuSize,
  checkNvlink,
  parseComputeApps,
  parseStackPids,
} from "./gpuChecks";
import type { StackNeeds } from "./needs";
import { PROBE_QUERY_FIELDS } from "../gpu/query";
import type { SectionName } from "./probe";
import type { CheckResult, Section } from "./types";

export type Sections = Partial<Record<SectionName, Section>>;

export function detectionFrom(sections: Sections, where: string): Detection {
  const query = sections.query;
  const names = { query: `nvidia-smi --query-gpu on ${where}`, topo: `nvidia-smi topo -m on ${where}` };
  if (query === undefined) {
    return { gpus: [], links: null, nvlinkPairs: [], problem: `nvidia-smi did not run on ${where}`, notes: [] };
  }
  const failure = smiFailure(query.text, names.query, query.rc);
  if (failure !== null) return { gpus: [], links: null, nvlinkPairs: [], problem: failure.message, notes: [] };
  const ok = (s: Section | undefined): string | undefined => (s !== undefined && s.rc === 0 ? s.text : undefined);
  try {
    return detectFromCaptures({
      query: query.text,
      topo: ok(sections.topo),
      nvlink: ok(sections.nvlink),
      queryFields: PROBE_QUERY_FIELDS,
      names: { ...names, nvlink: `nvidia-smi nvlink --status on ${where}` },
    });
  } catch (err) {
    return { gpus: [], links: null, nvlinkPairs: [], problem: (err as Error).message, notes: [] };
  }
}

/** The GPU checks for a `multi`/`single` stack; none for `cpu`. */
export function gpuCheckResults(needs: StackNeeds, sections: Sections, info: InfoFacts | null, where: string): CheckResult[] {
  if (needs.mode === "cpu") return [];
  const out: CheckResult[] = [];
  const empty: Section = { rc: 0, text: "" };
  out.push(checkNvidiaRuntime(parseRuntime(sections.hook ?? empty, sections.cdi ?? empty), info, where, needs.stack));
  const det = detectionFrom(sections, where);
  // Before the device checks: a driver too old for the image fails whatever GPUs the stack asks for.
  const driver = checkDriver(needs, det, needs.vllmCuda, where);
  if (driver !== null) out.push(driver);
  const present = checkGpusPresent(needs, det);
  out.push(present);
  if (present.status === "fail") return out;
  out.push(checkGpuBudget(needs, det));
  out.push(checkGpuSize(needs, det));
  const nv = checkNvlink(needs, det, det.links !== null || sections.nvlink?.rc === 0);
  if (nv !== null) out.push(nv);
  out.push(checkGpuMemoryInUse(needs, det, parseComputeApps(sections.apps), parseStackPids(sections.stackpids)));
  return out;
}
