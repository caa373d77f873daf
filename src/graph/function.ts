/**
 * tf.function: a function traced into a graph on its first call for each input signature,
 * whose later calls with that signature run the graph (src/graph/replay.ts) instead of the
 * JS. As in TensorFlow:
 * - the signature is each tensor argument's dtype, shape and device, and every other
 *   argument's value (objects by identity); a new signature traces again;
 * - JS side effects (console.log, pushing to an array, reading a JS counter) happen while
 *   tracing only; the graph repeats the tensor computation, the variables' reads and
 *   assignments, the random draws and the optimizer updates;
 * - variables are captured by reference: a call sees their current values;
 * - a function that reads on the host a value it computed (dataSync, a branch on a tensor)
 *   cannot be traced: its trace is an error naming the op.
 * Decisions of this library: while a gradient tape records, or while another function is
 *   being traced, the function runs eagerly (so the tape and the outer trace see its ops);
 *   the first call runs the function eagerly while tracing it and returns its results.
 * @module
 */
import { Tensor } from "../tensor.ts";
import { Variable } from "../variable.ts";
import { active as activeTapes } from "../tape.ts";
import { denseStrides } from "../shape.ts";
import { env } from "../env.ts";
import { activeTrace } from "./hooks.ts";
import { traceRun } from "./trace.ts";
import { CompiledGraph, type GraphStats } from "./replay.ts";

/** Options of tf.function. */
export interface FunctionOptions {
  /** A name for logs and errors (default: the function's own). */
  name?: string;
  /**
   * Called at each trace with the new signature and the number of traces so far: a
   * function traced again and again (a new shape every call) shows here. The environment
   * variable EAGER_LOG_TRACES=1 logs every trace to stderr instead.
   */
  onTrace?: (signature: string, tracingCount: number) => void;
}

/** A traced function: call it as the function it wraps. */
export interface TracedFunction<A extends unknown[], R> {
  (...args: A): R;
  /** The function's name. */
  readonly name: string;
  /** How many times it was traced (TensorFlow's experimental_get_tracing_count). */
  readonly tracingCount: number;
  /** The signature and planning statistics of each graph traced so far. */
  graphs(): { signature: string; stats: GraphStats }[];
}

const objectIds = new WeakMap<object, number>();
let nextObjectId = 0;

/** The arguments with their tensors found, made dense and unshared, and the signature. */
interface Flattened {
  readonly signature: string;
  readonly tensors: Tensor[];
  readonly args: unknown[];
}

function flatten(args: readonly unknown[]): Flattened {
  const tensors: Tensor[] = [];
  const storages = new Set<unknown>();
  const parts: string[] = [];
  const walk = (a: unknown): unknown => {
    if (a instanceof Tensor) {
      // NOTE: an argument is one dense value of its own: a view, or a second tensor over
      // the same storage, is copied (a graph addresses each argument's storage alone).
      const dense = a.contiguous && !storages.has(a.storage) ? a : denseCopy(a);
      storages.add(dense.storage);
      tensors.push(dense);
      parts.push(`T(${a.dtype}[${a.shape.join(",")}]@${a.device})`);
      return dense;
    }
    if (Array.isArray(a)) {
      parts.push("[");
      const out = a.map(walk);
      parts.push("]");
      return out;
    }
    if (typeof a === "object" && a !== null && Object.getPrototypeOf(a) === Object.prototype) {
      parts.push("{");
      const out: Record<string, unknown> = {};
      for (const [k, v] of Object.entries(a)) {
        parts.push(`${JSON.stringify(k)}:`);
        out[k] = walk(v);
      }
      parts.push("}");
      return out;
    }
    if ((typeof a === "object" && a !== null) || typeof a === "function") {
      let id = objectIds.get(a);
      if (id === undefined) objectIds.set(a, id = nextObjectId++);
      parts.push(a instanceof Variable ? `V(${a.name}#${id})` : `O#${id}`);
      return a;
    }
    parts.push(
      typeof a === "bigint" ? `${a}n` : typeof a === "string" ? JSON.stringify(a) : String(a),
    );
    return a;
  };
  const out = args.map((a) => {
    const w = walk(a);
    parts.push(",");
    return w;
  });
  return { signature: parts.join(""), tensors, args: out };
}

function denseCopy(t: Tensor): Tensor {
  const op = "tf.function";
  const out = t.backend.allocateOutput(t.dtype, t.size, op);
  t.backend.copyStrided(op, out, t.dtype, denseStrides(t.shape), 0, t);
  return new Tensor(out, t.dtype, t.shape);
}

function tapeRecording(): boolean {
  for (const tape of activeTapes) if (!tape.paused) return true;
  return false;
}

/**
 * Wraps `fn` so that it runs as a graph: traced on the first call of each signature, the
 * graph run by later calls (see the module comment for what is and is not repeated).
 * @example
 * ```ts
 * import * as tf from "../../mod.ts";
 * const w = new tf.Variable([[1], [2]]);
 * const f = tf.function((x: tf.Tensor) => tf.matmul(x, w).relu());
 * f(tf.constant([[1, 1]])); // traced
 * console.log(f(tf.constant([[3, -4]])).toString()); // the graph: [[0]]
 * console.log(f.tracingCount); // 1
 * ```
 */
export function tfFunction<A extends unknown[], R>(
  fn: (...args: A) => R,
  options: FunctionOptions = {},
): TracedFunction<A, R> {
  if (typeof fn !== "function") {
    throw new TypeError(`tf.function: expected a function, got ${typeof fn}`);
  }
  const name = options.name ?? (fn.name || "function");
  const graphs = new Map<string, CompiledGraph>();
  const log = env("EAGER_LOG_TRACES") === "1";
  let tracingCount = 0;

  const traced = (...args: A): R => {
    if (activeTrace() !== null || tapeRecording()) return fn(...args);
    const flat = flatten(args);
    const graph = graphs.get(flat.signature);
    if (graph !== undefined && !graph.running) return graph.run(flat.tensors) as R;
    if (graph !== undefined) return fn(...args); // called from its own host step
    const { result, graph: recorded } = traceRun(flat.tensors, () => fn(...(flat.args as A)));
    graphs.set(flat.signature, new CompiledGraph(recorded));
    tracingCount++;
    if (log) console.error(`tf.function ${name}: trace ${tracingCount} for (${flat.signature})`);
    options.onTrace?.(flat.signature, tracingCount);
    return result;
  };
  Object.defineProperties(traced, {
    name: { value: name },
    tracingCount: { get: () => tracingCount },
    graphs: {
      value: () => [...graphs].map(([signature, g]) => ({ signature, stats: g.stats })),
    },
  });
  return traced as TracedFunction<A, R>;
}
