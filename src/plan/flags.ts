/**
 * vLLM's command-line flags, in one typed table: a flag's spelling lives here and nowhere else.
 * Names checked against `vllm serve --help` at vllm-project/vllm 5606eaf (shared/reference/vllm-flags.txt).
 */
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
