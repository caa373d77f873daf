/**
 * A traced graph: what src/graph/trace.ts records from one eager run of a function and
 * src/graph/replay.ts runs again on new inputs. Values are numbered; a node reads and writes
 * values through templates that keep each operand's layout (a view's shape, strides and
 * offset relative to its value's storage), never the trace's own storage, which is gone
 * once the trace ends.
 * @module
 */
import type { DType, TypedArray } from "../dtype.ts";
import type { Backend, Storage } from "../backend/backend.ts";
import type { Tensor } from "../tensor.ts";
import type { TracedVariable, VariableAccess } from "./hooks.ts";

/** Where a value's storage comes from at each call. */
export type ValueSource =
  /** The call's tensor argument `index` (dense; its offset may differ between calls). */
  | { readonly kind: "argument"; readonly index: number }
  /**
   * Fixed across calls: data uploaded while tracing (copied; `values` on the host when small),
   * or a tensor made outside.
   */
  | {
    readonly kind: "constant";
    readonly storage: Storage;
    readonly tensor?: Tensor;
    readonly values?: TypedArray;
  }
  /** Allocated by kernel node `node`: zero-filled when `zeroed`. */
  | { readonly kind: "kernel"; readonly node: number; readonly zeroed: boolean }
  /** Result `output` of host step or variable node `node`, made anew at each call. */
  | { readonly kind: "host"; readonly node: number; readonly output: number };

/** One value of the graph: a storage of `length` elements of `dtype` on `backend`. */
export interface Value {
  readonly id: number;
  readonly source: ValueSource;
  readonly backend: Backend;
  readonly dtype: DType;
  readonly length: number;
}

/** A tensor operand: a view of value `id`, its offset relative to the value's own. */
export interface OperandTemplate {
  readonly id: number;
  readonly dtype: DType;
  readonly shape: readonly number[];
  readonly strides: readonly number[];
  readonly offset: number;
  readonly size: number;
  readonly contiguous: boolean;
}

/** A kernel call's argument: kept as recorded, or standing for a value of the graph. */
export type ArgTemplate =
  | { readonly kind: "literal"; readonly value: unknown }
  | { readonly kind: "operand"; readonly operand: OperandTemplate }
  | { readonly kind: "storage"; readonly id: number }
  | { readonly kind: "array"; readonly items: readonly ArgTemplate[] }
  | { readonly kind: "object"; readonly entries: readonly [string, ArgTemplate][] };

/** A call of a backend method. */
export interface KernelNode {
  readonly kind: "kernel";
  readonly backend: Backend;
  readonly method: string;
  readonly args: readonly ArgTemplate[];
  /** The value the call returned as new storage (allocate, upload, unary, binary). */
  readonly result?: number;
  /** What a kernel returning a number returned while tracing (an index check's -1). */
  readonly returned?: number;
  /** The values it writes: its storage arguments, its result, an operand written in place. */
  readonly writes: readonly number[];
  /** The values it reads. */
  readonly reads: readonly number[];
}

/** A host step (src/graph/hooks.ts): JS run again at each call. */
export interface HostNode {
  readonly kind: "host";
  readonly name: string;
  readonly inputs: readonly OperandTemplate[];
  readonly outputs: readonly OperandTemplate[];
  readonly run: (inputs: readonly Tensor[]) => Tensor[];
  readonly retainsInputs: boolean;
  readonly pure: boolean;
}

/** A variable's value, taken at this point of each call. */
export interface VariableNode {
  readonly kind: "variable";
  readonly variable: TracedVariable;
  readonly access: VariableAccess;
  readonly output: OperandTemplate;
}

export type Node = KernelNode | HostNode | VariableNode;

/** A function's result with its tensors replaced by templates (any other leaf is kept). */
export type ResultTemplate =
  | { readonly kind: "tensor"; readonly operand: OperandTemplate }
  | { readonly kind: "literal"; readonly value: unknown }
  | { readonly kind: "array"; readonly items: readonly ResultTemplate[] }
  | { readonly kind: "object"; readonly entries: readonly [string, ResultTemplate][] };

/** A whole trace. */
export interface Graph {
  readonly values: readonly Value[];
  readonly nodes: readonly Node[];
  readonly result: ResultTemplate;
  /** The value of each tensor argument, in the order of the flattened arguments. */
  readonly arguments: readonly number[];
}

/** The values a node reads. */
export function nodeReads(node: Node): readonly number[] {
  if (node.kind === "kernel") return node.reads;
  if (node.kind === "host") return node.inputs.map((o) => o.id);
  return [];
}

/** The values a node writes. */
export function nodeWrites(node: Node): readonly number[] {
  if (node.kind === "kernel") return node.writes;
  if (node.kind === "host") return node.outputs.map((o) => o.id);
  return [node.output.id];
}

/** The values of a result's tensors. */
export function resultValues(t: ResultTemplate, out: number[] = []): number[] {
  if (t.kind === "tensor") out.push(t.operand.id);
  else if (t.kind === "array") { for (const item of t.items) resultValues(item, out); }
  else if (t.kind === "object") { for (const [, item] of t.entries) resultValues(item, out); }
  return out;
}
