/**
 * Stack-file edits an attacker (or a slip) would make to reach an argv, a shell, a config file or the
 * public PR comment: revisions with line breaks or shell characters, names that read as options or path
 * steps, an ssh host that is an ssh option, a webhook URL with credentials or a line break, a floating or
 * malformed image reference, a host port published twice, Grafana on the gateway without TLS, a GPU
 * memory size no card has. Each alone makes the config invalid; the generators never consult the code
 * under test to decide what is bad.
 */
import fc from "fast-check";
import { get, set, type Mutation, type Path, type Raw } from "./mutate";

/** Characters no git ref, model name or host may hold: controls, whitespace, shell and markdown syntax. */
const FORBIDDEN = [
  "\n", "\r", "\t", "\x00", "\x1b", "\x7f", " ", ";", "|", "&", "$", "`", "'", '"', "<", ">", "(", ")",
  "{", "}", "*", "?", "[", "]", "\\", "~", "^", ":", "!", "#", "%", "=", ",",
];
const CONTROL = ["\n", "\r", "\t", "\x00", "\x07", "\x1b", "\x7f"];
const word = fc.stringMatching(/^[a-z0-9]{1,8}$/);

/** A string with one forbidden character somewhere in it. */
const withForbidden = (chars: readonly string[]): fc.Arbitrary<string> =>
  fc.tuple(word, fc.constantFrom(...chars), fc.stringMatching(/^[a-z0-9]{0,8}$/)).map(([a, c, b]) => `${a}${c}${b}`);

const BAD_REVISION = fc.oneof(
  withForbidden(FORBIDDEN.filter((c) => c !== ":")),
  word.map((w) => `-${w}`),
  word.map((w) => `--${w}=x`),
  word.map((w) => `${w}..${w}`),
  word.map((w) => `/${w}`),
  word.map((w) => `${w}/`),
  word.map((w) => `${w}//x`),
  word.map((w) => `${w}.`),
  word.map((w) => `.${w}`),
  word.map((w) => `x/${w}.lock`),
  fc.constantFrom("", "@", "main\n```\n**No changes.**", "a".repeat(256)),
);

const BAD_MODEL_NAME = fc.oneof(
  word.map((w) => `-${w}/model`),
  word.map((w) => `${w}/-model`),
  word.map((w) => `${w}/..`),
  word.map((w) => `${w}/a..b`),
  word.map((w) => `${w}/a--b`),
  word.map((w) => `${w}/model.git`),
  fc.tuple(word, withForbidden(FORBIDDEN)).map(([a, b]) => `${a}/${b}`),
);

const BAD_SERVED_NAME = fc.oneof(
  word.map((w) => `-${w}`),
  word.map((w) => `${w}..x`),
  withForbidden(FORBIDDEN.filter((c) => c !== ":")),
  word.map((w) => `${w}/${w}`),
);

const BAD_DOCKER_HOST = fc.oneof(
  word.map((w) => `ssh://-${w}@gpu-box`),
  word.map((w) => `ssh://deploy@-o${w}`),
  fc.constantFrom("ssh://-F@evil", "ssh://deploy@-oProxyCommand=x", "tcp://-H:2375"),
  fc.tuple(word, fc.constantFrom(...CONTROL)).map(([w, c]) => `unix:///run/${w}${c}.sock`),
);

const BAD_WEBHOOK_URL = fc.oneof(
  fc.tuple(word, word).map(([u, p]) => `https://${u}:${p}@hooks.example.org/llm`),
  word.map((u) => `https://${u}@hooks.example.org/llm`),
  fc.tuple(word, fc.constantFrom(...CONTROL)).map(([w, c]) => `https://hooks.example.org/${w}${c}x`),
  fc.constantFrom({ secret: "redisPassword" }, { secret: "alertWebhookUrl", extra: 1 }, { secret: "" }),
);

/** Tags that follow a channel or a variant, not a release. */
const FLOATING_WITH_SUFFIX = fc.oneof(
  fc.tuple(fc.constantFrom("latest", "stable", "nightly", "edge", "dev", "main", "master"), fc.constantFrom("-", ".", "_"), word).map(
    ([w, sep, s]) => `${w}${sep}${s}`,
  ),
  fc.constantFrom("alpine", "slim", "bookworm", "gpu"),
);

const MALFORMED_IMAGE = fc.oneof(
  fc.constantFrom("x:latest:1.0", "Redis:7", "redis:-1", "redis:7 ", "redis@sha256:abc", "redis::7", ":7", "redis:", "/redis:7"),
  fc.tuple(word, fc.constantFrom(...CONTROL)).map(([w, c]) => `redis:7${c}${w}`),
  word.map((w) => `-${w}:1.0`),
);

const repoOf = (ref: string): string => {
  const name = ref.split("@")[0]!;
  const colon = name.lastIndexOf(":");
  return colon > name.lastIndexOf("/") ? name.slice(0, colon) : name;
};

const ACME = { mode: "acme", domain: "llm.example.org", email: "ops@example.org" };

export function hostileInput(base: Raw, stack: string): fc.Arbitrary<Mutation> {
  const value = (kind: string, path: Path, arb: fc.Arbitrary<unknown>): fc.Arbitrary<Mutation> =>
    arb.map((v) => ({ kind, path, apply: (cfg: Raw) => set(cfg, path, v) }));
  const imageKeys = Object.keys(base.images as Raw).map((k): Path => ["images", k]);
  const gpuMode = get(base, ["gpu", "mode"]);
  return fc.oneof(
    value("revision not a git ref", ["model", "revision"], BAD_REVISION),
    value("model name as an option or path", ["model", "name"], BAD_MODEL_NAME),
    value("served name as an option or path", ["model", "servedModelName"], BAD_SERVED_NAME),
    value("docker host as an ssh option", ["dockerHost"], BAD_DOCKER_HOST),
    value("webhook URL with credentials or a control character", ["monitoring"], BAD_WEBHOOK_URL.map((url) => ({
      enabled: true,
      receiver: { type: "webhook", url },
    }))),
    fc.tuple(fc.constantFrom(...imageKeys), MALFORMED_IMAGE).map(([p, ref]) => ({
      kind: "malformed image reference",
      path: p,
      apply: (cfg: Raw) => set(cfg, p, ref),
    })),
    ...(stack === "development"
      ? [
          // Development's gateway has no TLS, so Grafana cannot be served through it.
          value("Grafana via a gateway without TLS", ["monitoring"], fc.constant({ enabled: true, grafana: { viaGateway: true } })),
        ]
      : [
          fc.tuple(fc.constantFrom(...imageKeys), FLOATING_WITH_SUFFIX).map(([p, tag]) => ({
            kind: "floating tag with a suffix",
            path: p,
            apply: (cfg: Raw) => set(cfg, p, `${repoOf(String(get(base, p)))}:${tag}`),
          })),
        ]),
    value("gateway port 80 beside ACME's", ["gateway"], fc.constantFrom("0.0.0.0", "192.168.1.20").map((ip) => ({
      bindAddress: ip,
      port: 80,
      tls: ACME,
    }))),
    ...(gpuMode === "cpu" ? [] : [value("GPU memory no card has", ["gpu", "memoryMiB"], fc.integer({ min: 1_048_577, max: 2 ** 40 }))]),
  );
}
