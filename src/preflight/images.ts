/**
 * Can every image of the stack be had? Each one must be on the Docker host already (`docker image inspect`)
 * or pullable from its registry without a login: the Docker provider looks for the image on the host first
 * and otherwise pulls it with the credentials of its `registryAuth` setting only, which this program does not
 * set (kreuzwerker/terraform-provider-docker `internal/provider/resource_docker_image_funcs.go`, `findImage`
 * and `pullImage`; https://github.com/pulumi/pulumi-docker/issues/550). So the registry is asked as the pull
 * will be: `docker manifest inspect <ref>` with a Docker config directory that holds no credentials. That
 * command talks to the registry from the machine running it, not through the daemon, and reads the
 * credentials of `docker login` from the config directory (https://docs.docker.com/reference/cli/docker/manifest/inspect/,
 * https://docs.docker.com/reference/cli/docker/login/); it ships with the plain docker CLI (Debian's docker.io
 * included), where `docker buildx imagetools inspect` needs the buildx plugin.
 *
 * The verdicts here are pure (exec results in, check out); src/preflight/run.ts runs the commands.
 */
import type { ExecResult } from "../exec";
import { parseImage, registryLocation } from "../config/images";
import type { ImageNeed } from "./needs";
import { fail, pass, type CheckResult } from "./types";

export type ImageState =
  | { readonly kind: "on-host" }
  | { readonly kind: "pullable" }
  /**
   * The registry does not serve it to an anonymous caller: no such manifest, or a private one (registries
   * answer both alike, and the docker CLI reports an unauthorized answer as "no such manifest" too).
   */
  | { readonly kind: "refused"; readonly detail: string }
  | { readonly kind: "unreachable"; readonly detail: string }
  | { readonly kind: "error"; readonly detail: string };

/** The registry of a reference, as `docker login` takes it ("docker.io" for Docker Hub names). */
export function registryOf(ref: string): string {
  return registryLocation(parseImage(ref).repository).domain;
}

/** The CLI's last non-empty line: its error. */
function lastLine(res: ExecResult): string {
  const lines = `${res.stderr}\n${res.stdout}`.split("\n").map((l) => l.trim()).filter((l) => l !== "");
  return lines[lines.length - 1] ?? `exit code ${res.code}`;
}

/**
 * The state of one image from `docker image inspect` on the host and, when it is not there,
 * `docker manifest inspect` without credentials. The docker CLI tries each endpoint of the registry and, when
 * every one answered unauthorized, manifest or name unknown, or only plain HTTP was there, says
 * "no such manifest: <ref>" (docker/cli `cli/registry/client/fetcher.go`, `iterateEndpoints`); any other
 * registry error (Docker Hub's "denied") or a network error comes through as it is.
 */
export function imageState(inspect: ExecResult, manifest: ExecResult | null): ImageState {
  if (inspect.code === 0) return { kind: "on-host" };
  if (manifest === null) return { kind: "error", detail: lastLine(inspect) };
  if (manifest.code === 0) return { kind: "pullable" };
  const text = `${manifest.stderr}\n${manifest.stdout}`;
  const detail = lastLine(manifest);
  // realExec reports a command it killed at its timeout as exit code 124.
  if (manifest.code === 124) return { kind: "unreachable", detail: "the registry did not answer in time" };
  if (/no such manifest|manifest unknown|name unknown|unauthorized|denied|authentication required|no basic auth credentials|insufficient.scope/i.test(text)) {
    return { kind: "refused", detail };
  }
  if (/dial tcp|no such host|connection refused|i\/o timeout|network is unreachable|TLS handshake|server misbehaving|deadline exceeded|error pinging/i.test(text)) {
    return { kind: "unreachable", detail };
  }
  return { kind: "error", detail };
}

/** Why an image cannot be had, in words, and what to do about it. */
function problem(need: ImageNeed, state: ImageState, dockerHost: string): { found: string; fix: string } | null {
  const ref = need.ref;
  const registry = registryOf(ref);
  const onHost = `pull or load it on the Docker host (docker --host ${dockerHost} pull ${ref}, or docker load)`;
  const unset = need.optional ? `, or unset ${need.key} to run the stack without it` : "";
  switch (state.kind) {
    case "on-host":
    case "pullable":
      return null;
    case "refused":
      return {
        found: `${ref} (${need.key}) is not on the host and ${registry} does not serve it without a login: ${state.detail}`,
        fix:
          `if it is private: docker login ${registry}, then docker --host ${dockerHost} pull ${ref} (the Docker provider ` +
          `pulls without credentials and uses the host's copy); if it does not exist: build and push it, or set ` +
          `${need.key} to an image that exists${unset}`,
      };
    case "unreachable":
      return {
        found: `${ref} (${need.key}) is not on the host and ${registry} cannot be reached from this machine: ${state.detail}`,
        fix: `${onHost}, or check this machine's network or proxy${unset}`,
      };
    case "error":
      return {
        found: `${ref} (${need.key}) is not on the host and asking ${registry} for it failed: ${state.detail}`,
        fix: `${onHost}${unset}`,
      };
  }
}

/** One check over every image: passes when each is on the host or pullable, else names each that is neither. */
export function checkImages(images: readonly ImageNeed[], states: readonly ImageState[], dockerHost: string): CheckResult {
  const name = "docker.images";
  const problems = images.flatMap((need, i) => {
    const p = problem(need, states[i]!, dockerHost);
    return p === null ? [] : [p];
  });
  if (problems.length > 0) {
    return fail(name, problems.map((p) => p.found).join("; "), problems.map((p) => p.fix).join("; "));
  }
  const onHost = states.filter((s) => s.kind === "on-host").length;
  return pass(
    name,
    `all ${images.length} images can be had: ${onHost} on the host, ${images.length - onHost} pullable without a login`,
  );
}
