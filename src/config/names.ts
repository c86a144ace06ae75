/**
 * The formats of names, revisions and addresses a stack file gives to other programs: a Hugging Face
 * repository ID, the served model name, a git revision, a plain URL and the Docker host. Each reaches an
 * argv, a config file or a public PR comment, so a value that could read as an option (a leading "-"),
 * a path step ("..") or a line break is refused here, before anything runs.
 *
 * This file imports only zod, so the monitoring schema can use it without an import cycle.
 */
import { z } from "zod";
import { printable } from "./printable";

/**
 * Control characters (C0, DEL and C1): a line break or escape in a value breaks the file it lands in,
 * and some terminals obey the C1 range (U+009B starts an escape sequence) as they do ESC.
 */
// eslint-disable-next-line no-control-regex -- finding control characters is the point
export const CONTROL_CHARACTER = /[\x00-\x1f\x7f-\x9f]/;

/** A value quoted for an error message: JSON, with DEL and C1 escaped too (JSON leaves them raw). */
export function quoteValue(value: unknown): string {
  return printable(JSON.stringify(value) ?? String(value));
}

/**
 * A Hugging Face repository ID, `namespace/name`, by huggingface_hub's own `validate_repo_id`
 * (src/huggingface_hub/utils/_validators.py): each part of letters, digits, "-", "_" and "." that starts
 * and ends with a letter, digit or "_"; the name at most 96 characters; no "--" or ".."; no ".git" ending.
 */
const HF_PART = "[A-Za-z0-9_](?:[\\w.-]*[A-Za-z0-9_])?";
const HF_REPO_ID = new RegExp(`^${HF_PART}/${HF_PART}$`);
export const hfRepoId = z
  .string()
  .refine((s) => HF_REPO_ID.test(s) && s.split("/")[1]!.length <= 96 && !/--|\.\./.test(s) && !s.endsWith(".git"), {
    message:
      'must be a Hugging Face repository ID such as "Qwen/Qwen2.5-7B-Instruct": letters, digits, "-", "_" and "." ' +
      'in two parts that start and end with a letter or digit, without "--" or ".."',
  })
  // The pattern, for editors (the JSON Schema); the check above is the rule.
  .meta({ pattern: HF_REPO_ID.source });

/**
 * The name clients ask the gateway for: vLLM's `--served-model-name` and LiteLLM's model_name. It goes
 * into argv, so it may not start with "-"; ".." is refused as a path step.
 */
const SERVED_NAME = /^[A-Za-z0-9_][\w.:-]{0,127}$/;
export const servedModelName = z
  .string()
  .refine((s) => SERVED_NAME.test(s) && !s.includes(".."), {
    message:
      'may use letters, digits, ".", "_", ":" and "-", starting with a letter or digit, at most 128 characters, ' +
      'without "..", e.g. "qwen2.5-7b-instruct"',
  })
  .meta({ pattern: SERVED_NAME.source });

/**
 * Why `ref` is not a git revision we accept, or null. A commit (7 to 40 hex digits) or a ref name by
 * `git check-ref-format`'s rules (https://git-scm.com/docs/git-check-ref-format): no component starting
 * with "." or ending with ".lock", no "..", "//", no leading or trailing "/", no trailing ".". The
 * characters are held to letters, digits and ". _ - / +" (so "@{", "~", "^", ":" and spaces are out too):
 * git allows a few more (";", quotes, backticks), which no real branch needs and which would reach the
 * PR comment and vLLM's argv. A leading "-" would read as an option (`git check-ref-format --branch`
 * refuses it too).
 */
export function gitRevisionProblem(ref: string): string | null {
  if (ref.length === 0 || ref.length > 255) return "must be 1 to 255 characters";
  if (ref.startsWith("-")) return 'may not start with "-" (it would read as an option)';
  if (!/^[\w./+-]+$/.test(ref)) return 'may use only letters, digits, ".", "_", "-", "/" and "+"';
  if (ref.includes("..")) return 'may not contain ".."';
  if (ref.startsWith("/") || ref.endsWith("/") || ref.includes("//")) return 'may not start or end with "/" or contain "//"';
  if (ref.endsWith(".")) return 'may not end with "."';
  if (ref.split("/").some((c) => c.startsWith(".") || c.endsWith(".lock"))) {
    return 'may not have a part that starts with "." or ends with ".lock"';
  }
  return null;
}

export const gitRevision = z
  .string()
  .superRefine((ref, ctx) => {
    const problem = gitRevisionProblem(ref);
    if (problem !== null) {
      ctx.addIssue({
        code: "custom",
        message: `must be a git branch, tag or commit of the model repository such as "main", "v1.0" or a 40-digit commit hash; it ${problem}`,
      });
    }
  })
  // The characters and first character, for editors; gitRevisionProblem is the rule.
  .meta({ pattern: "^[\\w+][\\w./+-]{0,254}$" });

/**
 * An http(s) URL written in plain text in the stack file. It lands in a config file (Alertmanager's),
 * so a control character is refused (WHATWG URL parsing drops tabs and line breaks, Go's net/url, which
 * Alertmanager uses, rejects them). Credentials in it (`user:pass@`) would be public, so they are
 * refused too: such a URL belongs in a secret.
 */
export function plainUrl(secretHint: string) {
  return z.string().superRefine((s, ctx) => {
    if (CONTROL_CHARACTER.test(s)) {
      ctx.addIssue({ code: "custom", message: "contains a control character (a line break, tab or escape); write the URL on one line" });
      return;
    }
    let url: URL;
    try {
      url = new URL(s);
    } catch {
      ctx.addIssue({ code: "custom", message: 'must be an http(s) URL such as "https://hooks.example.org/llm"' });
      return;
    }
    if (url.protocol !== "https:" && url.protocol !== "http:") {
      ctx.addIssue({ code: "custom", message: 'must be an http(s) URL such as "https://hooks.example.org/llm"' });
    } else if (url.username !== "" || url.password !== "") {
      ctx.addIssue({
        code: "custom",
        message: `carries credentials ("user:password@"), which would be public in the stack file and the plan; ${secretHint}`,
      });
    }
  });
}

/**
 * The Docker host: a local socket path, `ssh://user@host[:port]` or `tcp://host:port`. The ssh user and
 * host become one argument of ssh, so neither may start with "-" (`ssh://-F@evil` would be an option);
 * the socket path may hold no control character.
 */
export const DOCKER_HOST =
  // eslint-disable-next-line no-control-regex -- finding control characters is the point
  /^(unix:\/\/\/[^\x00-\x1f\x7f-\x9f]+|ssh:\/\/[\w.][\w.-]*@[\w.][\w.-]*(:\d{1,5})?|tcp:\/\/[\w.][\w.-]*:\d{1,5})$/;
