/**
 * The program with secret values of ordinary characters, under Pulumi mocks: each lands encoded for its
 * place (the URL percent-encoded, redis.conf quoted, s3.json JSON), and a value a place cannot carry
 * stops the program before anything is registered, with one error that names the key, not the value.
 */
import { describe, expect, it } from "vitest";
import { StackConfigError } from "../../src/config/errors";
import { readRedisConf } from "../helpers/redisConf";
import { runProgram, TEST_SECRETS, type MockRun } from "../helpers/pulumiMocks";

const SECRET_SIG = "4dabf18193072939515e22adb298388d";
const value = (v: unknown): unknown =>
  v !== null && typeof v === "object" && SECRET_SIG in (v as object) ? (v as { value: unknown }).value : v;

function envOf(run: MockRun, resource: string, key: string): string {
  const envs = value(run.byName(resource).inputs.envs) as string[];
  const line = envs.find((e) => e.startsWith(`${key}=`))!;
  return line.slice(key.length + 1);
}

function uploadOf(run: MockRun, resource: string, file: string): string {
  const uploads = value(run.byName(resource).inputs.uploads) as { file: string; content: string }[];
  return uploads.find((u) => u.file === file)!.content;
}

describe("secret values with ordinary characters", () => {
  it("reach each container encoded for the place they land", async () => {
    const secrets = {
      ...TEST_SECRETS,
      postgresPassword: "p@ss/w#rd?x",
      redisPassword: 'pa ss"w\'o\\rd\nrequirepass ""',
      objectStoreSecretKey: 's3"key\\with}"quotes',
    };
    const run = await runProgram("production", {}, secrets);
    expect(run.error).toBeUndefined();
    expect(envOf(run, "production-litellm-container", "DATABASE_URL")).toBe(
      "postgresql://litellm:p%40ss%2Fw%23rd%3Fx@postgres:5432/litellm",
    );
    expect(decodeURIComponent(new URL(envOf(run, "production-litellm-container", "DATABASE_URL")).password)).toBe(
      secrets.postgresPassword,
    );
    expect(envOf(run, "production-postgres-container", "POSTGRES_PASSWORD")).toBe(secrets.postgresPassword);
    expect(envOf(run, "production-redis-container", "REDISCLI_AUTH")).toBe(secrets.redisPassword);
    const conf = uploadOf(run, "production-redis-container", "/usr/local/etc/redis/redis.conf");
    expect(conf).toBe(
      'bind 0.0.0.0\nprotected-mode yes\nappendonly yes\ndir /data\nrequirepass "pa ss\\"w\'o\\\\rd\\x0arequirepass \\"\\""\n',
    );
    expect(readRedisConf(conf)).toEqual({
      directives: [
        ["bind", "0.0.0.0"],
        ["protected-mode", "yes"],
        ["appendonly", "yes"],
        ["dir", "/data"],
        ["requirepass", secrets.redisPassword],
      ],
    });
    const s3 = JSON.parse(uploadOf(run, "production-object-store-container", "/etc/seaweedfs/s3.json"));
    expect(s3.identities[0].credentials).toEqual([{ accessKey: "llmstack", secretKey: secrets.objectStoreSecretKey }]);
  });

  it("stop the program before anything is registered when a place cannot carry them", async () => {
    const run = await runProgram("production", {}, {
      ...TEST_SECRETS,
      postgresPassword: "first line\nsecond line",
      grafanaAdminPassword: "admin-$__file{/etc/passwd}",
    });
    expect(run.error).toBeInstanceOf(StackConfigError);
    expect(run.error?.message).toBe(
      "Pulumi.production.yaml: these secrets cannot be used where the stack puts them:\n" +
        "  - llmstack:postgresPassword (postgres POSTGRES_PASSWORD): it contains a line break (or NUL), and Postgres reads its password as one line (initdb --pwfile)\n" +
        '  - llmstack:grafanaAdminPassword (grafana GF_SECURITY_ADMIN_PASSWORD): it contains "${...}" or "$__name{...}", which Grafana replaces with an environment variable or a file\n' +
        'Store a value without that for each, with "pulumi config set --secret --stack production llmstack:<name>", then run pulumi up again.',
    );
    expect(run.registrations).toEqual([]);
  });
});
