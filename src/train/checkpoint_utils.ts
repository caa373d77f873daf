/**
 * Reading checkpoints as TensorFlow's checkpoint_utils does: `tf.train.latestCheckpoint`,
 * `tf.train.loadCheckpoint` (a reader with getTensor, hasTensor and the name -> shape and
 * name -> dtype maps) and `tf.train.listVariables`. They read ours and TensorFlow's.
 * @module
 */
import type { DType } from "../dtype.ts";
import { describe } from "../shape.ts";
import type { Tensor } from "../tensor.ts";
import { exists, joinPath } from "../io/atomic_file.ts";
import { BundleReader, indexFilename } from "./bundle/bundle.ts";
import { readCheckpointState } from "./checkpoint_state.ts";

/** A non-empty path string, else a TypeError starting with `op`. */
export function checkPath(op: string, path: unknown, what = "path"): string {
  if (typeof path !== "string" || path === "") {
    throw new TypeError(`${op}: ${what} must be a non-empty string, got ${describe(path)}`);
  }
  return path;
}

function latest(op: string, dir: string): string | null {
  const state = readCheckpointState(op, dir);
  if (!state || state.modelCheckpointPath === "") return null;
  const path = joinPath(dir, state.modelCheckpointPath);
  return exists(indexFilename(path)) ? path : null;
}

/**
 * The newest checkpoint recorded in `dir`'s `checkpoint` state file (which Saver.save
 * maintains), or null when there is none or its files are gone.
 * @example
 * ```ts
 * import * as tf from "../../mod.ts";
 * const path = tf.train.latestCheckpoint("/tmp/run1"); // "/tmp/run1/ckpt-1000" or null
 * ```
 */
export function latestCheckpoint(dir: string): string | null {
  return latest("latestCheckpoint", checkPath("latestCheckpoint", dir, "dir"));
}

/** A checkpoint prefix: `path` itself, or the latest checkpoint when it is a folder. */
export function resolveCheckpoint(op: string, path: string): string {
  let isDirectory = false;
  try {
    isDirectory = Deno.statSync(path).isDirectory;
  } catch {
    // Not a folder: a prefix, checked when its index is opened.
  }
  if (!isDirectory) return path;
  const found = latest(op, path);
  if (found === null) throw new Error(`${op}: no checkpoint found in folder '${path}'`);
  return found;
}

/**
 * A checkpoint opened for reading (TensorFlow's CheckpointReader), made by
 * tf.train.loadCheckpoint: its index was checked when opened, each tensor's checksum is
 * checked when read.
 * @example
 * ```ts
 * import * as tf from "../../mod.ts";
 * const reader = tf.train.loadCheckpoint("/tmp/run1/ckpt-1000");
 * for (const [name, shape] of Object.entries(reader.getVariableToShapeMap())) {
 *   console.log(name, shape, reader.getVariableToDtypeMap()[name]);
 * }
 * ```
 */
export class CheckpointReader {
  /** The checkpoint prefix read. */
  readonly path: string;
  readonly #bundle: BundleReader;

  /** Internal: use tf.train.loadCheckpoint. */
  constructor(bundle: BundleReader) {
    if (!(bundle instanceof BundleReader)) {
      throw new TypeError("CheckpointReader: use tf.train.loadCheckpoint(path) to open one");
    }
    this.path = bundle.prefix;
    this.#bundle = bundle;
  }

  /** Whether the checkpoint holds `name`. */
  hasTensor(name: string): boolean {
    return typeof name === "string" && this.#bundle.has(name);
  }

  /** The value stored under `name`. */
  getTensor(name: string): Tensor {
    const op = "CheckpointReader.getTensor";
    return this.#bundle.tensor(checkPath(op, name, "name"), op);
  }

  /** Every name and its shape. */
  getVariableToShapeMap(): Record<string, number[]> {
    const out: Record<string, number[]> = {};
    for (const key of this.#bundle.keys()) out[key] = this.#bundle.info(key)!.shape;
    return out;
  }

  /** Every name and its dtype (TensorFlow's name for dtypes we lack, e.g. "string"). */
  getVariableToDtypeMap(): Record<string, DType | string> {
    const out: Record<string, DType | string> = {};
    for (const key of this.#bundle.keys()) out[key] = this.#bundle.info(key)!.dtype;
    return out;
  }
}

/**
 * Opens a checkpoint (a prefix, or a folder for its latest checkpoint) for reading.
 * @example
 * ```ts
 * import * as tf from "../../mod.ts";
 * const reader = tf.train.loadCheckpoint("/tmp/run1");
 * const kernel = reader.getTensor("dense/kernel");
 * ```
 */
export function loadCheckpoint(path: string): CheckpointReader {
  const op = "loadCheckpoint";
  return new CheckpointReader(BundleReader.open(op, resolveCheckpoint(op, checkPath(op, path))));
}

/**
 * `[name, shape]` of every tensor in a checkpoint, sorted by name.
 * @example
 * ```ts
 * import * as tf from "../../mod.ts";
 * tf.train.listVariables("/tmp/run1"); // [["dense/bias", [10]], ["dense/kernel", [784, 10]], ...]
 * ```
 */
export function listVariables(path: string): [string, number[]][] {
  const op = "listVariables";
  const bundle = BundleReader.open(op, resolveCheckpoint(op, checkPath(op, path)));
  return bundle.keys().map((key) => [key, bundle.info(key)!.shape]);
}
