import { describe, expect, it } from "vitest";
import { hostPortClash } from "../../src/plan/stack";
import type { ContainerSpec, PortSpec } from "../../src/plan/types";
import { planOf, STACKS } from "../helpers/stacks";

const publishing = (service: string, ...ports: PortSpec[]) => ({ service, ports }) as unknown as ContainerSpec;
const tcp = (ip: string, external: number): PortSpec => ({ internal: external, external, ip, protocol: "tcp" });

describe("no host port is published twice", () => {
  it("finds the same port on the same address, or on a wildcard address, across containers or within one", () => {
    expect(hostPortClash([publishing("gateway-tls", tcp("0.0.0.0", 80)), publishing("other", tcp("127.0.0.1", 80))])).toBe(
      "host port 80/tcp is published twice, by gateway-tls on 0.0.0.0 and by other on 127.0.0.1; give llmstack:gateway.port another port",
    );
    expect(hostPortClash([publishing("gateway-tls", tcp("0.0.0.0", 80), tcp("0.0.0.0", 80))])).toBe(
      "host port 80/tcp is published twice, by gateway-tls on 0.0.0.0 and by gateway-tls on 0.0.0.0; give llmstack:gateway.port another port",
    );
  });

  it("lets one port be published on two different specific addresses", () => {
    expect(hostPortClash([publishing("a", tcp("127.0.0.1", 4000)), publishing("b", tcp("10.0.0.5", 4000))])).toBeNull();
  });

  it.each(STACKS)("holds for the checked-in %s stack", (stack) => {
    expect(hostPortClash(planOf(stack).containers)).toBeNull();
  });
});
