/**
 * Early release for those who want it: `tf.tidy(fn)` disposes the tensors fn made, except
 * those it returns and those passed to `tf.keep`, as TensorFlow.js's does. CPU tensors
 * never need it (the garbage collector frees them); it returns their memory at once, and a
 * GPU device, whose memory V8 cannot see, will rely on it.
 *
 * Decisions: a Variable's value is never disposed by a scope (Variables pin it); while a
 * GradientTape records, a scope disposes nothing, since the tape may need any of those
 * tensors for the gradient (its tensors move to the enclosing scope instead, which frees
 * them once the tape is done); fn must be synchronous.
 * @module
 */
import { type Disposable, isPinned, scopes } from "./lifetime.ts";
import { active } from "./tape.ts";
import { Tensor } from "./tensor.ts";

const kept = new WeakSet<Disposable>();

/** Exempts `t` from the tidy scopes open now and later: it is disposed only explicitly. */
export function keep<T extends Tensor>(t: T): T {
  if (!(t instanceof Tensor)) throw new TypeError("keep: expected a tensor");
  kept.add(t);
  return t;
}

/** The tensors of `scope` that `result` holds: itself, or in arrays, plain objects, Maps. */
function held(result: unknown, scope: Set<Disposable>, found: Set<Disposable>, depth = 0): void {
  if (result === null || typeof result !== "object" || depth > 64) return;
  if (result instanceof Tensor) {
    if (scope.has(result)) found.add(result);
    return;
  }
  const values = Array.isArray(result)
    ? result
    : result instanceof Map
    ? [...result.values()]
    : Object.getPrototypeOf(result) === Object.prototype
    ? Object.values(result)
    : [];
  for (const value of values) held(value, scope, found, depth + 1);
}

/**
 * Runs fn and then disposes every tensor it made, except those it returns (alone, or in
 * arrays, plain objects and Maps), those passed to `tf.keep`, and Variables' values.
 * The returned ones belong to the enclosing scope, if any.
 *
 * @example
 * ```ts
 * import * as tf from "../mod.ts";
 * const x = tf.randomUniform([1000, 1000]);
 * const total = tf.tidy(() => tf.reduceSum(tf.square(x.sub(0.5)))); // the temporaries are freed
 * console.log(total.toString());
 * ```
 */
export function tidy<T>(fn: () => T): T;
export function tidy<T>(name: string, fn: () => T): T;
export function tidy<T>(nameOrFn: string | (() => T), maybeFn?: () => T): T {
  const fn = typeof nameOrFn === "function" ? nameOrFn : maybeFn;
  if (typeof fn !== "function") throw new TypeError("tidy: expected a function");
  const scope: Disposable[] = [];
  scopes.push(scope);
  let result: T;
  try {
    result = fn();
  } catch (error) {
    end(scope, undefined);
    throw error;
  }
  if (result instanceof Promise) {
    end(scope, undefined);
    throw new TypeError("tidy: fn returned a Promise; tidy takes a synchronous function");
  }
  end(scope, result);
  return result;
}

/** Closes `scope`: disposes its tensors but the survivors, which move to the parent. */
function end(scope: Disposable[], result: unknown): void {
  scopes.splice(scopes.lastIndexOf(scope), 1);
  const survivors = new Set<Disposable>();
  held(result, new Set(scope), survivors);
  const recording = active.length !== 0;
  const parent = scopes.length !== 0 ? scopes[scopes.length - 1] : undefined;
  for (const t of scope) {
    if (survivors.has(t) || kept.has(t) || isPinned(t) || recording) parent?.push(t);
    else t.dispose();
  }
}
