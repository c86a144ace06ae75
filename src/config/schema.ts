/**
 * The stack config schema: what a person may write under `config:` in `Pulumi.<stack>.yaml` (and the
 * project defaults in `Pulumi.yaml`). Every object is strict, so a misspelt key fails instead of vanishing.
 *
 * Keys live in the `llmstack` namespace: `llmstack:gpu`, `llmstack:model`, ... Secrets are top-level keys
 * (`llmstack:postgresPassword`) so `pulumi config set --secret` can write them.
 */
import { rolloutIssues, rolloutSchema } from "./rolloutSchema";
import { z } from "zod";
import { monitoringSchema, type MonitoringSecretName } from "./monitoringSchema";
import { preflightSchema } from "./preflightSchema";
import { imageTagProblem } from "./images";
import { CUDA_CONTEXT_MIB, gpuBookings, problemText, sectionTenants } from "./gpuBookings";
import { DOCKER_HOST, gitRevision, hfRepoId, servedModelName } from "./names";
import { imagesShape, runsIn, serviceRuns, type ImageValues, type ServiceName } from "./services";

/**
 * The largest GPU memory a stack file or `capacity --gpu` may give, in MiB (1 TiB): a ceiling against
 * typing slips, over seven times the largest card in the catalog (H200), not a fact about any GPU.
 */
export const MAX_GPU_MEMORY_MIB = 1_048_576;

export const ENVIRONMENTS = ["development", "staging", "production"] as const;
export type Environment = (typeof ENVIRONMENTS)[number];

/**
 * A host GPU ID as Docker's device request takes it: an index ("0") or a UUID ("GPU-8f6c..."). An index
 * has no leading zero: "01" is GPU 1, and a list with both would put two processes on one card.
 */
export const gpuId = z
  .string()
  .regex(/^(0|[1-9]\d*|GPU-[0-9a-fA-F-]{8,}|MIG-[0-9a-fA-F-]{8,})$/, {
    message:
      'must be a GPU index such as "0" (no leading zero: "01" is GPU 1, write "1") or a UUID such as "GPU-5a0c6b3e-..."',
  });

/** The highest `gpu.memoryUtilization` any stack may set. */
export const MEMORY_UTILISATION_MAX = 0.95;

export interface UtilisationLimits {
  readonly min: number | null;
  readonly max: number;
}

/**
 * Bounds of vLLM's `--gpu-memory-utilization` (`gpu.memoryUtilization`) per environment, checked here and
 * imported by the policy pack and capacity. vLLM's default is 0.9
 * (https://docs.vllm.ai/en/stable/configuration/engine_args/). Production: above 0.92 leaves too little
 * for NCCL buffers and activation spikes beside the KV cache, so a load can run out of memory; below 0.6
 * the KV cache holds too few sequences for production traffic on the reference 24 GB cards. A null
 * minimum means "above 0".
 */
export const MEMORY_UTILISATION_LIMITS: Readonly<Record<Environment, UtilisationLimits>> = {
  development: { min: null, max: MEMORY_UTILISATION_MAX },
  staging: { min: null, max: MEMORY_UTILISATION_MAX },
  production: { min: 0.6, max: 0.92 },
};

/** Whether an environment allows this utilisation. */
export function utilisationAllowed(env: Environment, u: number): boolean {
  const l = MEMORY_UTILISATION_LIMITS[env];
  return Number.isFinite(u) && u > 0 && u <= l.max && (l.min === null || u >= l.min);
}

/** The bounds as words: "0.6 to 0.92", "above 0 and at most 0.95". */
export function utilisationRange(env: Environment): string {
  const l = MEMORY_UTILISATION_LIMITS[env];
  return l.min === null ? `above 0 and at most ${l.max}` : `${l.min} to ${l.max}`;
}

const deviceList = z
  .array(gpuId)
  .min(1, { message: "must list at least one GPU" })
  .describe("host GPU indices or UUIDs; one naming for the whole GPU section, each GPU once");

/** Card class decides NCCL's peer-to-peer setting on PCIe: GeForce cards lack PCIe P2P. */
export const cardClass = z.enum(["consumer", "datacenter"]);

const gpuCommon = {
  /** Host GPU IDs vLLM's container gets (indices or UUIDs). */
  vllmDevices: deviceList,
  /** Host GPU IDs the multimodal worker gets; usually one. */
  workerDevices: deviceList,
  /** Whether vLLM's GPUs are all joined to each other by NVLink. */
  nvlink: z.boolean(),
  /** consumer (GeForce, no PCIe P2P) or datacenter (A100, H100, L40S ... P2P works). */
  cardClass: cardClass.default("consumer"),
  tensorParallelSize: z.number().int().gte(1).lte(64),
  pipelineParallelSize: z.number().int().gte(1).lte(64).default(1),
  /** Fraction of each vLLM GPU that vLLM takes (`--gpu-memory-utilization`). */
  memoryUtilization: z
    .number()
    .gt(0)
    .lte(MEMORY_UTILISATION_MAX)
    .describe(
      `vLLM's \`--gpu-memory-utilization\`; production allows ${utilisationRange("production")}; on each GPU, with the worker's share ` +
        "and a CUDA context per process, it must fit what CUDA can allocate (docs/gpu-budget.md)",
    ),
  /** The GPUs' name as nvidia-smi shows it (e.g. "NVIDIA GeForce RTX 3090"), for the capacity check. */
  gpuName: z.string().min(1).optional(),
  /** Each GPU's memory in MiB as nvidia-smi reports it (memory.total), for the capacity check. */
  memoryMiB: z
    .number()
    .int()
    .gte(1024)
    .lte(MAX_GPU_MEMORY_MIB)
    .optional()
    .describe("each GPU's `memory.total` from nvidia-smi; required on a GPU vLLM shares with the worker"),
  /** Fraction of a GPU the multimodal worker needs; must fit beside vLLM on a shared GPU. */
  workerMemoryFraction: z
    .number()
    .gt(0)
    .lte(1)
    .default(0.1)
    .describe(
      "the worker's share of its GPU (its env `WORKER_GPU_MEMORY_FRACTION`; Docker cannot enforce it); on a GPU " +
        "shared with vLLM it must leave vLLM room to restart (docs/gpu-budget.md)",
    ),
};

export const gpuSchema = z.discriminatedUnion("mode", [
  z.strictObject({ mode: z.literal("multi"), ...gpuCommon }),
  z.strictObject({ mode: z.literal("single"), ...gpuCommon }),
  z.strictObject({
    mode: z.literal("cpu"),
    /** GiB of host memory vLLM's CPU backend keeps for the KV cache (VLLM_CPU_KVCACHE_SPACE). */
    kvCacheSpaceGiB: z.number().int().gte(1).lte(1024).default(4),
  }),
]);
export type GpuConfig = z.infer<typeof gpuSchema>;
export type GpuModeConfig = Exclude<GpuConfig, { mode: "cpu" }>;

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
      .default("unix:///var/run/docker.sock"),
    gpu: gpuSchema,
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
    if (cfg.gpu.mode === "cpu") return;
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

export type StackConfig = z.infer<typeof stackConfigSchema>;

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
/** Secrets only some stacks need: a Hugging Face token for gated models, a TLS certificate and key. */
export const OPTIONAL_SECRET_NAMES = ["hfToken", "tlsCertificate", "tlsPrivateKey"] as const;
export type SecretName =
  | (typeof SECRET_NAMES)[number]
  | (typeof OPTIONAL_SECRET_NAMES)[number]
  | MonitoringSecretName;
