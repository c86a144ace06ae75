/**
 * Holds a planned container against its image's record: the programs its command, entrypoint and
 * health check call must be in the image, every uploaded file must be readable by the user the image
 * runs as, and no argv or environment entry may be an empty string. Pure; the tests run it on every
 * container of every stack.
 */
import { DOCKER_PROVIDER } from "./dockerProvider";
import type { ImageFacts, ImageUser } from "./imageFacts";
import type { OwnImageContract } from "./images";
import type { PlannedContainer, PlannedUpload } from "./planned";
import { programsInArgv } from "./shellPrograms";

/** A container's image as the checks see it: a record, or the contract of the user's own images. */
export type ImageExpectation = ImageFacts | OwnImageContract;

const isRecord = (e: ImageExpectation): e is ImageFacts => "user" in e;

/** The programs a container's planned argv and health check run, each with where it comes from. */
export function programsCalled(spec: PlannedContainer, image: ImageExpectation): { where: string; program: string }[] {
  const out: { where: string; program: string }[] = [];
  const add = (where: string, programs: string[]): void => {
    for (const program of programs) out.push({ where, program });
  };
  if (spec.entrypoints && spec.entrypoints.length > 0) {
    // Docker runs entrypoint + command as one argv.
    add("entrypoint", programsInArgv([...spec.entrypoints, ...spec.command]));
  } else if (spec.command.length > 0) {
    const role = isRecord(image) ? image.commandRole : "program";
    // With the image's entrypoint in front, the command is a program only where that entrypoint execs it.
    if (role === "program" || (role === "exec" && !spec.command[0]!.startsWith("-"))) {
      add("command", programsInArgv(spec.command));
    }
  }
  const tests = spec.healthcheck?.tests ?? [];
  if (tests[0] === "CMD") add("healthcheck", programsInArgv(tests.slice(1)));
  if (tests[0] === "CMD-SHELL") add("healthcheck", programsInArgv(["/bin/sh", "-c", tests.slice(1).join(" ")]));
  return out;
}

/** Whether a user can read an uploaded file, through its owner, its group or its mode. */
export function uploadReadableBy(upload: PlannedUpload, user: Pick<ImageUser, "uid" | "gid">): boolean {
  const mode = parseInt(upload.permissions ?? DOCKER_PROVIDER.uploadMode, 8);
  const owner = upload.owner ?? DOCKER_PROVIDER.uploadOwner;
  const group = upload.group ?? DOCKER_PROVIDER.uploadGroup;
  return (
    (owner === String(user.uid) && (mode & 0o400) !== 0) ||
    (group === String(user.gid) && (mode & 0o040) !== 0) ||
    (mode & 0o004) !== 0
  );
}

/** Empty strings in the argv and environment, which the provider or the process would misread. */
export function emptyStrings(spec: PlannedContainer): string[] {
  const out: string[] = [];
  spec.command.forEach((a, i) => a === "" && out.push(`command[${i}]`));
  (spec.entrypoints ?? []).forEach((a, i) => a === "" && out.push(`entrypoints[${i}]`));
  spec.envs.forEach((e, i) => {
    const eq = e.indexOf("=");
    if (eq <= 0) out.push(`envs[${i}] ("${e}" has no KEY=)`);
    else if (eq === e.length - 1) out.push(`the value of env ${e.slice(0, eq)}`);
  });
  (spec.healthcheck?.tests ?? []).forEach((a, i) => a === "" && out.push(`healthcheck.tests[${i}]`));
  return out;
}

/**
 * Environment names under the prefix the image's program owns (vLLM's `VLLM_`) that it does not read:
 * it would ignore them and warn at start, so they carry nothing.
 */
export function unreadEnvironment(spec: PlannedContainer, image: ImageExpectation): string[] {
  const env = isRecord(image) ? image.environment : undefined;
  if (env === undefined) return [];
  return spec.envs
    .map((e) => e.slice(0, Math.max(0, e.indexOf("="))))
    .filter((key) => key.startsWith(env.prefix) && !env.reads.includes(key));
}

/** Problems of one planned container against its image; empty when it complies. */
export function imageProblems(spec: PlannedContainer, image: ImageExpectation): string[] {
  const name = isRecord(image) ? image.ref : `${spec.image} (the user's own image)`;
  const out: string[] = [];
  for (const { where, program } of programsCalled(spec, image)) {
    if (!image.programs.includes(program)) {
      out.push(`${spec.service}: its ${where} calls ${program}, which ${name} does not have (it has ${image.programs.join(", ")})`);
    }
  }
  for (const u of spec.uploads) {
    if (!isRecord(image)) {
      out.push(`${spec.service}: uploads ${u.file}, but ${name} has no record of the user it runs as`);
    } else if (!uploadReadableBy(u, image.user)) {
      const { uid, gid, name: user } = image.user;
      out.push(
        `${spec.service}: ${u.file} (owner ${u.owner ?? DOCKER_PROVIDER.uploadOwner}, group ` +
          `${u.group ?? DOCKER_PROVIDER.uploadGroup}, mode ${u.permissions ?? DOCKER_PROVIDER.uploadMode}) is not ` +
          `readable by ${user} (${uid}:${gid}), the user ${name} runs as`,
      );
    }
  }
  for (const where of emptyStrings(spec)) out.push(`${spec.service}: ${where} is an empty string`);
  const env = isRecord(image) ? image.environment : undefined;
  for (const key of unreadEnvironment(spec, image)) {
    out.push(
      `${spec.service}: env ${key} is not one ${name} reads (of ${env!.prefix}* it reads ${env!.reads.join(", ")}) ` +
        "and it warns about it at start; pass the setting as a flag, or as a label for people",
    );
  }
  return out;
}
