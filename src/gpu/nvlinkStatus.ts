/**
 * Parser for `nvidia-smi nvlink --status` (`-s`): a "GPU n: name (UUID: ...)" line per GPU, then one
 * "Link k: <speed> GB/s" line per link (indented by a tab and a space, or spaces in pasted reports),
 * "Link k: <inactive>" for a link that is down, or an NVML message when the GPU has no active link.
 * It says how many links each GPU has up, not which GPU is at the other end; `topo -m` says that.
 */
import { throwIfFailure, wholeNumber } from "./errors";
import type { NvlinkGpu } from "./types";

const GPU_LINE = /^GPU (\d+): (.+?)(?: \(UUID: (\S+)\))?$/;
const LINK_LINE = /^Link (\d+): (?:(\d+(?:\.\d+)?) GB\/s|<?(inactive)>?)$/i;
const NO_LINKS = /^NVML: Unable to retrieve NVLink information as all links are inActive$/i;

export function parseNvlinkStatus(text: string, where: string): NvlinkGpu[] {
  throwIfFailure(text, where);
  const gpus: { index: number; name: string; uuid: string | null; links: NvlinkGpu["links"][number][] }[] = [];
  text.split(/\r?\n/).forEach((raw, i) => {
    const line = raw.trim();
    if (line === "") return;
    const gpu = GPU_LINE.exec(line);
    if (gpu !== null) {
      const index = wholeNumber(gpu[1]!, () => `${where}: line ${i + 1} "${line}": GPU index ${gpu[1]} is not a GPU number`);
      gpus.push({ index, name: gpu[2] ?? "", uuid: gpu[3] ?? null, links: [] });
      return;
    }
    const current = gpus[gpus.length - 1];
    if (current === undefined) {
      throw new Error(
        `${where}: line ${i + 1} "${line}" comes before any "GPU n: ..." line; this is not \`nvidia-smi nvlink --status\` output`,
      );
    }
    const link = LINK_LINE.exec(line);
    if (link !== null) {
      const n = wholeNumber(link[1]!, () => `${where}: line ${i + 1} "${line}": link ${link[1]} is not a link number`);
      const speed = link[2] === undefined ? null : Number(link[2]);
      if (speed !== null && !Number.isFinite(speed)) {
        throw new Error(`${where}: line ${i + 1} "${line}": ${link[2]} GB/s is not a link speed`);
      }
      current.links.push({ link: n, speedGBs: speed });
      return;
    }
    if (NO_LINKS.test(line)) return;
    throw new Error(
      `${where}: line ${i + 1} "${line}" under GPU ${current.index} is neither "Link n: <speed> GB/s", ` +
        `"Link n: <inactive>" nor NVML's "all links are inActive" message; capture \`nvidia-smi nvlink --status\` again`,
    );
  });
  if (gpus.length === 0) {
    throw new Error(`${where}: no "GPU n: ..." line; this is not \`nvidia-smi nvlink --status\` output`);
  }
  return gpus.map((g) => {
    const speeds = g.links.flatMap((l) => (l.speedGBs === null ? [] : [l.speedGBs]));
    return {
      index: g.index,
      name: g.name,
      uuid: g.uuid,
      links: g.links,
      activeLinks: speeds.length,
      // reduce, not Math.min(...speeds): a damaged capture with huge link lists must not overflow the stack.
      linkSpeedGBs: speeds.length === 0 ? null : speeds.reduce((a, b) => Math.min(a, b)),
    };
  });
}
