/**
 * tf.Saver (the tfe guide's tfe.Saver, TensorFlow 1's tf.train.Saver): saves variables
 * as a TensorFlow checkpoint (bundle/bundle.ts) and restores them.
 *
 * Decisions:
 * - Keys are the variables' names (TensorFlow 1's: `dense/kernel`, `dense/kernel/Adam`),
 *   or the keys of the object given; two variables under one key are an error.
 * - save writes `<path>.data-00000-of-00001` then `<path>.index`, each to a temporary
 *   file that is fsynced and then renamed into place, then the folder's `checkpoint`
 *   state file the same way, and only then deletes checkpoints past maxToKeep. A crash
 *   or a full disk at any point leaves every earlier checkpoint and the state file
 *   intact (see docs/checkpoints.md for saving twice to one path).
 * - In an MPI job of several ranks (tf.distribute) only rank 0 writes; save on another rank
 *   returns the same path and writes nothing.
 * - maxToKeep counts per folder. On its first save into a folder, a Saver adopts the
 *   checkpoints the state file lists (as TensorFlow 2's CheckpointManager does), so a
 *   resumed run keeps pruning the old run's checkpoints.
 * - restore checks every key, dtype, shape, size and checksum before it assigns any
 *   variable: it restores all of them or none.
 * @module
 */
import { writesSharedFiles } from "../distribute/role.ts";
import { describe, sameShape, showShape } from "../shape.ts";
import type { Tensor } from "../tensor.ts";
import { Variable } from "../variable.ts";
import {
  basename,
  dirname,
  exists,
  joinPath,
  removeQuietly,
  syncDirectory,
  writeTemp,
} from "../io/atomic_file.ts";
import { BundleReader, dataFilename, encodeBundle, indexFilename } from "./bundle/bundle.ts";
import { readCheckpointState, writeCheckpointState } from "./checkpoint_state.ts";
import { checkPath } from "./checkpoint_utils.ts";

export { restoreVariablesOnCreate } from "./restore_on_create.ts";

/** Options of new tf.Saver. */
export interface SaverOptions {
  /** Checkpoints kept per folder, oldest deleted first (default 5; 0 or null keeps all). */
  maxToKeep?: number | null;
}

/** Options of Saver.save. */
export interface SaveOptions {
  /** Appended to the prefix as `<prefix>-<step>`: a number or an integer scalar Variable. */
  globalStep?: number | bigint | Variable;
}

/** Variables by key: an array (keyed by name), an object or a Map. */
export type SaverVariables =
  | readonly Variable[]
  | Readonly<Record<string, Variable>>
  | ReadonlyMap<string, Variable>;

interface Kept {
  path: string;
  time: number;
}

function variablesByKey(vars: unknown): Map<string, Variable> {
  const op = "Saver";
  let pairs: [unknown, unknown][];
  if (Array.isArray(vars)) {
    pairs = vars.map((v, i) => {
      if (!(v instanceof Variable)) {
        throw new TypeError(`${op}: element ${i} is not a Variable, got ${describe(v)}`);
      }
      return [v.name, v];
    });
  } else if (vars instanceof Map) {
    pairs = [...vars.entries()];
  } else if (typeof vars === "object" && vars !== null && !ArrayBuffer.isView(vars)) {
    pairs = Object.entries(vars);
  } else {
    throw new TypeError(
      `${op}: expected an array of Variables or an object of them, got ${describe(vars)}`,
    );
  }
  const map = new Map<string, Variable>();
  for (const [key, v] of pairs) {
    if (typeof key !== "string" || key === "") {
      throw new TypeError(`${op}: keys must be non-empty strings, got ${describe(key)}`);
    }
    if (!(v instanceof Variable)) {
      throw new TypeError(`${op}: '${key}' is not a Variable, got ${describe(v)}`);
    }
    if (map.has(key)) throw new Error(`${op}: two variables under the key '${key}'`);
    map.set(key, v);
  }
  if (map.size === 0) throw new Error(`${op}: no variables to save`);
  return map;
}

function checkMaxToKeep(value: unknown): number {
  if (value === null || value === 0) return Infinity;
  if (typeof value !== "number" || !Number.isInteger(value) || value < 0) {
    throw new RangeError(
      `Saver: maxToKeep must be a non-negative integer or null, got ${describe(value)}`,
    );
  }
  return value;
}

/** A scalar step variable's value read without blocking (any device); other shapes are left
 * for stepText to refuse. */
async function stepOnCpu(step: Variable): Promise<Variable | number | bigint> {
  if (step.size !== 1 || step.rank !== 0) return step;
  return (await step.peek().data())[0];
}

/** The integer step of `globalStep`, as text. */
function stepText(op: string, step: unknown): string {
  let value: unknown = step;
  if (step instanceof Variable) {
    if (step.size !== 1 || step.rank !== 0) {
      throw new TypeError(`${op}: globalStep must be a scalar, got shape ${showShape(step.shape)}`);
    }
    value = step.peek().dataSync()[0];
  }
  if (typeof value === "bigint") return String(value);
  if (typeof value !== "number" || !Number.isSafeInteger(value)) {
    throw new TypeError(`${op}: globalStep must be an integer, got ${describe(value)}`);
  }
  return String(value);
}

/**
 * Saves variables to TensorFlow checkpoints and restores them.
 * @example
 * ```ts
 * import * as tf from "../../mod.ts";
 * const w = new tf.Variable([1, 2], { name: "w" });
 * const saver = new tf.Saver([w]);
 * const path = saver.save("/tmp/demo/ckpt", { globalStep: 1 }); // "/tmp/demo/ckpt-1"
 * w.assign([0, 0]);
 * saver.restore(path); // w is [1, 2] again
 * ```
 */
export class Saver {
  /** The variables by checkpoint key. */
  readonly variables: ReadonlyMap<string, Variable>;
  /** Checkpoints kept per folder (Infinity keeps all). */
  readonly maxToKeep: number;
  #kept = new Map<string, Kept[]>();

  constructor(varsOrMap: SaverVariables, options: SaverOptions = {}) {
    this.variables = variablesByKey(varsOrMap);
    if (options === null || typeof options !== "object") {
      throw new TypeError(`Saver: options must be an object, got ${describe(options)}`);
    }
    this.maxToKeep = checkMaxToKeep(options.maxToKeep === undefined ? 5 : options.maxToKeep);
  }

  /** The checkpoints this saver keeps, oldest first, over all folders it saved to. */
  get lastCheckpoints(): string[] {
    return [...this.#kept.values()].flat().sort((a, b) => a.time - b.time).map((k) => k.path);
  }

  /**
   * Writes a checkpoint of the variables' current values to `prefix` (or
   * `prefix-<globalStep>`), records it in the folder's `checkpoint` file and deletes
   * checkpoints past maxToKeep. Returns the checkpoint's path.
   */
  save(prefix: string, options: SaveOptions = {}): string {
    const tensors = new Map<string, Tensor>();
    for (const [key, v] of this.variables) {
      if (!v.peek().backend.readsSynchronously) {
        throw new Error(
          `Saver.save: variable ${v.name} lives on ${v.device}, which is read asynchronously: ` +
            "use `await saver.saveAsync(prefix)`",
        );
      }
      tensors.set(key, v.peek());
    }
    return this.#write("Saver.save", prefix, options, tensors);
  }

  /**
   * save() without blocking: the way to checkpoint variables that live on a device read
   * asynchronously (a WebGPU GPU), whose values it first copies to the CPU.
   * @example
   * ```ts
   * import * as tf from "../../mod.ts";
   * const saver = new tf.Saver([new tf.Variable([1, 2], { name: "w" })]);
   * const path = await saver.saveAsync("/tmp/demo/ckpt-async");
   * ```
   */
  async saveAsync(prefix: string, options: SaveOptions = {}): Promise<string> {
    const tensors = new Map<string, Tensor>();
    for (const [key, v] of this.variables) tensors.set(key, await v.peek().cpuAsync());
    const step = options?.globalStep;
    const onCpu = step instanceof Variable
      ? { ...options, globalStep: await stepOnCpu(step) }
      : options;
    return this.#write("Saver.saveAsync", prefix, onCpu, tensors);
  }

  #write(op: string, prefix: string, options: SaveOptions, tensors: Map<string, Tensor>): string {
    checkPath(op, prefix, "prefix");
    if (options === null || typeof options !== "object") {
      throw new TypeError(`${op}: options must be an object, got ${describe(options)}`);
    }
    if (prefix.endsWith("/")) throw new TypeError(`${op}: prefix '${prefix}' names a folder`);
    const path = options.globalStep === undefined
      ? prefix
      : `${prefix}-${stepText(op, options.globalStep)}`;
    // In an MPI job rank 0 writes; the others name the same checkpoint (docs/distribute.md).
    if (!writesSharedFiles()) return path;
    const dir = dirname(path);
    const wrap = (what: string, error: unknown): Error =>
      new Error(`${op}: ${what}: ${(error as Error)?.message ?? String(error)}`, { cause: error });
    try {
      Deno.mkdirSync(dir, { recursive: true });
    } catch (error) {
      throw wrap(`cannot create folder '${dir}'`, error);
    }
    const bundle = encodeBundle(tensors);
    commitFiles([[dataFilename(path), bundle.data], [indexFilename(path), [bundle.index]]], wrap);
    const kept = this.#keptIn(dir).filter((k) => k.path !== path);
    kept.push({ path, time: Date.now() / 1000 });
    const dropped = kept.splice(0, Math.max(0, kept.length - this.maxToKeep));
    try {
      writeCheckpointState(dir, {
        modelCheckpointPath: basename(path),
        allModelCheckpointPaths: kept.map((k) => relativeTo(dir, k.path)),
        allModelCheckpointTimestamps: kept.map((k) => k.time),
      });
    } catch (error) {
      throw wrap(`cannot write the state file of '${dir}'`, error);
    }
    this.#kept.set(dir, kept);
    for (const k of dropped) deleteCheckpoint(k.path);
    return path;
  }

  /** This saver's checkpoints in `dir`, adopting the state file's on first use. */
  #keptIn(dir: string): Kept[] {
    const known = this.#kept.get(dir);
    if (known) return known;
    let state = null;
    try {
      state = readCheckpointState("Saver.save", dir);
    } catch {
      // An unreadable state file is replaced by this save; nothing to adopt.
    }
    const now = Date.now() / 1000;
    return (state?.allModelCheckpointPaths ?? []).map((p, i) => ({
      path: joinPath(dir, p),
      time: state?.allModelCheckpointTimestamps[i] ?? now,
    })).filter((k) => exists(indexFilename(k.path)));
  }

  /**
   * Sets every variable to its value in the checkpoint at `path`, after checking that
   * the checkpoint holds each key with the variable's dtype and shape, intact.
   */
  restore(path: string): void {
    const op = "Saver.restore";
    if (path === null || path === undefined) {
      throw new TypeError(
        `${op}: path must be a checkpoint path, got ${path} (tf.train.latestCheckpoint ` +
          "returns null when a folder has no checkpoint)",
      );
    }
    const bundle = BundleReader.open(op, checkPath(op, path));
    const missing = [...this.variables.keys()].filter((k) => !bundle.has(k));
    if (missing.length > 0) {
      throw new Error(
        `${op}: checkpoint '${path}' lacks ${missing.length} key(s): ${
          missing.slice(0, 10).join(", ")
        }${missing.length > 10 ? ", ..." : ""}`,
      );
    }
    const values: [Variable, Tensor][] = [];
    for (const [key, v] of this.variables) {
      const info = bundle.info(key)!;
      if (info.dtype !== v.dtype || !sameShape(info.shape, v.shape)) {
        throw new TypeError(
          `${op}: '${key}' is ${info.dtype} ${showShape(info.shape)} in checkpoint '${path}', ` +
            `but the variable ${v.name} is ${v.dtype} ${showShape(v.shape)}`,
        );
      }
      values.push([v, bundle.tensor(key, op)]);
    }
    for (const [v, value] of values) v.assign(value);
  }
}

/**
 * Writes each file to a fsynced temporary, then renames them in order (data before
 * index) and fsyncs the folder. A failure removes the temporaries and leaves the
 * targets as they were (unless a rename already happened).
 */
function commitFiles(
  files: [string, Uint8Array[]][],
  wrap: (what: string, error: unknown) => Error,
): void {
  const temps: string[] = [];
  try {
    for (const [file, chunks] of files) {
      try {
        temps.push(writeTemp(file, chunks));
      } catch (error) {
        throw wrap(`cannot write '${file}'`, error);
      }
    }
    for (const [i, [file]] of files.entries()) {
      try {
        Deno.renameSync(temps[i], file);
      } catch (error) {
        throw wrap(`cannot rename into '${file}'`, error);
      }
    }
  } catch (error) {
    for (const temp of temps) removeQuietly(temp);
    throw error;
  }
  syncDirectory(dirname(files[0][0]));
}

/** The data files and temporaries of a checkpoint, after its name. */
const OWN_FILE = /^\.(data-\d{5}-of-\d{5}(\.tempstate[0-9a-f]+)?|index\.tempstate[0-9a-f]+)$/;

function relativeTo(dir: string, path: string): string {
  return dirname(path) === dir ? basename(path) : path;
}

/**
 * Deletes a checkpoint's files (index first, then data shards, a TensorFlow .meta, and
 * temporaries a killed save of it left), ignoring errors.
 */
function deleteCheckpoint(path: string): void {
  const dir = dirname(path), name = basename(path);
  removeQuietly(indexFilename(path));
  removeQuietly(`${path}.meta`);
  try {
    for (const entry of Deno.readDirSync(dir)) {
      const rest = entry.name.slice(name.length);
      if (entry.name.startsWith(name) && OWN_FILE.test(rest)) {
        removeQuietly(joinPath(dir, entry.name));
      }
    }
  } catch {
    // The folder is gone: nothing left to delete.
  }
}
