/**
 * The service table: every container the stack can run, one entry each, and the one place its name, its
 * image keys, its deploy component type and its roles are written. The other layers read it instead of
 * keeping lists of their own:
 * - config: the keys of `llmstack:images` and `llmstack:monitoring.images` (imagesShape), which services
 *   run only once their image is set (serviceRuns), the GPU budget's tenants (./gpuBookings.ts);
 * - plan: `ServiceName`; each service's planner is registered by the planner file that plans it
 *   (src/plan/services.ts, src/monitoring/plan.ts), and a test holds the two lists equal;
 * - deploy: the component type token, part of the URN of the component and of every resource under it;
 * - preflight, monitoring and the policy pack: optional images, the GPU tenants, the services that watch
 *   GPUs without booking their memory, the services that may listen beyond loopback.
 *
 * It sits in the config layer, the bottom of the import graph, so every layer may import it; it holds
 * data only (no planner: the planner needs the planner's helpers, which sit above config).
 * CONTRIBUTING.md ("Adding a service") shows an entry being added.
 */
import { z } from "zod";
import { imageRef } from "./images";

/** A deploy component's type token: `llmstack:service:<Name>`, or `llmstack:check:<Name>` for a check. */
export type ComponentType = `llmstack:${"service" | "check"}:${string}`;

/**
 * Where a service is planned:
 * - "stack": the stack's own containers, by the planners of src/plan/services.ts, in their order;
 * - "monitoring": beside the stack while `llmstack:monitoring.enabled` is true, by src/monitoring/plan.ts;
 *   its images are keys of `llmstack:monitoring.images`;
 * - "check": the smoke test, planned last from every other container of the stack;
 * - "backup": the scheduled backup's containers while `llmstack:backup` is set, by src/plan/backupSchedule.ts,
 *   from the planned stores; they run the stores' and LiteLLM's images and declare none of their own.
 */
export type ServiceGroup = "stack" | "monitoring" | "check" | "backup";

/** One image key a service declares: `llmstack:images.<key>`, or `llmstack:monitoring.images.<key>`. */
export interface ImageSlot {
  readonly key: string;
  /**
   * The reference a stack gets when it sets none (the schema's default). Monitoring images have one; the
   * stack's other images are set in Pulumi.yaml's `llmstack:images`, where `llmstack images pin` pins
   * them for every stack at once, and have none here.
   */
  readonly default?: string;
  /**
   * The user's own image: it has no public default and no record (src/facts/images.ts holds it to
   * OWN_IMAGE_CONTRACT instead), and the service runs only when the stack sets it.
   */
  readonly own?: true;
}

/** A service that books a share of the memory of each GPU it is given (src/config/gpuBookings.ts). */
export interface GpuTenantSlot {
  /** As the budget's messages name it. */
  readonly tenant: string;
  /** The `llmstack:gpu` key of its share of each GPU. */
  readonly shareKey: "memoryUtilization" | "workerMemoryFraction";
  /** The `llmstack:gpu` key listing its GPUs. */
  readonly devicesKey: "vllmDevices" | "workerDevices";
  /** Refuses to start unless its whole share is free (vLLM); the budget is checked for its restart. */
  readonly checksFreeAtStart: boolean;
}

export interface ServiceEntry {
  readonly group: ServiceGroup;
  /**
   * Its deploy component's type token, or the service whose component creates it as a child. Part of the
   * URN of every resource under it: a change needs an alias (CONTRIBUTING.md, "Renames").
   */
  readonly component: ComponentType | { readonly within: string };
  /**
   * The image keys it declares, in the order the stack file's schema lists them; none when it runs
   * another service's image.
   */
  readonly images: readonly ImageSlot[];
  /** May publish a port beyond loopback (the policy pack refuses it to every other service). */
  readonly gateway?: true;
  /** Books GPU memory (a tenant of the GPU budget), or only watches the stack's GPUs through NVML. */
  readonly gpu?: GpuTenantSlot | "watch";
}

/**
 * The entries, in the order the stack file's image keys are listed (the JSON Schema and
 * docs/configuration.md follow it); the plan's order is the planners' (src/plan/services.ts).
 */
export const SERVICES = {
  /** The one-shot model download; runs vLLM's image, inside vLLM's component (it gates vLLM's start). */
  "model-download": { group: "stack", component: { within: "vllm" }, images: [] },
  vllm: {
    group: "stack",
    component: "llmstack:service:Vllm",
    // The CUDA image, and the CPU image that cpu mode runs instead.
    images: [{ key: "vllm" }, { key: "vllmCpu" }],
    gpu: {
      tenant: "vLLM",
      shareKey: "memoryUtilization",
      devicesKey: "vllmDevices",
      checksFreeAtStart: true,
    },
  },
  litellm: {
    group: "stack",
    component: "llmstack:service:Litellm",
    images: [{ key: "litellm" }],
    gateway: true,
  },
  /**
   * vLLM's router (github.com/vllm-project/router) between LiteLLM and the model's replicas, for
   * prefix-cache-aware routing: planned on a stack with hosts whose `model.router` is "cache_aware".
   */
  "vllm-router": {
    group: "stack",
    component: "llmstack:service:VllmRouter",
    images: [{ key: "vllmRouter" }],
  },
  "multimodal-worker": {
    group: "stack",
    component: "llmstack:service:MultimodalWorker",
    images: [{ key: "multimodalWorker", own: true }],
    gpu: {
      tenant: "the multimodal worker",
      shareKey: "workerMemoryFraction",
      devicesKey: "workerDevices",
      checksFreeAtStart: false,
    },
  },
  "retrieval-proxy": {
    group: "stack",
    component: "llmstack:service:RetrievalProxy",
    images: [{ key: "retrievalProxy", own: true }],
  },
  postgres: { group: "stack", component: "llmstack:service:Postgres", images: [{ key: "postgres" }] },
  redis: { group: "stack", component: "llmstack:service:Redis", images: [{ key: "redis" }] },
  qdrant: { group: "stack", component: "llmstack:service:Qdrant", images: [{ key: "qdrant" }] },
  "object-store": {
    group: "stack",
    component: "llmstack:service:ObjectStore",
    images: [{ key: "objectStore" }],
  },
  /** Caddy, TLS in front of the gateway when it is published beyond loopback. */
  "gateway-tls": {
    group: "stack",
    component: "llmstack:service:GatewayTls",
    images: [{ key: "tlsProxy" }],
    gateway: true,
  },
  /** One chat completion through the gateway after each update; runs LiteLLM's image. */
  "smoke-test": { group: "check", component: "llmstack:check:SmokeTest", images: [] },
  /** The scheduled backup: the scheduler (LiteLLM's image), and a runner in the Postgres and Redis images. */
  backup: { group: "backup", component: "llmstack:service:Backup", images: [] },
  "backup-postgres": { group: "backup", component: "llmstack:service:BackupPostgres", images: [] },
  "backup-redis": { group: "backup", component: "llmstack:service:BackupRedis", images: [] },
  "dcgm-exporter": {
    group: "monitoring",
    component: "llmstack:service:DcgmExporter",
    // https://docs.nvidia.com/datacenter/dcgm/latest/gpu-telemetry/dcgm-exporter.html: tags are
    // <DCGM version>-<exporter version>-<platform>; the long form never moves.
    images: [{ key: "dcgmExporter", default: "nvcr.io/nvidia/k8s/dcgm-exporter:4.2.3-4.1.3-ubuntu22.04" }],
    gpu: "watch",
  },
  prometheus: {
    group: "monitoring",
    component: "llmstack:service:Prometheus",
    // Prometheus 3.5 is a long-term-support release.
    images: [{ key: "prometheus", default: "prom/prometheus:v3.5.0" }],
  },
  alertmanager: {
    group: "monitoring",
    component: "llmstack:service:Alertmanager",
    images: [{ key: "alertmanager", default: "prom/alertmanager:v0.28.1" }],
  },
  grafana: {
    group: "monitoring",
    component: "llmstack:service:Grafana",
    images: [{ key: "grafana", default: "grafana/grafana:12.2.0" }],
  },
} as const satisfies Readonly<Record<string, ServiceEntry>>;

type Table = typeof SERVICES;
export type ServiceName = keyof Table;
/** The services of one group. */
export type ServicesIn<G extends ServiceGroup> = {
  [S in ServiceName]: Table[S]["group"] extends G ? S : never;
}[ServiceName];

/** Every service, in table order. */
export const SERVICE_NAMES = Object.keys(SERVICES) as ServiceName[];

/** A service's entry, typed as an entry (SERVICES's literal types give each entry a type of its own). */
export function serviceEntry(service: ServiceName): ServiceEntry {
  return SERVICES[service];
}

/** Whether a string names a service of the table. */
export function isServiceName(name: string): name is ServiceName {
  return Object.hasOwn(SERVICES, name);
}

/** The section of the stack file a group's image keys live in. */
export type ImageSection = "images" | "monitoring";
const sectionOf = (group: ServiceGroup): ImageSection => (group === "monitoring" ? "monitoring" : "images");

/** Every image key of a section, with the service that declares it, in table order. */
export function imageSlots(section: ImageSection): { readonly service: ServiceName; readonly slot: ImageSlot }[] {
  return SERVICE_NAMES.filter((s) => sectionOf(SERVICES[s].group) === section).flatMap((service) =>
    serviceEntry(service).images.map((slot) => ({ service, slot })),
  );
}

type Slot<G extends ServiceGroup> = Table[ServicesIn<G>]["images"][number];
type SlotSchema<T> = T extends { readonly own: true }
  ? z.ZodOptional<typeof imageRef>
  : T extends { readonly default: string }
    ? z.ZodDefault<typeof imageRef>
    : typeof imageRef;
/** A section's zod shape: each key an image reference, optional when own, with its default when it has one. */
export type ImagesShape<G extends ServiceGroup> = { [T in Slot<G> as T["key"]]: SlotSchema<T> };

/**
 * The shape of `llmstack:images` (section "images": the stack's and the check's services) or of
 * `llmstack:monitoring.images` ("monitoring"), built from the table so a new entry's key is one.
 */
export function imagesShape(section: "images"): ImagesShape<"stack" | "check">;
export function imagesShape(section: "monitoring"): ImagesShape<"monitoring">;
export function imagesShape(section: ImageSection): Record<string, z.ZodType> {
  return Object.fromEntries(
    imageSlots(section).map(({ slot }) => [
      slot.key,
      slot.own ? imageRef.optional() : slot.default !== undefined ? imageRef.default(slot.default) : imageRef,
    ]),
  );
}

/** The keys of `llmstack:images` that are your own images (the services run only when they are set). */
export function ownImageKeys(): string[] {
  return imageSlots("images")
    .filter(({ slot }) => slot.own)
    .map(({ slot }) => slot.key);
}

/** The stack's images as the checks read them: key → reference, unset keys absent or undefined. */
export type ImageValues = Readonly<Record<string, string | undefined>>;

/** The service's own image as the stack sets it; undefined when unset or when it has none. */
export function ownImageOf(images: ImageValues, service: ServiceName): string | undefined {
  const slot = serviceEntry(service).images.find((s) => s.own);
  return slot === undefined ? undefined : images[slot.key];
}

/**
 * Whether the stack runs a service as far as its images decide: a service on your own image runs only
 * when the image is set, so a stack never pulls an image that was never built (and a GPU tenant's share
 * counts only while it runs). Other conditions (TLS, monitoring, the smoke test) are its planner's.
 */
export function serviceRuns(images: ImageValues, service: ServiceName): boolean {
  return serviceEntry(service).images.every((s) => !s.own || images[s.key] !== undefined);
}

/** `serviceRuns` for one stack's config: which services its images let run. */
export function runsIn(config: { readonly images: ImageValues }): (service: ServiceName) => boolean {
  return (service) => serviceRuns(config.images, service);
}

/** The services the table gives a role, in table order. */
export function servicesWhere(test: (entry: ServiceEntry) => boolean): ServiceName[] {
  return SERVICE_NAMES.filter((s) => test(serviceEntry(s)));
}

/** Services that may listen beyond loopback: the gateway, and the TLS proxy in front of it. */
export const GATEWAY_SERVICES: readonly ServiceName[] = servicesWhere((e) => e.gateway === true);

/** Services that see GPUs but take no share of their memory (they read counters through NVML). */
export const GPU_WATCHERS: readonly ServiceName[] = servicesWhere((e) => e.gpu === "watch");

/** The GPU budget's tenants, with their service, in table order. */
export function gpuTenantSlots(): { readonly service: ServiceName; readonly gpu: GpuTenantSlot }[] {
  return SERVICE_NAMES.flatMap((service) => {
    const gpu = serviceEntry(service).gpu;
    return gpu !== undefined && gpu !== "watch" ? [{ service, gpu }] : [];
  });
}

/** The type token of a service's component (the token of the component it is created within, for a child). */
export function componentType(service: ServiceName): ComponentType {
  const c = serviceEntry(service).component;
  if (typeof c === "string") return c;
  if (!isServiceName(c.within)) {
    throw new Error(`${service} is created within ${c.within}, which is no service`);
  }
  return componentType(c.within);
}
