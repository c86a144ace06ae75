/**
 * The stack config schema: what a person may write under `config:` in `Pulumi.<stack>.yaml` (and the
 * project defaults in `Pulumi.yaml`). Every object is strict, so a misspelt key fails instead of vanishing.
 *
 * Keys live in the `llmstack` namespace: `llmstack:gpu`, `llmstack:model`, ... Secrets are top-level keys
 * (`llmstack:postgresPassword`) so `pulumi config set --secret` can write them.
 */
import { rolloutIssues, rolloutSchema } from "./rolloutSchema";
import { backupSchema } from "./backupSchema";
import { z } from "zod";
import { monitoringSchema, type MonitoringSecretName } from "./monitoringSchema";
import { preflightSchema } from "./preflightSchema";
import { imageTagProblem } from "./images";
import { CUDA_CONTEXT_MIB, gpuBookings, problemText, sectionTenants } from "./gpuBookings";
import { DOCKER_HOST, gitRevision, hfRepoId, servedModelName } from "./names";
import { imagesShape, runsIn, serviceRuns, type ImageValues, type ServiceName } from "./services";
import {
  ENVIRONMENTS,
  gpuCommon,
  gpuId,
  gpuSchema,
  utilisationAllowed,
  utilisationRange,
  type Environment,
  type GpuConfig,
  type GpuModeConfig,
} from "./gpuSchema";
import { hostIssues, hostsSchema, replicaIssues, replicaPlacementSchema, type HostConfig } from "./hosts";

export * from "./gpuSchema";


export const dtype = z.enum(["auto", "float16", "bfloat16", "float32"]);

export const modelSchema = z.strictObject({
  /** Hugging Face repository ID, e.g. Qwen/Qwen2.5-7B-Instruct. */
  name: hfRepoId,
  /** The name clients ask the gateway for. */
  servedModelName,
  maxModelLen: z.number().int().gte(128).lte(1_048_576),
  dtype: dtype.default("auto"),
  /** Git revision of the model repository (branch, tag or commit); pinning it keeps a deploy repeatable. */
  revision: gitRevision.optional(),
  /**
   * How many complete vLLM instances serve the model, each on the GPUs of one host (a stack with
   * `llmstack:hosts`); the planner places them unless `placement` pins them.
   */
  replicas: z
    .number()
    .int()
    .gte(1)
    .lte(256)
    .optional()
    .describe("complete vLLM instances of the model, each inside one host (needs llmstack:hosts); 1 unless set"),
  /**
   * Pins each replica to a host and its GPUs, instead of the planner's placement; an entry `{span: [...]}`
   * runs one replica across several hosts (docs/fleet.md).
   */
  placement: z
    .array(replicaPlacementSchema)
    .min(1)
    .optional()
    .describe("pins replicas, one entry per replica: {host, devices}, or {span: [{host, devices}, ...]} for one replica across hosts; the planner places them when left out"),
  /**
   * Who spreads requests over the replicas (a stack with hosts): "litellm" (the default) lists every replica in
   * LiteLLM; "cache_aware" puts vLLM's router between LiteLLM and the replicas, sending each request to the
   * replica most likely to hold its prompt's prefix in cache.
   */
  router: z
    .enum(["litellm", "cache_aware"])
    .optional()
    .describe(
      "who spreads requests over the replicas (needs llmstack:hosts): litellm (default) or cache_aware (vLLM's router, prefix-cache-aware)",
    ),
});
export type ModelConfig = z.infer<typeof modelSchema>;

export const vllmSchema = z.strictObject({
  /** Seconds `pulumi up` waits for vLLM to turn healthy (model load); the provider's default is 60. */
  startupTimeoutSeconds: z.number().int().gte(60).lte(7200).default(1200),
  /** Minutes the one-shot model download may take. */
  downloadTimeoutMinutes: z.number().int().gte(1).lte(1440).default(120),
  /**
   * Minutes `pulumi up` lets the vLLM image pull take (many gigabytes; the provider's default is 20).
   * Other images keep the provider's 20 minutes.
   */
  pullTimeoutMinutes: z.number().int().gte(1).lte(1440).default(60),
  /** Shared memory size in MiB when IPC is not shared with the host. */
  shmSizeMiB: z.number().int().gte(64).default(16384),
  /** Share the host's IPC namespace (vLLM's documented `--ipc=host`); else shmSizeMiB is used. */
  ipcHost: z.boolean().default(true),
});


/**
 * `llmstack:images`: one key per image a service of the table declares (src/config/services.ts), so a new
 * entry's key is one. Your own images (the worker's, the retrieval proxy's) are optional: the service
 * runs only when it is set, as there is no public default.
 */
export const imagesSchema = z.strictObject(imagesShape("images"));
export type ImagesConfig = z.infer<typeof imagesSchema>;

const port = z.number().int().gte(1).lte(65535);

/**
 * ACME's HTTP-01 challenge reaches the host on port 80 only ("The HTTP-01 challenge can only be done on
 * port 80", https://letsencrypt.org/docs/challenge-types/#http-01-challenge), so `acme` publishes it.
 */
export const ACME_HTTP_PORT = 80;

/**
 * TLS in front of the gateway (Caddy): `internal` uses Caddy's own CA (clients must trust it),
 * `acme` gets a certificate for `domain` from Let's Encrypt (ports 80 and 443 reachable), and
 * `certificate` serves the PEM files kept as the stack secrets tlsCertificate and tlsPrivateKey.
 */
export const tlsSchema = z.discriminatedUnion("mode", [
  z.strictObject({
    mode: z.literal("internal"),
    /** Names and addresses clients use to reach the gateway; the certificate covers them. */
    hosts: z
      .array(z.string().regex(/^[a-z0-9.:-]+$/i, { message: "must be a host name or IP address such as gpu-box.lan" }))
      .min(1)
      .default(["localhost", "127.0.0.1"]),
  }),
  z.strictObject({
    mode: z.literal("acme"),
    domain: z.string().regex(/^[a-z0-9.-]+\.[a-z]{2,}$/i, { message: "must be a DNS name such as llm.example.org" }),
    email: z.email(),
  }),
  z.strictObject({
    mode: z.literal("certificate"),
    domain: z.string().regex(/^[a-z0-9.-]+$/i).optional(),
  }),
]);
export type TlsConfig = z.infer<typeof tlsSchema>;

export const gatewaySchema = z.strictObject({
  /** Host address the gateway is published on; loopback unless set. */
  bindAddress: z.union([z.ipv4(), z.ipv6()]).default("127.0.0.1"),
  /** Host port of the gateway. */
  port: port.default(4000),
  /** Required when bindAddress is not a loopback address. */
  tls: tlsSchema.optional(),
});

export function isLoopback(address: string): boolean {
  return address === "::1" || /^127\./.test(address);
}

export const servicesSchema = z.strictObject({
  /** Command of the multimodal worker image (run after vLLM answers /health). */
  workerCommand: z.array(z.string().min(1)).min(1),
  /** Command of the retrieval proxy image. */
  retrievalCommand: z.array(z.string().min(1)).min(1),
  /** Port the retrieval proxy listens on inside the stack network. */
  retrievalPort: port.default(8080),
  /** Port the multimodal worker listens on inside the stack network. */
  workerPort: port.default(8090),
});

/**
 * The multimodal worker runs only when `llmstack:images.multimodalWorker` is set: the image is the switch,
 * so a stack never pulls an image that was never built. Its GPU share counts only then.
 */
export function workerEnabled(config: { readonly images: ImageValues }): boolean {
  return serviceRuns(config.images, "multimodal-worker");
}

export const smokeTestSchema = z.strictObject({
  /** Send one chat completion through the gateway after each update that changes the stack. */
  enabled: z.boolean().default(true),
});

export const dataSchema = z.strictObject({
  /** Protect the data volumes so `pulumi destroy` refuses until they are unprotected on purpose. */
  protect: z.boolean(),
});

/** The Docker host of a stack that names none: the local daemon's socket. */
export const DEFAULT_DOCKER_HOST = "unix:///var/run/docker.sock";

export const stackConfigSchema = z
  .strictObject({
    environment: z.enum(ENVIRONMENTS),
    dockerHost: z
      .string()
      .regex(DOCKER_HOST, {
        message:
          'must be "unix:///var/run/docker.sock", "ssh://user@host" or "tcp://host:port" ' +
          '(user and host may not start with "-"; no control characters)',
      })
      .default(DEFAULT_DOCKER_HOST),
    /** Required on a single-host stack; a stack with hosts has a GPU section per GPU host instead. */
    gpu: gpuSchema.optional().describe("required on a stack without llmstack:hosts (which has one per GPU host)"),
    /** The hosts of a stack that spans several (src/config/hosts.ts); absent: one Docker host. */
    hosts: hostsSchema.optional(),
    model: modelSchema,
    vllm: vllmSchema.default(vllmSchema.parse({})),
    images: imagesSchema,
    gateway: gatewaySchema,
    services: servicesSchema,
    data: dataSchema.optional(),
    smokeTest: smokeTestSchema.default({ enabled: true }),
    monitoring: monitoringSchema.optional(),
    /** Host checks inside `pulumi up` before GPU containers are registered (src/preflight). */
    preflight: preflightSchema.default({ enabled: true }),
    rollout: rolloutSchema.optional(),
    /** A scheduled backup of the data stores (src/plan/backupSchedule.ts). */
    backup: backupSchema.optional(),
  })
  .superRefine((cfg, ctx) => {
    if (cfg.environment !== "development") {
      // Outside development every image is pinned: a floating tag changes under a running stack.
      const groups: [string[], Record<string, string | undefined>][] = [[["images"], cfg.images]];
      if (cfg.monitoring?.enabled) groups.push([["monitoring", "images"], cfg.monitoring.images]);
      for (const [path, images] of groups) {
        for (const [key, ref] of Object.entries(images)) {
          if (ref === undefined || imageTagProblem(ref) !== "floating") continue;
          ctx.addIssue({
            code: "custom",
            path: [...path, key],
            message: `${cfg.environment} needs a pinned image version; "${ref}" floats: use a version tag such as ${ref.split(/[:@]/)[0]}:1.2.3 (optionally with @sha256:<digest>)`,
          });
        }
      }
    }
    if (!isLoopback(cfg.gateway.bindAddress) && cfg.gateway.tls === undefined) {
      ctx.addIssue({
        code: "custom",
        path: ["gateway", "tls"],
        message:
          `the gateway is published on ${cfg.gateway.bindAddress}, beyond loopback, so the master key would cross the network in clear; ` +
          `add tls: {mode: internal}, {mode: acme, domain, email} or {mode: certificate}, or bind to 127.0.0.1`,
      });
    }
    hostPortIssues(cfg, ctx);
    rolloutIssues(cfg, ctx);
    if (cfg.monitoring?.enabled && cfg.monitoring.grafana.viaGateway && cfg.gateway.tls === undefined) {
      ctx.addIssue({
        code: "custom",
        path: ["monitoring", "grafana", "viaGateway"],
        message:
          "Grafana is served through the gateway's TLS proxy, which this stack does not run (no gateway.tls); " +
          "add gateway.tls or set viaGateway: false and reach Grafana through an SSH tunnel",
      });
    }
    for (const issue of replicaIssues(cfg.hosts, cfg.model.replicas, cfg.model.placement)) {
      ctx.addIssue({ code: "custom", ...issue });
    }
    if (cfg.hosts === undefined && cfg.model.router === "cache_aware") {
      ctx.addIssue({
        code: "custom",
        path: ["model", "router"],
        message:
          'cache_aware puts vLLM\'s router in front of the model\'s replicas, and a single-host stack runs one vLLM; ' +
          'list llmstack:hosts and set model.replicas, or remove model.router',
      });
    }
    if (cfg.hosts !== undefined) {
      const facts = {
        environment: cfg.environment,
        hosts: cfg.hosts,
        gpuSet: cfg.gpu !== undefined,
        dockerHostSet: cfg.dockerHost !== DEFAULT_DOCKER_HOST,
        monitoringEnabled: cfg.monitoring?.enabled === true,
        workerEnabled: workerEnabled(cfg),
      };
      for (const issue of hostIssues(facts)) ctx.addIssue({ code: "custom", ...issue });
      return;
    }
    // A missing llmstack:gpu without hosts is reported by parseStackConfig, in the key's place.
    if (cfg.gpu === undefined || cfg.gpu.mode === "cpu") return;
    const g = cfg.gpu;
    const gpus = g.vllmDevices.length;
    refineGpuBudget(g, cfg.environment, runsIn(cfg), ctx);
    if (g.tensorParallelSize * g.pipelineParallelSize !== gpus) {
      ctx.addIssue({
        code: "custom",
        path: ["gpu", "tensorParallelSize"],
        message:
          `tensorParallelSize ${g.tensorParallelSize} × pipelineParallelSize ${g.pipelineParallelSize} = ` +
          `${g.tensorParallelSize * g.pipelineParallelSize}, but vllmDevices lists ${gpus} GPU(s); ` +
          `vLLM needs TP × PP to equal the GPUs it is given: set tensorParallelSize to ${gpus / g.pipelineParallelSize >= 1 && Number.isInteger(gpus / g.pipelineParallelSize) ? gpus / g.pipelineParallelSize : 1} or change vllmDevices`,
      });
    }
    if (g.mode === "single" && gpus !== 1) {
      ctx.addIssue({
        code: "custom",
        path: ["gpu", "vllmDevices"],
        message: `mode single gives vLLM exactly one GPU, but ${gpus} are listed; use mode multi or list one GPU`,
      });
    }
    if (g.mode === "multi" && gpus < 2) {
      ctx.addIssue({
        code: "custom",
        path: ["gpu", "vllmDevices"],
        message: "mode multi needs at least two GPUs for vLLM; use mode single for one GPU",
      });
    }
    if (g.workerDevices.length !== 1) {
      ctx.addIssue({
        code: "custom",
        path: ["gpu", "workerDevices"],
        message: `the multimodal worker takes exactly one GPU, but ${g.workerDevices.length} are listed`,
      });
    }
    if (g.mode === "single" && g.nvlink) {
      ctx.addIssue({
        code: "custom",
        path: ["gpu", "nvlink"],
        message: "mode single has one vLLM GPU, so there is no NVLink between vLLM's GPUs; set nvlink: false",
      });
    }
  });

/** What the schema parses: `gpu` is absent on a stack with hosts. */
export type ParsedStackConfig = z.infer<typeof stackConfigSchema>;

/**
 * A stack config as the planner reads it. On a stack with hosts, `gpu` is the first GPU host's section cut
 * to one replica (hostsTemplateGpu), for the settings that read one GPU section (the gateway's worker
 * count, the capacity summary); every replica is planned from its own host's section.
 */
export type StackConfig = Omit<ParsedStackConfig, "gpu"> & { readonly gpu: GpuConfig; readonly hosts?: readonly HostConfig[] };

/**
 * The GPU section against the budget (src/config/gpuBookings.ts) and its environment's utilisation bounds.
 * Zod runs this even when a field failed its own check, so it looks only at values that passed theirs.
 */
function refineGpuBudget(
  g: GpuModeConfig,
  env: Environment,
  runs: (service: ServiceName) => boolean,
  ctx: z.RefinementCtx,
): void {
  const valid = (schema: z.ZodType, v: unknown) => schema.safeParse(v).success;
  const fieldsValid =
    [...g.vllmDevices, ...g.workerDevices].every((id) => valid(gpuId, id)) &&
    valid(gpuCommon.memoryUtilization, g.memoryUtilization) &&
    valid(gpuCommon.workerMemoryFraction, g.workerMemoryFraction) &&
    (g.memoryMiB === undefined || valid(gpuCommon.memoryMiB, g.memoryMiB));
  if (!fieldsValid) return;
  if (!utilisationAllowed(env, g.memoryUtilization)) {
    ctx.addIssue({
      code: "custom",
      path: ["gpu", "memoryUtilization"],
      message: `${env} allows memoryUtilization ${utilisationRange(env)}; set it within those bounds`,
    });
    return;
  }
  const budget = gpuBookings(sectionTenants(g, runs), { memoryMiB: g.memoryMiB });
  for (const p of budget.problems) {
    ctx.addIssue({ code: "custom", path: ["gpu", p.key], message: problemText(p) });
  }
  const unknown = budget.gpus.find((x) => x.bookings.length > 1 && x.usableMiB === null);
  if (budget.problems.length === 0 && unknown !== undefined) {
    ctx.addIssue({
      code: "custom",
      path: ["gpu", "memoryMiB"],
      message:
        `GPU ${unknown.gpu} is shared by vLLM and the multimodal worker, and the budget counts each process's ` +
        `${CUDA_CONTEXT_MIB} MiB CUDA context against the GPU's memory, so it needs memoryMiB; set it to the GPU's ` +
        `memory.total in MiB as nvidia-smi reports it (llmstack configure-gpu auto writes it), or give the worker ` +
        `a GPU vLLM does not use`,
    });
  }
}

/**
 * No host port is published twice: the gateway's port and, with `acme`, port 80 for the HTTP-01
 * challenge (Docker would refuse the second binding halfway through `pulumi up`).
 */
function hostPortIssues(cfg: Pick<StackConfig, "gateway">, ctx: z.RefinementCtx): void {
  if (cfg.gateway.tls?.mode === "acme" && cfg.gateway.port === ACME_HTTP_PORT) {
    ctx.addIssue({
      code: "custom",
      path: ["gateway", "port"],
      message:
        `host port ${ACME_HTTP_PORT} on ${cfg.gateway.bindAddress} would be published twice: by gateway.port and by ` +
        `gateway.tls mode acme, whose HTTP-01 challenge arrives on port ${ACME_HTTP_PORT}; ` +
        "set gateway.port to 443 (or another free port)",
    });
  }
}

/** Names of the credentials the stack needs, as top-level secret keys (`llmstack:<name>`). */
export const SECRET_NAMES = [
  "postgresPassword",
  "redisPassword",
  "qdrantApiKey",
  "objectStoreSecretKey",
  "litellmMasterKey",
  "litellmSaltKey",
  "vllmApiKey",
] as const;
/**
 * Secrets only some stacks need: a Hugging Face token for gated models, a TLS certificate and key, and
 * the TLS material of a stack's tcp:// hosts (`dockerTls`: one JSON object, host name → {ca, cert, key} PEM).
 */
export const OPTIONAL_SECRET_NAMES = ["hfToken", "tlsCertificate", "tlsPrivateKey", "dockerTls"] as const;
export type SecretName =
  | (typeof SECRET_NAMES)[number]
  | (typeof OPTIONAL_SECRET_NAMES)[number]
  | MonitoringSecretName;
