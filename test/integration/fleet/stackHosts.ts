/**
 * What the multi-host daemon tests share: their three hosts (a control host, two GPU hosts), the GPU
 * section each GPU host gets, the stack's images on the hosts that run them, the docker CLI's TLS
 * directory for the harness's daemons, and another program holding a port on a host.
 */
import type Dockerode from "dockerode";
import { spawn, type ChildProcess } from "node:child_process";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { projectImages } from "../images/facts";
import { copyImages, type NetnsFleet, type NetnsHost } from "./netns";

export const FLEET_HOSTS = ["control", "gpu-a", "gpu-b"] as const;

/** One H100 per GPU host: a replica of one GPU each (the hosts have no GPU; the applier or the checks say so). */
export const ONE_H100 = {
  mode: "single",
  vllmDevices: ["0"],
  workerDevices: ["0"],
  nvlink: false,
  cardClass: "datacenter",
  gpuName: "NVIDIA H100 80GB HBM3",
  memoryMiB: 81559,
  tensorParallelSize: 1,
  pipelineParallelSize: 1,
  memoryUtilization: 0.8,
};

/** The stores' and LiteLLM's images onto the control host, vLLM's onto each GPU host; returns vLLM's. */
export async function loadStackImages(source: Dockerode, fleet: NetnsFleet): Promise<string> {
  const images = projectImages();
  await copyImages(source, fleet.host("control").docker, [images.postgres!, images.redis!, images.qdrant!, images.objectStore!, images.litellm!]);
  for (const h of ["gpu-a", "gpu-b"]) await copyImages(source, fleet.host(h).docker, [images.vllm!]);
  return images.vllm!;
}

/** `DOCKER_CERT_PATH` for the docker CLI: the harness's CA, client certificate and key under `dir/certs`. */
export function dockerCertDir(dir: string, fleet: NetnsFleet): string {
  const certs = join(dir, "certs");
  mkdirSync(certs, { mode: 0o700 });
  writeFileSync(join(certs, "ca.pem"), fleet.tls.ca);
  writeFileSync(join(certs, "cert.pem"), fleet.tls.cert);
  writeFileSync(join(certs, "key.pem"), fleet.tls.key, { mode: 0o600 });
  return certs;
}

/**
 * Another program on `host` listening on `port` at the host's address, in its network namespace; resolves
 * once it listens. The caller kills it.
 */
export async function holdPort(host: NetnsHost, port: number): Promise<ChildProcess> {
  const holder = spawn(
    "nsenter",
    [`--net=/run/netns/${host.namespace}`, "node", "-e", `require("net").createServer().listen(${port}, "${host.address}", () => console.log("up"))`],
    { stdio: ["ignore", "pipe", "inherit"] },
  );
  try {
    await new Promise<void>((resolve, reject) => {
      holder.stdout!.once("data", () => resolve());
      holder.once("exit", (code) => reject(new Error(`the listener exited with ${code}`)));
    });
  } catch (err) {
    holder.kill();
    throw err;
  }
  return holder;
}
