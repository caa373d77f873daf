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
import { active as activeTapes, record, withoutRecording } from "../tape.ts";
import { GradientTape } from "../gradients.ts";
import { isFloat } from "../dtype.ts";
import { zerosLike } from "../ops/creation.ts";
import { copyAs } from "../ops/cast.ts";
import type { Graph } from "./graph.ts";
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
  /** The caller's tensors, of which `tensors` may be dense copies. */
  readonly originals: Tensor[];
  readonly args: unknown[];
}

function flatten(args: readonly unknown[]): Flattened {
  const tensors: Tensor[] = [], originals: Tensor[] = [];
  const storages = new Set<unknown>();
  const parts: string[] = [];
  const walk = (a: unknown): unknown => {
    if (a instanceof Tensor) {
      // NOTE: an argument is one dense value of its own: a view, or a second tensor over
      // the same storage, is copied (a graph addresses each argument's storage alone).
      const dense = a.contiguous && !storages.has(a.storage)
        ? a
        : copyAs(a, a.dtype, "tf.function");
      storages.add(dense.storage);
      tensors.push(dense);
      originals.push(a);
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
  return { signature: parts.join(""), tensors, originals, args: out };
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
  const graphs = new Map<string, Signature>();
  const log = env("EAGER_LOG_TRACES") === "1";
  let tracingCount = 0;

  /** The graph of flat's signature, traced now (returning the eager result) if new. */
  const graphFor = (flat: Flattened): { entry: Signature; result?: R } => {
    const known = graphs.get(flat.signature);
    if (known !== undefined) return { entry: known };
    const { result, graph } = traceRun(flat.tensors, () => fn(...(flat.args as A)));
    const entry = new Signature(new CompiledGraph(graph), variablesOf(graph));
    graphs.set(flat.signature, entry);
    tracingCount++;
    if (log) console.error(`tf.function ${name}: trace ${tracingCount} for (${flat.signature})`);
    options.onTrace?.(flat.signature, tracingCount);
    return { entry, result };
  };

  /** Under a recording tape: the graph's run, recorded as one op (see differentiated). */
  const differentiated = (flat: Flattened): R => {
    const { entry, result } = withoutRecording(() => {
      const found = graphFor(flat);
      return found.result !== undefined || found.entry.graph.running
        ? found
        : { entry: found.entry, result: found.entry.graph.run(flat.tensors) as R };
    });
    const outputs = resultTensors(result).filter((t) => isFloat(t.dtype));
    const values = entry.variables.map((v) => v.read()); // the tapes watch them now
    entry.backward ??= backwardFunction(fn, flat, entry.variables, `${name}.backward`);
    const backward = entry.backward;
    record(
      `tf.function:${name}`,
      [...flat.originals, ...values],
      outputs,
      (dys) => backward(flat.tensors, outputs.map((o, i) => dys[i] ?? zerosLike(o))),
    );
    return result as R;
  };

  const traced = (...args: A): R => {
    if (activeTrace() !== null) return fn(...args);
    const flat = flatten(args);
    if (tapeRecording()) return differentiated(flat);
    const { entry, result } = graphFor(flat);
    if (result !== undefined) return result;
    // A call from the graph's own host step (a function that calls itself) runs eagerly.
    return entry.graph.running ? fn(...args) : entry.graph.run(flat.tensors) as R;
  };
  Object.defineProperties(traced, {
    name: { value: name },
    tracingCount: { get: () => tracingCount },
    graphs: {
      value: () => [...graphs].map(([signature, g]) => ({ signature, stats: g.graph.stats })),
    },
  });
  return traced as TracedFunction<A, R>;
}

/** One signature's graph, the variables it reads, and its gradient function once needed. */
class Signature {
  backward?: (tensors: Tensor[], dys: Tensor[]) => Tensor[];
  constructor(readonly graph: CompiledGraph, readonly variables: readonly Variable[]) {}
}

/** The variables a graph reads, once each, in the order it first reads them. */
function variablesOf(graph: Graph): Variable[] {
  const found = new Set<Variable>();
  for (const node of graph.nodes) {
    if (node.kind === "variable" && node.variable instanceof Variable) found.add(node.variable);
  }
  return [...found];
}

/** The tensors of a result (any structure), in order. */
function resultTensors(r: unknown, out: Tensor[] = []): Tensor[] {
  if (r instanceof Tensor) out.push(r);
  else if (Array.isArray(r)) { for (const item of r) resultTensors(item, out); }
  else if (typeof r === "object" && r !== null && Object.getPrototypeOf(r) === Object.prototype) {
    for (const v of Object.values(r)) resultTensors(v, out);
  }
  return out;
}

/** `flat.args` with its tensors replaced, in order, by `tensors`. */
function withTensors(args: readonly unknown[], tensors: readonly Tensor[]): unknown[] {
  let next = 0;
  const walk = (a: unknown): unknown => {
    if (a instanceof Tensor) return tensors[next++];
    if (Array.isArray(a)) return a.map(walk);
    if (typeof a === "object" && a !== null && Object.getPrototypeOf(a) === Object.prototype) {
      return Object.fromEntries(Object.entries(a).map(([k, v]) => [k, walk(v)]));
    }
    return a;
  };
  return args.map(walk);
}

/**
 * The gradient of a traced function as a traced function of its tensor arguments and the
 * gradients of its floating-point results: it runs the function again under a tape (the
 * forward pass is recomputed, not kept) and returns the gradients of the arguments and of
 * `variables`, zeros where unconnected. NOTE: traced itself, so a tape recording while it
 * runs (a second derivative) records it as one op in turn.
 */
function backwardFunction(
  fn: (...args: never[]) => unknown,
  flat: Flattened,
  variables: readonly Variable[],
  name: string,
): (tensors: Tensor[], dys: Tensor[]) => Tensor[] {
  return tfFunction((tensors: Tensor[], dys: Tensor[]) => {
    const tape = new GradientTape();
    for (const t of tensors) if (isFloat(t.dtype)) tape.watch(t);
    const result = tape.record(() => fn(...(withTensors(flat.args, tensors) as never[])));
    const outputs = resultTensors(result).filter((t) => isFloat(t.dtype));
    const sources = [...tensors.filter((t) => isFloat(t.dtype)), ...variables];
    const grads = tape.gradient(outputs, sources, {
      outputGradients: outputs.length === 1 ? dys[0] : dys,
      unconnectedGradients: "zero",
    });
    let k = 0;
    const forArgs = tensors.map((t) => isFloat(t.dtype) ? grads[k++]! : zerosLike(t));
    return [...forArgs, ...grads.slice(k).map((g) => g!)];
  }, { name });
}
