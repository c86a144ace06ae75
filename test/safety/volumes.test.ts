/**
 * Data that outlives the stack: the volumes holding the databases, the object store, the model cache, the
 * certificates and the monitoring history are retained on delete (protected in production), a container
 * only mounts volumes the stack owns, and the credentials that open that data come from the stack file
 * outside development. Options are captured with a transformation: mocks do not see them.
 */
import * as pulumi from "@pulumi/pulumi";
import { beforeAll, describe, expect, it } from "vitest";
import { StackConfigError } from "../../src/config/errors";
import { SECRET_NAMES } from "../../src/config/schema";
import { runProgram, TEST_SECRETS, unwrap, type MockRun } from "../helpers/pulumiMocks";
import { leaves, settle } from "./walker";

const VOLUME = "docker:index/volume:Volume";
const RANDOM = "random:index/randomPassword:RandomPassword";

/** Data volume → where each service keeps that data (the path its image writes to). */
const DATA_MOUNTS: Record<string, Record<string, string>> = {
  "hf-cache": { "model-download": "/root/.cache/huggingface", vllm: "/root/.cache/huggingface" },
  "postgres-data": { postgres: "/var/lib/postgresql/data" },
  "redis-data": { redis: "/data" },
  "qdrant-data": { qdrant: "/qdrant/storage" },
  "object-store-data": { "object-store": "/data" },
  "tls-data": { "gateway-tls": "/data" },
  "prometheus-data": { prometheus: "/prometheus" },
  "grafana-data": { grafana: "/var/lib/grafana" },
};

const CORE = ["hf-cache", "postgres-data", "redis-data", "qdrant-data", "object-store-data"];
const WITH_TLS_AND_MONITORING = [...CORE, "tls-data", "prometheus-data", "grafana-data"];

interface Case {
  readonly label: string;
  readonly stack: string;
  readonly overrides: Record<string, unknown>;
  readonly data: readonly string[];
  readonly protect: boolean;
}

const CASES: Case[] = [
  { label: "development", stack: "development", overrides: {}, data: CORE, protect: false },
  { label: "staging", stack: "staging", overrides: {}, data: WITH_TLS_AND_MONITORING, protect: false },
  { label: "production", stack: "production", overrides: {}, data: WITH_TLS_AND_MONITORING, protect: true },
  {
    label: "development with TLS and monitoring",
    stack: "development",
    overrides: {
      "llmstack:gateway": { bindAddress: "0.0.0.0", port: 8443, tls: { mode: "internal" } },
      "llmstack:monitoring": { enabled: true },
    },
    data: WITH_TLS_AND_MONITORING,
    protect: false,
  },
];

const mountServices = (key: string): string[] => Object.keys(DATA_MOUNTS[key] ?? {});

describe.each(CASES)("$label: data volumes", (c) => {
  let run: MockRun;
  const volumeName = (key: string): string => `llm-multimodal-stack-${c.stack}-${key}`;

  beforeAll(async () => {
    run = await runProgram(c.stack, c.overrides);
    await settle();
    expect(run.error).toBeUndefined();
  });

  it(`retains every data volume on delete and ${c.protect ? "protects" : "does not protect"} it`, () => {
    const options = Object.fromEntries(
      run.options
        .filter((o) => o.type === VOLUME)
        .map((o) => [o.name.slice(`${c.stack}-`.length), { retainOnDelete: o.opts.retainOnDelete, protect: o.opts.protect }]),
    );
    const data = Object.fromEntries(Object.entries(options).filter(([k]) => k in DATA_MOUNTS));
    expect(data).toEqual(Object.fromEntries(c.data.map((k) => [k, { retainOnDelete: true, protect: c.protect }])));
    // The one other volume is LiteLLM's metrics scratch directory, rebuilt on every start.
    const scratch = Object.keys(options).filter((k) => !(k in DATA_MOUNTS));
    expect(scratch).toEqual(c.data.includes("prometheus-data") ? ["litellm-metrics"] : []);
  });

  it("registers each data volume under its stack-scoped name, owned by the stack, not by a container", async () => {
    for (const key of c.data) {
      const r = run.byName(`${c.stack}-${key}`);
      expect(r.type).toBe(VOLUME);
      expect(r.inputs).toEqual({ name: volumeName(key) });
      const opts = run.options.find((o) => o.name === `${c.stack}-${key}`)!.opts;
      expect(opts.deletedWith).toBeUndefined();
      const parent = opts.parent as pulumi.Resource;
      expect(await unwrap(parent.urn)).toBe(
        `urn:pulumi:${c.stack}::llm-multimodal-stack::llmstack:index:LlmStack::${c.stack}`,
      );
    }
  });

  it("mounts each data volume where its service writes, and no container mounts anything the stack does not own", () => {
    const owned = new Set(run.registrations.filter((r) => r.type === VOLUME).map((r) => r.inputs.name as string));
    const mounts: Record<string, Record<string, string>> = {};
    const strays: string[] = [];
    for (const ct of run.containers()) {
      const service = String(ct.inputs.name).slice(`llm-multimodal-stack-${c.stack}-`.length);
      expect(ct.inputs.mounts, service).toBeUndefined();
      for (const v of (ct.inputs.volumes ?? []) as { volumeName?: string; hostPath?: string; containerPath: string }[]) {
        if (v.volumeName === undefined || v.hostPath !== undefined || !owned.has(v.volumeName)) {
          strays.push(`${service}: ${JSON.stringify(v)}`);
          continue;
        }
        const key = v.volumeName.slice(`llm-multimodal-stack-${c.stack}-`.length);
        if (key in DATA_MOUNTS) (mounts[key] ??= {})[service] = v.containerPath;
      }
    }
    expect(strays).toEqual([]);
    expect(mounts).toEqual(Object.fromEntries(c.data.map((k) => [k, DATA_MOUNTS[k]])));
    expect(c.data.every((k) => mountServices(k).length > 0)).toBe(true);
  });
});

describe("credentials that open retained data", () => {
  it.each(["staging", "production"])("come from the stack file in %s: nothing is generated", async (stack) => {
    const run = await runProgram(stack);
    await settle();
    expect(run.error).toBeUndefined();
    expect(run.registrations.filter((r) => r.type === RANDOM)).toEqual([]);
    const env = (service: string): string[] =>
      leaves(run.byName(`${stack}-${service}-container`).inputs.envs).map((l) => l.text);
    expect(env("postgres")).toContain(`POSTGRES_PASSWORD=${TEST_SECRETS.postgresPassword}`);
    expect(env("litellm")).toContain(`LITELLM_SALT_KEY=${TEST_SECRETS.litellmSaltKey}`);
    expect(env("grafana")).toContain(`GF_SECURITY_ADMIN_PASSWORD=${TEST_SECRETS.grafanaAdminPassword}`);
    const s3 = leaves(run.byName(`${stack}-object-store-container`).inputs.uploads).map((l) => l.text);
    expect(s3.some((t) => t.includes(`"secretKey":"${TEST_SECRETS.objectStoreSecretKey}"`))).toBe(true);
  });

  it.each(["staging", "production"])("are required in %s: without them nothing is registered", async (stack) => {
    const run = await runProgram(stack, {}, {});
    await settle();
    expect(run.error).toBeInstanceOf(StackConfigError);
    expect(run.error?.message).toBe(
      `Pulumi.${stack}.yaml: the stack needs these secrets, which the stack file does not have: ` +
        [...SECRET_NAMES, "grafanaAdminPassword"].map((n) => `llmstack:${n}`).join(", ") +
        ". They open data that outlives the stack, so " +
        `${stack} keeps them in the stack file: run "npx llmstack secrets init --stack ${stack}" once ` +
        '(it generates and stores them with "pulumi config set --secret"), then run pulumi up again.',
    );
    expect(run.registrations).toEqual([]);
  });

  it("are generated in development, one unprotected random password per credential", async () => {
    const run = await runProgram("development", {}, {});
    await settle();
    expect(run.error).toBeUndefined();
    const generated = run.registrations.filter((r) => r.type === RANDOM);
    expect(generated.map((g) => [g.name, g.inputs])).toEqual(
      SECRET_NAMES.map((n) => [`development-${n}`, { length: 40, special: false }]),
    );
    expect(run.options.filter((o) => o.type === RANDOM).map((o) => o.opts.protect)).toEqual(
      SECRET_NAMES.map(() => false),
    );
    const env = leaves(run.byName("development-postgres-container").inputs.envs);
    expect(env).toContainEqual({
      path: "[1]",
      text: "POSTGRES_PASSWORD=generated-development-postgresPassword",
      secret: true,
    });
  });
});
