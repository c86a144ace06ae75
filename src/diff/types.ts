/**
 * The offline plan diff: two `llmstack plan --json` documents in, one entry per container out. Plain
 * data, printed as text, markdown (a pull-request comment) or JSON.
 */

/** One container of `llmstack plan --json`: `@pulumi/docker` Container input names plus plan facts. */
export type ContainerJson = Readonly<Record<string, unknown>> & {
  readonly service: string;
  readonly name: string;
};

/** The part of `llmstack plan --json` the diff reads. */
export interface PlanDoc {
  readonly stack: string;
  readonly containers: readonly ContainerJson[];
}

export type Action = "create" | "update" | "replace" | "delete" | "unchanged";

/** What a changed field does to the running container. */
export type Effect = "replace" | "update";

export interface FieldChange {
  /** Container input name, with a key or flag for lists: `envs[VLLM_GPU_MEMORY_UTILIZATION]`, `command --port`. */
  readonly field: string;
  readonly effect: Effect;
  /** Absent when the field or entry is added. */
  readonly old?: unknown;
  /** Absent when the field or entry is removed. */
  readonly new?: unknown;
}

export interface ContainerDiff {
  readonly service: string;
  readonly name: string;
  readonly action: Action;
  /** A GPU container replaced: it stops, frees its GPUs and reloads the model (minutes of downtime). */
  readonly downtime: boolean;
  /** A one-shot container (download, smoke test) replaced: it simply runs again. */
  readonly rerun: boolean;
  /** Fields that changed, replacing ones first; empty for create, delete and unchanged. */
  readonly changes: readonly FieldChange[];
}

export interface PlanDiff {
  readonly stack: string;
  /** The revision compared against, as the user gave it. */
  readonly base: string;
  /** The stack file does not exist at the base revision: everything is created. */
  readonly stackAdded: boolean;
  /** The stack file is gone from the working tree: everything is deleted. */
  readonly stackRemoved: boolean;
  readonly containers: readonly ContainerDiff[];
  readonly counts: Readonly<Record<Action, number>>;
  readonly changed: boolean;
}
