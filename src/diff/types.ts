/**
 * The offline plan diff: two `llmstack plan --json` documents (and the two stack files' secrets) in,
 * one entry per container, volume, network and secret out. Plain data, printed as text, markdown (a
 * pull-request comment) or JSON.
 */
import type { PlannedHost } from "../plan/types";

/** One container of `llmstack plan --json`: `@pulumi/docker` Container input names plus plan facts. */
export type ContainerJson = Readonly<Record<string, unknown>> & {
  readonly service: string;
  readonly name: string;
};

/** One volume of `llmstack plan --json` (the plan's VolumeSpec). */
export interface VolumeJson {
  /** The Pulumi resource name suffix: the same key is the same resource. */
  readonly key: string;
  /** Physical Docker volume name. */
  readonly name: string;
  readonly retainOnDelete: boolean;
  readonly protect: boolean;
  /** On a stack with hosts: the host the volume is on (the model cache is on every GPU host). */
  readonly host?: string;
}

/** One host of `llmstack plan --json` on a stack with hosts: the plan's PlannedHost as it is printed. */
export type HostJson = PlannedHost;

/** The part of `llmstack plan --json` the diff reads. */
export interface PlanDoc {
  readonly stack: string;
  readonly containers: readonly ContainerJson[];
  /** Absent only in documents of revisions older than the volume list. */
  readonly volumes?: readonly VolumeJson[];
  /** The stack network's physical name. */
  readonly network?: string;
  /** A stack with hosts only (docs/fleet.md), in the stack's order. */
  readonly hosts?: readonly HostJson[];
}

export type Action = "create" | "update" | "replace" | "delete" | "unchanged";

/** What a changed field does to the running container. */
export type Effect = "replace" | "update";

export interface FieldChange {
  /** Container input name, with a key or flag for lists: `envs[CUDA_VISIBLE_DEVICES]`, `labels[llmstack.vllm.tensor-parallel-size]`, `command --port`. */
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
  /** On a stack with hosts: the host it runs on (its placement), and the replica a vLLM container is. */
  readonly host?: string;
  readonly replica?: string;
  readonly action: Action;
  /** A GPU container replaced: it stops, frees its GPUs and reloads the model (minutes of downtime). */
  readonly downtime: boolean;
  /** A one-shot container (download, smoke test) replaced: it simply runs again. */
  readonly rerun: boolean;
  /** Fields that changed, replacing ones first; empty for create, delete and unchanged. */
  readonly changes: readonly FieldChange[];
  /**
   * Secrets this container takes whose stack-file value changed or was re-encrypted: the offline
   * render cannot tell which, so the container is replaced if the value changed.
   */
  readonly secrets: readonly string[];
}

export type SecretChangeKind = "changed" | "added" | "removed";

export interface SecretChange {
  /** The config key, without the `llmstack:` namespace (`postgresPassword`); nested keys dotted. */
  readonly name: string;
  readonly change: SecretChangeKind;
  /** Services of the new plan whose environment or uploaded files carry the value. */
  readonly usedBy: readonly string[];
}

/**
 * create: a new empty volume. delete: gone from the program. rename: a new physical name, which the
 * provider answers with a new (empty) volume. options: only `protect` or `retainOnDelete` changed.
 */
export type VolumeAction = "create" | "delete" | "rename" | "options" | "unchanged";

/**
 * What `pulumi up` does to the volume the program stops using (deleted or renamed away from):
 * fails: it is protected, so the update stops with an error; orphaned: retained, so Pulumi forgets it
 * and the data stays on the host; deleted: the volume and its contents are removed.
 */
export type VolumeOutcome = "fails" | "orphaned" | "deleted";

export interface VolumeState {
  readonly name: string;
  readonly protect: boolean;
  readonly retainOnDelete: boolean;
}

export interface VolumeDiff {
  readonly key: string;
  /** On a stack with hosts: the host the volume is on. */
  readonly host?: string;
  readonly action: VolumeAction;
  /** Holds data meant to outlive the stack (retained or protected on either side). */
  readonly data: boolean;
  readonly before?: VolumeState;
  readonly after?: VolumeState;
  /** Set for delete and rename. */
  readonly outcome?: VolumeOutcome;
}

export interface NetworkDiff {
  readonly action: "create" | "delete" | "replace" | "unchanged";
  readonly before?: string;
  readonly after?: string;
}

/**
 * revision: the base revision's stack is rendered by that revision's own program (it runs).
 * current: the revision's stack files are rendered by this checkout's program (nothing of it runs).
 */
export type RenderWith = "revision" | "current";

/**
 * A host of a stack with hosts, from one side to the other. create: listed only in the new stack file;
 * delete: only in the old one; update: its endpoint, address, interface, roles or host key changed.
 */
export interface HostDiff {
  readonly name: string;
  readonly action: "create" | "delete" | "update" | "unchanged";
  /** The endpoint it is reached on (the new one, unless the host is removed). */
  readonly endpoint: string;
  /** What changed about an updated host, in the order of its keys in the stack file. */
  readonly changes: readonly { readonly field: string; readonly old?: unknown; readonly new?: unknown }[];
}

export interface PlanDiff {
  readonly stack: string;
  /** The revision compared against, as the user gave it. */
  readonly base: string;
  /** The revision whose stack files are the new side; absent: the working tree. */
  readonly head?: string;
  readonly renderWith: RenderWith;
  /** The stack file does not exist at the base revision: everything is created. */
  readonly stackAdded: boolean;
  /** The stack file is gone from the new side: everything is deleted. */
  readonly stackRemoved: boolean;
  readonly containers: readonly ContainerDiff[];
  readonly counts: Readonly<Record<Action, number>>;
  /** Volumes that are not unchanged, in the new plan's order, then the removed ones. */
  readonly volumes: readonly VolumeDiff[];
  /** The base revision's plan lists no volumes (an older program): volume changes cannot be shown. */
  readonly volumesUnknown: boolean;
  readonly network: NetworkDiff;
  readonly secrets: readonly SecretChange[];
  /** The stack file's encryption settings (salt, secrets provider or key) changed. */
  readonly encryptionChanged: boolean;
  readonly changed: boolean;
  /**
   * Present when either side lists hosts: every host of either side, the new side's order first, then the
   * removed ones. Containers and volumes then carry their host, and the diff is shown host by host.
   */
  readonly hosts?: readonly HostDiff[];
}
