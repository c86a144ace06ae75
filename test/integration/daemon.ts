/**
 * The Docker daemon the integration tests use: LLMSTACK_TEST_DOCKER_HOST, which .ci/start-dockerd.sh
 * prints. Without it every test that needs the daemon fails, naming how to start one (never a skip).
 */
import { createServer } from "node:net";
import Dockerode from "dockerode";

export function requireDaemon(): string {
  const host = process.env.LLMSTACK_TEST_DOCKER_HOST;
  if (host === undefined || host === "") {
    throw new Error(
      "LLMSTACK_TEST_DOCKER_HOST is not set: these tests need a real Docker daemon. Start one as root with " +
        '`eval "$(bash .ci/start-dockerd.sh)"` and run npm run test:integration again.',
    );
  }
  return host;
}

/** A client for `host` (unix:// or tcp://). */
export function testDocker(host: string): Dockerode {
  if (host.startsWith("unix://"))
    return new Dockerode({ socketPath: host.slice("unix://".length) });
  const url = new URL(host.replace(/^tcp:/, "http:"));
  return new Dockerode({ host: url.hostname, port: Number(url.port) });
}

/** A TCP port free on 127.0.0.1 right now, for a port the stack publishes. */
export function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = createServer();
    s.listen(0, "127.0.0.1", () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}
