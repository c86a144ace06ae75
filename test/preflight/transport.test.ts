import { describe, expect, it } from "vitest";
import { transportFor } from "../../src/preflight/probe";

describe("the ssh transport of the host probe", () => {
  it('ends ssh\'s options with "--" before the destination', () => {
    expect(transportFor("ssh://deploy@gpu-box:2222").sshArgs).toEqual([
      "-o", "BatchMode=yes", "-o", "ConnectTimeout=10", "-p", "2222", "--", "deploy@gpu-box",
    ]);
  });

  it.each(["ssh://-F@evil", "ssh://deploy@-oProxyCommand=x"])("never hands %s to ssh", (host) => {
    expect(transportFor(host)).toEqual({ kind: "none", sshArgs: [], dockerArgs: ["--host", host], where: host });
  });
});
