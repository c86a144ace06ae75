/**
 * Runs the real Pulumi program under Pulumi's mock runtime with a checked-in stack file as its config,
 * recording every resource registration (inputs) and, through a transformation, its options.
 */
import * as pulumi from "@pulumi/pulumi";
import { join } from "node:path";
import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import { parse } from "yaml";
import { DEFAULT_MONITORING_IMAGES } from "../../src/config/monitoringSchema";
import { DIGEST_ENVIRONMENTS, hasDigest } from "../../src/plan/digests";
import { IDLE_REFERENCE_HOST_PROBE } from "../preflight/probeOutput";
import { APP_IMAGES } from "./stacks";

import { ROOT } from "./root";

export { ROOT };

// The SDK's own wait for its RPC queue to drain (what `pulumi.runtime.disconnect` waits on).
// eslint-disable-next-line @typescript-eslint/no-require-imports
const { waitForRPCs } = require("@pulumi/pulumi/runtime/settings") as { waitForRPCs: () => Promise<void> };

export interface Registration {
  readonly type: string;
  readonly name: string;
  readonly inputs: Record<string, unknown>;
  /** The provider reference (`<provider URN>::<id>`) the resource was registered with, when it names one. */
  readonly provider?: string;
}

export interface CapturedOptions {
  readonly type: string;
  readonly name: string;
  readonly opts: pulumi.ResourceOptions;
}

/** Values the tests use for the stack's secrets; each is distinctive so a leak is easy to find. */
export const TEST_SECRETS: Record<string, string> = {
  postgresPassword: "pg-secret-7f3a9c",
  redisPassword: "redis-secret-2b8e41",
  qdrantApiKey: "qdrant-secret-c0ffee",
  objectStoreSecretKey: "s3-secret-91d2aa",
  litellmMasterKey: "sk-master-secret-55e1",
  litellmSaltKey: "salt-secret-0a7b3c",
  vllmApiKey: "vllm-secret-d4e5f6",
  grafanaAdminPassword: "grafana-secret-8c1d2e",
};

/**
 * A reference pinned by a made-up digest (the sha256 of "test:" and the reference), standing in for what
 * `llmstack images pin` writes: staging and production refuse `pulumi up` without one. No registry holds
 * a manifest with this digest.
 */
export function testPinned(ref: string): string {
  return hasDigest(ref) ? ref : `${ref}@sha256:${createHash("sha256").update(`test:${ref}`).digest("hex")}`;
}

/**
 * For a stack that needs digests, its images (un-namespaced keys, as a stack's raw values have them)
 * pinned as a pinned Pulumi.yaml would have them: `images`, and `monitoring` with its images when it is
 * enabled. Empty for development.
 */
export function pinImagesForTests(values: Record<string, unknown>): Record<string, unknown> {
  if (!DIGEST_ENVIRONMENTS.includes(values.environment as never)) return {};
  const pin = (images: Record<string, string>) =>
    Object.fromEntries(Object.entries(images).map(([k, ref]) => [k, testPinned(ref)]));
  const out: Record<string, unknown> = { images: pin(values.images as Record<string, string>) };
  const monitoring = values.monitoring as { enabled?: boolean; images?: Record<string, string> } | undefined;
  if (monitoring?.enabled) {
    out.monitoring = { ...monitoring, images: pin({ ...DEFAULT_MONITORING_IMAGES, ...monitoring.images }) };
  }
  return out;
}

/**
 * Pulumi's flat config map for a stack file plus project defaults, as the CLI hands it to a program.
 * Staging and production get their images pinned by testPinned; `overrides` may set them otherwise.
 */
export function configFor(
  stack: string,
  overrides: Record<string, unknown> = {},
  secrets: Record<string, string> = TEST_SECRETS,
  dir = ROOT,
): { config: Record<string, string>; secretKeys: string[] } {
  const project = parse(readFileSync(join(dir, "Pulumi.yaml"), "utf8")) as {
    config?: Record<string, { value?: unknown }>;
  };
  const stackDoc = parse(readFileSync(join(dir, `Pulumi.${stack}.yaml`), "utf8")) as {
    config?: Record<string, unknown>;
  };
  const merged: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(project.config ?? {})) merged[k] = v.value;
  Object.assign(merged, stackDoc.config ?? {});
  const ours = (k: string) => merged[`llmstack:${k}`];
  const pinned = pinImagesForTests({ environment: ours("environment"), images: ours("images"), monitoring: ours("monitoring") });
  for (const [k, v] of Object.entries(pinned)) merged[`llmstack:${k}`] = v;
  Object.assign(merged, overrides);
  const config: Record<string, string> = {};
  for (const [k, v] of Object.entries(merged)) {
    if (v === undefined) continue;
    config[k] = typeof v === "string" ? v : JSON.stringify(v);
  }
  const secretKeys: string[] = [];
  for (const [k, v] of Object.entries(secrets)) {
    config[`llmstack:${k}`] = v;
    secretKeys.push(`llmstack:${k}`);
  }
  return { config, secretKeys };
}

/** A `configFor` override that sets your application images on the stack's images (see APP_IMAGES). */
export function appImagesOverride(stack: string, dir = ROOT): Record<string, unknown> {
  const { config } = configFor(stack, {}, {}, dir);
  const images = JSON.parse(config["llmstack:images"]!) as Record<string, string>;
  // Staging and production get them pinned like the stack's other images.
  const environment = config["llmstack:environment"];
  const apps = DIGEST_ENVIRONMENTS.includes(environment as never)
    ? Object.fromEntries(Object.entries(APP_IMAGES).map(([k, ref]) => [k, testPinned(ref)]))
    : APP_IMAGES;
  return { "llmstack:images": { ...images, ...apps } };
}

/**
 * What the mock engine answers for a new resource: its inputs as state, plus the outputs the program
 * reads back (a pulled image's ID, a finished one-shot container's exit code, a generated password).
 */
export function mockResourceState(args: pulumi.runtime.MockResourceArgs): { id: string; state: Record<string, unknown> } {
  const state: Record<string, unknown> = { ...args.inputs };
  if (args.type === "docker:index/remoteImage:RemoteImage") state.imageId = args.inputs.name;
  if (args.type === "docker:index/container:Container" && args.inputs.attach) state.exitCode = 0;
  if (args.type === "random:index/randomPassword:RandomPassword") state.result = `generated-${args.name}`;
  return { id: `${args.name}-id`, state };
}

export interface MockRun {
  readonly registrations: Registration[];
  readonly options: CapturedOptions[];
  readonly outputs: Record<string, unknown>;
  readonly error?: Error;
  byName(name: string): Registration;
  containers(): Registration[];
}

export function unwrap<T>(o: pulumi.Input<T>): Promise<T> {
  return new Promise((resolve) => pulumi.output(o).apply((v) => resolve(v as T)));
}

/** Registers the program for `stack` under mocks and resolves once every container is registered. */
export async function runProgram(
  stack: string,
  overrides: Record<string, unknown> = {},
  secrets: Record<string, string> = TEST_SECRETS,
  preview = false,
  /** The project directory whose Pulumi.yaml and stack file are the config (a rollback's, say). */
  dir = ROOT,
  /**
   * What a `command.local.run` answers, from its command line and the script it decodes (the probe's, a
   * data volume check's, a reach check's); undefined for the answers below.
   */
  answer?: (command: string, script: string) => string | undefined,
): Promise<MockRun> {
  const registrations: Registration[] = [];
  const options: CapturedOptions[] = [];
  pulumi.runtime.setMocks(
    {
      newResource(args: pulumi.runtime.MockResourceArgs) {
        registrations.push({
          type: args.type,
          name: args.name,
          inputs: args.inputs as Record<string, unknown>,
          ...(args.provider !== undefined ? { provider: args.provider } : {}),
        });
        return mockResourceState(args);
      },
      call(args: pulumi.runtime.MockCallArgs) {
        if (args.token === "command:local:run") {
          // The GPU probe reports its transport's exit code; the reference host, idle and ready, answers it.
          // The data volume checks (postgres.data, qdrant.data) are the others: a new host has no data volume yet.
          // On a stack with hosts: each daemon answers its version, and every replica's port is free and reached.
          const command = String(args.inputs.command);
          const b64 = /^echo ([A-Za-z0-9+/=]+) \| base64 -d/.exec(command)?.[1];
          const script = b64 === undefined ? "" : Buffer.from(b64, "base64").toString("utf8");
          const stdout =
            answer?.(command, script) ??
            (command.includes("@@transport")
              ? IDLE_REFERENCE_HOST_PROBE
              : command.includes("'version' '--format' 'json'")
                ? `@@rc 0\n${JSON.stringify({ Server: { Version: "28.2.2", ApiVersion: "1.50" } })}\n@@stderr\n`
                : script.includes("-preflight'")
                  ? "listen image vllm/vllm-openai:v0.21.0\nlistening\ndial image ghcr.io/berriai/litellm:v1.84.0\ndial ok\ndone\n"
                  : "volume absent\n");
          return { command, stdout, stderr: "", assets: {} };
        }
        return args.inputs;
      },
    },
    "llm-multimodal-stack",
    stack,
    preview,
  );
  const { config, secretKeys } = configFor(stack, overrides, secrets, dir);
  pulumi.runtime.setAllConfig(config, secretKeys);
  // Imported after the mocks are set, as Pulumi's testing guide requires.
  const { deployStack } = await import("../../src/deploy/program");
  const run: MockRun = {
    registrations,
    options,
    outputs: {},
    byName(name) {
      const r = registrations.find((x) => x.name === name);
      if (!r) throw new Error(`no resource named ${name}; have ${registrations.map((x) => x.name).join(", ")}`);
      return r;
    },
    containers() {
      return registrations.filter((r) => r.type === "docker:index/container:Container");
    },
  };
  try {
    const out = deployStack({
      transformations: [
        (a) => {
          options.push({ type: a.type, name: a.name, opts: a.opts });
          return undefined;
        },
      ],
    });
    await Promise.all([...out.component.containers.values()].map((c) => unwrap(c.id)));
    await Promise.all([...out.component.volumes.values()].map((v) => unwrap(v.id)));
    // In a preview the smoke test's exit code is unknown (it has not run), so its result never resolves.
    if (!preview) await unwrap(out.smokeTest);
    // The record waits for the smoke test too (src/deploy/program.ts), so a preview never resolves it.
    const lastGoodConfig = preview ? undefined : await unwrap(out.lastGoodConfig);
    // Let every pending registration (component outputs included) reach this run's mock monitor
    // before the next run replaces it.
    await waitForRPCs();
    Object.assign(run.outputs, {
      gatewayUrl: out.gatewayUrl,
      servedModel: out.servedModel,
      gpuMap: out.gpuMap,
      vllmArgs: out.vllmArgs,
      capacity: out.capacity,
      lastGoodConfig,
    });
    return run;
  } catch (err) {
    return { ...run, error: err as Error };
  }
}

/**
 * Waits for `run` (a program's deploy and the outputs it names), or for the error the Pulumi runtime reports
 * through an unhandled rejection, as a failed provider input (the preflight gate) does in `pulumi up`; the
 * test listens in the runner's place. Null when everything resolved.
 */
export async function settleOrFailure(run: () => Promise<unknown>): Promise<Error | null> {
  const saved = process.listeners("unhandledRejection");
  process.removeAllListeners("unhandledRejection");
  let rejected: (err: Error) => void = () => undefined;
  const failure = new Promise<Error>((resolve) => (rejected = resolve));
  process.on("unhandledRejection", (reason) => rejected(reason as Error));
  try {
    const error = await Promise.race([run().then(() => null), failure]);
    // Give anything still waiting on the provider a moment to (not) register.
    await new Promise((r) => setTimeout(r, 200));
    return error;
  } catch (err) {
    return err as Error;
  } finally {
    process.removeAllListeners("unhandledRejection");
    for (const l of saved) process.on("unhandledRejection", l);
  }
}
