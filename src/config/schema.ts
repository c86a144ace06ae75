/**
 * The stack config schema: what a person may write under `config:` in `Pulumi.<stack>.yaml` (and the
 * project defaults in `Pulumi.yaml`). Every object is strict, so a misspelt key fails instead of vanishing.
 *
 * Keys live in the `llmstack` namespace: `llmstack:gpu`, `llmstack:model`, ... Secrets are top-level keys
 * (`llmstack:postgresPassword`) so `pulumi config set --secret` can write them.
 */
import { z } from "zod";
import { monitoringSchema, type MonitoringSecretName } from "../monitoring/schema";
import { preflightSchema } from "../preflight/schema";
import { imageRef, imageTagProblem } from "./images";

export const ENVIRONMENTS = ["development", "staging", "production"] as const;
export type Environment = (typeof ENVIRONMENTS)[number];

/** A host GPU ID as Docker's device request takes it: an index ("0") or a UUID ("GPU-8f6c..."). */
export const gpuId = z
  .string()
  .regex(/^(\d+|GPU-[0-9a-fA-F-]{8,}|MIG-[0-9a-fA-F-]{8,})$/, {
    message: 'must be a GPU index such as "0" or a UUID such as "GPU-5a0c6b3e-..."',
  });

const deviceList = z.array(gpuId).min(1, { message: "must list at least one GPU" });

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
  memoryUtilization: z.number().gt(0).lte(0.95),
  /** The GPUs' name as nvidia-smi shows it (e.g. "NVIDIA GeForce RTX 3090"), for the capacity check. */
  gpuName: z.string().min(1).optional(),
  /** Each GPU's memory in MiB as nvidia-smi reports it (memory.total), for the capacity check. */
  memoryMiB: z.number().int().gte(1024).optional(),
  /** Fraction of a GPU the multimodal worker needs; must fit beside vLLM on a shared GPU. */
  workerMemoryFraction: z.number().gt(0).lte(1).default(0.1),
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
  name: z.string().regex(/^[A-Za-z0-9][\w.-]*\/[\w.-]+$/, {
    message: 'must be a Hugging Face repository ID such as "Qwen/Qwen2.5-7B-Instruct"',
  }),
  /** The name clients ask the gateway for. */
  servedModelName: z.string().regex(/^[\w.:-]+$/, { message: "may use letters, digits, . _ : -" }),
  maxModelLen: z.number().int().gte(128).lte(1_048_576),
  dtype: dtype.default("auto"),
  /** Git revision of the model repository; pinning it keeps a deploy repeatable. */
  revision: z.string().min(1).optional(),
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


export const imagesSchema = z.strictObject({
  vllm: imageRef,
  vllmCpu: imageRef,
  litellm: imageRef,
  multimodalWorker: imageRef,
  retrievalProxy: imageRef,
  postgres: imageRef,
  redis: imageRef,
  qdrant: imageRef,
  objectStore: imageRef,
  /** Caddy, the TLS front of the gateway when it is published beyond loopback. */
  tlsProxy: imageRef,
});
export type ImagesConfig = z.infer<typeof imagesSchema>;

const port = z.number().int().gte(1).lte(65535);

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
  /** Run the multimodal worker (your image); off leaves vLLM, the gateway and the stores. */
  workerEnabled: z.boolean().default(true),
  /** Run the retrieval proxy (your image). */
  retrievalEnabled: z.boolean().default(true),
  /** Command of the multimodal worker image (run after vLLM answers /health). */
  workerCommand: z.array(z.string().min(1)).min(1),
  /** Command of the retrieval proxy image. */
  retrievalCommand: z.array(z.string().min(1)).min(1),
  /** Port the retrieval proxy listens on inside the stack network. */
  retrievalPort: port.default(8080),
  /** Port the multimodal worker listens on inside the stack network. */
  workerPort: port.default(8090),
});

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
      .regex(/^(unix:\/\/\/.+|ssh:\/\/[\w.-]+@[\w.-]+(:\d+)?|tcp:\/\/[\w.-]+:\d+)$/, {
        message: 'must be "unix:///var/run/docker.sock", "ssh://user@host" or "tcp://host:port"',
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
  })
  .superRefine((cfg, ctx) => {
    if (cfg.environment !== "development") {
      // Outside development every image is pinned: a floating tag changes under a running stack.
      const groups: [string[], Record<string, string>][] = [[["images"], cfg.images]];
      if (cfg.monitoring?.enabled) groups.push([["monitoring", "images"], cfg.monitoring.images]);
      for (const [path, images] of groups) {
        for (const [key, ref] of Object.entries(images)) {
          if (imageTagProblem(ref) !== "floating") continue;
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
    if (cfg.gpu.mode === "cpu") return;
    const g = cfg.gpu;
    const gpus = g.vllmDevices.length;
    const dup = g.vllmDevices.find((d, i) => g.vllmDevices.indexOf(d) !== i);
    if (dup !== undefined) {
      ctx.addIssue({
        code: "custom",
        path: ["gpu", "vllmDevices"],
        message: `lists GPU ${dup} twice; list each GPU once`,
      });
    }
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
    const shared = g.workerDevices.filter((d) => g.vllmDevices.includes(d));
    const utilisationValid = g.memoryUtilization > 0 && g.memoryUtilization <= 0.95;
    if (cfg.services.workerEnabled && utilisationValid && shared.length > 0 && g.memoryUtilization + g.workerMemoryFraction > 1.0 + 1e-9) {
      ctx.addIssue({
        code: "custom",
        path: ["gpu", "workerMemoryFraction"],
        message:
          `GPU ${shared.join(", ")} is shared by vLLM (memoryUtilization ${g.memoryUtilization}) and the ` +
          `multimodal worker (workerMemoryFraction ${g.workerMemoryFraction}): together ` +
          `${round(g.memoryUtilization + g.workerMemoryFraction)} of the GPU, more than 1.0; lower ` +
          `memoryUtilization to ${round(1 - g.workerMemoryFraction)} or less, or give the worker a GPU vLLM does not use`,
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

function round(x: number): number {
  return Math.round(x * 1000) / 1000;
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
