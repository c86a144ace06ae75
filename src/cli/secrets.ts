/**
 * `llmstack secrets init --stack NAME`: generates each credential the stack file lacks and stores it
 * with `pulumi config set --secret` (encrypted by the stack's secrets provider). Existing values are
 * never replaced: they open data that outlives the stack.
 */
import { randomBytes } from "node:crypto";
import { chmodSync } from "node:fs";
import { join } from "node:path";
import { ALERT_WEBHOOK_SECRET } from "../config/monitoringSchema";
import { missingSecrets } from "../plan/stack";
import { renderStack } from "./renderStack";
import { ArgumentError, requireStack } from "./args";
import { PULUMI_DOWNLOAD, PULUMI_INSTALL } from "../preflight/hostChecks";
import { commandLine, defineCommand, parseCommand } from "./command";
import { UsageError, type CliIo } from "./io";

/** A new credential: 48 hex characters; LiteLLM wants its master key to start with "sk-". */
export function generateSecret(name: string, bytes = randomBytes(24)): string {
  const value = bytes.toString("hex");
  return name === "litellmMasterKey" ? `sk-${value}` : value;
}

export const secretsCli = () =>
  defineCommand("secrets", {
    summary: "generate the credentials the stack file lacks and store them as Pulumi secrets",
    usage: "init --stack <name> [--dry-run]",
    details:
      "init stores each credential with pulumi config set --secret (encrypted by the stack's secrets provider); " +
      "values already set are never replaced. Exit status: 0 when every credential is stored, 1 when the Pulumi " +
      "CLI fails, 2 for a malformed command line.",
    examples: ["llmstack secrets init --stack production", "llmstack secrets init --stack staging --dry-run"],
  })
    .argument("[action]", 'what to do: "init" (the only action)')
    .option("--stack <name>", "the stack whose credentials to generate (required)")
    .option("--dry-run", "list the credentials that would be generated");

export interface SecretsOptions {
  /** The environment pulumi runs with (quickstart's local backend); default the command line's. */
  readonly env?: NodeJS.ProcessEnv;
  /** The command to run again once a failed `pulumi config set` is fixed; default `secrets init` itself. */
  readonly again?: string;
}

export async function secretsCommand(argv: string[], io: CliIo, { env, again }: SecretsOptions = {}): Promise<number> {
  const { opts: values, args: positionals } = parseCommand<{ stack?: string; dryRun?: boolean }>(secretsCli, argv, io);
  if (positionals[0] !== "init") {
    throw new ArgumentError('the only action is "init"', "llmstack secrets init --stack production");
  }
  requireStack(values.stack, "llmstack secrets init --stack production");
  const plan = renderStack(io.cwd, values.stack);
  const raw = { stackFile: plan.stackFile };
  // Every required secret the stack file lacks, development's too: a credential kept in the stack file
  // survives `pulumi destroy`, as the data volumes it opens do; a generated one does not.
  const needed = plan.secrets.filter((s) => !s.optional && s.source !== "config").map((s) => s.name)
    .concat(missingSecrets(plan));
  const fromFiles = needed.filter((n): n is "tlsCertificate" | "tlsPrivateKey" => n === "tlsCertificate" || n === "tlsPrivateKey");
  for (const name of fromFiles) {
    io.stdout(
      `llmstack:${name} cannot be generated: store your PEM file with ` +
        `"pulumi config set --secret --stack ${values.stack} llmstack:${name} < ${name === "tlsCertificate" ? "cert.pem" : "key.pem"}"\n`,
    );
  }
  if (needed.includes(ALERT_WEBHOOK_SECRET)) {
    io.stdout(
      `llmstack:${ALERT_WEBHOOK_SECRET} cannot be generated: store the alert webhook's URL with ` +
        `"pulumi config set --secret --stack ${values.stack} llmstack:${ALERT_WEBHOOK_SECRET}" (it asks for the value)\n`,
    );
  }
  const missing = needed.filter((n) => n !== "tlsCertificate" && n !== "tlsPrivateKey" && n !== ALERT_WEBHOOK_SECRET);
  if (missing.length === 0) {
    io.stdout(`${raw.stackFile}: every secret is already set; nothing to do.\n`);
    return 0;
  }
  if (values.dryRun) {
    io.stdout(`${raw.stackFile}: would generate and store ${missing.map((m) => `llmstack:${m}`).join(", ")}\n`);
    return 0;
  }
  const version = await io.exec("pulumi", ["version"], env ? { env } : {});
  if (version.code !== 0) {
    throw new UsageError(
      `secrets init stores the secrets with the Pulumi CLI, which is not installed: install it (${PULUMI_DOWNLOAD}), ` +
        "open a new shell and run this again",
      PULUMI_INSTALL,
    );
  }
  for (const name of missing) {
    // The value goes through stdin, never argv, so it does not show in the process list.
    const r = await io.exec(
      "pulumi",
      ["config", "set", "--secret", "--stack", values.stack, `llmstack:${name}`],
      { input: generateSecret(name), cwd: io.cwd, ...(env ? { env } : {}) },
    );
    if (r.code !== 0) {
      // What is stored stays stored, and is not generated again: the same command goes on from here.
      throw new UsageError(
        `pulumi config set llmstack:${name} failed (exit ${r.code}): ${r.stderr.trim() || "(no message)"}; fix what it says`,
        again ?? commandLine("llmstack", "secrets", "init", "--stack", values.stack),
      );
    }
    io.stdout(`stored llmstack:${name} (generated) in ${raw.stackFile}\n`);
  }
  io.stdout(`${protectionNote(raw.stackFile, join(io.cwd, raw.stackFile), env ?? io.env)}\n`);
  return 0;
}

/**
 * What protects the stored values. With the passphrase provider and an empty passphrase (the quickstart's
 * local stack), the key is derived from "" and anyone who can read the file can decrypt them: the file is
 * made readable by its owner only, and is not to be committed. Otherwise the stack's secrets provider
 * encrypts them and the file may be committed.
 */
export function protectionNote(stackFile: string, path: string, env: NodeJS.ProcessEnv): string {
  if (env.PULUMI_CONFIG_PASSPHRASE === "" && !env.PULUMI_CONFIG_PASSPHRASE_FILE) {
    chmodSync(path, 0o600);
    return (
      `${stackFile} holds the secrets encrypted with an empty passphrase: anyone who can read the file can read them. ` +
      `It is now readable only by you (mode 600); do not commit it or copy it where others can read it.`
    );
  }
  return (
    `Commit ${stackFile}: the values are encrypted by the stack's secrets provider, so only someone with its ` +
    `passphrase or key can read them; keep that safe.`
  );
}
