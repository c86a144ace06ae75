/**
 * Parser for `nvidia-smi topo -m` (https://docs.nvidia.com/deploy/nvidia-smi/index.html, "topo").
 *
 * Real captures are tab- or space-separated, may carry NIC rows and columns (NIC0, mlx5_0), CPU/NUMA
 * affinity and GPU NUMA ID columns (blank or N/A), a legend, and paste damage: indentation, hard-wrapped
 * rows, two cells run together ("NV4NV4", "PIXSYS"). So the matrix is read as a stream of tokens, not lines:
 * the header names the devices, each row starts with the next device's name and holds one cell per device,
 * and whatever follows a GPU row's cells is its affinity. The GPU-to-GPU block decides the result, and it
 * must be a consistent matrix (X on the diagonal, symmetric) or the parser refuses with the cell it doubts.
 */
import { throwIfFailure, wholeNumber } from "./errors";
import type { LinkType, TopoCell, TopoGpu, Topology } from "./types";

const LINK = /X|NV\d+|PIX|PXB|PHB|NODE|SYS|SOC/g;
const LINK_ALL = /^(X|NV\d+|PIX|PXB|PHB|NODE|SYS|SOC)+$/;
const DEVICE = /GPU\d+|NIC\d+|mlx\d+_\d+/g;
const DEVICE_ALL = /^(GPU\d+|NIC\d+|mlx\d+_\d+)+$/;
const AFFINITY_HEADERS = ["CPU Affinity", "NUMA Affinity", "GPU NUMA ID"] as const;

export function parseTopo(text: string, where: string): Topology {
  throwIfFailure(text, where);
  const body = text.split(/^\s*(NIC )?Legend:/m)[0] ?? "";
  const tokens = body.split(/\s+/).filter((t) => t !== "");
  const start = tokens.findIndex((t) => /^GPU\d+/.test(t));
  if (start < 0) {
    throw new Error(
      `${where}: no GPU0 column found; this is not \`nvidia-smi topo -m\` output (or nvidia-smi saw no GPU); ` +
        "capture it again",
    );
  }
  const stream = tokens.slice(start);
  const { devices, affinityColumns, next } = readHeader(stream, where);
  const gpuCount = devices.filter((d) => /^GPU\d+$/.test(d)).length;
  devices.slice(0, gpuCount).forEach((d, i) => {
    if (d !== `GPU${i}`) {
      throw new Error(`${where}: header column ${i + 1} is "${d}" but GPU${i} was expected; GPUs come first, in order`);
    }
  });

  const rows: TopoCell[][] = [];
  const gpus: TopoGpu[] = [];
  let pos = next;
  for (let r = 0; r < devices.length; r++) {
    const label = devices[r] ?? "";
    if (pos >= stream.length) {
      if (r >= gpuCount) break; // NIC rows cut off: they do not matter for the layout
      throw new Error(`${where}: the row for ${label} is missing; capture the whole \`nvidia-smi topo -m\` output`);
    }
    if (stream[pos] !== label) {
      throw new Error(
        `${where}: expected the row for ${label} but found "${stream[pos]}"; the matrix is damaged or incomplete`,
      );
    }
    pos++;
    const cells: TopoCell[] = [];
    while (cells.length < devices.length) {
      const token = stream[pos];
      if (token === undefined || !LINK_ALL.test(token)) {
        throw new Error(
          `${where}: row ${label} has ${cells.length} link cells before "${token ?? "end of text"}", ` +
            `but the header lists ${devices.length} devices; allowed cells are X, NV#, PIX, PXB, PHB, NODE, SYS`,
        );
      }
      const parts = token.match(LINK) ?? [];
      if (cells.length + parts.length > devices.length) {
        throw new Error(`${where}: row ${label}: "${token}" runs past the last of the ${devices.length} columns`);
      }
      cells.push(...parts.map((raw) => cell(raw, `${where}: row ${label}`)));
      pos++;
    }
    const extra: string[] = [];
    while (pos < stream.length && !devices.includes(stream[pos] ?? "")) {
      extra.push(stream[pos] ?? "");
      pos++;
    }
    if (r < gpuCount) {
      const stray = extra.find((t) => LINK_ALL.test(t) && t !== "X");
      if (stray !== undefined && pos < stream.length) {
        throw new Error(
          `${where}: row ${label} has more link cells ("${stray}") than the ${devices.length} header columns`,
        );
      }
      gpus.push(affinity(r, extra.slice(0, affinityColumns.length), affinityColumns, `${where}: row ${label}`));
      rows.push(cells);
    }
  }

  const links = rows.map((row) => row.slice(0, gpuCount));
  checkMatrix(links, where);
  return { gpus, links, otherDevices: devices.slice(gpuCount) };
}

function readHeader(
  stream: string[],
  where: string,
): { devices: string[]; affinityColumns: string[]; next: number } {
  const devices: string[] = [];
  const affinityColumns: string[] = [];
  let i = 0;
  for (; i < stream.length; i++) {
    const t = stream[i] ?? "";
    if (devices.length > 0 && t === devices[0]) break; // the first row starts with the first column's name
    if (DEVICE_ALL.test(t)) {
      devices.push(...(t.match(DEVICE) ?? []));
      continue;
    }
    const phrase = AFFINITY_HEADERS.find((h) => h.split(" ").every((w, k) => stream[i + k] === w));
    if (phrase === undefined) {
      throw new Error(
        `${where}: unexpected "${t}" in the header line; expected device names (GPU0, NIC0) and ` +
          `${AFFINITY_HEADERS.join(", ")}`,
      );
    }
    affinityColumns.push(phrase);
    i += phrase.split(" ").length - 1;
  }
  if (i >= stream.length) {
    throw new Error(`${where}: a header without rows; capture the whole \`nvidia-smi topo -m\` output`);
  }
  return { devices, affinityColumns, next: i };
}

function cell(raw: string, where: string): TopoCell {
  if (raw.startsWith("NV")) {
    const nvlinks = wholeNumber(raw.slice(2), () => `${where}: "${raw}" is not an NVLink count such as NV4`);
    return { type: "NV", nvlinks, raw };
  }
  // SOC is what drivers before 384 called SYS.
  return { type: (raw === "SOC" ? "SYS" : raw) as LinkType, nvlinks: null, raw };
}

function affinity(index: number, values: string[], columns: string[], where: string): TopoGpu {
  const known = (v: string | undefined): string | null => (v === undefined || v === "N/A" ? null : v);
  const cpu = known(values[columns.indexOf("CPU Affinity")]);
  const numa = known(values[columns.indexOf("NUMA Affinity")]);
  return {
    index,
    cpuAffinity: columns.includes("CPU Affinity") ? cpu : null,
    numaNode:
      columns.includes("NUMA Affinity") && numa !== null && /^\d+$/.test(numa)
        ? wholeNumber(numa, () => `${where}: NUMA Affinity "${numa}" is not a NUMA node number`)
        : null,
  };
}

function checkMatrix(links: readonly (readonly TopoCell[])[], where: string): void {
  links.forEach((row, i) =>
    row.forEach((c, j) => {
      if ((i === j) !== (c.type === "X")) {
        throw new Error(
          `${where}: GPU${i} to GPU${j} reads "${c.raw}", but X must be exactly the diagonal; the matrix is damaged`,
        );
      }
      const back = links[j]?.[i];
      if (back !== undefined && back.raw !== c.raw) {
        throw new Error(
          `${where}: GPU${i} to GPU${j} reads "${c.raw}" but GPU${j} to GPU${i} reads "${back.raw}"; ` +
            `the matrix must be symmetric, so the capture is damaged; capture it again`,
        );
      }
    }),
  );
}
