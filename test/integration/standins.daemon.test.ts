/**
 * The stand-in images reproduce the facts recorded for their upstream images (test/integration/images/
 * facts.ts): entrypoint, command, working directory, which programs are on the PATH and which are not.
 * The user each one ends up running as is checked on the running stack (stack.daemon.test.ts). The S3
 * signer the object store stand-in verifies with is held to AWS's worked example.
 */
import type Dockerode from "dockerode";
import { beforeAll, describe, expect, it } from "vitest";
import { demux } from "./applier/apply";
import { requireDaemon, testDocker } from "./daemon";
import { buildStandins, projectImages } from "./images/build";
import { STANDIN_FACTS } from "./images/facts";
import { authorization } from "./images/fakes/sigv4";

/** Runs `sh -c script` in a throwaway container of `image` and returns its output. */
async function runSh(docker: Dockerode, image: string, script: string): Promise<string> {
  const c = await docker.createContainer({
    Image: image,
    Entrypoint: ["/bin/sh", "-c", script],
    HostConfig: { NetworkMode: "none" },
  });
  try {
    await c.start();
    await c.wait();
    return demux((await c.logs({ stdout: true, stderr: true })) as unknown as Buffer);
  } finally {
    await c.remove({ force: true });
  }
}

describe("the stand-in images", () => {
  let docker: Dockerode;
  beforeAll(async () => {
    docker = testDocker(requireDaemon());
    await buildStandins(docker);
  });

  it("stand in for exactly the images Pulumi.yaml names for them", () => {
    const images = projectImages();
    expect(STANDIN_FACTS.map((f) => [f.imageKey, f.reference])).toEqual(
      STANDIN_FACTS.map((f) => [f.imageKey, images[f.imageKey]]),
    );
  });

  it.each(STANDIN_FACTS.map((f) => [f.reference, f] as const))(
    "%s: entrypoint, command, working directory and programs",
    async (_ref, f) => {
      const config = (await docker.getImage(f.reference).inspect()).Config;
      expect([config.Entrypoint ?? null, config.Cmd ?? null, config.WorkingDir]).toEqual([
        f.entrypoint,
        f.cmd,
        f.workingDir,
      ]);
      const probe = [...f.programs, ...f.absent]
        .map((p) => `command -v ${p} >/dev/null && echo "${p} yes" || echo "${p} no"`)
        .join("; ");
      const found = (await runSh(docker, f.reference, probe)).trim().split("\n");
      expect(found).toEqual([
        ...f.programs.map((p) => `${p} yes`),
        ...f.absent.map((p) => `${p} no`),
      ]);
    },
  );
});

describe("the SigV4 signer the object store stand-in checks requests with", () => {
  it("signs AWS's example GET Object request as AWS documents it", () => {
    // docs.aws.amazon.com/AmazonS3/latest/API/sig-v4-header-based-auth.html, "Example: GET Object".
    const header = authorization(
      {
        method: "GET",
        path: "/test.txt",
        headers: {
          Host: "examplebucket.s3.amazonaws.com",
          Range: "bytes=0-9",
          "x-amz-content-sha256":
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
          "x-amz-date": "20130524T000000Z",
        },
      },
      { accessKey: "AKIAIOSFODNN7EXAMPLE", date: "20130524", region: "us-east-1", service: "s3" },
      "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
    );
    expect(header).toBe(
      "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request, " +
        "SignedHeaders=host;range;x-amz-content-sha256;x-amz-date, " +
        "Signature=f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41",
    );
  });
});
