/**
 * Method forms of the ops, attached to Tensor.prototype: `x.add(1).mul(2)`,
 * `x.matmul(y)`, `x.reshape([2, -1])`, ... Each method is the op of the same meaning
 * with `this` as its first argument; tensor.ts stays free of op imports.
 * @module
 */
import type { DType } from "./dtype.ts";
import { Tensor, type TensorLike } from "./tensor.ts";
import * as math from "./ops/math.ts";
import * as reduce from "./ops/reduce.ts";
import * as views from "./ops/views.ts";
import * as array from "./ops/array.ts";
import * as tiling from "./ops/tile.ts";
import * as nn from "./ops/nn.ts";
import { matmul, type MatmulOptions } from "./ops/matmul.ts";
import { delegateTensorMethods } from "./variable.ts";

type Unary = () => Tensor;
type Binary = (other: TensorLike) => Tensor;
type Reduction = (axis?: reduce.Axis, keepDims?: boolean) => Tensor;

declare module "./tensor.ts" {
  interface Tensor {
    add: Binary;
    sub: Binary;
    mul: Binary;
    div: Binary;
    pow: Binary;
    maximum: Binary;
    minimum: Binary;
    mod: Binary;
    floorDiv: Binary;
    squaredDifference: Binary;
    equal: Binary;
    notEqual: Binary;
    less: Binary;
    lessEqual: Binary;
    greater: Binary;
    greaterEqual: Binary;
    logicalAnd: Binary;
    logicalOr: Binary;
    logicalXor: Binary;
    atan2: Binary;
    neg: Unary;
    abs: Unary;
    sign: Unary;
    exp: Unary;
    log: Unary;
    log1p: Unary;
    expm1: Unary;
    sqrt: Unary;
    rsqrt: Unary;
    square: Unary;
    reciprocal: Unary;
    sin: Unary;
    cos: Unary;
    tan: Unary;
    asin: Unary;
    acos: Unary;
    atan: Unary;
    sinh: Unary;
    cosh: Unary;
    tanh: Unary;
    erf: Unary;
    isInf: Unary;
    sigmoid: Unary;
    relu: Unary;
    relu6: Unary;
    elu: Unary;
    softplus: Unary;
    floor: Unary;
    ceil: Unary;
    round: Unary;
    isNaN: Unary;
    isFinite: Unary;
    logicalNot: Unary;
    sum: Reduction;
    mean: Reduction;
    prod: Reduction;
    max: Reduction;
    min: Reduction;
    all: Reduction;
    any: Reduction;
    argMax(axis?: number): Tensor;
    argMin(axis?: number): Tensor;
    matmul(other: TensorLike, options?: MatmulOptions): Tensor;
    cast(dtype: DType): Tensor;
    reshape(shape: readonly number[]): Tensor;
    flatten(): Tensor;
    expandDims(axis?: number): Tensor;
    squeeze(axis?: number | readonly number[]): Tensor;
    transpose(perm?: readonly number[]): Tensor;
    slice(begin: number | readonly number[], size?: number | readonly number[]): Tensor;
    reverse(axis: number | readonly number[]): Tensor;
    broadcastTo(shape: readonly number[]): Tensor;
    tile(multiples: readonly number[]): Tensor;
    pad(paddings: readonly (readonly [number, number])[], options?: array.PadOptions): Tensor;
    clipByValue(lo: TensorLike, hi: TensorLike): Tensor;
    softmax(axis?: number): Tensor;
    logSoftmax(axis?: number): Tensor;
  }
}

const binaries: Record<string, (a: TensorLike, b: TensorLike) => Tensor> = {
  add: math.add,
  sub: math.subtract,
  mul: math.multiply,
  div: math.divide,
  pow: math.pow,
  maximum: math.maximum,
  minimum: math.minimum,
  mod: math.mod,
  floorDiv: math.floorDiv,
  squaredDifference: math.squaredDifference,
  equal: math.equal,
  notEqual: math.notEqual,
  less: math.less,
  lessEqual: math.lessEqual,
  greater: math.greater,
  greaterEqual: math.greaterEqual,
  logicalAnd: math.logicalAnd,
  logicalOr: math.logicalOr,
  logicalXor: math.logicalXor,
  atan2: math.atan2,
};

const unaries: Record<string, (x: TensorLike) => Tensor> = {
  neg: math.neg,
  abs: math.abs,
  sign: math.sign,
  exp: math.exp,
  log: math.log,
  log1p: math.log1p,
  expm1: math.expm1,
  sqrt: math.sqrt,
  rsqrt: math.rsqrt,
  square: math.square,
  reciprocal: math.reciprocal,
  sin: math.sin,
  cos: math.cos,
  tan: math.tan,
  asin: math.asin,
  acos: math.acos,
  atan: math.atan,
  sinh: math.sinh,
  cosh: math.cosh,
  tanh: math.tanh,
  erf: math.erf,
  isInf: math.isInf,
  sigmoid: math.sigmoid,
  relu: math.relu,
  relu6: math.relu6,
  elu: math.elu,
  softplus: math.softplus,
  floor: math.floor,
  ceil: math.ceil,
  round: math.round,
  isNaN: math.isNaN,
  isFinite: math.isFinite,
  logicalNot: math.logicalNot,
};

const reductions: Record<string, typeof reduce.reduceSum> = {
  sum: reduce.reduceSum,
  mean: reduce.reduceMean,
  prod: reduce.reduceProd,
  max: reduce.reduceMax,
  min: reduce.reduceMin,
  all: reduce.reduceAll,
  any: reduce.reduceAny,
};

// deno-lint-ignore no-explicit-any
const proto = Tensor.prototype as any;
for (const [name, fn] of Object.entries(binaries)) {
  proto[name] = function (this: Tensor, other: TensorLike) {
    return fn(this, other);
  };
}
for (const [name, fn] of Object.entries(unaries)) {
  proto[name] = function (this: Tensor) {
    return fn(this);
  };
}
for (const [name, fn] of Object.entries(reductions)) {
  proto[name] = function (this: Tensor, axis?: reduce.Axis, keepDims = false) {
    return fn(this, axis, { keepDims });
  };
}

Object.assign(Tensor.prototype, {
  argMax(this: Tensor, axis = 0) {
    return reduce.argMax(this, axis);
  },
  argMin(this: Tensor, axis = 0) {
    return reduce.argMin(this, axis);
  },
  matmul(this: Tensor, other: TensorLike, options?: MatmulOptions) {
    return matmul(this, other, options);
  },
  cast(this: Tensor, dtype: DType) {
    return math.cast(this, dtype);
  },
  reshape(this: Tensor, shape: readonly number[]) {
    return views.reshape(this, shape);
  },
  flatten(this: Tensor) {
    return views.reshape(this, [-1]);
  },
  expandDims(this: Tensor, axis = 0) {
    return views.expandDims(this, axis);
  },
  squeeze(this: Tensor, axis?: number | readonly number[]) {
    return views.squeeze(this, axis);
  },
  transpose(this: Tensor, perm?: readonly number[]) {
    return views.transpose(this, perm);
  },
  slice(this: Tensor, begin: number | readonly number[], size?: number | readonly number[]) {
    return views.slice(this, begin, size);
  },
  reverse(this: Tensor, axis: number | readonly number[]) {
    return views.reverse(this, axis);
  },
  broadcastTo(this: Tensor, shape: readonly number[]) {
    return views.broadcastTo(this, shape);
  },
  tile(this: Tensor, multiples: readonly number[]) {
    return tiling.tile(this, multiples);
  },
  pad(this: Tensor, paddings: readonly (readonly [number, number])[], options?: array.PadOptions) {
    return array.pad(this, paddings, options);
  },
  clipByValue(this: Tensor, lo: TensorLike, hi: TensorLike) {
    return math.clipByValue(this, lo, hi);
  },
  softmax(this: Tensor, axis = -1) {
    return nn.softmax(this, axis);
  },
  logSoftmax(this: Tensor, axis = -1) {
    return nn.logSoftmax(this, axis);
  },
});

delegateTensorMethods();
