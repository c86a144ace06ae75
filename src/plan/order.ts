/**
 * The order containers are created in: each after everything it depends on. Pure, like the rest of the
 * planner: src/deploy creates one component per container in this order, and the planner's tests check it
 * without loading Pulumi. A dependency names a service; on a stack with hosts a service may have several
 * containers (a vLLM per replica), and a container then comes after all of them.
 */
import type { ContainerSpec } from "./types";

/** Containers in an order where each comes after everything it depends on; fails on a cycle. */
export function orderByDependencies(specs: readonly ContainerSpec[]): ContainerSpec[] {
  const done = new Set<ContainerSpec>();
  const visiting = new Set<ContainerSpec>();
  const out: ContainerSpec[] = [];
  const visit = (s: ContainerSpec): void => {
    if (done.has(s)) return;
    if (visiting.has(s)) throw new Error(`dependency cycle through ${s.service}`);
    visiting.add(s);
    for (const d of s.dependsOn) {
      const deps = specs.filter((x) => x.service === d);
      if (deps.length === 0) throw new Error(`${s.service} depends on ${d}, which the plan does not have`);
      deps.forEach(visit);
    }
    visiting.delete(s);
    done.add(s);
    out.push(s);
  };
  specs.forEach(visit);
  return out;
}
