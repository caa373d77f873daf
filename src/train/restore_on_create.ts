/**
 * tf.restoreVariablesOnCreate (the tfe guide's tfe.restore_variables_on_create): while fn
 * runs, every Variable created (by layers on first apply, optimizers' slots and
 * accumulators, the global step, ...) starts from the checkpoint's value under its name.
 *
 * Decisions:
 * - A variable whose name the checkpoint lacks keeps its initial value (tfe raised
 *   NotFoundError); one whose dtype or shape differs is an error naming both.
 * - A null or undefined path (tf.train.latestCheckpoint on a fresh folder) runs fn as
 *   it is, so the first run and later runs share one code path, as in the guide.
 * - The checkpoint's index is checked when the context opens; each value's checksum
 *   when its variable is created.
 * - Contexts nest (the inner checkpoint is asked first). An async fn keeps the context
 *   until its promise settles, for every variable created meanwhile.
 * @module
 */
import { describe, sameShape, showShape } from "../shape.ts";
import { type CreationHook, setCreationHook } from "../variable.ts";
import { BundleReader } from "./bundle/bundle.ts";
import { checkPath, resolveCheckpoint } from "./checkpoint_utils.ts";

/**
 * Runs fn; variables created inside it take their values from the checkpoint at `path`
 * (a prefix or a folder) when it holds their names. Returns fn's result.
 * @example
 * ```ts
 * import * as tf from "../../mod.ts";
 * const dir = "/tmp/run1";
 * tf.restoreVariablesOnCreate(tf.train.latestCheckpoint(dir), () => {
 *   const step = tf.train.getOrCreateGlobalStep(); // the saved step, or 0 on the first run
 * });
 * ```
 */
export function restoreVariablesOnCreate<T>(path: string | null | undefined, fn: () => T): T {
  const op = "restoreVariablesOnCreate";
  if (typeof fn !== "function") {
    throw new TypeError(`${op}: expected a function to run, got ${describe(fn)}`);
  }
  if (path === null || path === undefined) return fn();
  const prefix = resolveCheckpoint(op, checkPath(op, path));
  const bundle = BundleReader.open(op, prefix);
  const hook: CreationHook = (name, initial) => {
    const info = bundle.info(name);
    if (!info) return previous?.(name, initial);
    if (info.dtype !== initial.dtype || !sameShape(info.shape, initial.shape)) {
      throw new TypeError(
        `${op}: checkpoint '${prefix}' holds '${name}' as ${info.dtype} ` +
          `${showShape(info.shape)}, but the variable is ${initial.dtype} ` +
          `${showShape(initial.shape)}`,
      );
    }
    return bundle.tensor(name, op);
  };
  const previous = setCreationHook(hook);
  let result: T;
  try {
    result = fn();
  } catch (error) {
    setCreationHook(previous);
    throw error;
  }
  if (result instanceof Promise) {
    return result.finally(() => setCreationHook(previous)) as T;
  }
  setCreationHook(previous);
  return result;
}
