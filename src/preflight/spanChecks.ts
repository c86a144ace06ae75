/**
 * The checks of a replica across hosts (src/plan/span.ts), from what ./spanScript.ts printed; pure. Each is a
 * per-replica check (REPLICA_CHECKS in ./fleetChecks.ts), shown under the head's host:
 *
 * - `span.interface`: on each member host, the host's `interface` owns its `address` (NCCL and Gloo bind the
 *   interface, vLLM announces the address);
 * - `span.reach`: each other member host connects to the head's address at the master port (vLLM's
 *   torch.distributed store), which is free on the head's host;
 * - `span.image`: every member host has the same vLLM image (RepoDigests, else Id);
 * - `span.model`: every member host that already has the model in its cache holds the same files.
 */
import type { FleetNeeds, ReplicaNeed, SpanMemberNeed, SpanNeed } from "./fleetNeeds";
import { parseSpan, SPAN_REACH_TIMEOUT_S, type MemberFacts, type SpanFacts } from "./spanScript";
import { fail, pass, warn, type CheckResult } from "./types";

type Span = ReplicaNeed & { readonly span: SpanNeed };

/** What the span script printed for a replica across hosts; undefined when it did not run (or for a replica on one host). */
export function spanFactsOf(replica: ReplicaNeed, outputs: ReadonlyMap<string, string>): [Span, SpanFacts] | undefined {
  const out = outputs.get(replica.id);
  if (replica.span === undefined || out === undefined) return undefined;
  return [replica as Span, parseSpan(out)];
}

const at = (address: string, port: number): string => `${address.includes(":") ? `[${address}]` : address}:${port}`;

function notChecked(m: SpanMemberNeed, images: readonly string[]): string {
  return images.length === 0
    ? "set the stack's images to tags with a record in src/facts/imageRecords.ts"
    : `pull one of them there first: docker --host ${m.endpoint} pull ${images[0]}`;
}

/** The images with python3 a member host was tried with, for the messages. */
export type PythonImagesOf = (host: string) => readonly string[];

export function spanInterfaceResults(needs: FleetNeeds, r: Span, facts: SpanFacts, images: PythonImagesOf): CheckResult[] {
  const name = "span.interface";
  return r.span.members.flatMap((m): CheckResult[] => {
    const f: MemberFacts | undefined = facts.members.get(m.host);
    if (f === undefined) return [];
    const key = `llmstack:hosts[${m.index}]`;
    const fix =
      `set ${key}.interface to the interface that owns ${m.address} on ${m.host} (the name \`ip -o addr show to ${m.address}\` ` +
      `prints there), or ${key}.address to an address of ${m.interface}, in ${needs.stackFile}`;
    const node = `(replica ${r.id}, node ${m.rank})`;
    if (f.python === null) {
      const tried = images(m.host);
      return [
        warn(
          name,
          `${m.host}: ${m.interface} not checked ${node}: none of ${tried.join(", ") || "the stack's images with python3"} is on ${m.host} yet to read its addresses with`,
          notChecked(m, tried),
        ),
      ];
    }
    const i = f.iface;
    if (i === undefined) return [];
    switch (i.kind) {
      case "ok":
        return [pass(name, `${m.host}: ${m.interface} owns ${m.address} ${node}`)];
      case "other":
        return [
          fail(
            name,
            `${m.host}: interface ${m.interface} does not own ${m.address} ${node}; it has ${i.addresses.join(", ") || "no address"}`,
            fix,
          ),
        ];
      case "missing":
        return [fail(name, `${m.host} has no interface ${m.interface} ${node}; it has ${i.interfaces.join(", ") || "none"}`, fix)];
      case "error":
        return [
          warn(
            name,
            `${m.host}: the addresses of ${m.interface} could not be read ${node}: ${i.why}`,
            `run \`ip -o addr show dev ${m.interface}\` on ${m.host} and check that it lists ${m.address}`,
          ),
        ];
    }
  });
}

export function spanReachResults(needs: FleetNeeds, r: Span, facts: SpanFacts, images: PythonImagesOf): CheckResult[] {
  const name = "span.reach";
  const reach = facts.reach;
  if (reach === undefined) return [];
  const head = r.span.members[0]!;
  const port = r.span.masterPort;
  const where = `${at(head.address, port)} (replica ${r.id}'s torch.distributed store on ${head.host})`;
  switch (reach.kind) {
    case "no-listen-image": {
      const tried = images(head.host);
      return [
        warn(
          name,
          `${where} not checked: none of ${tried.join(", ") || "the stack's images with python3"} is on ${head.host} yet to listen with`,
          notChecked(head, tried),
        ),
      ];
    }
    case "blocked":
      return [
        fail(
          name,
          `${where} is blocked: the port is taken on ${head.host}: ${reach.error}`,
          `stop what holds port ${port} on ${head.host} (ss -tlnp 'sport = :${port}' on the host shows it; a container on the ` +
            `host's network holds it too: docker --host ${head.endpoint} ps), then run validate again`,
        ),
      ];
    case "listen-failed":
      return [
        fail(
          name,
          `${where}: the listener did not start on ${head.host}: ${reach.error}`,
          `check that ${head.host} owns ${head.address} (llmstack:hosts[${head.index}].address in ${needs.stackFile}) and that ` +
            `Docker on ${head.host} runs a container on the host's network (--network host)`,
        ),
      ];
    case "dialed":
      return r.span.members.slice(1).map((m): CheckResult => {
        const d = reach.dials.get(m.host);
        if (d === undefined) {
          return fail(name, `${m.host} → ${where}: the check stopped before it finished`, `run validate again; if it stops again, run the listener by hand on ${head.host}`);
        }
        if (d === "ok") {
          return pass(name, `${m.host} reaches ${where}${reach.own ? ", held by the head's own container" : ""}`);
        }
        if (d === "no image") {
          const tried = images(m.host);
          return warn(
            name,
            `${m.host} → ${where} not dialed: none of ${tried.join(", ") || "the stack's images with python3"} is on ${m.host} yet to dial from`,
            notChecked(m, tried),
          );
        }
        return fail(
          name,
          `${m.host} (${m.address}) cannot reach ${where} within ${SPAN_REACH_TIMEOUT_S} s: ${d}`,
          `let ${m.host} connect to TCP port ${port} on ${head.host}'s ${head.address} (a firewall between them drops it: open the ` +
            `port to ${m.address}; NCCL and Gloo also connect between the members on ports of their own, so let the members' ` +
            `addresses reach each other), and check that llmstack:hosts[${head.index}].address is an address ${head.host} owns`,
        );
      });
  }
}

/** The same image: a RepoDigest in common, or the same Id. */
function sameImage(a: { id: string; digests: readonly string[] }, b: { id: string; digests: readonly string[] }): boolean {
  return a.id === b.id || a.digests.some((d) => b.digests.includes(d));
}

const digestOf = (i: { id: string; digests: readonly string[] }): string => i.digests[0] ?? i.id;

export function spanImageResults(needs: FleetNeeds, r: Span, facts: SpanFacts): CheckResult[] {
    const name = "span.image";
    const image = r.span.image;
    const members = r.span.members.filter((m) => facts.members.get(m.host)?.image !== undefined);
    if (members.length === 0) return [];
    const found = members.flatMap((m) => {
      const i = facts.members.get(m.host)!.image!;
      return i.kind === "found" ? [{ m, id: i.id, digests: i.digests }] : [];
    });
    const missing = members.filter((m) => facts.members.get(m.host)!.image!.kind === "missing");
    const pull = (ms: readonly SpanMemberNeed[]): string => ms.map((m) => `docker --host ${m.endpoint} pull ${image}`).join("; ");
    const pin = `llmstack images pin --stack ${needs.stack}`;
    const first = found[0];
    const differ = first === undefined ? [] : found.filter((f) => !sameImage(f, first));
    if (differ.length > 0) {
      return [
        fail(
          name,
          `replica ${r.id}'s members have different ${image} images: ${found.map((f) => `${f.m.host} ${digestOf(f)}`).join(", ")}`,
          `pin the image by digest (${pin}), or pull the same image on every member (${pull(r.span.members)})`,
        ),
      ];
    }
    if (missing.length > 0) {
      const have = first === undefined ? "" : `; ${found.map((f) => f.m.host).join(", ")} ${found.length === 1 ? "has" : "have"} ${digestOf(first)}`;
      const hosts = missing.map((m) => m.host).join(", ");
      if (image.includes("@sha256:")) {
        return [warn(name, `${image} is not on ${hosts} yet (replica ${r.id})${have}; it is pinned by digest, so the deploy pulls the same image there`, null)];
      }
      return [
        fail(
          name,
          `${image} is not on ${hosts} (replica ${r.id})${have}; a tag pulled on each host at deploy may name different images`,
          `pin the image by digest (${pin}), or pull it on ${hosts} now (${pull(missing)})`,
        ),
      ];
    }
    return [pass(name, `replica ${r.id}'s members ${found.map((f) => f.m.host).join(", ")} have the same ${image} (${digestOf(first!)})`)];
}

const GiB = 1024 ** 3;

export function spanModelResults(needs: FleetNeeds, r: Span, facts: SpanFacts, images: PythonImagesOf): CheckResult[] {
  const name = "span.model";
  const { model, revision, volume } = r.span;
  const out: CheckResult[] = [];
  const listed: { m: SpanMemberNeed; files: ReadonlyMap<string, number> }[] = [];
  const absent: SpanMemberNeed[] = [];
  for (const m of r.span.members) {
    const f = facts.members.get(m.host);
    if (f === undefined) continue;
    if (f.python === null) {
      const tried = images(m.host);
      out.push(
        warn(
          name,
          `${m.host}: the model cache not read (replica ${r.id}): none of ${tried.join(", ") || "the stack's images with python3"} is on ${m.host} yet to read it with`,
          notChecked(m, tried),
        ),
      );
      continue;
    }
    const md = f.model;
    if (md === undefined) continue;
    if (md.kind === "absent") absent.push(m);
    else if (md.kind === "listed") listed.push({ m, files: md.files });
    else {
      out.push(
        warn(
          name,
          `${m.host}: the model cache volume ${volume} could not be read (replica ${r.id}): ${md.why}`,
          `check the volume on ${m.host}: docker --host ${m.endpoint} volume inspect ${volume}`,
        ),
      );
    }
  }
  const first = listed[0];
  if (first !== undefined) {
    const names = [...new Set(listed.flatMap((l) => [...l.files.keys()]))].sort();
    const size = (files: ReadonlyMap<string, number>, f: string): string => {
      const s = files.get(f);
      return s === undefined ? "absent" : s < 0 ? "its blob is missing" : `${s} bytes`;
    };
    const differ = names.filter((f) => listed.some((l) => l.files.get(f) !== first.files.get(f)));
    if (differ.length > 0) {
      const shown = differ
        .slice(0, 5)
        .map((f) => `${f} (${listed.map((l) => `${l.m.host} ${size(l.files, f)}`).join(", ")})`)
        .join("; ");
      out.push(
        fail(
          name,
          `replica ${r.id}'s members hold different files of ${model}@${revision}: ${shown}` +
            (differ.length > 5 ? `; and ${differ.length - 5} more` : ""),
          `let the model download finish on every member (an interrupted download leaves files out: docker --host <endpoint> ` +
            `logs <project>-<stack>-model-download-<host>), pin llmstack:model.revision to a commit in ${needs.stackFile} so every ` +
            `host fetches the same files, and to fetch it again on a host remove hub/models--${model.replace("/", "--")} ` +
            `from its ${volume} volume`,
        ),
      );
    } else if (listed.length > 1) {
      const bytes = [...first.files.values()].reduce((a, b) => a + Math.max(0, b), 0);
      out.push(
        pass(
          name,
          `replica ${r.id}'s members ${listed.map((l) => l.m.host).join(", ")} hold the same ${first.files.size} files of ` +
            `${model}@${revision} (${(bytes / GiB).toFixed(1)} GiB)`,
        ),
      );
    }
  }
  if (absent.length > 0) {
    out.push(
      warn(
        name,
        `${model}@${revision} is not in the model cache of ${absent.map((m) => m.host).join(", ")} yet (replica ${r.id}); ` +
          "the model download fetches it there at deploy, so its files are compared once they are there",
        null,
      ),
    );
  }
  return out;
}
