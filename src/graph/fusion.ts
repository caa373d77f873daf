/**
 * Fusion: runs of consecutive elementwise calls (unary and binary) of one floating dtype and
 * size, on a backend with `fusedElementwise`, become one call that makes one pass over
 * memory, blockwise, and never materialises the intermediates that nothing outside the run
 * reads. Each step computes as its own kernel would, so results do not change.
 *
 * A node joins a run when its operands are dense, of the run's size or of one element, and
 * any operand made inside the run is that step's whole result. Runs are cut at
 * MAX_FUSED_STEPS (eager.h's EAGER_MAX_FUSED_STEPS) and only sizes up to MAX_FUSED_SIZE are
 * fused: larger tensors keep the unfused kernels, which spread over threads.
 * @module
 */
import type { DType } from "../dtype.ts";
import type { Backend } from "../backend/backend.ts";
import { type Graph, type KernelNode, nodeReads, type OperandTemplate } from "./graph.ts";

export const MAX_FUSED_STEPS = 64;
/** Elements: up to here the unfused kernels run on one thread as the fused one does. */
export const MAX_FUSED_SIZE = 32768;

/** One fused run: its nodes (indices into the graph), inputs, program and outputs. */
export interface FusedRun {
  readonly nodes: readonly number[];
  readonly backend: Backend;
  readonly dtype: DType;
  readonly n: number;
  readonly program: Int32Array;
  readonly inputs: readonly OperandTemplate[];
  /** The values written to storage, in output-slot order. */
  readonly outputs: readonly number[];
  readonly outputSlots: Int32Array;
}

interface Elementwise {
  readonly node: KernelNode;
  readonly kind: 0 | 1;
  readonly code: number;
  readonly operands: readonly OperandTemplate[];
  readonly dtype: DType;
  readonly n: number;
}

/** What a node is as a fusion step, or null when it cannot be one. */
function elementwise(node: KernelNode): Elementwise | null {
  if (node.result === undefined || !node.backend.fusedElementwise) return null;
  const a = node.args;
  const operand = (k: number) => (a[k].kind === "operand" ? a[k].operand : null);
  const lit = (k: number) => (a[k].kind === "literal" ? a[k].value : undefined);
  let kind: 0 | 1, operands: (OperandTemplate | null)[], outDtype: unknown, n: number;
  if (node.method === "unary") {
    kind = 0;
    operands = [operand(2)];
    outDtype = lit(3);
    n = operands[0]?.size ?? -1;
  } else if (node.method === "binary") {
    kind = 1;
    operands = [operand(2), operand(3)];
    outDtype = lit(6);
    n = lit(5) as number;
  } else {
    return null;
  }
  const dtype = operands[0]?.dtype;
  if (dtype !== "float32" && dtype !== "float64") return null;
  if (outDtype !== dtype || n < 1 || n > MAX_FUSED_SIZE) return null;
  for (const o of operands) {
    if (!o || o.dtype !== dtype || !o.contiguous || (o.size !== n && o.size !== 1)) return null;
    if (kind === 0 && o.size !== n) return null;
  }
  return { node, kind, code: lit(1) as number, operands: operands as OperandTemplate[], dtype, n };
}

/**
 * The kept nodes as steps: a node index, or a fused run of two or more. `escaping`: values
 * read after the graph (results, host steps' kept inputs) that must be written out.
 */
export function fuse(
  graph: Graph,
  kept: readonly number[],
  escaping: ReadonlySet<number>,
): (number | FusedRun)[] {
  // Where each value is read, by position in `kept`.
  const readers = new Map<number, number[]>();
  kept.forEach((i, position) => {
    for (const id of nodeReads(graph.nodes[i])) {
      const list = readers.get(id);
      if (list) list.push(position);
      else readers.set(id, [position]);
    }
  });
  const out: (number | FusedRun)[] = [];
  let run: Member[] = [];
  const flush = () => {
    if (run.length >= 2) out.push(build(run, readers, escaping));
    else for (const { index } of run) out.push(index);
    run = [];
  };
  kept.forEach((i, position) => {
    const node = graph.nodes[i];
    const e = node.kind === "kernel" ? elementwise(node) : null;
    if (e && run.length > 0) {
      const head = run[0].e;
      const produced = new Set(run.map((r) => r.e.node.result));
      const joins = e.dtype === head.dtype && e.n === head.n &&
        e.node.backend === head.node.backend &&
        run.length < MAX_FUSED_STEPS &&
        e.operands.every((o) => !produced.has(o.id) || (o.offset === 0 && o.size === e.n));
      if (!joins) flush();
    }
    if (e) run.push({ index: i, position, e });
    else {
      flush();
      out.push(i);
    }
  });
  flush();
  return out;
}

/** A node of a run: its index in the graph, its position among the kept nodes. */
interface Member {
  readonly index: number;
  readonly position: number;
  readonly e: Elementwise;
}

function build(
  run: readonly Member[],
  readers: Map<number, number[]>,
  escaping: ReadonlySet<number>,
): FusedRun {
  const first = run[0].position, last = run[run.length - 1].position;
  const stepOf = new Map(run.map(({ e }, s) => [e.node.result!, s]));
  const inputs: OperandTemplate[] = [];
  const inputKey = new Map<string, number>();
  const program = new Int32Array(4 * run.length);
  run.forEach(({ e }, s) => {
    program[4 * s] = e.kind;
    program[4 * s + 1] = e.code;
    e.operands.forEach((o, k) => {
      const step = stepOf.get(o.id);
      if (step !== undefined && step < s) {
        program[4 * s + 2 + k] = -1 - step; // resolved below, once the inputs are counted
        return;
      }
      const key = `${o.id}:${o.offset}:${o.size}`;
      let index = inputKey.get(key);
      if (index === undefined) {
        index = inputs.length;
        inputs.push(o);
        inputKey.set(key, index);
      }
      program[4 * s + 2 + k] = index;
    });
  });
  for (let k = 0; k < program.length; k++) {
    if (k % 4 >= 2 && program[k] < 0) program[k] = inputs.length + (-1 - program[k]);
  }
  const outputs: number[] = [];
  const outputSlots = new Int32Array(run.length).fill(-1);
  run.forEach(({ e }, s) => {
    const id = e.node.result!;
    const outside = (readers.get(id) ?? []).some((p) => p < first || p > last);
    if (outside || escaping.has(id)) {
      outputSlots[s] = outputs.length;
      outputs.push(id);
    }
  });
  const head = run[0].e;
  return {
    nodes: run.map(({ index }) => index),
    backend: head.node.backend,
    dtype: head.dtype,
    n: head.n,
    program,
    inputs,
    outputs,
    outputSlots,
  };
}
