/**
 * How a secret's value is written into the place it lands. The plan marks every SecretRef with the
 * format of that place; `encodeSecret` is the one function that writes a value for it, used by the
 * offline render (on the mask) and by the deploy layer (on the real value) through `textToString`.
 * Some places cannot carry some values at all; those are refused before anything is created
 * (`secretValueProblems`), naming the key and the reason, never the value.
 */
import type { SecretName } from "../config/schema";
import type { ContainerSpec, SecretEncoding, SecretRef, Text } from "./types";

/** RFC 3986 unreserved characters and the sub-delims `! * ' ( )`, which userinfo allows as they are (§3.2.1). */
const KEPT = /^[A-Za-z0-9\-._~!*'()]$/;

/**
 * Every other byte of the UTF-8 form is written %XX (what encodeURIComponent does, without its URIError on
 * a lone surrogate), so `@ : / # ? % +` and spaces cannot end the userinfo early or be read as something
 * else. libpq and Prisma (LiteLLM's database client) percent-decode the password:
 * https://www.postgresql.org/docs/16/libpq-connect.html#LIBPQ-CONNSTRING-URIS,
 * https://www.prisma.io/docs/orm/reference/connection-urls#special-characters
 */
function percentEncode(value: string): string {
  let out = "";
  for (const b of new TextEncoder().encode(value)) {
    const c = String.fromCharCode(b);
    out += KEPT.test(c) ? c : `%${b.toString(16).toUpperCase().padStart(2, "0")}`;
  }
  return out;
}

/**
 * Redis reads its config file line by line (split at "\n", each line trimmed of " \t\r\n") and splits a
 * line into arguments with sdssplitargs: inside double quotes `\\` and `\"` stand for themselves, `\n \r
 * \t \b \a` for control characters and `\xHH` for any byte, and the closing quote must end the argument.
 * redis/redis src/config.c (loadServerConfigFromString) and src/sds.c (sdssplitargs), unchanged from 2.6
 * through 7.4. Every byte outside printable ASCII is written `\xHH`, so no line break, quote or
 * backslash in the value can end the argument or start a new directive.
 */
function redisQuote(value: string): string {
  let out = '"';
  for (const b of new TextEncoder().encode(value)) {
    if (b === 0x5c) out += "\\\\";
    else if (b === 0x22) out += '\\"';
    else if (b >= 0x20 && b <= 0x7e) out += String.fromCharCode(b);
    else out += `\\x${b.toString(16).padStart(2, "0")}`;
  }
  return `${out}"`;
}

/** Grafana expands `${VAR}` and `$__file{...}` (any `$__name{...}`) in every setting after applying GF_* overrides. */
const GRAFANA_EXPANSION = /\$(|__\w+)\{[^}]+\}/;

/** Why `value` cannot go where `encoding` says, or null when it can. Never quotes the value. */
export function secretRefusal(value: string, encoding: SecretEncoding): string | null {
  switch (encoding) {
    case "raw":
    case "url":
    case "json":
      return null;
    case "line":
      // docker-library/postgres docker-entrypoint.sh: initdb --pwfile=<(printf "%s\n" "$POSTGRES_PASSWORD");
      // initdb reads the password from the file's first line.
      return /[\r\n\0]/.test(value)
        ? "it contains a line break (or NUL), and Postgres reads its password as one line (initdb --pwfile)"
        : null;
    case "token":
      // RFC 9110 §5.5: a field value cannot hold CR, LF, NUL or other control characters, and recipients
      // strip the whitespace around it; Prometheus trims a credentials_file too (prometheus/common
      // config/http_config.go, FileSecret.Fetch: strings.TrimSpace).
      // eslint-disable-next-line no-control-regex -- control characters are what is refused
      if (/[\u0000-\u0008\u000a-\u001f\u007f]/.test(value)) {
        return "it contains a control character (a line break, ...), which an HTTP header cannot carry";
      }
      return /^[ \t]|[ \t]$/.test(value)
        ? "it starts or ends with a space or tab, which HTTP strips from a header value"
        : null;
    case "redis":
      // redis/redis src/config.c registers requirepass with EMPTY_STRING_IS_NULL: empty turns the password off.
      return value === "" ? "it is empty, and Redis runs without a password when requirepass is empty" : null;
    case "grafana":
      // grafana/grafana pkg/setting/setting.go applies GF_* overrides, then expandConfig
      // (pkg/setting/expanders.go) replaces `$…{…}` with an environment variable or a file's content.
      return GRAFANA_EXPANSION.test(value)
        ? 'it contains "${...}" or "$__name{...}", which Grafana replaces with an environment variable or a file'
        : null;
  }
}

/** The value as written where it lands; throws (without the value) when the place cannot carry it. */
export function encodeSecret(value: string, encoding: SecretEncoding): string {
  const refused = secretRefusal(value, encoding);
  if (refused !== null) throw new Error(`a secret cannot be written as ${encoding}: ${refused}`);
  switch (encoding) {
    case "url":
      return percentEncode(value);
    case "redis":
      return redisQuote(value);
    case "json":
      return JSON.stringify(value);
    default:
      return value;
  }
}

/** Where a secret lands: its format and, for messages, the container and the variable or file. */
export interface SecretUse {
  readonly secret: SecretName;
  readonly encoding: SecretEncoding;
  readonly where: string;
}

/** The secret references in a Text, in order. */
export function secretRefs(t: Text): SecretRef[] {
  if (typeof t === "string") return [];
  if ("secret" in t) return [t];
  return t.parts.filter((p): p is SecretRef => typeof p !== "string");
}

/** Every place a secret lands in these containers: each environment variable and uploaded file. */
export function secretUses(containers: readonly ContainerSpec[]): SecretUse[] {
  return containers.flatMap((c) => [
    ...Object.entries(c.env).flatMap(([key, text]) =>
      secretRefs(text).map((r) => ({ secret: r.secret, encoding: r.encode ?? "raw", where: `${c.service} ${key}` })),
    ),
    ...c.uploads.flatMap((u) =>
      secretRefs(u.content).map((r) => ({ secret: r.secret, encoding: r.encode ?? "raw", where: `${c.service} ${u.file}` })),
    ),
  ]);
}

/**
 * One line per secret value that cannot go where the stack puts it (`llmstack:<name> (<places>): <reason>`),
 * for the values the stack file has; `value` returns undefined for a secret it does not hold (generated).
 */
export function secretValueProblems(
  containers: readonly ContainerSpec[],
  value: (name: SecretName) => string | undefined,
): string[] {
  const places = new Map<string, { secret: SecretName; reason: string; where: string[] }>();
  for (const use of secretUses(containers)) {
    const v = value(use.secret);
    const reason = v === undefined ? null : secretRefusal(v, use.encoding);
    if (reason === null) continue;
    const key = `${use.secret}\n${reason}`;
    const entry = places.get(key) ?? { secret: use.secret, reason, where: [] };
    entry.where.push(use.where);
    places.set(key, entry);
  }
  return [...places.values()].map((p) => `llmstack:${p.secret} (${p.where.join(", ")}): ${p.reason}`);
}
