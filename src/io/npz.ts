/**
 * NumPy's .npz archives (np.savez, np.savez_compressed): a zip of .npy files, one per
 * array. Reading takes stored and deflated entries; writing stores them uncompressed,
 * as np.savez does.
 * @module
 */
import { describe } from "../shape.ts";
import type { Tensor, TensorLike } from "../tensor.ts";
import { decodeNpy, encode, NpyError, readWhole, writeWhole } from "./npy.ts";
import { readZip, writeZip } from "./zip.ts";

/**
 * The arrays of .npz bytes by name (the entry names without ".npy"); `name` labels
 * errors.
 * @example
 * ```ts
 * import * as tf from "../../mod.ts";
 * const { x } = tf.io.decodeNpz(tf.io.encodeNpz({ x: tf.ones([2]) }));
 * ```
 */
export function decodeNpz(bytes: Uint8Array, name = "<bytes>"): Record<string, Tensor> {
  return decode("decodeNpz", bytes, name);
}

function decode(op: string, bytes: Uint8Array, name: string): Record<string, Tensor> {
  if (!(bytes instanceof Uint8Array)) {
    throw new TypeError(`${op}: bytes must be a Uint8Array, got ${describe(bytes)}`);
  }
  if (typeof name !== "string") throw new TypeError(`${op}: name must be a string`);
  const out: Record<string, Tensor> = {};
  for (const entry of readZip(op, bytes, name)) {
    const key = entry.name.endsWith(".npy") ? entry.name.slice(0, -4) : entry.name;
    try {
      out[key] = decodeNpy(entry.data, `${name}: entry '${entry.name}'`);
    } catch (error) {
      if (!(error instanceof NpyError)) throw error;
      throw new NpyError(error.message.replace(/^decodeNpy:/, `${op}:`), { cause: error });
    }
  }
  return out;
}

function encodeAll(op: string, arrays: Record<string, TensorLike>): Uint8Array {
  if (typeof arrays !== "object" || arrays === null || Array.isArray(arrays)) {
    throw new TypeError(
      `${op}: arrays must be an object of named tensors, got ${describe(arrays)}`,
    );
  }
  const entries = Object.entries(arrays).map(([key, x]) => {
    if (key === "" || key.includes("/")) {
      throw new TypeError(`${op}: array name ${describe(key)} must be non-empty without "/"`);
    }
    return { name: `${key}.npy`, data: encode(op, x) };
  });
  return writeZip(op, entries);
}

/**
 * The .npz bytes of named tensors (stored entries, as np.savez writes).
 * @example
 * ```ts
 * import * as tf from "../../mod.ts";
 * const bytes = tf.io.encodeNpz({ w: tf.ones([2, 2]), b: tf.zeros([2]) });
 * ```
 */
export function encodeNpz(arrays: Record<string, TensorLike>): Uint8Array {
  return encodeAll("encodeNpz", arrays);
}

/**
 * The arrays of a .npz file by name (np.load's NpzFile as an object).
 * @example
 * ```ts
 * import * as tf from "../../mod.ts";
 * const { x, y } = tf.io.loadNpz("data.npz");
 * ```
 */
export function loadNpz(path: string): Record<string, Tensor> {
  return decode("loadNpz", readWhole("loadNpz", path), path);
}

/**
 * Writes named tensors as a .npz file that np.load reads.
 * @example
 * ```ts
 * import * as tf from "../../mod.ts";
 * tf.io.saveNpz("/tmp/arrays.npz", { x: tf.ones([3]), y: tf.constant([1, 2, 3], "int32") });
 * ```
 */
export function saveNpz(path: string, arrays: Record<string, TensorLike>): void {
  const bytes = encodeAll("saveNpz", arrays);
  writeWhole("saveNpz", path, bytes);
}
