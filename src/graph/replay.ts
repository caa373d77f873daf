/**
 * Running a traced graph (src/graph/graph.ts) on new arguments. Before the first run the
 * graph is planned once:
 * - duplicate elementwise calls are folded into their first (src/graph/duplicates.ts);
 * - dead work is dropped: a node is kept only when something kept or returned uses what it
 *   writes (host steps with effects, an optimizer's update, always are);
 * - runs of elementwise calls are fused into one pass (src/graph/fusion.ts);
 * - buffers are planned by liveness: on the CPU, each intermediate value that does not
 *   escape (returned, or kept by a host step) gets a slice of one of a few buffers, made at
 *   the first run and reused by every later one; two values share a buffer when their lives
 *   do not overlap. A value that escapes gets fresh storage at each run, as eagerly.
 * A run then calls the recorded backend methods with views of this run's storage: no
 * shapes are computed, no tensors made but the results and host steps' inputs, and nothing
 * is recorded on a tape.
 * @module
 */
import type { Backend, Storage } from "../backend/backend.ts";
import { cpuBackend } from "../backend/cpu/backend.ts";
import { requestCollection } from "../backend/cpu/storage.ts";
import { type DType, itemSize, type TypedArray } from "../dtype.ts";
import { pin } from "../lifetime.ts";
import { withoutDuplicates } from "./duplicates.ts";
import { fuse, type FusedRun } from "./fusion.ts";
import { sameShape, showShape } from "../shape.ts";
import { Tensor } from "../tensor.ts";
import {
  type ArgTemplate,
  type Graph,
  type HostNode,
  type KernelNode,
  type Node,
  nodeReads,
  nodeWrites,
  type OperandTemplate,
  type ResultTemplate,
  resultValues,
  type VariableNode,
} from "./graph.ts";

/** The storage and offset of every value in one run. */
interface Env {
  readonly storage: (Storage | undefined)[];
  readonly offset: number[];
}

/**
 * A tensor operand of a kernel in a run: the template's layout over this run's storage.
 * NOTE: it has what the backends read of a Tensor (src/backend/cpu/operand.ts), not more.
 */
class GraphView {
  readonly dtype: DType;
  readonly shape: readonly number[];
  readonly strides: readonly number[];
  readonly size: number;
  readonly contiguous: boolean;
  readonly rank: number;
  readonly backend: Backend;
  readonly #env: Env;
  readonly #id: number;
  readonly #offset: number;
  constructor(env: Env, t: OperandTemplate, backend: Backend) {
    this.dtype = t.dtype;
    this.shape = t.shape;
    this.strides = t.strides;
    this.size = t.size;
    this.contiguous = t.contiguous;
    this.rank = t.shape.length;
    this.backend = backend;
    this.#env = env;
    this.#id = t.id;
    this.#offset = t.offset;
  }
  get storage(): Storage {
    return this.#env.storage[this.#id]!;
  }
  get offset(): number {
    return this.#offset + this.#env.offset[this.#id];
  }
}

/** What planning found, for tests and the debug log. */
export interface GraphStats {
  /** Nodes recorded, kept after dropping dead work, and folded as duplicates. */
  readonly nodes: number;
  readonly kept: number;
  readonly duplicates: number;
  /** Elementwise nodes run inside fused chains (src/graph/fusion.ts). */
  readonly fused: number;
  /** Values given a planned buffer, the buffers, and their bytes. */
  readonly planned: number;
  readonly buffers: number;
  readonly bufferBytes: number;
}

type Step = (env: Env) => void;

/** A planned graph, ready to run. */
export class CompiledGraph {
  readonly stats: GraphStats;
  readonly #graph: Graph;
  readonly #env: Env;
  readonly #steps: Step[];
  /** Planned buffer (index into #slots) of each value, or -1. */
  readonly #slotOf: Int32Array;
  readonly #slots: { dtype: DType; capacity: number }[];
  #arena: Storage[] | undefined;
  /** Each planned value's view of its buffer, once the arena exists (#plannedStorage). */
  readonly #planned: (TypedArray | undefined)[] = [];
  /** Tensors made outside the function that the graph reads (checked at each run). */
  readonly #captured: Tensor[] = [];
  #running = false;

  constructor(traced: Graph) {
    const { graph, removed } = withoutDuplicates(traced);
    this.#graph = graph;
    const n = graph.values.length;
    this.#env = { storage: new Array(n).fill(undefined), offset: new Array(n).fill(0) };
    const kept = keptNodes(graph);
    const escaping = escapingValues(graph, kept);
    const plan = planBuffers(graph, kept, escaping);
    this.#slotOf = plan.slotOf;
    this.#slots = plan.slots;
    for (const v of graph.values) {
      if (v.source.kind !== "constant") continue;
      this.#env.storage[v.id] = v.source.storage;
      if (v.source.tensor) this.#captured.push(v.source.tensor);
    }
    const steps = fuse(graph, kept, escaping);
    this.#steps = steps.map((
      x,
    ) => (typeof x === "number" ? this.#step(graph.nodes[x]) : this.#fusedStep(x)));
    this.stats = {
      nodes: graph.nodes.length,
      kept: kept.length,
      duplicates: removed,
      fused: steps.filter((x) => typeof x !== "number").reduce(
        (t, r) => t + (r as FusedRun).nodes.length,
        0,
      ),
      planned: plan.slotOf.filter((s) => s >= 0).length,
      buffers: plan.slots.length,
      bufferBytes: plan.slots.reduce((s, b) => s + b.capacity * itemSize(b.dtype), 0),
    };
  }

  /** Whether a run is under way (a function that calls itself runs eagerly instead). */
  get running(): boolean {
    return this.#running;
  }

  /** Runs the graph on `args` (dense tensors of the traced signature); returns its result. */
  run(args: readonly Tensor[]): unknown {
    const env = this.#env;
    this.#running = true;
    try {
      if (this.#arena === undefined) {
        // The trace's own eager run left its intermediates to the collector: collected
        // before the planned buffers are made, they do not add to the peak.
        requestCollection();
        this.#arena = this.#allocateArena();
      }
      for (const tensor of this.#captured) {
        if (tensor.isDisposed) {
          throw new Error(
            "tf.function: a tensor the function captured when it was traced has been " +
              "disposed; pass it as an argument instead",
          );
        }
      }
      this.#graph.arguments.forEach((id, i) => {
        env.storage[id] = args[i].storage;
        env.offset[id] = args[i].offset;
      });
      for (const step of this.#steps) step(env);
      return buildResult(this.#graph.result, env);
    } finally {
      this.#running = false;
    }
  }

  #allocateArena(): Storage[] {
    const arena = this.#slots.map(({ dtype, capacity }) => {
      const buffer = cpuBackend.allocateOutput(dtype, capacity, "tf.function");
      cpuBackend.hold(buffer); // never freed by a tensor's dispose: the graph owns it
      return buffer;
    });
    return arena;
  }

  /** The planned storage of value `id`: its buffer's first `length` elements, made once. */
  #plannedStorage(id: number): TypedArray {
    let storage = this.#planned[id];
    if (storage === undefined) {
      const buffer = this.#arena![this.#slotOf[id]] as TypedArray;
      storage = this.#planned[id] = buffer.subarray(0, this.#graph.values[id].length);
    }
    return storage;
  }

  /** A fused run: one backend call; its outputs get planned or fresh storage as single calls do. */
  #fusedStep(run: FusedRun): Step {
    const env = this.#env;
    const views = run.inputs.map((o) => new GraphView(env, o, run.backend) as unknown as Tensor);
    const storages: Storage[] = new Array(run.outputs.length);
    const backend = run.backend;
    return () => {
      run.outputs.forEach((id, k) => {
        storages[k] = this.#slotOf[id] >= 0
          ? this.#plannedStorage(id)
          : backend.allocateOutput(run.dtype, run.n, "tf.function");
        env.storage[id] = storages[k];
      });
      backend.fusedElementwise!(
        "tf.function",
        run.dtype,
        run.n,
        run.program,
        views,
        storages,
        run.outputSlots,
      );
    };
  }

  #step(node: Node): Step {
    if (node.kind === "kernel") return this.#kernelStep(node);
    if (node.kind === "host") return hostStep(node);
    return variableStep(node);
  }

  #kernelStep(node: KernelNode): Step {
    const patches: [unknown[], number, number][] = [];
    const args: unknown[] = [];
    node.args.forEach((t, i) =>
      args.push(materialize(t, this.#env, node.backend, patches, i, args))
    );
    const backend = node.backend as unknown as Record<string, (...a: unknown[]) => unknown>;
    const method = node.method;
    const result = node.result;
    const planned = result !== undefined && this.#slotOf[result] >= 0;
    if (planned) {
      const source = this.#graph.values[result].source;
      if (method === "allocate" || method === "allocateOutput") {
        const zero = source.kind === "kernel" && source.zeroed;
        return (env) => {
          const storage = this.#plannedStorage(result);
          // NOTE: int64 storage is a BigInt64Array, which takes 0n, not 0.
          if (zero) storage.fill((storage instanceof BigInt64Array ? 0n : 0) as never);
          env.storage[result] = storage;
        };
      }
      const into = args.length; // unary and binary take their output last
      return (env) => {
        for (const [container, index, id] of patches) container[index] = env.storage[id];
        args[into] = this.#plannedStorage(result);
        env.storage[result] = backend[method](...args) as Storage;
      };
    }
    const returned = node.returned;
    return (env) => {
      for (const [container, index, id] of patches) container[index] = env.storage[id];
      const r = backend[method](...args);
      if (result !== undefined) env.storage[result] = r as Storage;
      else if (returned !== undefined && r !== returned) {
        const op = typeof args[0] === "string" ? args[0] : method;
        throw new RangeError(
          `${op}: an index is out of range in this call of a traced function (the kernel ` +
            `returned ${String(r)}); run the function eagerly for the element at fault`,
        );
      }
    };
  }
}

/** Builds an argument from its template: views for operands, patched slots for storage. */
function materialize(
  t: ArgTemplate,
  env: Env,
  backend: Backend,
  patches: [unknown[], number, number][],
  index: number,
  container?: unknown[],
): unknown {
  switch (t.kind) {
    case "literal":
      return t.value;
    case "operand":
      return new GraphView(env, t.operand, backend);
    case "storage":
      if (container) patches.push([container, index, t.id]);
      return undefined;
    case "array": {
      const items: unknown[] = [];
      t.items.forEach((item, i) => items.push(materialize(item, env, backend, patches, i, items)));
      return items;
    }
    case "object": {
      // NOTE: objects hold tensors only (a product's operand), never storage to patch.
      return Object.fromEntries(
        t.entries.map(([k, v]) => [k, materialize(v, env, backend, patches, 0)]),
      );
    }
  }
}

function hostStep(node: HostNode): Step {
  return (env) => {
    const inputs = node.inputs.map((o) => {
      const t = tensorOf(env, o);
      pin(t); // a host step's input may be a planned buffer: no dispose() may free it
      return t;
    });
    const outputs = node.run(inputs);
    if (outputs.length !== node.outputs.length) {
      throw new Error(
        `tf.function: ${node.name} gave ${outputs.length} results, traced with ` +
          `${node.outputs.length}`,
      );
    }
    node.outputs.forEach((o, i) => bindResult(env, o, outputs[i], node.name));
  };
}

function variableStep(node: VariableNode): Step {
  const v = node.variable;
  const take = node.access === "read"
    ? () => v.read()
    : node.access === "peek"
    ? () => v.peek()
    : () => v.updateInput();
  return (env) => bindResult(env, node.output, take(), `variable ${v.name}`);
}

/** Makes `t` the storage of the value of template `o`, after checking it is alike. */
function bindResult(env: Env, o: OperandTemplate, t: Tensor, what: string): void {
  if (t.dtype !== o.dtype || !sameShape(t.shape, o.shape) || t.contiguous !== o.contiguous) {
    throw new Error(
      `tf.function: ${what} gave a ${t.dtype} tensor of shape ${showShape(t.shape)} where ` +
        `the trace had ${o.dtype} ${showShape(o.shape)}; call the function with a new ` +
        "signature or run it eagerly",
    );
  }
  env.storage[o.id] = t.storage;
  env.offset[o.id] = t.offset - o.offset;
}

function tensorOf(env: Env, o: OperandTemplate): Tensor {
  return new Tensor(env.storage[o.id]!, o.dtype, o.shape, o.strides, o.offset + env.offset[o.id]);
}

function buildResult(t: ResultTemplate, env: Env): unknown {
  switch (t.kind) {
    case "tensor":
      return tensorOf(env, t.operand);
    case "literal":
      return t.value;
    case "array":
      return t.items.map((item) => buildResult(item, env));
    case "object":
      return Object.fromEntries(t.entries.map(([k, v]) => [k, buildResult(v, env)]));
  }
}

// --- planning ------------------------------------------------------------------------------

/** Indices of the nodes that something kept or returned depends on, in order. */
export function keptNodes(graph: Graph): number[] {
  const live = new Set(resultValues(graph.result));
  const keep: number[] = [];
  for (let i = graph.nodes.length - 1; i >= 0; i--) {
    const node = graph.nodes[i];
    const effect = node.kind === "host" && !node.pure;
    if (!effect && !nodeWrites(node).some((id) => live.has(id))) continue;
    keep.push(i);
    for (const id of nodeReads(node)) live.add(id);
  }
  return keep.reverse();
}

/** Values whose storage outlives a run: returned, or handed to a host step that keeps it. */
function escapingValues(graph: Graph, kept: readonly number[]): Set<number> {
  const escaping = new Set(resultValues(graph.result));
  for (const i of kept) {
    const node = graph.nodes[i];
    if (node.kind === "host" && node.retainsInputs) {
      for (const o of node.inputs) escaping.add(o.id);
    }
  }
  return escaping;
}

/**
 * Buffers for the CPU's non-escaping intermediates, by liveness: walking the kept nodes in
 * order, a value takes a free buffer of its dtype when it is defined (the smallest big
 * enough, else the largest, grown) and gives it back after its last use.
 */
function planBuffers(
  graph: Graph,
  kept: readonly number[],
  escaping: Set<number>,
): { slotOf: Int32Array; slots: { dtype: DType; capacity: number }[] } {
  const slotOf = new Int32Array(graph.values.length).fill(-1);
  const slots: { dtype: DType; capacity: number }[] = [];
  const lastUse = new Map<number, number>();
  kept.forEach((i, step) => {
    const node = graph.nodes[i];
    for (const id of nodeReads(node)) lastUse.set(id, step);
    for (const id of nodeWrites(node)) lastUse.set(id, step);
  });
  const plannable = (id: number, i: number) => {
    const v = graph.values[id];
    return v.source.kind === "kernel" && v.source.node === i && v.backend === cpuBackend &&
      !escaping.has(id) && v.length > 0;
  };
  const free: number[] = [];
  const endingAt = new Map<number, number[]>();
  kept.forEach((i, step) => {
    const node = graph.nodes[i] as KernelNode;
    const defined = node.kind === "kernel" && node.result !== undefined ? node.result : -1;
    if (defined >= 0 && plannable(defined, i)) {
      const { dtype, length } = graph.values[defined];
      const slot = takeSlot(slots, free, dtype, length);
      slotOf[defined] = slot;
      const end = lastUse.get(defined)!;
      endingAt.set(end, [...(endingAt.get(end) ?? []), slot]);
    }
    for (const slot of endingAt.get(step) ?? []) free.push(slot);
  });
  return { slotOf, slots };
}

function takeSlot(
  slots: { dtype: DType; capacity: number }[],
  free: number[],
  dtype: DType,
  length: number,
): number {
  let best = -1, largest = -1;
  for (const [k, slot] of free.entries()) {
    const s = slots[slot];
    if (s.dtype !== dtype) continue;
    if (s.capacity >= length && (best < 0 || s.capacity < slots[free[best]].capacity)) best = k;
    if (largest < 0 || s.capacity > slots[free[largest]].capacity) largest = k;
  }
  const pick = best >= 0 ? best : largest;
  if (pick < 0) {
    slots.push({ dtype, capacity: length });
    return slots.length - 1;
  }
  const slot = free.splice(pick, 1)[0];
  slots[slot].capacity = Math.max(slots[slot].capacity, length);
  return slot;
}
