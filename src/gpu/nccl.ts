/**
 * NCCL settings for vLLM's tensor-parallel group, derived from how its GPUs are linked and what class of
 * card they are. The one place these rules live: the planner and `configure-gpu` both call it.
 *
 * - NVLink between every GPU of the group: NCCL_P2P_LEVEL=NVL keeps peer-to-peer traffic on NVLink.
 * - PCIe only, consumer (GeForce) cards: they lack PCIe peer-to-peer, and NCCL's P2P probe or vLLM's custom
 *   all-reduce can hang; NCCL_P2P_DISABLE=1 and --disable-custom-all-reduce avoid it
 *   (https://docs.vllm.ai/en/stable/usage/troubleshooting.html).
 * - PCIe only, datacenter cards (A100 PCIe, L40S, H100 PCIe): P2P works, leave NCCL's defaults.
 * - One GPU: no collective communication at all, nothing to set.
 */
export type CardClass = "consumer" | "datacenter";

export interface NcclInputs {
  /** GPUs in vLLM's tensor-parallel × pipeline-parallel group. */
  readonly gpuCount: number;
  /** Every pair of those GPUs joined by NVLink. */
  readonly nvlink: boolean;
  readonly cardClass: CardClass;
}

export interface NcclSettings {
  /** Environment variables for vLLM's container. */
  readonly env: Readonly<Record<string, string>>;
  /** Whether vLLM gets --disable-custom-all-reduce. */
  readonly disableCustomAllReduce: boolean;
  /** One sentence saying why, for CLI output. */
  readonly reason: string;
}

export function ncclSettings(inputs: NcclInputs): NcclSettings {
  if (inputs.gpuCount <= 1) {
    return { env: {}, disableCustomAllReduce: false, reason: "one GPU: no NCCL traffic" };
  }
  if (inputs.nvlink) {
    return {
      env: { NCCL_P2P_LEVEL: "NVL" },
      disableCustomAllReduce: false,
      reason: "GPUs joined by NVLink: peer-to-peer over NVLink (NCCL_P2P_LEVEL=NVL)",
    };
  }
  if (inputs.cardClass === "consumer") {
    return {
      env: { NCCL_P2P_DISABLE: "1" },
      disableCustomAllReduce: true,
      reason:
        "consumer cards over PCIe lack peer-to-peer: NCCL_P2P_DISABLE=1 and --disable-custom-all-reduce avoid hangs",
    };
  }
  return {
    env: {},
    disableCustomAllReduce: false,
    reason: "datacenter cards over PCIe do peer-to-peer: NCCL defaults kept",
  };
}

/**
 * Card class from nvidia-smi's name. GeForce and TITAN cards have no PCIe peer-to-peer; workstation (RTX A6000,
 * RTX 6000 Ada) and datacenter cards (A100, H100, L40S) do.
 */
export function cardClassOf(name: string): CardClass {
  return /\b(GeForce|TITAN)\b/i.test(name) ? "consumer" : "datacenter";
}
