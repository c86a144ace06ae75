/**
 * How vLLM runs one model across hosts at the pinned release (v0.21.0): its own multi-node launch with the
 * multiprocessing executor, no Ray cluster. Every node runs `vllm serve` with the same model and parallel
 * sizes; node rank 0 (the head) serves the API and hosts the torch.distributed store at
 * `--master-addr:--master-port`; every other node runs `--headless` (no API server) and joins it.
 *
 * Sources:
 * - vllm-project/vllm#23691 "[V1] Support MP Executor for multi node distributed inference" (opened 2025-08-26,
 *   merged; PR numbers put it long before #39878 of the v0.20.0 images): `vllm serve -tp -pp --nnodes
 *   --node-rank --master-addr [--master-port] [--headless]`.
 * - docs/serving/parallelism_scaling.md, "Running vLLM with MultiProcessing"
 *   (https://docs.vllm.ai/en/v0.21.0/serving/parallelism_scaling/): the head runs `--nnodes 2 --node-rank 0
 *   --master-addr <HEAD_NODE_IP>`, the other node the same with `--node-rank 1 ... --headless`; the same page
 *   says "set tensor_parallel_size to the number of GPUs per node and pipeline_parallel_size to the number of
 *   nodes" and that cross-node tensor parallelism needs fast interconnect "such as InfiniBand".
 * - vllm/config/parallel.py (ParallelConfig): `master_port: int = 29501`; `nnodes > 1 can only be set when
 *   distributed executor backend is mp, uni or external_launcher`; on CUDA with nnodes > 1 the default
 *   backend is mp; `local_world_size = world_size // nnodes` (every node runs the same number of GPUs).
 * - vllm/entrypoints/cli/serve.py: `--headless` sets api_server_count 0; a headless node with node rank > 0
 *   runs the executor's workers against `master_addr:master_port`.
 * - vllm/envs.py environment_variables: VLLM_HOST_IP, "If you are using multi-node inference, you should set
 *   this differently on each node".
 * - NCCL_SOCKET_IFNAME (https://docs.nvidia.com/deeplearning/nccl/user-guide/docs/env.html#nccl-socket-ifname)
 *   and GLOO_SOCKET_IFNAME (https://docs.pytorch.org/docs/stable/distributed.html, "Common environment
 *   variables"): the interface NCCL and Gloo use, instead of the first one they find.
 * - every flag below is in `vllm serve --help` of test/fixtures/vllm/vllm-flags.txt (src/plan/flags.ts).
 *
 * The files above were read in the copies the public index holds (vllm/config/parallel.py at 00193b82b,
 * vllm/entrypoints/cli/serve.py at 00a5fdd20, docs/serving/parallelism_scaling.md at 096bd6a4a), not at the
 * v0.21.0 tag itself, whose tree could not be fetched here (the repository's snapshot is over the size this
 * environment brings in); #23691 predates the tag and the flag list of a later commit (VLLM_FLAG_LIST) still
 * has every flag, so they held across the release. Check them against `vllm serve --help` of the image when
 * the pinned release moves.
 */
export const VLLM_MULTI_NODE = {
  release: "0.21.0",
  /** The executor that spans nodes without Ray. */
  executorBackend: "mp",
  flags: {
    distributedExecutorBackend: "--distributed-executor-backend",
    nnodes: "--nnodes",
    nodeRank: "--node-rank",
    masterAddr: "--master-addr",
    masterPort: "--master-port",
    headless: "--headless",
  },
  /** The node rank that serves the API; every other node runs `--headless`. */
  headRank: 0,
  /** vLLM's default `--master-port` (ParallelConfig.master_port). */
  defaultMasterPort: 29501,
  /** The address of this node, set on each node (vllm/envs.py). */
  hostIpEnv: "VLLM_HOST_IP",
  /** The interface NCCL and Gloo bind to. */
  interfaceEnv: ["NCCL_SOCKET_IFNAME", "GLOO_SOCKET_IFNAME"],
  /** What crosses nodes by vLLM's advice: pipeline stages; tensor parallelism stays inside a node. */
  recommended: "pipeline across nodes, tensor within a node",
  /**
   * Fabrics this stack accepts for tensor parallelism across nodes: the page asks for fast interconnect
   * "such as InfiniBand"; RoCE carries the same RDMA transport NCCL uses for InfiniBand over Ethernet.
   */
  tensorAcrossNodesNeeds: ["infiniband", "roce"],
  source: "https://docs.vllm.ai/en/v0.21.0/serving/parallelism_scaling/ (Running vLLM with MultiProcessing); vllm-project/vllm#23691",
} as const;
