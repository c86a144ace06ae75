/**
 * The check after deploy: one chat completion through the gateway with the master key, from a one-shot
 * container on the stack network (so it works for loopback-bound and remote gateways alike). Its
 * PLAN_REVISION changes with any change to the other containers, so every update that changes the
 * stack runs it again.
 */
import { createHash } from "node:crypto";
import { CREATE_MARGIN_MINUTES } from "../facts/dockerProvider";
import { baseContainer, INTERNAL_PORTS, MEMORY_LIMITS_MIB, physicalName, secret, type PlanContext } from "./common";
import type { ContainerSpec, ServiceName } from "./types";

export const SMOKE_SCRIPT = `import json, os, sys, time, urllib.request, urllib.error
url = os.environ["GATEWAY_URL"] + "/v1/chat/completions"
body = json.dumps({"model": os.environ["MODEL"], "messages": [{"role": "user", "content": "Reply with OK."}], "max_tokens": 8}).encode()
headers = {"Content-Type": "application/json", "Authorization": "Bearer " + os.environ["LITELLM_MASTER_KEY"]}
deadline = time.time() + int(os.environ["SMOKE_TIMEOUT_SECONDS"])
last = "no attempt"
while time.time() < deadline:
    try:
        with urllib.request.urlopen(urllib.request.Request(url, data=body, headers=headers), timeout=120) as r:
            answer = json.load(r)["choices"][0]["message"]["content"]
        print("smoke test passed: %s answered %r" % (os.environ["MODEL"], answer))
        sys.exit(0)
    except urllib.error.HTTPError as e:
        last = "HTTP %d: %s" % (e.code, e.read().decode(errors="replace")[:400])
    except Exception as e:
        last = repr(e)
    time.sleep(5)
print("smoke test failed: no answer from %s within %ss; last error: %s" % (url, os.environ["SMOKE_TIMEOUT_SECONDS"], last))
sys.exit(1)
`;

export const SMOKE_TIMEOUT_SECONDS = 300;

export function planSmokeTest(ctx: PlanContext, others: readonly ContainerSpec[]): ContainerSpec {
  const revision = createHash("sha256")
    .update(JSON.stringify(others))
    .digest("hex")
    .slice(0, 16);
  // Once per service: a stack with hosts has a vLLM per replica.
  const after: ServiceName[] = [...new Set(others.filter((c) => !c.oneShot).map((c) => c.service))];
  return {
    ...baseContainer(ctx),
    service: "smoke-test",
    name: physicalName(ctx, "smoke-test"),
    // LiteLLM's image is already on the host and has Python.
    image: ctx.config.images.litellm,
    entrypoints: ["python3", "-c", SMOKE_SCRIPT],
    command: [],
    env: {
      GATEWAY_URL: `http://litellm:${INTERNAL_PORTS.litellm}`,
      MODEL: ctx.config.model.servedModelName,
      LITELLM_MASTER_KEY: secret("litellmMasterKey", "token"),
      SMOKE_TIMEOUT_SECONDS: String(SMOKE_TIMEOUT_SECONDS),
      PLAN_REVISION: revision,
    },
    restart: "no",
    memory: MEMORY_LIMITS_MIB.smokeTest,
    wait: false,
    oneShot: true,
    dependsOn: after,
    createTimeoutMinutes: SMOKE_TIMEOUT_SECONDS / 60 + CREATE_MARGIN_MINUTES,
  };
}
