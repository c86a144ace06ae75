import { describe, expect, it } from "vitest";
import { main } from "../../src/cli/main";
import { unpinnedImages, unpinnedImagesMessage } from "../../src/plan/digests";
import { fakeIo } from "../helpers/fakeIo";
import { planOf } from "../helpers/stacks";
import { ROOT } from "../helpers/pulumiMocks";

describe("llmstack up", () => {
  it("does not run pulumi up when the host fails a check", async () => {
    // No docker, no nvidia-smi, no pulumi: the daemon check fails. (Development may run tagged images.)
    const io = fakeIo(ROOT);
    expect(await main(["up", "--stack", "development"], io)).toBe(1);
    expect(io.err()).toContain(
      'up: the host failed a check above, so pulumi up was not run; fix it as its line says; run "llmstack up --stack development"\n',
    );
    expect(io.calls.some((c) => c.file === "pulumi" && c.args[0] === "up")).toBe(false);
  });

  it.each(["staging", "production"])("refuses %s with an image that has no digest, before contacting the host", async (stack) => {
    const io = fakeIo(ROOT);
    expect(await main(["up", "--stack", stack], io)).toBe(1);
    expect(io.err()).toBe(`up: ${unpinnedImagesMessage(planOf(stack), unpinnedImages(planOf(stack)))}\n`);
    expect(io.err()).toMatch(new RegExp(`; run "npx llmstack images pin --stack ${stack}"\n$`));
    expect(io.calls).toEqual([]);
  });

  it("requires --stack, a usage error (exit 2)", async () => {
    const io = fakeIo(ROOT);
    expect(await main(["up"], io)).toBe(2);
    expect(io.err()).toBe(
      'llmstack up: --stack is required: the stack whose file is Pulumi.<name>.yaml; run "llmstack up --stack production"\n',
    );
  });
});
