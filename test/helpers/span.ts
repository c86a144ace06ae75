/**
 * A fleet with one replica across hosts: the example fleet with gpu-b given two NVLinked RTX 3090s like
 * gpu-a, and Qwen3-30B-A3B (about 57 GiB of bf16 weights: more than either host's two 24 GiB cards hold)
 * pinned as one replica across gpu-a (the head) and gpu-b.
 */
import { fleetValues } from "./fleet";

export const SPAN_MODEL = {
  name: "Qwen/Qwen3-30B-A3B",
  servedModelName: "qwen3-30b-a3b",
  maxModelLen: 8192,
  dtype: "bfloat16",
  placement: [
    {
      span: [
        { host: "gpu-a", devices: ["0", "1"] },
        { host: "gpu-b", devices: ["0", "1"] },
      ],
    },
  ],
};

/** The spanning fleet's raw values (a fresh copy). */
export function spanValues(): Record<string, any> {
  const v = fleetValues();
  v.hosts[2] = { ...v.hosts[2], gpu: structuredClone(v.hosts[1].gpu) };
  v.model = structuredClone(SPAN_MODEL);
  return v;
}
