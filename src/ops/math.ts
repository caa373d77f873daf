/**
 * Elementwise math: unary ops, binary ops with NumPy broadcasting and the promotion
 * rules of dtype.ts, comparisons, logical ops, where and cast.
 *
 * Integer tensors: +, -, *, maximum, minimum, floorDiv, mod and pow stay integer and
 * wrap on overflow; divide follows TensorFlow's truediv (uint8 -> float32, int32 and
 * int64 -> float64); integer division or modulo by zero and negative integer powers
 * are errors. Float-only ops (exp, log, sin, ...) reject integer tensors, as
 * TensorFlow does: cast first.
 * @module
 */
import { checkDType, type DType, isFloat, isInteger, promoteTypes } from "../dtype.ts";
import { Binary, Unary } from "../native/codes.ts";
import { Tensor, type TensorLike } from "../tensor.ts";
import { castTensor } from "./cast.ts";
import { toTensor } from "./convert.ts";
import { backendOf } from "../backend/backend.ts";
import { broadcastShapes, checkSize, sameShape, sizeOf } from "../shape.ts";
import { zerosLike } from "./creation.ts";
import { active, record1 } from "../tape.ts";

/** Which dtypes an op takes. */
type Accepts = "float" | "numeric" | "bool" | "any";

/**
 * NOTE: every op's hot path (the dtype test, the operand conversion, the kernel call, the
 * output's allocation, the Tensor constructor) keeps its error texts and rare cases in
 * functions of their own: V8 inlines a call chain only while its bytecode fits a budget of
 * 920 bytes (`--trace-turbo-inlining` shows it), and with them inline 100 one-element binary
 * ops took 16-17 us instead of 9-10. docs/benchmarks.md has the runs.
 */
function checkAccepts(op: string, dtype: DType, accepts: Accepts): void {
  if (!ACCEPTED[accepts](dtype)) throw acceptsError(op, dtype, accepts);
}

/** Each Accepts as a test, small enough that V8 inlines it whatever the budget. */
const ACCEPTED: Record<Accepts, (dtype: DType) => boolean> = {
  float: isFloat,
  numeric: (dtype) => dtype !== "bool",
  bool: (dtype) => dtype === "bool",
  any: () => true,
};

function acceptsError(op: string, dtype: DType, accepts: Accepts): TypeError {
  const wanted = accepts === "float"
    ? "a floating-point tensor (cast integers first)"
    : accepts === "numeric"
    ? "a numeric tensor (not bool)"
    : "a bool tensor";
  return new TypeError(`${op}: expected ${wanted}, got ${dtype}`);
}

/** An elementwise op of one tensor. */
export type UnaryOp = (x: TensorLike) => Tensor;
/** An elementwise op of two broadcast tensors. */
export type BinaryOp = (a: TensorLike, b: TensorLike) => Tensor;

/** d(op)/dx times dy, from the input x and the output y (written with ops). */
type UnaryGrad = (dy: Tensor, x: Tensor, y: Tensor) => Tensor;
/** One thunk per operand: the gradients of a and b, computed only when needed. */
type BinaryGrad = (
  dy: Tensor,
  a: Tensor,
  b: Tensor,
  y: Tensor,
) => [(() => Tensor) | undefined, (() => Tensor) | undefined];

/** No gradient flows (piecewise-constant ops): zeros, as TensorFlow. */
const ZERO_GRAD: UnaryGrad = (dy) => zerosLike(dy);

/** out = op(x), elementwise, on x's device, written as `outDtype`. */
function unaryKernel(op: string, code: number, x: Tensor, outDtype: DType): Tensor {
  return new Tensor(x.backend.unary(op, code, x, outDtype), outDtype, x.shape);
}

/**
 * out = op(x, y) with broadcasting, x and y of one dtype, written as `outDtype`. NOTE: one
 * shape inline, the other cases (one side a single value, a broadcast) in outShape.
 */
function binaryKernel(op: string, code: number, x: Tensor, y: Tensor, outDtype: DType): Tensor {
  const backend = x.backend;
  if (y.backend !== backend) backendOf(op, x, y); // throws, naming both devices
  const shape = sameShape(x.shape, y.shape) ? x.shape : outShape(op, x, y);
  const n = shape === x.shape ? x.size : shape === y.shape ? y.size : sizeOf(shape);
  return new Tensor(backend.binary(op, code, x, y, shape, n, outDtype), outDtype, shape);
}

/** The shape of op(x, y) for x and y of different shapes: one of them when the other holds
 * a single value of no higher rank, else the broadcast shape, checked. */
function outShape(op: string, x: Tensor, y: Tensor): readonly number[] {
  if (y.size === 1 && y.rank <= x.rank) return x.shape;
  if (x.size === 1 && x.rank <= y.rank) return y.shape;
  const shape = broadcastShapes(op, x.shape, y.shape);
  checkSize(op, shape);
  return shape;
}

function unaryOp(
  op: string,
  code: number,
  accepts: Accepts,
  grad?: UnaryGrad,
  predicate = false,
): UnaryOp {
  const accepted = ACCEPTED[accepts];
  return (x: TensorLike): Tensor => {
    const t = x instanceof Tensor ? x : toTensor(op, x);
    if (!accepted(t.dtype)) throw acceptsError(op, t.dtype, accepts);
    const y = unaryKernel(op, code, t, predicate ? "bool" : t.dtype);
    if (grad && active.length !== 0) record1(op, [t], y, (dy) => [() => grad(dy, t, y)]);
    return y;
  };
}

/** Converts both operands (JS values take the tensor's dtype) and promotes them to one dtype. */
export function binaryOperands(op: string, a: TensorLike, b: TensorLike): [Tensor, Tensor] {
  if (a instanceof Tensor && b instanceof Tensor && a.dtype === b.dtype) return [a, b];
  return convertOperands(op, a, b);
}

function convertOperands(op: string, a: TensorLike, b: TensorLike): [Tensor, Tensor] {
  let x: Tensor, y: Tensor;
  if (a instanceof Tensor) {
    x = a;
    y = toTensor(op, b, a.dtype, a.backend);
  } else if (b instanceof Tensor) {
    y = b;
    x = toTensor(op, a, b.dtype, b.backend);
  } else {
    x = toTensor(op, a);
    y = toTensor(op, b, x.dtype, x.backend);
  }
  if (x.dtype !== y.dtype) {
    const dtype = promoteTypes(x.dtype, y.dtype);
    x = castTensor(x, dtype);
    y = castTensor(y, dtype);
  }
  return [x, y];
}

function binaryOp(
  op: string,
  code: number,
  accepts: Accepts,
  grad?: BinaryGrad,
  compare = false,
): BinaryOp {
  const accepted = ACCEPTED[accepts];
  return (a: TensorLike, b: TensorLike): Tensor => {
    const [x, y] = binaryOperands(op, a, b);
    if (!accepted(x.dtype)) throw acceptsError(op, x.dtype, accepts);
    const out = binaryKernel(op, code, x, y, compare ? "bool" : x.dtype);
    if (grad && active.length !== 0) record1(op, [x, y], out, (dy) => grad(dy, x, y, out));
    return out;
  };
}

/** where(cond, dy, 0): the gradient routed to the elements cond selects. */
function routed(cond: Tensor, dy: Tensor): Tensor {
  return where(cond, dy, zerosLike(dy));
}

// ---- unary ---------------------------------------------------------------------------

/** -x. @example tf.neg([1, -2]) // [-1, 2] */
export const neg: UnaryOp = unaryOp("neg", Unary.NEG, "numeric", (dy) => neg(dy));
/** |x|. @example tf.abs([-1, 2]) // [1, 2] */
export const abs: UnaryOp = unaryOp("abs", Unary.ABS, "numeric", (dy, x) => multiply(dy, sign(x)));
/** -1, 0 or 1 (NaN stays NaN). @example tf.sign([-3, 0, 2]) // [-1, 0, 1] */
export const sign: UnaryOp = unaryOp("sign", Unary.SIGN, "numeric", ZERO_GRAD);
/** e^x. @example tf.exp([0, 1]) // [1, 2.7182817] */
export const exp: UnaryOp = unaryOp("exp", Unary.EXP, "float", (dy, _x, y) => multiply(dy, y));
/** Natural logarithm. @example tf.log([1, Math.E]) // [0, 1] */
export const log: UnaryOp = unaryOp("log", Unary.LOG, "float", (dy, x) => divide(dy, x));
/** log(1 + x), accurate near 0. @example tf.log1p([0]) // [0] */
export const log1p: UnaryOp = unaryOp(
  "log1p",
  Unary.LOG1P,
  "float",
  (dy, x) => divide(dy, add(x, 1)),
);
/** e^x - 1, accurate near 0. @example tf.expm1([0]) // [0] */
export const expm1: UnaryOp = unaryOp(
  "expm1",
  Unary.EXPM1,
  "float",
  (dy, _x, y) => multiply(dy, add(y, 1)),
);
/** Square root. @example tf.sqrt([4, 9]) // [2, 3] */
export const sqrt: UnaryOp = unaryOp(
  "sqrt",
  Unary.SQRT,
  "float",
  (dy, _x, y) => divide(multiply(dy, 0.5), y),
);
/** 1 / sqrt(x). @example tf.rsqrt([4]) // [0.5] */
export const rsqrt: UnaryOp = unaryOp(
  "rsqrt",
  Unary.RSQRT,
  "float",
  (dy, x, y) => multiply(multiply(dy, -0.5), divide(y, x)),
);
/** x * x. @example tf.square([3]) // [9] */
export const square: UnaryOp = unaryOp(
  "square",
  Unary.SQUARE,
  "numeric",
  (dy, x) => multiply(dy, multiply(x, 2)),
);
/** 1 / x. @example tf.reciprocal([4]) // [0.25] */
export const reciprocal: UnaryOp = unaryOp(
  "reciprocal",
  Unary.RECIPROCAL,
  "float",
  (dy, _x, y) => neg(multiply(dy, square(y))),
);
/** Sine. @example tf.sin([0]) // [0] */
export const sin: UnaryOp = unaryOp("sin", Unary.SIN, "float", (dy, x) => multiply(dy, cos(x)));
/** Cosine. @example tf.cos([0]) // [1] */
export const cos: UnaryOp = unaryOp(
  "cos",
  Unary.COS,
  "float",
  (dy, x) => neg(multiply(dy, sin(x))),
);
/** Tangent. @example tf.tan([0]) // [0] */
export const tan: UnaryOp = unaryOp(
  "tan",
  Unary.TAN,
  "float",
  (dy, _x, y) => multiply(dy, add(square(y), 1)),
);
/** Arcsine. @example tf.asin([0]) // [0] */
export const asin: UnaryOp = unaryOp(
  "asin",
  Unary.ASIN,
  "float",
  (dy, x) => multiply(dy, rsqrt(subtract(1, square(x)))),
);
/** Arccosine. @example tf.acos([1]) // [0] */
export const acos: UnaryOp = unaryOp(
  "acos",
  Unary.ACOS,
  "float",
  (dy, x) => neg(multiply(dy, rsqrt(subtract(1, square(x))))),
);
/** Arctangent. @example tf.atan([0]) // [0] */
export const atan: UnaryOp = unaryOp(
  "atan",
  Unary.ATAN,
  "float",
  (dy, x) => divide(dy, add(square(x), 1)),
);
/** Hyperbolic sine. @example tf.sinh([0]) // [0] */
export const sinh: UnaryOp = unaryOp("sinh", Unary.SINH, "float", (dy, x) => multiply(dy, cosh(x)));
/** Hyperbolic cosine. @example tf.cosh([0]) // [1] */
export const cosh: UnaryOp = unaryOp("cosh", Unary.COSH, "float", (dy, x) => multiply(dy, sinh(x)));
/** Hyperbolic tangent. @example tf.tanh([0]) // [0] */
export const tanh: UnaryOp = unaryOp(
  "tanh",
  Unary.TANH,
  "float",
  (dy, _x, y) => multiply(dy, subtract(1, square(y))),
);
/** 1 / (1 + e^-x), computed without overflow. @example tf.sigmoid([0]) // [0.5] */
export const sigmoid: UnaryOp = unaryOp(
  "sigmoid",
  Unary.SIGMOID,
  "float",
  (dy, _x, y) => multiply(dy, multiply(y, subtract(1, y))),
);
/** max(x, 0) (NaN stays NaN). @example tf.nn.relu([-1, 2]) // [0, 2] */
export const relu: UnaryOp = unaryOp(
  "relu",
  Unary.RELU,
  "numeric",
  (dy, x) => reluGrad(dy, x),
);

/**
 * dy where x > 0, else 0: relu's gradient in one kernel (a mask and a zeros tensor the
 * size of x otherwise). Its own gradient, for higher derivatives, routes the same way.
 */
export function reluGrad(dy: Tensor, x: Tensor): Tensor {
  const out = binaryKernel("reluGrad", Binary.RELU_GRAD, dy, x, dy.dtype);
  if (active.length !== 0) {
    record1("reluGrad", [dy, x], out, (ddx) => [() => reluGrad(ddx, x), undefined]);
  }
  return out;
}
/** min(max(x, 0), 6). @example tf.nn.relu6([-1, 7]) // [0, 6] */
export const relu6: UnaryOp = unaryOp(
  "relu6",
  Unary.RELU6,
  "numeric",
  (dy, x) => routed(logicalAnd(greater(x, 0), less(x, 6)), dy),
);
/** x for x >= 0, e^x - 1 below. @example tf.nn.elu([-1]) // [-0.63212055] */
export const elu: UnaryOp = unaryOp(
  "elu",
  Unary.ELU,
  "float",
  (dy, x, y) => where(less(x, 0), multiply(dy, add(y, 1)), dy),
);
/** log(1 + e^x), computed without overflow. @example tf.nn.softplus([0]) // [0.6931472] */
export const softplus: UnaryOp = unaryOp(
  "softplus",
  Unary.SOFTPLUS,
  "float",
  (dy, x) => multiply(dy, sigmoid(x)),
);
/** Round down. @example tf.floor([1.5]) // [1] */
export const floor: UnaryOp = unaryOp("floor", Unary.FLOOR, "float", ZERO_GRAD);
/** Round up. @example tf.ceil([1.5]) // [2] */
export const ceil: UnaryOp = unaryOp("ceil", Unary.CEIL, "float", ZERO_GRAD);
/** Round half to even, as TensorFlow's round. @example tf.round([0.5, 1.5]) // [0, 2] */
export const round: UnaryOp = unaryOp("round", Unary.ROUND, "float", ZERO_GRAD);
/** The error function. @example tf.erf([0]) // [0] */
export const erf: UnaryOp = unaryOp(
  "erf",
  Unary.ERF,
  "float",
  (dy, x) => multiply(dy, multiply(exp(neg(square(x))), 2 / Math.sqrt(Math.PI))),
);
/** Whether each element is NaN. @example tf.isNaN([NaN, 1]) // [true, false] */
export const isNaN: UnaryOp = unaryOp("isNaN", Unary.IS_NAN, "float", undefined, true);
/** Whether each element is finite. @example tf.isFinite([Infinity, 1]) // [false, true] */
export const isFinite: UnaryOp = unaryOp("isFinite", Unary.IS_FINITE, "float", undefined, true);
/** Whether each element is +-Infinity. @example tf.isInf([Infinity, 1]) // [true, false] */
export const isInf: UnaryOp = unaryOp("isInf", Unary.IS_INF, "float", undefined, true);
/** Logical not of a bool tensor. @example tf.logicalNot([true]) // [false] */
export const logicalNot: UnaryOp = unaryOp("logicalNot", Unary.LOGICAL_NOT, "bool");

// ---- binary --------------------------------------------------------------------------

/** a + b with broadcasting. @example tf.add([1, 2], 1) // [2, 3] */
export const add: BinaryOp = binaryOp("add", Binary.ADD, "numeric", (dy) => [() => dy, () => dy]);
/** a - b. @example tf.subtract([3], [1]) // [2] */
export const subtract: BinaryOp = binaryOp(
  "subtract",
  Binary.SUB,
  "numeric",
  (dy) => [() => dy, () => neg(dy)],
);
/** a * b. @example tf.multiply([2], [3]) // [6] */
export const multiply: BinaryOp = binaryOp(
  "multiply",
  Binary.MUL,
  "numeric",
  (dy, a, b) => [() => multiply(dy, b), () => multiply(dy, a)],
);
/** a raised to b. @example tf.pow([2], 3) // [8] */
export const pow: BinaryOp = binaryOp("pow", Binary.POW, "numeric", (dy, a, b, y) => [
  () => multiply(dy, multiply(b, pow(a, subtract(b, 1)))),
  // NOTE: d(a^b)/db = a^b log a, taken as 0 where a <= 0 (as TensorFlow).
  () =>
    multiply(dy, where(greater(a, 0), multiply(y, log(where(greater(a, 0), a, 1))), zerosLike(a))),
]);
/** Elementwise maximum; NaN wins. @example tf.maximum([1, 5], 3) // [3, 5] */
export const maximum: BinaryOp = binaryOp(
  "maximum",
  Binary.MAX,
  "numeric",
  (dy, a, b) => [() => routed(greaterEqual(a, b), dy), () => routed(less(a, b), dy)],
);
/** Elementwise minimum; NaN wins. @example tf.minimum([1, 5], 3) // [1, 3] */
export const minimum: BinaryOp = binaryOp(
  "minimum",
  Binary.MIN,
  "numeric",
  (dy, a, b) => [() => routed(lessEqual(a, b), dy), () => routed(greater(a, b), dy)],
);
/** (a - b)^2. @example tf.squaredDifference([3], [1]) // [4] */
export const squaredDifference: BinaryOp = binaryOp(
  "squaredDifference",
  Binary.SQUARED_DIFFERENCE,
  "numeric",
  (dy, a, b) => {
    const twice = () => multiply(dy, multiply(subtract(a, b), 2));
    return [twice, () => neg(twice())];
  },
);
/** floor(a / b). @example tf.floorDiv([7, -7], 2) // [3, -4] */
export const floorDiv: BinaryOp = binaryOp(
  "floorDiv",
  Binary.FLOOR_DIV,
  "numeric",
  (dy) => [() => zerosLike(dy), () => zerosLike(dy)],
);
/** Floor modulo: the result has b's sign (Python's %). @example tf.mod([-7], 3) // [2] */
export const mod: BinaryOp = binaryOp(
  "mod",
  Binary.MOD,
  "numeric",
  (dy, a, b) => [() => dy, () => neg(multiply(dy, floorDiv(a, b)))],
);
/** atan(a / b) in the right quadrant. @example tf.atan2([1], [1]) // [0.7853982] */
export const atan2: BinaryOp = binaryOp("atan2", Binary.ATAN2, "float", (dy, a, b) => {
  const scale = () => divide(dy, add(square(a), square(b)));
  return [() => multiply(scale(), b), () => neg(multiply(scale(), a))];
});

/**
 * a / b. Integers divide as TensorFlow's truediv: uint8 -> float32, int32 and
 * int64 -> float64.
 * @example
 * ```ts
 * import * as tf from "../../mod.ts";
 * tf.divide([1, 2], 2); // [0.5, 1]
 * ```
 */
export function divide(a: TensorLike, b: TensorLike): Tensor {
  let [x, y] = binaryOperands("divide", a, b);
  checkAccepts("divide", x.dtype, "numeric");
  if (isInteger(x.dtype)) {
    const dtype = x.dtype === "uint8" ? "float32" : "float64";
    x = castTensor(x, dtype);
    y = castTensor(y, dtype);
  }
  const out = binaryKernel("divide", Binary.DIV, x, y, x.dtype);
  if (active.length !== 0) {
    record1("divide", [x, y], out, (dy) => [
      () => divide(dy, y),
      () => neg(multiply(dy, divide(out, y))),
    ]);
  }
  return out;
}

/** a == b, elementwise. @example tf.equal([1, 2], 2) // [false, true] */
export const equal: BinaryOp = binaryOp("equal", Binary.EQUAL, "any", undefined, true);
/** a != b. @example tf.notEqual([1, 2], 2) // [true, false] */
export const notEqual: BinaryOp = binaryOp("notEqual", Binary.NOT_EQUAL, "any", undefined, true);
/** a < b. @example tf.less([1, 2], 2) // [true, false] */
export const less: BinaryOp = binaryOp("less", Binary.LESS, "any", undefined, true);
/** a <= b. @example tf.lessEqual([1, 3], 2) // [true, false] */
export const lessEqual: BinaryOp = binaryOp("lessEqual", Binary.LESS_EQUAL, "any", undefined, true);
/** a > b. @example tf.greater([1, 3], 2) // [false, true] */
export const greater: BinaryOp = binaryOp("greater", Binary.GREATER, "any", undefined, true);
/** a >= b. @example tf.greaterEqual([1, 2], 2) // [false, true] */
export const greaterEqual: BinaryOp = binaryOp(
  "greaterEqual",
  Binary.GREATER_EQUAL,
  "any",
  undefined,
  true,
);
/** a && b on bool tensors. @example tf.logicalAnd([true, true], [true, false]) // [true, false] */
export const logicalAnd: BinaryOp = binaryOp("logicalAnd", Binary.LOGICAL_AND, "bool");
/** a || b on bool tensors. @example tf.logicalOr([false], [true]) // [true] */
export const logicalOr: BinaryOp = binaryOp("logicalOr", Binary.LOGICAL_OR, "bool");
/** a xor b on bool tensors. @example tf.logicalXor([true], [true]) // [false] */
export const logicalXor: BinaryOp = binaryOp("logicalXor", Binary.LOGICAL_XOR, "bool");

// ---- where, cast, clip ---------------------------------------------------------------

/**
 * Picks from `a` where `cond` is true and from `b` elsewhere, broadcasting all three.
 * @example
 * ```ts
 * import * as tf from "../../mod.ts";
 * tf.where([true, false], [1, 2], [10, 20]); // [1, 20]
 * ```
 */
export function where(cond: TensorLike, a: TensorLike, b: TensorLike): Tensor {
  const [x, y] = binaryOperands("where", a, b);
  const c = toTensor("where", cond, "bool", x.backend);
  if (c.dtype !== "bool") throw new TypeError(`where: cond must be bool, got ${c.dtype}`);
  const shape = broadcastShapes("where", broadcastShapes("where", c.shape, x.shape), y.shape);
  checkSize("where", shape);
  const backend = backendOf("where", c, x, y);
  const storage = backend.allocateOutput(x.dtype, sizeOf(shape), "where");
  backend.where("where", c, x, y, shape, storage);
  const out = new Tensor(storage, x.dtype, shape);
  if (active.length !== 0) {
    record1("where", [c, x, y], out, (dy) => [
      undefined,
      () => where(c, dy, zerosLike(dy)),
      () => where(c, zerosLike(dy), dy),
    ]);
  }
  return out;
}

/**
 * x converted to `dtype`. Float -> integer truncates toward zero and saturates (NaN
 * becomes 0); integer -> narrower integer wraps; -> bool is `x != 0`.
 * @example
 * ```ts
 * import * as tf from "../../mod.ts";
 * tf.cast([1.7, -1.7], "int32"); // [1, -1]
 * ```
 */
export function cast(x: TensorLike, dtype: DType): Tensor {
  checkDType("cast", dtype);
  return castTensor(toTensor("cast", x), dtype);
}

/**
 * Clamps x to [lo, hi].
 * @example
 * ```ts
 * import * as tf from "../../mod.ts";
 * tf.clipByValue([-2, 0.5, 3], 0, 1); // [0, 0.5, 1]
 * ```
 */
export function clipByValue(x: TensorLike, lo: TensorLike, hi: TensorLike): Tensor {
  return minimum(maximum(x, lo), hi);
}

/**
 * Sum of a list of tensors of one shape.
 * @example
 * ```ts
 * import * as tf from "../../mod.ts";
 * tf.addN([[1, 2], [3, 4], [5, 6]]); // [9, 12]
 * ```
 */
export function addN(xs: readonly TensorLike[]): Tensor {
  if (!Array.isArray(xs) || xs.length === 0) {
    throw new TypeError("addN: expected a non-empty array of tensors");
  }
  let total = toTensor("addN", xs[0]);
  for (let i = 1; i < xs.length; i++) total = add(total, xs[i]);
  return total;
}
