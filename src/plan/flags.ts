/**
 * vLLM's command-line flags, in one typed table: a flag's spelling lives here and nowhere else.
 * Names checked against `vllm serve --help` at vllm-project/vllm 5606eaf (VLLM_FLAG_LIST below), a commit
 * later than the release the stack's image pins. The multi-node launch's flags come from its record
 * (src/facts/vllmMultiNode.ts), so their spelling too is written once.
 */
import { VLLM_MULTI_NODE } from "../facts/vllmMultiNode";

export const VLLM_FLAGS = {
  model: "--model",
  servedModelName: "--served-model-name",
  host: "--host",
  port: "--port",
  tensorParallelSize: "--tensor-parallel-size",
  pipelineParallelSize: "--pipeline-parallel-size",
  gpuMemoryUtilization: "--gpu-memory-utilization",
  maxModelLen: "--max-model-len",
  dtype: "--dtype",
  revision: "--revision",
  disableCustomAllReduce: "--disable-custom-all-reduce",
  // One replica across hosts (src/plan/span.ts): last, so every other argv keeps its order.
  ...VLLM_MULTI_NODE.flags,
} as const;

export type VllmFlagName = keyof typeof VLLM_FLAGS;

/** Values for vLLM's flags; `true` is a bare switch, `false`/undefined leaves the flag out. */
export type VllmArgs = Partial<Record<VllmFlagName, string | number | boolean>>;

/** Order the flags appear in argv: the table's order, so argv is deterministic. */
export function vllmArgv(args: VllmArgs): string[] {
  const argv: string[] = [];
  for (const key of Object.keys(VLLM_FLAGS) as VllmFlagName[]) {
    const value = args[key];
    if (value === undefined || value === false) continue;
    argv.push(VLLM_FLAGS[key]);
    if (value !== true) argv.push(String(value));
  }
  return argv;
}

/**
 * Where the flag names were checked: the list of every flag `vllm serve --help` printed at a vLLM commit
 * (test/fixtures/vllm/vllm-flags.txt, copied from the project's reference data). That commit is later than
 * the release the stack's vLLM image pins (src/facts/vllmRelease.ts reads it from the image tag); the
 * fixture's header places it at "about v0.30", which was not checked against vLLM's tags. So the list
 * proves a flag existed at that commit; that it already existed at the pinned release rests on the table
 * holding only long-standing flags, and was not checked at the tag. test/plan/flags.test.ts fails when a
 * pinned release moves past the list's, where a flag may have been renamed or removed since: then take
 * the list from `vllm serve --help` of the new release.
 */
export const VLLM_FLAG_LIST = {
  commit: "5606eaf",
  /** The release the commit belongs to, as the reference data states it (approximate, not verified). */
  release: "0.30",
  file: "test/fixtures/vllm/vllm-flags.txt",
} as const;

/**
 * Labels that restate some of vLLM's flags on its container, so `docker inspect` and
 * `docker ps --filter label=llmstack.vllm.tensor-parallel-size=2` show the GPU layout. vLLM reads its
 * flags; it ignores, and warns about, any `VLLM_*` environment variable it does not know (vllm/envs.py,
 * "Unknown vLLM environment variable detected"), so these values are labels, never environment.
 * Each key is `llmstack.vllm.` and the flag without its dashes. Docker asks third-party tools to prefix
 * their keys with a namespace and reserves com.docker.*, io.docker.* and org.dockerproject.*
 * (https://docs.docker.com/engine/manage-resources/labels/); the project owns no domain, so its namespace
 * is its name. The diff shows a change of such a label once, under its flag (src/diff/compute.ts).
 */
export const VLLM_LABEL_PREFIX = "llmstack.vllm.";

/** The flags that are also labels: the GPU layout an operator looks for on the container. */
export const VLLM_LABELLED_FLAGS = [
  "tensorParallelSize",
  "pipelineParallelSize",
  "gpuMemoryUtilization",
] as const satisfies readonly VllmFlagName[];

/** The label that restates `flag` (`--tensor-parallel-size` → `llmstack.vllm.tensor-parallel-size`). */
export function labelOfFlag(flag: string): string {
  return `${VLLM_LABEL_PREFIX}${flag.replace(/^-+/, "")}`;
}

/** The flag a label restates, or null for any other label. */
export function flagOfLabel(label: string): string | null {
  return label.startsWith(VLLM_LABEL_PREFIX) ? `--${label.slice(VLLM_LABEL_PREFIX.length)}` : null;
}

/** The labels of vLLM's container: the labelled flags that `args` sets, with the values argv carries. */
export function vllmLabels(args: VllmArgs): Record<string, string> {
  const labels: Record<string, string> = {};
  for (const key of VLLM_LABELLED_FLAGS) {
    const value = args[key];
    if (value === undefined || typeof value === "boolean") continue;
    labels[labelOfFlag(VLLM_FLAGS[key])] = String(value);
  }
  return labels;
}
