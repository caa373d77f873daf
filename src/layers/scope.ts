/**
 * Names of layers, networks and their variables, as TensorFlow 1 makes them.
 *
 * - A layer's name is its class name in snake_case made unique by a counter per base
 *   name: `dense`, `dense_1`, ... (TensorFlow's `_to_snake_case` and
 *   `unique_object_name(zero_based=True)`). Layers and top-level networks share one
 *   global counter map; a Network keeps its own map for the layers it tracks.
 * - A variable is named `<scope>/<weight>` where the scope is the path of enclosing
 *   networks and the layer's name, fixed when the layer is first built
 *   (`three_layer_net/two_layer_net/dense/kernel`). A layer outside networks is scoped by
 *   its explicit name or base name instead (`dense`, not its unique name `dense_3`), as
 *   TensorFlow 1's tf.layers do; Keras layers (Embedding) use their unique name. Scope
 *   paths are unique: a path taken before gets `_1`, `_2`, ... as TensorFlow's
 *   variable_scope(default_name) does, so top-level scopes count first builds.
 * - `withNameScope(name, fn)` runs fn with `name` appended to the current scope; layers
 *   built inside fn (and not tracked by a network) put their variables under it.
 * @module
 */
import { describe } from "../shape.ts";

const globalUids = new Map<string, number>();
const usedScopes = new Set<string>();
let stack: string[] = [];

/**
 * TensorFlow's _to_snake_case: `TwoLayerNet` -> `two_layer_net`, `Conv2D` -> `conv2d`,
 * `MaxPooling2D` -> `max_pooling2d`; a leading underscore becomes `private_`.
 */
export function toSnakeCase(name: string): string {
  const intermediate = name.replace(/(.)([A-Z][a-z0-9]+)/g, "$1_$2");
  const insecure = intermediate.replace(/([a-z])([A-Z])/g, "$1_$2").toLowerCase();
  return insecure[0] !== "_" ? insecure : "private" + insecure;
}

/**
 * `base`, then `base_1`, `base_2`, ... for later requests of the same base in `uids`
 * (the global map by default), skipping names in `avoid`.
 */
export function uniqueObjectName(
  base: string,
  uids: Map<string, number> = globalUids,
  avoid?: { has(name: string): boolean },
): string {
  for (;;) {
    const n = uids.get(base) ?? 0;
    uids.set(base, n + 1);
    const name = n === 0 ? base : `${base}_${n}`;
    if (!avoid || !avoid.has(name)) return name;
  }
}

/** The current scope path ("" at top level). */
export function currentScope(): string {
  return stack.length === 0 ? "" : stack[stack.length - 1];
}

/** `scope/name`, or `name` at top level. */
export function joinScope(scope: string, name: string): string {
  return scope === "" ? name : `${scope}/${name}`;
}

/** Reserves a scope path: `path` when unused, else `path_1`, `path_2`, ... */
export function claimScope(path: string): string {
  let claimed = path;
  for (let n = 1; usedScopes.has(claimed); n++) claimed = `${path}_${n}`;
  usedScopes.add(claimed);
  return claimed;
}

/** Runs fn with the scope path set to `path` (absolute), restoring it afterwards. */
export function withScopePath<T>(path: string, fn: () => T): T {
  const saved = stack;
  stack = [...saved, path];
  try {
    return fn();
  } finally {
    stack = saved;
  }
}

/**
 * Runs fn with `name` appended to the current scope: variables of layers first built
 * inside fn (outside any network that tracks them) are named `<scope>/<name>/<layer>/...`.
 * @example
 * ```ts
 * import * as tf from "../../mod.ts";
 * import { withNameScope } from "./scope.ts";
 * const dense = new tf.layers.Dense(2);
 * withNameScope("encoder", () => dense.apply([[1, 2]]));
 * dense.variables[0].name; // "encoder/dense/kernel" (the first Dense built in "encoder")
 * ```
 */
export function withNameScope<T>(name: string, fn: () => T): T {
  checkName("withNameScope", name);
  if (typeof fn !== "function") {
    throw new TypeError(`withNameScope: expected a function to run, got ${typeof fn}`);
  }
  return withScopePath(joinScope(currentScope(), name), fn);
}

/** A layer or scope name: a non-empty string without "/". */
export function checkName(op: string, name: unknown): string {
  if (typeof name !== "string" || name === "" || name.includes("/")) {
    throw new TypeError(
      `${op}: name must be a non-empty string without "/", got ${describe(name)}`,
    );
  }
  return name;
}
