/**
 * TensorFlow's ops as this library's: what a loaded SavedModel's nodes run. Each entry takes
 * the node's evaluated inputs and attributes and returns its outputs, computed eagerly with
 * the public ops (so a loaded model runs on whatever device its inputs are on, and under a
 * tape its gradients are ours). Only inference ops are here; anything else is reported as
 * unsupported before a model runs (load.ts).
 * @module
 */
import type { DType } from "../../dtype.ts";
import { Tensor } from "../../tensor.ts";
import * as m from "../../ops/math.ts";
import * as r from "../../ops/reduce.ts";
import * as v from "../../ops/views.ts";
import * as a from "../../ops/array.ts";
import { matmul } from "../../ops/matmul.ts";
import { castTensor } from "../../ops/cast.ts";
import { constant } from "../../ops/convert.ts";
import { fill, range } from "../../ops/creation.ts";
import { gather } from "../../ops/gather_scatter.ts";
import { oneHot } from "../../ops/one_hot.ts";
import { tile } from "../../ops/tile.ts";
import * as nn from "../../namespaces/nn.ts";
import { dtypeOfCode } from "../../train/bundle/protos.ts";
import type { Padding } from "../../ops/conv_args.ts";
import type { Attr } from "./decode.ts";
import type { Variable } from "../../variable.ts";

/** A variable resource: created when it is first assigned (restore runs first). */
export class VariableHandle {
  variable?: Variable;
  constructor(readonly name: string) {}
}

/** String tensors (checkpoint keys and file names) stay JS strings. */
export interface Strings {
  readonly strings: string[];
  readonly shape: number[];
}

/**
 * A TensorList (the variant Keras's recurrent loops keep their steps in): tensors by index.
 * Lists are values: SetItem makes a new list, as in TensorFlow.
 */
export class TensorList {
  constructor(readonly items: readonly (Tensor | undefined)[], readonly dtype: DType) {}
}

export type Value = Tensor | VariableHandle | Strings | TensorList | null;

/** What an op implementation sees of its node. */
export interface OpContext {
  readonly name: string;
  readonly op: string;
  readonly inputs: readonly Value[];
  attr(name: string): Attr | undefined;
  /** Runs a library function on values; returns its outputs. */
  call(fn: string, inputs: readonly Value[]): Value[];
  /** Makes a handle's variable hold `value` (creating it at the first assignment). */
  assign(handle: VariableHandle, value: Tensor): void;
  /** The tensors of a checkpoint at `prefix`, by key (null dtype: a string, not read). */
  restore(prefix: string, keys: readonly string[], dtypes: readonly (DType | null)[]): Value[];
}

type Impl = (c: OpContext) => Value[];

// --- reading inputs and attributes

function tensorIn(c: OpContext, i: number): Tensor {
  const x = c.inputs[i];
  if (!(x instanceof Tensor)) throw new TypeError(`${c.op} ${c.name}: input ${i} is not a tensor`);
  return x;
}

function numbersIn(c: OpContext, i: number): number[] {
  return Array.from(tensorIn(c, i).dataSync() as ArrayLike<number | bigint>, Number);
}

function stringsIn(c: OpContext, i: number): string[] {
  const x = c.inputs[i];
  if (x === null || !("strings" in x)) {
    throw new TypeError(`${c.op} ${c.name}: input ${i} is not a string tensor`);
  }
  return x.strings;
}

function listIn(c: OpContext, i: number): TensorList {
  const x = c.inputs[i];
  if (!(x instanceof TensorList)) {
    throw new TypeError(`${c.op} ${c.name}: input ${i} is not a TensorList`);
  }
  return x;
}

/** Loops at most this many times: a While that never ends is an error, not a hang. */
const MAX_ITERATIONS = 10_000_000;

function handleIn(c: OpContext, i: number): VariableHandle {
  const x = c.inputs[i];
  if (!(x instanceof VariableHandle)) {
    throw new TypeError(`${c.op} ${c.name}: input ${i} is not a variable`);
  }
  return x;
}

function text(c: OpContext, name: string, fallback = ""): string {
  const x = c.attr(name);
  return x && "s" in x ? new TextDecoder().decode(x.s) : fallback;
}

function ints(c: OpContext, name: string): number[] {
  const x = c.attr(name);
  return x && "list" in x ? x.list.i : [];
}

function int(c: OpContext, name: string, fallback = 0): number {
  const x = c.attr(name);
  return x && "i" in x ? x.i : fallback;
}

function bool(c: OpContext, name: string, fallback = false): boolean {
  const x = c.attr(name);
  return x && "b" in x ? x.b : fallback;
}

function float(c: OpContext, name: string, fallback: number): number {
  const x = c.attr(name);
  return x && "f" in x ? x.f : fallback;
}

function dtypeAttr(c: OpContext, name: string): DType {
  const x = c.attr(name);
  const dtype = x && "type" in x ? dtypeOfCode(x.type) : undefined;
  if (dtype === undefined) {
    throw new TypeError(`${c.op} ${c.name}: attr ${name} is not a type this library has`);
  }
  return dtype;
}

/** A 4-entry attribute list (NHWC or NCHW order) as the [h, w] our ops take. */
function spatial(c: OpContext, name: string): [number, number] {
  const list = ints(c, name);
  return text(c, "data_format", "NHWC") === "NCHW" ? [list[2], list[3]] : [list[1], list[2]];
}

function padding(c: OpContext): Padding {
  const p = text(c, "padding");
  if (p === "SAME" || p === "VALID") return p;
  const e = ints(c, "explicit_paddings");
  return [[e[0], e[1]], [e[2], e[3]], [e[4], e[5]], [e[6], e[7]]];
}

const format = (c: OpContext) => text(c, "data_format", "NHWC") as "NHWC" | "NCHW";

const unary = (f: (x: Tensor) => Tensor): Impl => (c) => [f(tensorIn(c, 0))];
const binary =
  (f: (x: Tensor, y: Tensor) => Tensor): Impl => (c) => [f(tensorIn(c, 0), tensorIn(c, 1))];

function reduction(f: (x: Tensor, axes: number[], keep: boolean) => Tensor): Impl {
  return (c) => [f(tensorIn(c, 0), numbersIn(c, 1), bool(c, "keep_dims"))];
}

/** The ops a SavedModel's nodes may use, by TensorFlow's name. */
export const TF_OPS: Record<string, Impl> = {
  // Structure
  Identity: (c) => [c.inputs[0]],
  IdentityN: (c) => [...c.inputs],
  StopGradient: (c) => [c.inputs[0]],
  NoOp: () => [],
  StatefulPartitionedCall: (c) => c.call(funcAttr(c), c.inputs),
  PartitionedCall: (c) => c.call(funcAttr(c), c.inputs),
  // Variables and checkpoints
  ReadVariableOp: (c) => {
    const h = handleIn(c, 0);
    if (!h.variable) {
      throw new Error(`ReadVariableOp ${c.name}: variable ${h.name} was never restored`);
    }
    return [h.variable.read()];
  },
  AssignVariableOp: (c) => (c.assign(handleIn(c, 0), tensorIn(c, 1)), []),
  VarIsInitializedOp: (c) => [m.cast(Number(handleIn(c, 0).variable !== undefined), "bool")],
  DisableCopyOnRead: () => [],
  RestoreV2: (c) => {
    const dtypes = (c.attr("dtypes") as { list: { type: number[] } }).list.type.map((t) =>
      dtypeOfCode(t) ?? null
    );
    return c.restore(stringsIn(c, 0)[0], stringsIn(c, 1), dtypes);
  },
  // Elementwise
  AddV2: binary(m.add),
  Add: binary(m.add),
  Sub: binary(m.subtract),
  Mul: binary(m.multiply),
  RealDiv: binary(m.divide),
  Maximum: binary(m.maximum),
  Minimum: binary(m.minimum),
  Pow: binary(m.pow),
  SquaredDifference: binary(m.squaredDifference),
  FloorDiv: binary(m.floorDiv),
  FloorMod: binary(m.mod),
  Greater: binary(m.greater),
  GreaterEqual: binary(m.greaterEqual),
  Less: binary(m.less),
  LessEqual: binary(m.lessEqual),
  Equal: binary(m.equal),
  NotEqual: binary(m.notEqual),
  LogicalAnd: binary(m.logicalAnd),
  LogicalOr: binary(m.logicalOr),
  LogicalNot: unary(m.logicalNot),
  Neg: unary(m.neg),
  Abs: unary(m.abs),
  Exp: unary(m.exp),
  Log: unary(m.log),
  Sqrt: unary(m.sqrt),
  Rsqrt: unary(m.rsqrt),
  Square: unary(m.square),
  Reciprocal: unary(m.reciprocal),
  Tanh: unary(m.tanh),
  Sigmoid: unary(m.sigmoid),
  Relu: unary(nn.relu),
  Relu6: unary(nn.relu6),
  Elu: unary(nn.elu),
  Softplus: unary(nn.softplus),
  Floor: unary(m.floor),
  Erf: unary(m.erf),
  SelectV2: (c) => [m.where(tensorIn(c, 0), tensorIn(c, 1), tensorIn(c, 2))],
  Cast: (c) => [castTensor(tensorIn(c, 0), dtypeAttr(c, "DstT"))],
  // Products, convolutions, normalisation
  MatMul: (c) => [matmul(tensorIn(c, 0), tensorIn(c, 1), {
    transposeA: bool(c, "transpose_a"),
    transposeB: bool(c, "transpose_b"),
  })],
  BatchMatMulV2: (
    c,
  ) => [
    matmul(tensorIn(c, 0), tensorIn(c, 1), {
      transposeA: bool(c, "adj_x"),
      transposeB: bool(c, "adj_y"),
    }),
  ],
  BiasAdd: (c) => [nn.biasAdd(tensorIn(c, 0), tensorIn(c, 1), format(c))],
  Conv2D: (c) => [nn.conv2d(tensorIn(c, 0), tensorIn(c, 1), spatial(c, "strides"), padding(c), {
    dataFormat: format(c),
    dilations: ints(c, "dilations").length ? spatial(c, "dilations") : 1,
  })],
  MaxPool: (
    c,
  ) => [
    nn.maxPool(tensorIn(c, 0), spatial(c, "ksize"), spatial(c, "strides"), padding(c), {
      dataFormat: format(c),
    }),
  ],
  AvgPool: (
    c,
  ) => [
    nn.avgPool(tensorIn(c, 0), spatial(c, "ksize"), spatial(c, "strides"), padding(c), {
      dataFormat: format(c),
    }),
  ],
  FusedBatchNormV3: (c) => {
    if (bool(c, "is_training", true)) {
      throw new Error(`FusedBatchNormV3 ${c.name}: training mode is not supported`);
    }
    const x = tensorIn(c, 0), channelsLast = format(c) === "NHWC";
    const perChannel = (t: Tensor) => channelsLast ? t : t.reshape([t.size, 1, 1]);
    const [scale, offset, mean, variance] = [1, 2, 3, 4].map((i) => perChannel(tensorIn(c, i)));
    const y = nn.batchNormalization(x, mean, variance, offset, scale, float(c, "epsilon", 1e-3));
    return [y, mean, variance, mean, variance, null];
  },
  Softmax: unary(nn.softmax),
  LogSoftmax: unary(nn.logSoftmax),
  // Reductions
  Sum: reduction((x, axes, keep) => r.reduceSum(x, axes, { keepDims: keep })),
  Mean: reduction((x, axes, keep) => r.reduceMean(x, axes, { keepDims: keep })),
  Max: reduction((x, axes, keep) => r.reduceMax(x, axes, { keepDims: keep })),
  Min: reduction((x, axes, keep) => r.reduceMin(x, axes, { keepDims: keep })),
  Prod: reduction((x, axes, keep) => r.reduceProd(x, axes, { keepDims: keep })),
  All: reduction((x, axes, keep) => r.reduceAll(x, axes, { keepDims: keep })),
  Any: reduction((x, axes, keep) => r.reduceAny(x, axes, { keepDims: keep })),
  ArgMax: (
    c,
  ) => [castTensor(r.argMax(tensorIn(c, 0), numbersIn(c, 1)[0]), dtypeAttr(c, "output_type"))],
  ArgMin: (
    c,
  ) => [castTensor(r.argMin(tensorIn(c, 0), numbersIn(c, 1)[0]), dtypeAttr(c, "output_type"))],
  // Shapes
  Reshape: (c) => [v.reshape(tensorIn(c, 0), numbersIn(c, 1))],
  Shape: (c) => [castTensor(constant(Int32Array.from(tensorIn(c, 0).shape)), dtypeOrInt32(c))],
  Squeeze: (
    c,
  ) => [
    v.squeeze(tensorIn(c, 0), ints(c, "squeeze_dims").length ? ints(c, "squeeze_dims") : undefined),
  ],
  ExpandDims: (c) => [v.expandDims(tensorIn(c, 0), numbersIn(c, 1)[0])],
  Transpose: (c) => [v.transpose(tensorIn(c, 0), numbersIn(c, 1))],
  ConcatV2: (c) => {
    const n = c.inputs.length - 1;
    return [a.concat(c.inputs.slice(0, n).map((_, i) => tensorIn(c, i)), numbersIn(c, n)[0])];
  },
  Pack: (c) => [a.stack(c.inputs.map((_, i) => tensorIn(c, i)), int(c, "axis"))],
  StridedSlice: (
    c,
  ) => [v.stridedSlice(tensorIn(c, 0), numbersIn(c, 1), numbersIn(c, 2), numbersIn(c, 3), {
    beginMask: int(c, "begin_mask"),
    endMask: int(c, "end_mask"),
    ellipsisMask: int(c, "ellipsis_mask"),
    newAxisMask: int(c, "new_axis_mask"),
    shrinkAxisMask: int(c, "shrink_axis_mask"),
  })],
  Fill: (c) => [fill(numbersIn(c, 0), Number(tensorIn(c, 1).dataSync()[0]), tensorIn(c, 1).dtype)],
  Tile: (c) => [tile(tensorIn(c, 0), numbersIn(c, 1))],
  Pad: (c) => [a.pad(tensorIn(c, 0), pairs(numbersIn(c, 1)))],
  GatherV2: (
    c,
  ) => [
    gather(tensorIn(c, 0), tensorIn(c, 1), {
      axis: numbersIn(c, 2)[0],
      batchDims: int(c, "batch_dims"),
    }),
  ],
  Split: (c) => a.split(tensorIn(c, 1), int(c, "num_split"), numbersIn(c, 0)[0]),
  Range: (c) => {
    const [start, limit, delta] = [0, 1, 2].map((i) => Number(tensorIn(c, i).dataSync()[0]));
    return [range(start, limit, delta, tensorIn(c, 0).dtype)];
  },
  // Loops (Keras's recurrent layers)
  While: (c) => {
    const cond = funcAttr(c, "cond"), body = funcAttr(c, "body");
    let vars: Value[] = [...c.inputs];
    for (let i = 0;; i++) {
      const [go] = c.call(cond, vars);
      if (!(go instanceof Tensor) || !Number(go.dataSync()[0])) return vars;
      if (i === MAX_ITERATIONS) {
        throw new Error(`While ${c.name}: more than ${MAX_ITERATIONS} iterations`);
      }
      vars = c.call(body, vars);
    }
  },
  StatelessWhile: (c) => TF_OPS.While(c),
  If: (c) => {
    const cond = tensorIn(c, 0);
    const taken = Number(cond.size === 1 ? cond.dataSync()[0] : cond.size) !== 0;
    return c.call(funcAttr(c, taken ? "then_branch" : "else_branch"), c.inputs.slice(1));
  },
  StatelessIf: (c) => TF_OPS.If(c),
  // tf.switch_case: an index out of range runs the last branch (the default), as TensorFlow.
  Case: (c) => {
    const branches = c.attr("branches");
    if (!branches || !("list" in branches) || branches.list.func.length === 0) {
      throw new TypeError(`Case ${c.name}: no branches`);
    }
    const names = branches.list.func;
    const index = Number(tensorIn(c, 0).dataSync()[0]);
    const k = Number.isInteger(index) && index >= 0 && index < names.length
      ? index
      : names.length - 1;
    return c.call(names[k], c.inputs.slice(1));
  },
  StatelessCase: (c) => TF_OPS.Case(c),
  TensorListReserve: (
    c,
  ) => [
    new TensorList(new Array(numbersIn(c, 1)[0]).fill(undefined), dtypeAttr(c, "element_dtype")),
  ],
  TensorListFromTensor: (c) => [new TensorList(a.unstack(tensorIn(c, 0)), tensorIn(c, 0).dtype)],
  TensorListGetItem: (c) => {
    const list = listIn(c, 0), i = numbersIn(c, 1)[0];
    const item = list.items[i];
    if (!item) {
      throw new Error(`TensorListGetItem ${c.name}: item ${i} of ${list.items.length} is unset`);
    }
    return [item];
  },
  TensorListSetItem: (c) => {
    const list = listIn(c, 0), i = numbersIn(c, 1)[0];
    const items = [...list.items];
    items[i] = tensorIn(c, 2);
    return [new TensorList(items, list.dtype)];
  },
  TensorListStack: (c) => {
    const list = listIn(c, 0);
    const items = list.items.map((t, i) => {
      if (!t) {
        throw new Error(`TensorListStack ${c.name}: item ${i} of ${list.items.length} is unset`);
      }
      return t;
    });
    return [a.stack(items, 0)];
  },
  OneHot: (c) => [oneHot(tensorIn(c, 0), numbersIn(c, 1)[0], {
    onValue: Number(tensorIn(c, 2).dataSync()[0]),
    offValue: Number(tensorIn(c, 3).dataSync()[0]),
    axis: int(c, "axis", -1),
    dtype: tensorIn(c, 2).dtype,
  })],
};

function funcAttr(c: OpContext, name = "f"): string {
  const f = c.attr(name);
  if (!f || !("func" in f)) throw new TypeError(`${c.op} ${c.name}: no function attr ${name}`);
  return f.func;
}

function dtypeOrInt32(c: OpContext): DType {
  return c.attr("out_type") ? dtypeAttr(c, "out_type") : "int32";
}

function pairs(flat: number[]): [number, number][] {
  const out: [number, number][] = [];
  for (let i = 0; i < flat.length; i += 2) out.push([flat[i], flat[i + 1]]);
  return out;
}

/** Output argument names of TensorFlow ops with several, in order (for "node:arg:k"). */
export const OUTPUT_ARGS: Record<string, readonly string[]> = {
  FusedBatchNormV3: [
    "y",
    "batch_mean",
    "batch_variance",
    "reserve_space_1",
    "reserve_space_2",
    "reserve_space_3",
  ],
};
