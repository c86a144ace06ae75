/**
 * The weight bytes of a safetensors checkpoint, from its header alone. The format
 * (https://github.com/huggingface/safetensors/blob/v0.7.0/safetensors/src/tensor.rs): 8 bytes, a
 * little-endian u64 N; then N bytes of JSON mapping each tensor name to { dtype, shape, data_offsets }
 * (plus an optional "__metadata__" of strings); then the tensors' data. A tensor's bytes are its element
 * count × its dtype's bits (`Dtype::bitsize`) ÷ 8. A sharded checkpoint's index
 * (model.safetensors.index.json) carries the sum as metadata.total_size.
 */
import { closeSync, openSync, readSync } from "node:fs";

/** Bits per element of each safetensors dtype (`Dtype::bitsize`, safetensors v0.7.0). */
export const SAFETENSORS_DTYPE_BITS: Readonly<Record<string, number>> = {
  BOOL: 8, F4: 4, F6_E2M3: 6, F6_E3M2: 6, U8: 8, I8: 8, F8_E5M2: 8, F8_E4M3: 8, F8_E8M0: 8,
  F8_E4M3FNUZ: 8, F8_E5M2FNUZ: 8, I16: 16, U16: 16, F16: 16, BF16: 16, I32: 32, U32: 32, F32: 32,
  C64: 64, F64: 64, I64: 64, U64: 64,
};

/**
 * The largest header read: huggingface_hub's SAFETENSORS_MAX_HEADER_LENGTH (25,000,000 bytes,
 * src/huggingface_hub/constants.py at v1.28.0), the limit it applies when it reads a header over HTTP.
 */
export const MAX_HEADER_BYTES = 25_000_000;
/** huggingface_hub asks for the first 100,000 bytes first (hf_api.py `parse_safetensors_file_metadata`). */
export const FIRST_READ_BYTES = 100_001;

/** N from the first 8 bytes; `where` names the file in the error. */
export function headerLength(first8: Uint8Array, where: string): number {
  if (first8.length < 8) throw new Error(`${where} is not a safetensors file: it is shorter than 8 bytes`);
  const n = new DataView(first8.buffer, first8.byteOffset, 8).getBigUint64(0, true);
  if (n < 2n || n > BigInt(MAX_HEADER_BYTES)) {
    throw new Error(
      `${where} is not a safetensors file llmstack can read: its header length is ${n} bytes ` +
        `(at most ${MAX_HEADER_BYTES}); check that the file is complete`,
    );
  }
  return Number(n);
}

/** Σ elements × bits ÷ 8 over the header's tensors. */
export function tensorBytes(header: Uint8Array, where: string): number {
  let parsed: unknown;
  try {
    parsed = JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(header));
  } catch (err) {
    throw new Error(`${where}: its safetensors header is not JSON (${(err as Error).message})`, { cause: err });
  }
  if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) {
    throw new Error(`${where}: its safetensors header is not a JSON object`);
  }
  let bits = 0n;
  for (const [name, tensor] of Object.entries(parsed as Record<string, unknown>)) {
    if (name === "__metadata__") continue;
    const t = tensor as { dtype?: unknown; shape?: unknown };
    const width = typeof t.dtype === "string" ? SAFETENSORS_DTYPE_BITS[t.dtype] : undefined;
    const shape = Array.isArray(t.shape) && t.shape.every((d) => Number.isSafeInteger(d) && d >= 0) ? (t.shape as number[]) : null;
    if (width === undefined || shape === null) {
      throw new Error(
        `${where}: tensor ${JSON.stringify(name)} has dtype ${JSON.stringify(t.dtype)} and shape ${JSON.stringify(t.shape)}; ` +
          `llmstack knows the dtypes ${Object.keys(SAFETENSORS_DTYPE_BITS).join(", ")} with whole-number shapes`,
      );
    }
    bits += shape.reduce((n, d) => n * BigInt(d), 1n) * BigInt(width);
  }
  return Number(bits / 8n);
}

/** Reads only the header of a local safetensors file and returns its tensors' bytes. */
export function localSafetensorsBytes(path: string): number {
  const fd = openSync(path, "r");
  try {
    const first = Buffer.alloc(8);
    const got = readSync(fd, first, 0, 8, 0);
    const n = headerLength(first.subarray(0, got), path);
    const header = Buffer.alloc(n);
    const read = readSync(fd, header, 0, n, 8);
    if (read < n) throw new Error(`${path} is cut short: its header needs ${n} bytes, the file has ${read} after the length`);
    return tensorBytes(header, path);
  } finally {
    closeSync(fd);
  }
}
