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
import { parse, stringify } from "yaml";
import type { StackPlan } from "../../src/plan/types";
import { fleetPlan } from "../helpers/fleet";
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

  it("on a stack with hosts: every replica and GPU host's exporter by address, and AddVllmReplica", () => {
    const plan = fleetPlan();
    const dir = mkdtempSync(join(tmpdir(), "llmstack-prom-"));
    const here = (t: string): string => t.replaceAll("/etc/prometheus/", `${dir}/`);
    for (const sub of ["rules", "secrets"]) execFileSync("mkdir", ["-p", join(dir, sub)]);
    const config = here(upload(plan, "prometheus", "/etc/prometheus/prometheus.yml"));
    expect(config).toContain("10.20.0.12:8000");
    writeFileSync(join(dir, "prometheus.yml"), config);
    writeFileSync(join(dir, "rules", "llmstack.rules.yml"), upload(plan, "prometheus", "/etc/prometheus/rules/llmstack.rules.yml"));
    writeFileSync(join(dir, "secrets", "litellm-master-key"), "sk-test\n");
    const r = spawnSync(promtool, ["check", "config", join(dir, "prometheus.yml")], { encoding: "utf8" });
    expect(r.status, r.stdout + r.stderr).toBe(0);
    expect(r.stdout).toContain("SUCCESS: 6 rules found");
  });
});

describe("promtool test rules: AddVllmReplica fires when the whole fleet is full, not when one replica is", () => {
  const promtool = tool("promtool", "prometheus");
  const rules = upload(fleetPlan(), "prometheus", "/etc/prometheus/rules/llmstack.rules.yml");
  const annotations = (parse(rules) as { groups: { rules: { alert: string; annotations: Record<string, string> }[] }[] }).groups[0]!.rules.find(
    (r) => r.alert === "AddVllmReplica",
  )!.annotations;
  const a = 'host="gpu-a", replica="gpu-a-0"';
  const b = 'host="gpu-b", replica="gpu-b-0"';
  /** Each replica's waiting requests and KV cache use, and where its first tokens fall (seconds bucket). */
  const series = (waiting: [number, number], kv: [number, number], firstTokenWithin: "1" | "5") =>
    [
      [`vllm:num_requests_waiting{${a}}`, `${waiting[0]}x15`],
      [`vllm:num_requests_waiting{${b}}`, `${waiting[1]}x15`],
      [`vllm:kv_cache_usage_perc{${a}}`, `${kv[0]}x15`],
      [`vllm:kv_cache_usage_perc{${b}}`, `${kv[1]}x15`],
      ...[a, b].flatMap((r) => [
        [`vllm:time_to_first_token_seconds_bucket{${r}, le="1"}`, firstTokenWithin === "1" ? "0+10x15" : "0x15"],
        [`vllm:time_to_first_token_seconds_bucket{${r}, le="5"}`, "0+10x15"],
        [`vllm:time_to_first_token_seconds_bucket{${r}, le="+Inf"}`, "0+10x15"],
      ]),
    ].map(([s, values]) => ({ series: s, values }));
  const fires = (summaryValue: string) => [{ exp_labels: { severity: "warning" }, exp_annotations: { ...annotations, summary: annotations.summary!.replace("{{ $value | humanize }}", summaryValue) } }];

  it.each([
    ["every replica queues with its KV cache full", series([5, 5], [0.95, 0.95], "1"), fires("5")],
    ["every replica queues and first tokens take seconds", series([5, 5], [0.5, 0.5], "5"), fires("5")],
    ["every replica queues, but its KV cache has room and first tokens come fast", series([5, 5], [0.5, 0.5], "1"), []],
    ["one replica queues with its KV cache full, the other idles", series([3, 0], [0.95, 0.1], "5"), []],
  ])("%s", (_, input_series, exp_alerts) => {
    const dir = mkdtempSync(join(tmpdir(), "llmstack-promtest-"));
    writeFileSync(join(dir, "llmstack.rules.yml"), rules);
    const test = {
      rule_files: ["llmstack.rules.yml"],
      evaluation_interval: "1m",
      tests: [{ interval: "1m", input_series, alert_rule_test: [{ eval_time: "10m", alertname: "AddVllmReplica", exp_alerts }] }],
    };
    writeFileSync(join(dir, "test.yml"), stringify(test));
    const r = spawnSync(promtool, ["test", "rules", join(dir, "test.yml")], { encoding: "utf8" });
    expect(r.status, r.stdout + r.stderr).toBe(0);
    expect(r.stdout).toContain("SUCCESS");
  });
});
