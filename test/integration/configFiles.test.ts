/**
 * The config files the program writes into containers are checked by the programs that read them:
 * Caddy (`caddy validate`) for the gateway's TLS front in each mode, Prometheus (`promtool check
 * config`, which also checks the rule file it names) and Alertmanager (`amtool check-config`) for each
 * receiver. They come from Debian's packages (caddy, prometheus, prometheus-alertmanager), which
 * .ci/run installs; without them these tests fail and say what to install.
 */
import { execFileSync, spawnSync } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import type { StackPlan } from "../../src/plan/types";
import { container, planFromValues, rawValues } from "../helpers/stacks";

function tool(name: string, pkg: string): string {
  const found = spawnSync("sh", ["-c", `command -v ${name}`], { encoding: "utf8" });
  if (found.status !== 0) throw new Error(`${name} is not installed: apt-get install -y ${pkg} (or run .ci/run)`);
  return found.stdout.trim();
}

function upload(plan: StackPlan, service: "gateway-tls" | "alertmanager" | "prometheus", file: string): string {
  const u = container(plan, service).uploads.find((x) => x.file === file);
  if (!u || typeof u.content !== "string") throw new Error(`${service} has no plain ${file}`);
  return u.content;
}

function production(edit: (v: Record<string, any>) => void = () => undefined): StackPlan {
  const values = rawValues("production") as Record<string, any>;
  edit(values);
  return planFromValues(values, "production");
}

describe("caddy validate accepts the gateway's Caddyfile", () => {
  const caddy = tool("caddy", "caddy");
  const dir = mkdtempSync(join(tmpdir(), "llmstack-caddy-"));

  function validate(text: string, rewrite: (t: string) => string = (t) => t): string {
    const file = join(dir, `Caddyfile-${Math.random().toString(36).slice(2)}`);
    writeFileSync(file, rewrite(text));
    const r = spawnSync(caddy, ["validate", "--config", file, "--adapter", "caddyfile"], {
      encoding: "utf8",
      env: { ...process.env, XDG_DATA_HOME: join(dir, "data"), XDG_CONFIG_HOME: join(dir, "config") },
    });
    expect(r.status, r.stderr).toBe(0);
    return r.stdout + r.stderr;
  }

  it("tls internal (the checked-in stacks)", () => {
    expect(validate(upload(production(), "gateway-tls", "/etc/caddy/Caddyfile"))).toContain("Valid configuration");
  });

  it("tls internal with Grafana under /grafana/ (monitoring.grafana.viaGateway)", () => {
    const plan = production((v) => {
      v.monitoring = { enabled: true, grafana: { viaGateway: true } };
    });
    const text = upload(plan, "gateway-tls", "/etc/caddy/Caddyfile");
    expect(text).toContain("\treverse_proxy /grafana* grafana:3000\n");
    expect(validate(text)).toContain("Valid configuration");
  });

  it("tls by ACME for a domain", () => {
    const plan = production((v) => {
      v.gateway = { bindAddress: "0.0.0.0", port: 443, tls: { mode: "acme", domain: "llm.example.org", email: "ops@example.org" } };
    });
    expect(validate(upload(plan, "gateway-tls", "/etc/caddy/Caddyfile"))).toContain("Valid configuration");
  });

  it("tls from certificate files", () => {
    // A throwaway self-signed pair where the container would find the stack's PEM secrets.
    execFileSync("openssl", [
      "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=llm.example.org",
      "-keyout", join(dir, "key.pem"), "-out", join(dir, "cert.pem"),
    ], { stdio: "ignore" });
    const plan = production((v) => {
      v.gateway = { bindAddress: "0.0.0.0", port: 443, tls: { mode: "certificate", domain: "llm.example.org" } };
    });
    const text = upload(plan, "gateway-tls", "/etc/caddy/Caddyfile");
    expect(text).toContain("tls /etc/caddy/tls/cert.pem /etc/caddy/tls/key.pem");
    expect(validate(text, (t) => t.replaceAll("/etc/caddy/tls/", `${dir}/`))).toContain("Valid configuration");
  });
});

describe("amtool check-config accepts Alertmanager's config", () => {
  const amtool = tool("amtool", "prometheus-alertmanager");

  it.each([
    ["no receiver", undefined],
    ["a webhook", { type: "webhook", url: "https://hooks.example.org/llm" }],
    ["e-mail", { type: "email", to: "ops@example.org", from: "llm@example.org", smarthost: "mail.example.org:587" }],
  ])("with %s", (_name, receiver) => {
    const plan = production((v) => {
      v.monitoring = receiver ? { enabled: true, receiver } : { enabled: true };
    });
    const dir = mkdtempSync(join(tmpdir(), "llmstack-am-"));
    const file = join(dir, "alertmanager.yml");
    writeFileSync(file, upload(plan, "alertmanager", "/etc/alertmanager/alertmanager.yml"));
    const r = spawnSync(amtool, ["check-config", file], { encoding: "utf8" });
    expect(r.status, r.stdout + r.stderr).toBe(0);
    expect(r.stdout).toContain("SUCCESS");
  });
});

describe("promtool check config accepts Prometheus's config and the rules it names", () => {
  const promtool = tool("promtool", "prometheus");

  it("with every scrape target and the LiteLLM key file", () => {
    const plan = production();
    const dir = mkdtempSync(join(tmpdir(), "llmstack-prom-"));
    // The files sit where the config names them, under this directory instead of /etc/prometheus.
    const here = (t: string): string => t.replaceAll("/etc/prometheus/", `${dir}/`);
    for (const sub of ["rules", "secrets"]) execFileSync("mkdir", ["-p", join(dir, sub)]);
    writeFileSync(join(dir, "prometheus.yml"), here(upload(plan, "prometheus", "/etc/prometheus/prometheus.yml")));
    writeFileSync(join(dir, "rules", "llmstack.rules.yml"), upload(plan, "prometheus", "/etc/prometheus/rules/llmstack.rules.yml"));
    writeFileSync(join(dir, "secrets", "litellm-master-key"), "sk-test\n");
    const r = spawnSync(promtool, ["check", "config", join(dir, "prometheus.yml")], { encoding: "utf8" });
    expect(r.status, r.stdout + r.stderr).toBe(0);
    expect(r.stdout).toContain("is valid prometheus config file syntax");
    expect(r.stdout).toContain("SUCCESS: 5 rules found");
  });

  it("with the scheduled backup's scrape job and alerts", () => {
    const plan = production((v) => {
      v.backup = { schedule: "03:30", keep: 7, to: "/srv/llmstack-backups" };
    });
    const dir = mkdtempSync(join(tmpdir(), "llmstack-prom-"));
    const here = (t: string): string => t.replaceAll("/etc/prometheus/", `${dir}/`);
    for (const sub of ["rules", "secrets"]) execFileSync("mkdir", ["-p", join(dir, sub)]);
    const config = here(upload(plan, "prometheus", "/etc/prometheus/prometheus.yml"));
    expect(config).toContain("backup:9477");
    writeFileSync(join(dir, "prometheus.yml"), config);
    writeFileSync(join(dir, "rules", "llmstack.rules.yml"), upload(plan, "prometheus", "/etc/prometheus/rules/llmstack.rules.yml"));
    writeFileSync(join(dir, "secrets", "litellm-master-key"), "sk-test\n");
    const r = spawnSync(promtool, ["check", "config", join(dir, "prometheus.yml")], { encoding: "utf8" });
    expect(r.status, r.stdout + r.stderr).toBe(0);
    expect(r.stdout).toContain("SUCCESS: 8 rules found");
  });
});
