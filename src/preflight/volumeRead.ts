/**
 * Reading a retained data volume on the Docker host, shared by `postgres.data` and `qdrant.data`: a POSIX sh
 * script that drives the docker CLI (`--host`, so unix://, tcp:// and ssh:// hosts alike). It inspects the
 * volume first (a mount of a missing volume would create it), then runs a one-shot `docker run --rm
 * --network none` of an image already on the host with the volume mounted read-only and `volume-nocopy`, so
 * nothing is pulled, created or written. The script prints one fact a line; the checks parse them.
 */
import { shellQuote } from "../config/shell";
import type { CheckResult } from "./types";

/** Where the volume is mounted in the one-shot container. */
export const VOLUME_AT = "/llmstack-volume";

/**
 * The script's first lines: `volume absent` (and exit) when the volume does not exist, `volume error <last
 * line>` when the daemon could not say. `d` is the quoted docker command with its --host.
 */
export function volumeInspectLines(d: string, volume: string): string[] {
  return [
    `out=$(${d} volume inspect --format '{{.Name}}' ${shellQuote(volume)} 2>&1)`,
    `if [ $? -ne 0 ]; then`,
    `  case "$out" in *"no such volume"*|*"No such volume"*) echo "volume absent";; *) echo "volume error $(echo "$out" | tail -n 1)";; esac`,
    `  exit 0`,
    `fi`,
  ];
}

/**
 * Lines that try each image in `images` (shell words, expanded by the loop) that is on the host: print
 * `image <ref>`, run `list` (a sh script) in it with the volume mounted read-only at VOLUME_AT as its working
 * directory, and exit; `no image` when none is there.
 */
export function oneShotLines(d: string, volume: string, images: string, list: string): string[] {
  return [
    `for img in ${images}; do`,
    `  ${d} image inspect --format '{{.Id}}' "$img" >/dev/null 2>&1 || continue`,
    `  echo "image $img"`,
    `  ${d} run --rm --network none --user 0 --entrypoint sh --workdir ${VOLUME_AT} ` +
      `--mount type=volume,src=${volume},dst=${VOLUME_AT},readonly,volume-nocopy "$img" -c ${shellQuote(list)} 2>&1`,
    `  exit 0`,
    `done`,
    `echo "no image"`,
    `exit 0`,
  ];
}

/** What the script's lines say before the listing: the volume is absent, or could not be read. */
export type VolumeProblem = { readonly kind: "absent" } | { readonly kind: "unreadable"; readonly why: string };

/**
 * The outcome the shared lines report, or null when the listing ran (its image, and the lines to parse).
 * `listed` is the line the listing prints last, so a listing that stopped half-way is unreadable.
 */
export function volumeOutcome(lines: readonly string[]): VolumeProblem | { readonly kind: "listed"; readonly image: string } {
  if (lines.includes("volume absent")) return { kind: "absent" };
  const error = lines.find((l) => l.startsWith("volume error "));
  if (error !== undefined) return { kind: "unreadable", why: `docker volume inspect failed: ${error.slice(13)}` };
  if (lines.includes("no image")) return { kind: "unreadable", why: "no image to read it with is on the host" };
  const image = lines.find((l) => l.startsWith("image "))?.slice(6);
  if (image === undefined || !lines.includes("listed")) {
    const last = lines.filter((l) => !l.startsWith("image ")).pop() ?? "no output";
    return { kind: "unreadable", why: `reading it failed: ${last}` };
  }
  return { kind: "listed", image };
}

/** The script's output as trimmed, non-empty lines. */
export function outputLines(text: string): string[] {
  return text
    .split("\n")
    .map((l) => l.trim())
    .filter((l) => l !== "");
}

/** One command line that runs the script here (the docker CLI reaches the host through --host); exits 0. */
export function volumeCheckCommandLine(script: string): string {
  return `echo ${Buffer.from(script, "utf8").toString("base64")} | base64 -d | sh -s 2>&1; exit 0`;
}

/** The error `pulumi up` and `preview` stop with when a data check failed; null otherwise. */
export function volumeGateError(stackFile: string, stack: string, result: CheckResult): string | null {
  if (result.status !== "fail") return null;
  return (
    `${stackFile}: preflight failed, so no container was replaced and nothing was changed:\n` +
    `  - ${result.check}: ${result.found}\n    fix: ${result.fix}\n` +
    `Run \`llmstack validate --stack ${stack}\` to see every check.`
  );
}
