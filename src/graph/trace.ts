/**
 * Tracing: a function runs once, eagerly, while every call it makes through the backend seam
 * is recorded as a node of a graph (src/graph/graph.ts). The backends' methods are swapped
 * for recording ones for the length of the trace (their objects keep their shape: the
 * same properties get other values, then the old ones back). Storage is identified by
 * object: each storage the trace meets is a value, whose source is an argument, a constant,
 * an allocation, a host step's result or a variable.
 *
 * Invariants:
 * - Only the outermost call is recorded: a backend method that calls another (the WebGPU
 *   backend's softmax calls its unary and binary) is one node.
 * - Nothing is recorded while a host step runs (its code runs again at each call).
 * - Reading on the host a value the graph computes is an error: the graph could not
 *   reproduce what the JS did with it. Constants and captured tensors may be read.
 * @module
 */
import { type DType, dtypeOfArray, type TypedArray } from "../dtype.ts";
import type { Backend, Storage } from "../backend/backend.ts";
import { cpuBackend } from "../backend/cpu/backend.ts";
import { gpuBackends } from "../backend/registry.ts";
import { Tensor } from "../tensor.ts";
import { withoutRecording } from "../tape.ts";
import {
  type HostStepOptions,
  setActiveTrace,
  type TracedVariable,
  type TraceHooks,
  type VariableAccess,
  withoutTrace,
} from "./hooks.ts";
import type {
  ArgTemplate,
  Graph,
  KernelNode,
  Node,
  OperandTemplate,
  ResultTemplate,
  Value,
  ValueSource,
} from "./graph.ts";

/** Backend members that are not recorded as nodes (storage bookkeeping). */
const PASSED_THROUGH = new Set(["hold", "release", "storageKey"]);
/** Methods that return new storage, and whether it is zero-filled. */
const ALLOCATING: Record<string, boolean> = {
  allocate: true,
  allocateOutput: false,
  unary: false,
  binary: false,
};
/** Uploads of at most this many elements keep their values on the host too (to compare). */
const SMALL_CONSTANT = 64;
/** Methods that write into one of their tensor operands, by argument position. */
const IN_PLACE_OPERAND: Record<string, number> = { biasActivation: 1 };

/** Whether a value is a storage (a typed array, or a device's buffer). */
function isStorage(v: unknown): v is Storage {
  return ArrayBuffer.isView(v) ||
    (typeof v === "object" && v !== null && "backend" in v && !(v instanceof Tensor));
}

/** A recording of one function's run. */
export class Trace implements TraceHooks {
  readonly values: Value[] = [];
  readonly nodes: Node[] = [];
  /** NOTE: weak, so that the trace's own run frees what it no longer uses, as eagerly. */
  readonly #ids = new WeakMap<Storage, number>();
  #depth = 0;
  #paused = 0;

  /** Registers the dense argument tensors; returns their values. */
  addArguments(args: readonly Tensor[]): number[] {
    return args.map((t, index) => {
      const id = this.#newValue({ kind: "argument", index }, t);
      this.#ids.set(t.storage, id);
      return id;
    });
  }

  // --- TraceHooks

  hostStep(
    name: string,
    inputs: readonly Tensor[],
    run: (inputs: readonly Tensor[]) => Tensor[],
    options: HostStepOptions,
  ): Tensor[] {
    const operands = inputs.map((t) => this.#operand(t));
    this.#paused++;
    let outputs: Tensor[];
    try {
      outputs = withoutTrace(() => run(inputs));
    } finally {
      this.#paused--;
    }
    const node = this.nodes.length;
    const templates = outputs.map((t, output) => {
      const id = this.#newValue({ kind: "host", node, output }, t);
      this.#ids.set(t.storage, id);
      return this.#template(id, t);
    });
    this.nodes.push({
      kind: "host",
      name,
      inputs: operands,
      outputs: templates,
      run,
      retainsInputs: options.retainsInputs ?? true,
      pure: options.pure ?? false,
    });
    return outputs;
  }

  variableValue(v: TracedVariable, value: Tensor, access: VariableAccess): Tensor {
    if (this.#paused !== 0) return value;
    const node = this.nodes.length;
    const id = this.#newValue({ kind: "host", node, output: 0 }, value);
    this.#ids.set(value.storage, id);
    this.nodes.push({ kind: "variable", variable: v, access, output: this.#template(id, value) });
    return value;
  }

  // --- the result

  /** The graph, once the function returned `result`. */
  finish(result: unknown, args: readonly number[]): Graph {
    return {
      values: this.values,
      nodes: this.nodes,
      result: this.#resultTemplate(result, new Set()),
      arguments: args,
    };
  }

  #resultTemplate(r: unknown, seen: Set<object>): ResultTemplate {
    if (r instanceof Tensor) return { kind: "tensor", operand: this.#operand(r) };
    if (typeof r !== "object" || r === null) return { kind: "literal", value: r };
    if (seen.has(r)) throw new TypeError("tf.function: the function's result is cyclic");
    seen.add(r);
    if (Array.isArray(r)) {
      return { kind: "array", items: r.map((item) => this.#resultTemplate(item, seen)) };
    }
    if (Object.getPrototypeOf(r) === Object.prototype) {
      return {
        kind: "object",
        entries: Object.entries(r).map(([k, v]) => [k, this.#resultTemplate(v, seen)]),
      };
    }
    return { kind: "literal", value: r }; // a Variable, a layer: returned as it is
  }

  // --- recording the backends

  /** Runs fn with every backend's methods recording; restores them afterwards. */
  record<T>(fn: () => T): T {
    const backends = [cpuBackend as Backend, ...gpuBackends()];
    const saved = backends.map((b) => this.#patch(b));
    const previous = setActiveTrace(this);
    try {
      return fn();
    } finally {
      setActiveTrace(previous);
      backends.forEach((b, i) => Object.assign(b, saved[i]));
    }
  }

  #patch(backend: Backend): Record<string, unknown> {
    const target = backend as unknown as Record<string, unknown>;
    const saved: Record<string, unknown> = {};
    for (const name of methodNames(backend)) {
      const member = target[name];
      if (typeof member !== "function" || PASSED_THROUGH.has(name)) continue;
      saved[name] = member;
      const original = member as (...args: unknown[]) => unknown;
      target[name] = (...args: unknown[]) => {
        if (this.#depth !== 0 || this.#paused !== 0) return original.apply(backend, args);
        this.#depth++;
        try {
          return this.#call(backend, name, original, args);
        } finally {
          this.#depth--;
        }
      };
    }
    return saved;
  }

  #call(
    backend: Backend,
    method: string,
    original: (...args: unknown[]) => unknown,
    args: unknown[],
  ): unknown {
    if (method === "readSync" || method === "read") {
      this.hostRead(args[0] as Tensor, args[2] as string);
      return original.apply(backend, args);
    }
    if (method === "free") {
      this.#ids.delete(args[0] as Storage); // it cannot be met again
      return original.apply(backend, args);
    }
    if (method === "upload") {
      const storage = original.apply(backend, args) as Storage;
      // The CPU keeps the caller's array itself, which the caller may change: a copy. A
      // device's upload copied already.
      const values = args[0] as TypedArray;
      const copy = storage === values ? values.slice() : undefined;
      const kept = copy ?? storage;
      // The host values of a small one, to compare constants by (the CPU's copy serves).
      const small = values.length <= SMALL_CONSTANT ? copy ?? values.slice() : undefined;
      const id = this.#newValueOf(
        { kind: "constant", storage: kept, values: small },
        backend,
        values,
      );
      this.#ids.set(storage, id);
      return storage;
    }
    const templates = args.map((a) => this.#argTemplate(a));
    const returned = original.apply(backend, args);
    const node = this.nodes.length;
    let result: number | undefined;
    if (method in ALLOCATING) {
      const storage = returned as Storage;
      const [dtype, n] = method === "unary"
        ? [args[3] as DType, (args[2] as Tensor).size]
        : method === "binary"
        ? [args[6] as DType, args[5] as number]
        : [args[0] as DType, args[1] as number];
      result = this.#newValueOf(
        { kind: "kernel", node, zeroed: ALLOCATING[method] },
        backend,
        storage,
        dtype,
        n,
      );
      this.#ids.set(storage, result);
    }
    const reads: number[] = [], writes: number[] = [];
    collect(templates, reads, writes);
    if (result !== undefined) writes.push(result);
    const inPlace = IN_PLACE_OPERAND[method];
    if (inPlace !== undefined) {
      const t = templates[inPlace];
      if (t.kind === "operand") writes.push(t.operand.id);
    }
    const kernel: KernelNode = {
      kind: "kernel",
      backend,
      method,
      args: templates,
      result,
      returned: typeof returned === "number" ? returned : undefined,
      reads,
      writes,
    };
    this.nodes.push(kernel);
    return returned;
  }

  hostRead(view: Tensor, op: string): void {
    if (this.#paused !== 0) return;
    const id = this.#ids.get(view.storage);
    if (id === undefined || this.values[id].source.kind === "constant") return;
    throw new TypeError(
      `${op}: reads a tensor's values on the host inside a traced function (tf.function); ` +
        "a graph cannot depend on values it computes: return the tensor and read it after " +
        "the call, or run the function eagerly",
    );
  }

  // --- values and templates

  #argTemplate(a: unknown): ArgTemplate {
    if (a instanceof Tensor) return { kind: "operand", operand: this.#operand(a) };
    if (isStorage(a) && this.#ids.has(a)) return { kind: "storage", id: this.#ids.get(a)! };
    if (Array.isArray(a)) return { kind: "array", items: a.map((x) => this.#argTemplate(x)) };
    if (typeof a === "object" && a !== null && !ArrayBuffer.isView(a)) {
      const entries = Object.entries(a).map(([k, v]) => [k, this.#argTemplate(v)] as const);
      if (entries.some(([, t]) => t.kind !== "literal")) {
        return { kind: "object", entries: entries as [string, ArgTemplate][] };
      }
    }
    // NOTE: copied: a kernel's parameters may live in a buffer reused by the next call.
    return { kind: "literal", value: ArrayBuffer.isView(a) ? (a as TypedArray).slice() : a };
  }

  /** The template of tensor `t`, registering its storage as a constant if it is new. */
  #operand(t: Tensor): OperandTemplate {
    let id = this.#ids.get(t.storage);
    if (id === undefined) {
      id = this.#newValue({ kind: "constant", storage: t.storage, tensor: t }, t);
      this.#ids.set(t.storage, id);
    }
    return this.#template(id, t);
  }

  #template(id: number, t: Tensor): OperandTemplate {
    const base = this.#baseOffset.get(id) ?? 0;
    return {
      id,
      dtype: t.dtype,
      shape: t.shape,
      strides: t.strides,
      offset: t.offset - base,
      size: t.size,
      contiguous: t.contiguous,
    };
  }

  /** The offset of the tensor a value was first seen through (an argument's, a result's). */
  readonly #baseOffset = new Map<number, number>();

  #newValue(source: ValueSource, t: Tensor): number {
    const id = this.#newValueOf(source, t.backend, t.storage, t.dtype);
    this.#baseOffset.set(id, t.offset);
    return id;
  }

  #newValueOf(
    source: ValueSource,
    backend: Backend,
    storage: Storage,
    dtype?: DType,
    length?: number,
  ): number {
    const id = this.values.length;
    const array = ArrayBuffer.isView(storage) ? storage as TypedArray : undefined;
    this.values.push({
      id,
      source,
      backend,
      dtype: dtype ?? (array && dtypeOfArray(array)) ?? "float32", // an upload's values
      length: length ?? array?.length ?? 0,
    });
    return id;
  }
}

/**
 * A backend's method names: its own properties (an object literal, as the CPU's) and its
 * class's (the WebGPU backend). NOTE: a class method is restored after the trace as an own
 * property holding the same function, so the object's shape changes once, at its first trace.
 */
function methodNames(backend: Backend): string[] {
  const names = new Set<string>();
  for (let o: object | null = backend; o && o !== Object.prototype; o = Object.getPrototypeOf(o)) {
    for (const name of Object.getOwnPropertyNames(o)) if (name !== "constructor") names.add(name);
  }
  return [...names];
}

/** The values a kernel's arguments read (operands) and write (storage). */
function collect(templates: readonly ArgTemplate[], reads: number[], writes: number[]): void {
  for (const t of templates) {
    if (t.kind === "operand") reads.push(t.operand.id);
    else if (t.kind === "storage") writes.push(t.id);
    else if (t.kind === "array") collect(t.items, reads, writes);
    else if (t.kind === "object") collect(t.entries.map(([, v]) => v), reads, writes);
  }
}

/** Runs fn(args) once, eagerly, recording it; returns its result and the graph. */
export function traceRun<R>(
  args: readonly Tensor[],
  fn: () => R,
): { result: R; graph: Graph } {
  const trace = new Trace();
  const ids = trace.addArguments(args);
  const result = trace.record(fn);
  return { result, graph: withoutRecording(() => trace.finish(result, ids)) };
}
