/**
 * IDX files, the format of MNIST and Fashion-MNIST (`train-images-idx3-ubyte[.gz]`):
 *
 *     0x00 0x00 <type> <rank>   then rank big-endian uint32 dimensions, then the data,
 *                               big-endian, row-major
 *
 * Types: 0x08 unsigned byte (uint8), 0x09 signed byte and 0x0B short (widened to int32),
 * 0x0C int (int32), 0x0D float (float32), 0x0E double (float64). Gzip-compressed files
 * (magic 1f 8b) are recognized and decompressed. The data must be exactly the size the
 * dimensions give; every problem is an error naming the file and the byte offset.
 * @module
 */
import type { DType } from "../dtype.ts";
import { checkRank, checkSize, describe, sizeOf } from "../shape.ts";
import { Tensor } from "../tensor.ts";
import { readWhole } from "./npy.ts";
import { ZlibError, ZlibStream } from "./zlib_stream.ts";
import { concatBytes } from "./bytes.ts";

/** A malformed IDX file; the message names the file and the byte offset. */
export class IdxError extends Error {
  override name = "IdxError";
}

const TYPES: Record<
  number,
  { dtype: DType; bytes: number; read: (v: DataView, at: number) => number }
> = {
  0x08: { dtype: "uint8", bytes: 1, read: (v, at) => v.getUint8(at) },
  0x09: { dtype: "int32", bytes: 1, read: (v, at) => v.getInt8(at) },
  0x0b: { dtype: "int32", bytes: 2, read: (v, at) => v.getInt16(at) },
  0x0c: { dtype: "int32", bytes: 4, read: (v, at) => v.getInt32(at) },
  0x0d: { dtype: "float32", bytes: 4, read: (v, at) => v.getFloat32(at) },
  0x0e: { dtype: "float64", bytes: 8, read: (v, at) => v.getFloat64(at) },
};

function decode(op: string, bytes: Uint8Array, name: string): Tensor {
  const fail = (problem: string, at: number) =>
    new IdxError(`${op}: ${name}: ${problem} at byte ${at}`);
  if (bytes.length < 4) {
    throw fail(
      `truncated: the magic number needs 4 bytes, the file has ${bytes.length}`,
      bytes.length,
    );
  }
  if (bytes[0] !== 0 || bytes[1] !== 0) {
    throw fail("not an IDX file (the magic number must start 00 00)", 0);
  }
  const type = TYPES[bytes[2]];
  if (!type) throw fail(`unknown data type 0x${bytes[2].toString(16).padStart(2, "0")}`, 2);
  const rank = bytes[3];
  try {
    checkRank(op, rank);
  } catch (error) {
    throw fail((error as Error).message.replace(`${op}: `, ""), 3);
  }
  const start = 4 + 4 * rank;
  if (bytes.length < start) {
    throw fail(
      `truncated: ${rank} dimensions need ${start} header bytes, the file has ${bytes.length}`,
      bytes.length,
    );
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const shape = Array.from({ length: rank }, (_, i) => view.getUint32(4 + 4 * i));
  try {
    checkSize(op, shape);
  } catch (error) {
    throw fail((error as Error).message.replace(`${op}: `, ""), 4);
  }
  const n = sizeOf(shape), want = n * type.bytes, have = bytes.length - start;
  if (have !== want) {
    throw fail(
      `dimensions [${shape}] need ${want} data bytes, the file has ${have}${
        have < want ? " (truncated)" : ""
      }`,
      start + Math.min(have, want),
    );
  }
  if (type.dtype === "uint8") return new Tensor(bytes.slice(start), "uint8", shape);
  const data = type.dtype === "int32"
    ? new Int32Array(n)
    : type.dtype === "float32"
    ? new Float32Array(n)
    : new Float64Array(n);
  for (let i = 0; i < n; i++) data[i] = type.read(view, start + i * type.bytes);
  return new Tensor(data, type.dtype, shape);
}

/**
 * The tensor held by IDX bytes (raw, not gzip); `name` labels errors.
 * @example
 * ```ts
 * import * as tf from "../../mod.ts";
 * tf.io.decodeIdx(new Uint8Array([0, 0, 8, 1, 0, 0, 0, 2, 7, 9])); // uint8 [7, 9]
 * ```
 */
export function decodeIdx(bytes: Uint8Array, name = "<bytes>"): Tensor {
  if (!(bytes instanceof Uint8Array)) {
    throw new TypeError(`decodeIdx: bytes must be a Uint8Array, got ${describe(bytes)}`);
  }
  if (typeof name !== "string") throw new TypeError("decodeIdx: name must be a string");
  return decode("decodeIdx", bytes, name);
}

/**
 * The tensor in an IDX file, gzip-compressed or raw (MNIST's `*-ubyte[.gz]` files).
 * @example
 * ```ts
 * import * as tf from "../../mod.ts";
 * const images = tf.io.loadIdx("/usr/share/datasets/fashion-mnist/t10k-images-idx3-ubyte.gz");
 * // uint8, shape [10000, 28, 28]
 * ```
 */
export function loadIdx(path: string): Tensor {
  const op = "loadIdx";
  let bytes = readWhole(op, path);
  let name = path;
  if (bytes.length >= 2 && bytes[0] === 0x1f && bytes[1] === 0x8b) {
    const z = new ZlibStream("gunzip");
    try {
      bytes = concatBytes([...z.push(bytes), ...z.finish()]);
    } catch (error) {
      if (!(error instanceof ZlibError)) throw error;
      throw new IdxError(
        `${op}: ${path}: gzip data is corrupt or truncated at compressed byte ${error.consumed}: ` +
          error.problem,
        { cause: error },
      );
    } finally {
      z.close();
    }
    name = `${path} (gunzipped)`;
  }
  return decode(op, bytes, name);
}
