/**
 * The order containers are created in. Pure, like the rest of the planner: src/deploy creates one
 * component per container in this order, and the planner's tests check it without loading Pulumi.
 */
import type { ContainerSpec, ServiceName } from "./types";

/** Containers in an order where each comes after everything it depends on; fails on a cycle. */
export function orderByDependencies(specs: readonly ContainerSpec[]): ContainerSpec[] {
  const byService = new Map(specs.map((s) => [s.service, s]));
  const done = new Set<ServiceName>();
  const visiting = new Set<ServiceName>();
  const out: ContainerSpec[] = [];
  const visit = (s: ContainerSpec): void => {
    if (done.has(s.service)) return;
    if (visiting.has(s.service)) throw new Error(`dependency cycle through ${s.service}`);
    visiting.add(s.service);
    for (const d of s.dependsOn) {
      const dep = byService.get(d);
      if (!dep) throw new Error(`${s.service} depends on ${d}, which the plan does not have`);
      visit(dep);
    }
    visiting.delete(s.service);
    done.add(s.service);
    out.push(s);
  };
  specs.forEach(visit);
  return out;
}
