/**
 * Secret values with ordinary characters land intact: each rendered place is read back with the parser
 * its consumer uses (a URL parser, JSON.parse, Redis's own config reader, the yaml package, Docker's
 * KEY=VALUE split) and must give back exactly the value. Values a place cannot carry are refused up
 * front, naming the key and the reason, never the value.
 */
import fc from "fast-check";
import { parse } from "yaml";
import { describe, expect, it } from "vitest";
import type { SecretName } from "../../src/config/schema";
import { LITELLM_CONFIG_PATH } from "../../src/plan/litellm";
import { REDIS_CONF_PATH, S3_CONFIG_PATH } from "../../src/plan/dataStores";
import { encodeSecret, secretRefusal, secretRefs, secretUses, secretValueProblems } from "../../src/plan/encode";
import { envList, textToString } from "../../src/plan/render";
import type { ContainerSpec, ServiceName, StackPlan, Text } from "../../src/plan/types";
import { readRedisConf } from "../helpers/redisConf";
import { tryAll } from "../safety/fuzzing";
import { container, planFromValues, planOf, rawValues, STACKS, withAppImages } from "../helpers/stacks";

/** Production running your own worker and retrieval proxy, so every place a secret lands is planned. */
const production = planFromValues(withAppImages(rawValues("production")));

function render(text: Text, values: Partial<Record<SecretName, string>>): string {
  return textToString(text, (ref) => {
    const v = values[ref.secret];
    if (v === undefined) throw new Error(`no test value for ${ref.secret}`);
    return v;
  });
}

const env = (plan: StackPlan, service: ServiceName, key: string): Text => container(plan, service).env[key]!;
const upload = (plan: StackPlan, service: ServiceName, file: string): Text =>
  container(plan, service).uploads.find((u) => u.file === file)!.content;

/** The password a URL carries, as its consumer decodes it; throws when the URL does not parse as ours. */
function urlPassword(url: string, protocol: string, host: string, port: string, path: string): string {
  const u = new URL(url);
  if (u.protocol !== protocol || u.hostname !== host || u.port !== port || u.pathname !== path || u.search || u.hash) {
    throw new Error(`parsed as ${u.protocol}//${u.host}${u.pathname}${u.search}${u.hash}`);
  }
  return decodeURIComponent(u.password);
}

function redisPassword(conf: string): string {
  const read = readRedisConf(conf);
  if ("error" in read) throw new Error(read.error);
  const pass = read.directives.filter((d) => d[0]!.toLowerCase() === "requirepass");
  if (pass.length !== 1 || pass[0]!.length !== 2) throw new Error(`requirepass directives: ${JSON.stringify(pass)}`);
  const others = read.directives.filter((d) => d[0] !== "requirepass");
  const expected = [["bind", "0.0.0.0"], ["protected-mode", "yes"], ["appendonly", "yes"], ["dir", "/data"]];
  if (JSON.stringify(others) !== JSON.stringify(expected)) throw new Error(`other directives: ${JSON.stringify(others)}`);
  return pass[0]![1]!;
}

interface Place {
  readonly name: string;
  /** Characters the place carries (a secret outside them is refused up front). */
  readonly chars: "printable" | "printable+controls";
  readonly readBack: (value: string) => string;
}

const PLACES: Place[] = [
  {
    name: "litellm DATABASE_URL",
    chars: "printable+controls",
    readBack: (v) => urlPassword(render(env(production, "litellm", "DATABASE_URL"), { postgresPassword: v }), "postgresql:", "postgres", "5432", "/litellm"),
  },
  {
    name: "retrieval-proxy DATABASE_URL",
    chars: "printable+controls",
    readBack: (v) =>
      urlPassword(render(env(production, "retrieval-proxy", "DATABASE_URL"), { postgresPassword: v }), "postgresql:", "postgres", "5432", "/litellm"),
  },
  {
    name: "multimodal-worker REDIS_URL",
    chars: "printable+controls",
    readBack: (v) => urlPassword(render(env(production, "multimodal-worker", "REDIS_URL"), { redisPassword: v }), "redis:", "redis", "6379", "/0"),
  },
  {
    name: "redis redis.conf",
    chars: "printable+controls",
    readBack: (v) => redisPassword(render(upload(production, "redis", REDIS_CONF_PATH), { redisPassword: v })),
  },
  {
    name: "object-store s3.json",
    chars: "printable+controls",
    readBack: (v) => {
      const doc = JSON.parse(render(upload(production, "object-store", S3_CONFIG_PATH), { objectStoreSecretKey: v }));
      expect(doc.identities[0].credentials).toHaveLength(1);
      return doc.identities[0].credentials[0].secretKey;
    },
  },
  {
    // No secret is in a YAML file today; this holds the json encoding to the YAML reader for when one is.
    name: "a YAML value (json encoding)",
    chars: "printable+controls",
    readBack: (v) => (parse(`key: ${encodeSecret(v, "json")}\nnext: 1\n`) as { key: string }).key,
  },
  {
    name: "postgres POSTGRES_PASSWORD (Docker's KEY=VALUE)",
    chars: "printable",
    readBack: (v) => {
      const postgres = container(production, "postgres");
      const line = envList(postgres.env, () => v).find((e) => e.startsWith("POSTGRES_PASSWORD="))!;
      return line.slice(line.indexOf("=") + 1);
    },
  },
  {
    name: "prometheus credentials file",
    chars: "printable",
    // Prometheus trims the file (prometheus/common FileSecret.Fetch).
    readBack: (v) => render(upload(production, "prometheus", "/etc/prometheus/secrets/litellm-master-key"), { litellmMasterKey: v }).trim(),
  },
];

/** Every printable ASCII character, and the space; with line breaks and tabs where a place carries them. */
const PRINTABLE = Array.from({ length: 95 }, (_, i) => String.fromCharCode(0x20 + i));
const password = (chars: Place["chars"]): fc.Arbitrary<string> => {
  const units = chars === "printable" ? PRINTABLE : [...PRINTABLE, "\n", "\t", "\r"];
  const arb = fc.string({ unit: fc.constantFrom(...units), minLength: 1, maxLength: 40 });
  // Values a token place refuses (leading/trailing blanks) are tested by the refusals below.
  return chars === "printable" ? arb.map((s) => s.trim()).filter((s) => s !== "") : arb;
};

const KNOWN = ["p@ss/w#rd?x", 'x\nrequirepass ""', 'a"b', "50% off: 'now' \\ $HOME ${PATH} `id`", " lead and trail ", "user:pass@host"];

describe("secret values read back exactly where they land", () => {
  it.each(PLACES.flatMap((p) => KNOWN.filter((k) => p.chars !== "printable" || k === k.trim() && !k.includes("\n")).map((k) => [p.name, k, p] as const)))(
    "%s carries %j",
    (_name, value, place) => {
      expect(place.readBack(value)).toBe(value);
    },
  );

  it("every place carries generated passwords of every printable character (fuzz)", () => {
    const RUNS = 1500;
    let tried = 0;
    const failures: string[] = [];
    for (const place of PLACES) {
      const run = tryAll(password(place.chars), RUNS, (v) => {
        try {
          const back = place.readBack(v);
          return back === v ? null : `${place.name}: ${JSON.stringify(v)} read back as ${JSON.stringify(back)}`;
        } catch (err) {
          return `${place.name}: ${JSON.stringify(v)}: ${(err as Error).message}`;
        }
      });
      tried += run.tried;
      failures.push(...run.failures);
    }
    console.log(
      `fuzz: ${tried} secrets of printable characters tried through ${PLACES.length} places ` +
        `(DATABASE_URL, REDIS_URL, redis.conf, s3.json, YAML, the environment, a credentials file), ${failures.length} mishandled`,
    );
    expect(tried).toBe(RUNS * PLACES.length);
    expect(failures.slice(0, 3)).toEqual([]);
  });

  it("puts no secret in LiteLLM's config.yaml: its keys come from the environment", () => {
    for (const stack of STACKS) {
      const content = container(planOf(stack), "litellm").uploads.find((u) => u.file === LITELLM_CONFIG_PATH)!.content;
      expect(typeof content).toBe("string");
      const doc = parse(content as string);
      expect(doc.general_settings).toEqual({ master_key: "os.environ/LITELLM_MASTER_KEY", database_url: "os.environ/DATABASE_URL" });
      expect(doc.model_list[0].litellm_params.api_key).toBe("os.environ/VLLM_API_KEY");
    }
  });
});

/**
 * Every plan a stack file can make with secrets in files: each checked-in stack, and production with TLS
 * from PEM files running your own worker and retrieval proxy.
 */
function plansWithSecrets(): StackPlan[] {
  const pem = withAppImages(rawValues("production"));
  pem.gateway = { ...(pem.gateway as object), tls: { mode: "certificate" } };
  const all = new Set(["hfToken", "tlsCertificate", "tlsPrivateKey"]);
  return [...STACKS.map((s) => planOf(s)), planFromValues(pem, "production", all)];
}

describe("each place a secret lands is marked with its format", () => {
  const uses = plansWithSecrets().flatMap((p) => secretUses(p.containers));

  it("URLs percent-encode, config files quote for their parser, credentials sent in HTTP headers are tokens", () => {
    const formats = new Map<string, string>();
    for (const u of uses) formats.set(`${u.where} ${u.secret}`, u.encoding);
    expect(Object.fromEntries([...formats].sort())).toEqual({
      "gateway-tls /etc/caddy/tls/cert.pem tlsCertificate": "raw",
      "gateway-tls /etc/caddy/tls/key.pem tlsPrivateKey": "raw",
      "grafana GF_SECURITY_ADMIN_PASSWORD grafanaAdminPassword": "grafana",
      "litellm DATABASE_URL postgresPassword": "url",
      "litellm LITELLM_MASTER_KEY litellmMasterKey": "token",
      "litellm LITELLM_SALT_KEY litellmSaltKey": "raw",
      "litellm VLLM_API_KEY vllmApiKey": "token",
      "model-download HF_TOKEN hfToken": "token",
      "multimodal-worker DATABASE_URL postgresPassword": "url",
      "multimodal-worker QDRANT_API_KEY qdrantApiKey": "token",
      "multimodal-worker REDIS_URL redisPassword": "url",
      "multimodal-worker S3_SECRET_ACCESS_KEY objectStoreSecretKey": "raw",
      "multimodal-worker VLLM_API_KEY vllmApiKey": "token",
      "object-store /etc/seaweedfs/s3.json objectStoreSecretKey": "json",
      "postgres POSTGRES_PASSWORD postgresPassword": "line",
      "prometheus /etc/prometheus/secrets/litellm-master-key litellmMasterKey": "token",
      "qdrant QDRANT__SERVICE__API_KEY qdrantApiKey": "token",
      "redis /usr/local/etc/redis/redis.conf redisPassword": "redis",
      "redis REDISCLI_AUTH redisPassword": "raw",
      "retrieval-proxy DATABASE_URL postgresPassword": "url",
      "retrieval-proxy QDRANT_API_KEY qdrantApiKey": "token",
      "retrieval-proxy REDIS_URL redisPassword": "url",
      "retrieval-proxy S3_SECRET_ACCESS_KEY objectStoreSecretKey": "raw",
      "retrieval-proxy VLLM_API_KEY vllmApiKey": "token",
      "smoke-test LITELLM_MASTER_KEY litellmMasterKey": "token",
      "vllm VLLM_API_KEY vllmApiKey": "token",
    });
  });

  it("the offline render shows the mask written the same way", () => {
    const redis = container(production, "redis").uploads[0]!;
    expect(textToString(redis.content, () => "********")).toContain('\nrequirepass "********"\n');
    expect(secretRefs(env(production, "litellm", "DATABASE_URL"))).toEqual([{ secret: "postgresPassword", encode: "url" }]);
  });
});

describe("values a place cannot carry", () => {
  const containers: readonly ContainerSpec[] = production.containers;
  const problems = (values: Partial<Record<SecretName, string>>): string[] =>
    secretValueProblems(containers, (name) => values[name]);

  it("are refused with the key, the place and the reason, never the value", () => {
    expect(
      problems({
        postgresPassword: "one\ntwo",
        litellmMasterKey: "sk-key ",
        qdrantApiKey: "a\u0007b",
        grafanaAdminPassword: "pa${HOME}ss",
        redisPassword: "fine \"quoted\"\nmultiline",
      }),
    ).toEqual([
      "llmstack:postgresPassword (postgres POSTGRES_PASSWORD): it contains a line break (or NUL), and Postgres reads its password as one line (initdb --pwfile)",
      "llmstack:qdrantApiKey (qdrant QDRANT__SERVICE__API_KEY, multimodal-worker QDRANT_API_KEY, retrieval-proxy QDRANT_API_KEY): " +
        "it contains a control character (a line break, ...), which an HTTP header cannot carry",
      "llmstack:litellmMasterKey (litellm LITELLM_MASTER_KEY, smoke-test LITELLM_MASTER_KEY, prometheus /etc/prometheus/secrets/litellm-master-key): " +
        "it starts or ends with a space or tab, which HTTP strips from a header value",
      'llmstack:grafanaAdminPassword (grafana GF_SECURITY_ADMIN_PASSWORD): it contains "${...}" or "$__name{...}", which Grafana replaces with an environment variable or a file',
    ]);
  });

  it("Grafana's expansion pattern, Redis's empty password and a bare $ or { are told apart", () => {
    expect(secretRefusal("$__file{/etc/passwd}", "grafana")).not.toBe(null);
    expect(secretRefusal("cost$5{x}", "grafana")).toBe(null);
    expect(secretRefusal("a$b{c", "grafana")).toBe(null);
    expect(secretRefusal("", "redis")).toBe("it is empty, and Redis runs without a password when requirepass is empty");
    expect(() => encodeSecret("a\nb", "line")).toThrow(
      "a secret cannot be written as line: it contains a line break (or NUL), and Postgres reads its password as one line (initdb --pwfile)",
    );
  });
});
