/**
 * Data written and read through the stack's own services with the stack's own credentials (taken from
 * what the program registered): a Postgres row over TCP with the gateway's DATABASE_URL, a Redis key
 * with the password of its config, an object in the S3 store signed with the identity of its s3.json,
 * a point in Qdrant with its API key.
 */
import { request } from "node:http";
import type Dockerode from "dockerode";
import { demux } from "./applier/apply";
import type { ContainerInputs, StackInputs } from "./applier/inputs";
import { authorization, sha256Hex } from "./images/fakes/sigv4";

/** Removes a test stack's containers, network and volumes (each may be missing). */
export async function purge(docker: Dockerode, stack: StackInputs): Promise<void> {
  for (const c of stack.containers) await docker.getContainer(c.name).remove({ force: true }).catch(() => undefined);
  await docker.getNetwork(stack.network.name).remove().catch(() => undefined);
  for (const v of stack.volumes) await docker.getVolume(v.name).remove().catch(() => undefined);
}

export function containerOf(stack: StackInputs, service: string): ContainerInputs {
  const c = stack.containers.find((x) =>
    (x.inputs.networksAdvanced as { aliases: string[] }[])[0]!.aliases.includes(service),
  );
  if (!c) throw new Error(`the stack has no ${service} container`);
  return c;
}

export function envOf(c: ContainerInputs, key: string): string {
  const entry = (c.inputs.envs as string[]).find((e) => e.startsWith(`${key}=`));
  if (entry === undefined) throw new Error(`${c.name} has no ${key} in its env`);
  return entry.slice(key.length + 1);
}

/** Runs a command in a running container (with the container's env) and returns its exit code and output. */
export async function execIn(
  docker: Dockerode,
  container: string,
  cmd: string[],
): Promise<{ code: number; out: string }> {
  const exec = await docker
    .getContainer(container)
    .exec({ Cmd: cmd, AttachStdout: true, AttachStderr: true });
  const stream = await exec.start({});
  const chunks: Buffer[] = [];
  await new Promise<void>((resolve, reject) => {
    stream.on("data", (c: Buffer) => chunks.push(c));
    stream.on("end", resolve);
    stream.on("error", reject);
  });
  const info = await exec.inspect();
  return { code: info.ExitCode ?? -1, out: demux(Buffer.concat(chunks)) };
}

export async function ipOf(
  docker: Dockerode,
  stack: StackInputs,
  service: string,
): Promise<string> {
  const info = await docker.getContainer(containerOf(stack, service).name).inspect();
  const ip = info.NetworkSettings.Networks[stack.network.name]?.IPAddress;
  if (!ip) throw new Error(`${service} has no address on ${stack.network.name}`);
  return ip;
}

export interface HttpAnswer {
  readonly status: number;
  readonly body: string;
}

export function http(
  url: string,
  method: string,
  headers: Record<string, string>,
  body?: string | Buffer,
): Promise<HttpAnswer> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method, headers, timeout: 30_000 }, (res) => {
      let text = "";
      res.on("data", (c: Buffer) => (text += c.toString("utf8")));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, body: text }));
    });
    req.on("error", reject);
    req.end(body);
  });
}

/** psql over TCP through the `postgres` alias with the gateway's DATABASE_URL (optionally edited). */
export async function postgresSql(
  docker: Dockerode,
  stack: StackInputs,
  sql: string,
  edit: (url: string) => string = (u) => u,
): Promise<{ code: number; out: string }> {
  const url = edit(envOf(containerOf(stack, "litellm"), "DATABASE_URL"));
  return execIn(docker, containerOf(stack, "postgres").name, [
    "psql",
    url,
    "-v",
    "ON_ERROR_STOP=1",
    "-tAc",
    sql,
  ]);
}

export async function redisCli(
  docker: Dockerode,
  stack: StackInputs,
  ...args: string[]
): Promise<{ code: number; out: string }> {
  // REDISCLI_AUTH comes from the container's env, as in its health check; -h goes through the network alias.
  return execIn(docker, containerOf(stack, "redis").name, ["redis-cli", "-h", "redis", ...args]);
}

/** The identity of the object store's uploaded s3.json. */
export function s3Identity(stack: StackInputs): { accessKey: string; secretKey: string } {
  const upload = (
    containerOf(stack, "object-store").inputs.uploads as { file: string; content: string }[]
  ).find((u) => u.file.endsWith("s3.json"));
  if (!upload) throw new Error("the object store has no s3.json upload");
  const config = JSON.parse(upload.content) as {
    identities: { credentials: { accessKey: string; secretKey: string }[] }[];
  };
  return config.identities[0]!.credentials[0]!;
}

/** One S3 request to the object store, signed with SigV4 for `identity`. */
export async function s3(
  docker: Dockerode,
  stack: StackInputs,
  method: string,
  path: string,
  identity: { accessKey: string; secretKey: string },
  body = "",
): Promise<HttpAnswer> {
  const host = `${await ipOf(docker, stack, "object-store")}:8333`;
  const amzDate = new Date().toISOString().replace(/[-:]/g, "").replace(/\.\d+/, "");
  const headers = { host, "x-amz-date": amzDate, "x-amz-content-sha256": sha256Hex(body) };
  const scope = {
    accessKey: identity.accessKey,
    date: amzDate.slice(0, 8),
    region: "us-east-1",
    service: "s3",
  };
  const auth = authorization({ method, path, headers }, scope, identity.secretKey);
  return http(`http://${host}${path}`, method, { ...headers, authorization: auth }, body);
}

export async function qdrant(
  docker: Dockerode,
  stack: StackInputs,
  method: string,
  path: string,
  body?: unknown,
): Promise<HttpAnswer> {
  const key = envOf(containerOf(stack, "qdrant"), "QDRANT__SERVICE__API_KEY");
  const ip = await ipOf(docker, stack, "qdrant");
  const text = body === undefined ? undefined : JSON.stringify(body);
  return http(
    `http://${ip}:6333${path}`,
    method,
    { "api-key": key, "content-type": "application/json" },
    text,
  );
}
