/**
 * The StackPlan: plain data describing every container of a stack, in the field names of
 * `@pulumi/docker` Container inputs. The planner builds it without Pulumi; the deploy layer maps it
 * one-to-one onto resources; the CLI prints it.
 */
import type { Environment, SecretName } from "../config/schema";
import type { ServiceName } from "../config/services";
import type { CapacityBudget } from "./capacity";

/** The services of the table (src/config/services.ts), the one place a service is named. */
export type { ServiceName };

/**
 * The format of the place a secret's value lands; plan/encode.ts writes a value for each (`encodeSecret`)
 * and refuses the values a place cannot carry.
 */
export type SecretEncoding =
  /** Verbatim: an environment value or a whole file (PEM). */
  | "raw"
  /** Verbatim, read as one line: the postgres image hands POSTGRES_PASSWORD to `initdb --pwfile`. */
  | "line"
  /** An HTTP credential (bearer token, `api-key` header, a Prometheus `credentials_file`). */
  | "token"
  /** The password in a URL's userinfo, percent-encoded (DATABASE_URL, REDIS_URL). */
  | "url"
  /** One argument on a redis.conf line, double-quoted the way Redis's own parser reads it. */
  | "redis"
  /** A JSON string literal, quotes included; also a YAML double-quoted scalar (YAML 1.2 reads JSON). */
  | "json"
  /** A Grafana setting given through a GF_* environment variable. */
  | "grafana";

/**
 * A reference to a stack secret; resolved by the deploy layer, masked by the offline render. `encode` is
 * the format of the place it lands (plan/encode.ts); absent means verbatim.
 */
export interface SecretRef {
  readonly secret: SecretName;
  readonly encode?: SecretEncoding;
}

/** Text that may embed secrets: plain strings and secret references, joined in order. */
export type Text = string | SecretRef | { readonly parts: readonly (string | SecretRef)[] };

export interface DeviceRequest {
  readonly driver: "nvidia";
  /** Host GPU IDs (indices or UUIDs). */
  readonly deviceIds: readonly string[];
  readonly capabilities: readonly string[];
}

export interface PortSpec {
  readonly internal: number;
  readonly external: number;
  readonly ip: string;
  readonly protocol: "tcp";
}

export interface VolumeMount {
  /** Key of a StackPlan volume. */
  readonly volume: string;
  readonly containerPath: string;
  readonly readOnly?: boolean;
}

export interface BindMount {
  /** An absolute directory on the Docker host. */
  readonly hostPath: string;
  readonly containerPath: string;
}

export interface UploadSpec {
  readonly file: string;
  readonly content: Text;
  /** Octal mode; the provider writes 0644 without it. */
  readonly permissions?: string;
  /**
   * Numeric uid and gid of the file inside the container (a name would resolve on the machine running
   * Pulumi). The planner sets them to the image's runtime user (src/facts/images.ts); without them the
   * provider writes the file as root.
   */
  readonly owner?: string;
  readonly group?: string;
}

export interface HealthcheckSpec {
  readonly tests: readonly string[];
  readonly interval: string;
  readonly timeout: string;
  readonly retries: number;
  readonly startPeriod: string;
}

/** Where a container runs on a stack with hosts (absent on a single-host stack). */
export interface Placement {
  /** The host's name in `llmstack:hosts`. */
  readonly host: string;
  /** The model replica the container serves (`<host>-<slot>`), for vLLM. */
  readonly replica?: string;
  /** For a member of a replica across hosts: its vLLM node rank (0: the head, which serves the API). */
  readonly nodeRank?: number;
}

export interface ContainerSpec {
  readonly service: ServiceName;
  /** Physical container name, `<project>-<stack>-<service>`. */
  readonly name: string;
  readonly image: string;
  /** Docker host the container is placed on (`unix://...` or `ssh://...`). */
  readonly host: string;
  readonly entrypoints?: readonly string[];
  readonly command: readonly string[];
  /** Environment as a record; rendered once as sorted KEY=VALUE strings. */
  readonly env: Readonly<Record<string, Text>>;
  /**
   * Docker labels, for an operator (`docker inspect`, `docker ps --filter label=...`); nothing in the
   * container reads them. A change replaces the container (the provider's `labels` is ForceNew).
   */
  readonly labels?: Readonly<Record<string, string>>;
  readonly deviceRequests: readonly DeviceRequest[];
  readonly ipcMode?: "host";
  /**
   * "host": the container shares its host's network stack (a member of a replica across hosts, whose NCCL
   * and torch.distributed traffic runs between the hosts' addresses). It joins no stack network and
   * publishes nothing (`ports` is empty; Docker discards published ports there); `listens` says what it binds.
   */
  readonly networkMode?: "host";
  /** With host networking: the ports it listens on at its host's addresses, for the host port checks. */
  readonly listens?: readonly PortSpec[];
  /** MiB, as `@pulumi/docker` takes it. */
  readonly shmSize?: number;
  readonly ports: readonly PortSpec[];
  readonly volumes: readonly VolumeMount[];
  /** Host directories mounted into the container (the scheduled backup's directory). */
  readonly binds?: readonly BindMount[];
  readonly uploads: readonly UploadSpec[];
  readonly healthcheck?: HealthcheckSpec;
  readonly restart: "unless-stopped" | "no";
  /** Memory limit in MiB; GPU containers have none (their memory is the GPU's). */
  readonly memory?: number;
  readonly logDriver: "json-file";
  readonly logOpts: Readonly<Record<string, string>>;
  readonly securityOpts: readonly string[];
  /** Linux capabilities added to Docker's default set. */
  readonly capAdd?: readonly string[];
  /** Seconds Docker waits after SIGTERM before SIGKILL. */
  readonly stopTimeout: number;
  /** Wait for the container to be healthy (or, for a one-shot, to finish). */
  readonly wait: boolean;
  /** Seconds to wait when `wait` is set. */
  readonly waitTimeout?: number;
  /** One-shot: run to completion (attach) instead of staying up. */
  readonly oneShot: boolean;
  /** Services that must be created (and healthy) first. */
  readonly dependsOn: readonly ServiceName[];
  /** Uses GPUs: a replacement means downtime and a model reload. */
  readonly gpu: boolean;
  /** Fixed name, host port or GPU: the old copy must be deleted before the new one is created. */
  readonly deleteBeforeReplace: boolean;
  /**
   * Minutes the container's create may take (Pulumi customTimeouts.create): it covers the uploads, the
   * start and the wait for a healthy state or, for a one-shot, its whole run. Set on every planned container.
   */
  readonly createTimeoutMinutes?: number;
  /** Minutes the pull of the container's image may take (the RemoteImage's customTimeouts.create). */
  readonly pullTimeoutMinutes?: number;
  /** On a stack with hosts: the host (and replica) the container runs on; `host` is that host's endpoint. */
  readonly placement?: Placement;
}

export interface VolumeSpec {
  /** Key used by mounts and as the Pulumi resource name suffix. */
  readonly key: string;
  /** Physical Docker volume name. */
  readonly name: string;
  /** Keep the volume when the stack is destroyed or the resource replaced. */
  readonly retainOnDelete: boolean;
  /** Pulumi refuses to delete it until unprotected on purpose. */
  readonly protect: boolean;
  /** On a stack with hosts: the host it lives on (a volume mounted on several hosts is one per host). */
  readonly host?: string;
}

/** A host of a stack with hosts, as the deploy and the checks need it. */
export interface PlannedHost {
  readonly name: string;
  /** The Docker endpoint (`ssh://`, `tcp://`, `unix://`). */
  readonly endpoint: string;
  /** The address peers and the gateway dial. */
  readonly address: string;
  readonly interface?: string;
  readonly roles: readonly string[];
  /** The ssh host key the endpoint must show. */
  readonly hostKey?: string;
}

/** One replica of the model: a complete vLLM on GPUs of one host. */
export interface PlannedReplica {
  readonly id: string;
  readonly host: string;
  readonly devices: readonly string[];
  readonly tensorParallelSize: number;
  readonly pipelineParallelSize: number;
  /** `address:port` the gateway dials (for a replica across hosts, its head's API). */
  readonly endpoint: string;
  /** A replica across hosts: each member's host and GPUs, by node rank (the first is the head). */
  readonly members?: readonly { readonly host: string; readonly devices: readonly string[]; readonly nodeRank: number }[];
  /** Its memory budget: weights, KV cache and concurrency on its GPUs. */
  readonly capacity: CapacityBudget;
}

export interface SecretSpec {
  readonly name: SecretName;
  /** Where the value comes from: the stack file, or generated (development only). */
  readonly source: "config" | "generated";
  /** Whether the stack file has it (offline render); generated secrets are always available. */
  readonly present: boolean;
  readonly optional: boolean;
}

export interface GpuMapEntry {
  readonly service: ServiceName;
  /** Host GPU IDs in the device request. */
  readonly hostDevices: readonly string[];
  /** CUDA_VISIBLE_DEVICES inside the container (container indices). */
  readonly cudaVisibleDevices: string;
}

export interface StackPlan {
  readonly project: string;
  readonly stack: string;
  readonly environment: Environment;
  readonly stackFile: string;
  readonly dockerHost: string;
  readonly network: { readonly name: string };
  readonly volumes: readonly VolumeSpec[];
  readonly secrets: readonly SecretSpec[];
  readonly containers: readonly ContainerSpec[];
  readonly gpuMap: readonly GpuMapEntry[];
  /** vLLM's argv as it will run. */
  readonly vllmArgs: readonly string[];
  readonly servedModelName: string;
  readonly gatewayUrl: string;
  /** vLLM's memory budget per GPU and the constraints it violates. */
  readonly capacity: CapacityBudget;
  /** On a stack with hosts: its hosts and the model's replicas (absent on a single-host stack). */
  readonly hosts?: readonly PlannedHost[];
  readonly replicas?: readonly PlannedReplica[];
  /** What the plan runs but advises against (a pipeline across hosts over plain Ethernet); absent when none. */
  readonly warnings?: readonly string[];
}
