/**
 * A Docker host for status tests: it answers `docker inspect` and `docker image inspect` for a plan's
 * containers, and the host probe (`sh -s` or `ssh ... sh -s`) with nvidia-smi's compute apps and the
 * stack's PIDs. By default every container runs its plan's image and is healthy; a test changes one.
 */
import { parseImage } from "../../src/config/images";
import type { ExecResult } from "../../src/exec";
import type { StackPlan } from "../../src/plan/types";
import type { ExecCall } from "../helpers/fakeIo";

export interface FakeContainer {
  readonly state: string;
  readonly exitCode: number;
  readonly health: string | null;
  readonly healthOutput?: string;
  readonly restarts: number;
  readonly startedAt: string;
  readonly imageId: string;
}

export interface FakeImage {
  readonly id: string;
  readonly repoDigests: readonly string[];
}

/** When every container started: two hours before NOW. */
export const STARTED = "2026-12-02T09:59:59.123456789Z";
export const NOW = Date.parse("2026-12-02T12:00:00Z");

export interface FakeHost {
  readonly containers: Map<string, FakeContainer | "missing">;
  /** By reference (tag or digest) and by ID. */
  readonly images: Map<string, FakeImage>;
  /** What the host probe prints; null: the probe is not expected. */
  probe: string | null;
}

export const imageIdOf = (i: number): string => `sha256:${String(i).padStart(64, "0")}`;

export function healthyHost(plan: StackPlan): FakeHost {
  const images = new Map<string, FakeImage>();
  [...new Set(plan.containers.map((c) => c.image))].forEach((ref, i) => {
    // Docker lists a pulled digest as <repository>@<digest>, without the tag.
    const { repository, digest } = parseImage(ref);
    const image = { id: imageIdOf(i + 1), repoDigests: digest === null ? [] : [`${repository}@${digest}`] };
    images.set(ref, image);
    images.set(image.id, image);
  });
  const containers = new Map<string, FakeContainer | "missing">(
    plan.containers.map((c) => [
      c.name,
      {
        state: c.oneShot ? "exited" : "running",
        exitCode: 0,
        health: c.oneShot || c.healthcheck === undefined ? null : "healthy",
        restarts: 0,
        startedAt: STARTED,
        imageId: images.get(c.image)!.id,
      },
    ]),
  );
  return { containers, images, probe: null };
}

const ok = (stdout: string): ExecResult => ({ code: 0, stdout, stderr: "" });

/** Answers the calls `llmstack status` makes; anything else is "not found". */
export function answer(host: FakeHost, c: ExecCall): ExecResult {
  if (c.file === "sh" || c.file === "ssh") return host.probe === null ? { code: 127, stdout: "", stderr: "not expected" } : ok(host.probe);
  if (c.file !== "docker") return { code: 127, stdout: "", stderr: "not found" };
  const args = c.args.slice(2);
  const target = args[args.length - 1] ?? "";
  if (args[0] === "inspect") {
    const f = host.containers.get(target);
    if (f === undefined || f === "missing") return { code: 1, stdout: "", stderr: `Error: No such object: ${target}\n` };
    const health = f.health === null ? null : { Status: f.health, FailingStreak: 0, Log: f.healthOutput ? [{ Output: `${f.healthOutput}\n` }] : [] };
    const state = { Status: f.state, Running: f.state === "running", ExitCode: f.exitCode, StartedAt: f.startedAt, Health: health };
    return ok(`${JSON.stringify({ image: f.imageId, restarts: f.restarts, state })}\n`);
  }
  if (args[0] === "image" && args[1] === "inspect") {
    const image = host.images.get(target);
    if (image === undefined) return { code: 1, stdout: "", stderr: `Error response from daemon: No such image: ${target}\n` };
    return ok(args[3] === "{{.Id}}" ? `${image.id}\n` : `${JSON.stringify(image.repoDigests)}\n`);
  }
  return { code: 127, stdout: "", stderr: "not found" };
}

/** Probe output: nvidia-smi's compute apps ("pid, MiB, uuid" lines) and `docker top` PIDs ("<name> <pid>"). */
export function probeText(apps: readonly string[], stackPids: readonly string[]): string {
  return `@@begin apps\n${apps.map((a) => `${a}\n`).join("")}@@end apps 0\n@@begin stackpids\n${stackPids.map((p) => `${p}\n`).join("")}@@end stackpids 0\n`;
}

/** A gateway that lists `models` and answers a chat completion; it records what it was asked. */
export function fakeGateway(models: readonly string[], chatStatus = 200) {
  const requests: { url: string; method: string; body: unknown; authorization: string | null }[] = [];
  const fetch = async (url: string, init: RequestInit): Promise<Response> => {
    const headers = new Headers(init.headers);
    requests.push({ url, method: init.method ?? "GET", body: init.body === undefined ? null : JSON.parse(String(init.body)), authorization: headers.get("authorization") });
    if (url.endsWith("/v1/models")) return new Response(JSON.stringify({ object: "list", data: models.map((id) => ({ id, object: "model" })) }), { status: 200 });
    return new Response(JSON.stringify({ choices: [] }), { status: chatStatus });
  };
  return { fetch, requests };
}

/** A clock that starts at NOW and moves 60 ms each time it is read. */
export function steppingClock(): () => number {
  let t = NOW - 60;
  return () => (t += 60);
}
