/** Runs the policy pack as CrossGuard does, over what the program registered under Pulumi mocks. */
import type { ResourceValidationPolicy, StackValidationPolicy } from "@pulumi/policy";
import { specialSecretSig, specialSigKey } from "@pulumi/pulumi/runtime/rpc";
import { policies } from "../../policy/policies";
import type { Registration } from "./pulumiMocks";

export interface Violation {
  readonly policy: string;
  readonly level: string;
  readonly message: string;
}

/** CrossGuard hands policies plain values: secrets unwrapped (what @pulumi/policy's deserialize does). */
export function unwrapSecrets(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(unwrapSecrets);
  if (v !== null && typeof v === "object") {
    const o = v as Record<string, unknown>;
    if (o[specialSigKey] === specialSecretSig) return unwrapSecrets(o.value);
    return Object.fromEntries(Object.entries(o).map(([k, x]) => [k, unwrapSecrets(x)]));
  }
  return v;
}

/**
 * A resource's provider as CrossGuard hands it over (type, name, URN, props), from the provider reference
 * `<provider URN>::<id>` the mock monitor recorded; the URN ends with the provider's name.
 */
function providerOf(r: Registration, all: readonly Registration[]): Record<string, unknown> | undefined {
  if (r.provider === undefined) return undefined;
  const parts = r.provider.split("::");
  const urn = parts.slice(0, -1).join("::");
  const name = parts.at(-2);
  const p = all.find((x) => x.type.startsWith("pulumi:providers:") && x.name === name);
  return p === undefined ? undefined : { type: p.type, name: p.name, urn, props: unwrapSecrets(p.inputs) };
}

export function runPolicies(registrations: readonly Registration[], environment: string): Violation[] {
  const out: Violation[] = [];
  const resources = registrations.map((r) => {
    const provider = providerOf(r, registrations);
    return { type: r.type, name: r.name, props: unwrapSecrets(r.inputs) as Record<string, any>, ...(provider ? { provider } : {}) };
  });
  const common = { getConfig: () => ({ environment }), notApplicable: () => undefined, stackTags: new Map() };
  for (const p of policies) {
    const level = p.enforcementLevel ?? "advisory";
    const report = (message: string) => out.push({ policy: p.name, level, message });
    if ("validateResource" in p) {
      const validate = (p as ResourceValidationPolicy).validateResource as (a: any, r: typeof report) => void;
      for (const r of resources) validate({ ...common, ...r, urn: `urn:${r.name}`, opts: {} }, report);
    } else {
      const validate = (p as StackValidationPolicy).validateStack as (a: any, r: typeof report) => void;
      validate({ ...common, resources: resources.map((r) => ({ ...r, urn: `urn:${r.name}` })) }, report);
    }
  }
  return out;
}

