/**
 * WGSL for the elementwise families on the WebGPU device: one shader per (op, element type),
 * walking any layout. The output is dense; each operand is read through its own strides from
 * its own offset, so broadcasting (stride 0) and strided views need no copy.
 *
 * Layout parameters travel in a small storage buffer of i32 (see `layoutWords`):
 * [n, rank, xOffset, yOffset, shape[0..7], xStrides[0..7], yStrides[0..7]].
 * @module
 */
import type { DType } from "../../dtype.ts";
import { Binary, Reduce, Unary } from "../../native/codes.ts";

/** The largest rank the shaders walk. */
export const MAX_RANK = 8;
/** Threads per workgroup. */
export const WORKGROUP = 64;

/** WGSL's type for each dtype the elementwise shaders take (others are an error). */
export const WGSL_TYPES: Partial<Record<DType, "f32" | "i32">> = {
  float32: "f32",
  int32: "i32",
};

type Rules = Partial<Record<number, string>>;

/** Unary rules, by eager_unary_op code: a WGSL expression of `a`. */
const UNARY: Record<"f32" | "i32", Rules> = {
  f32: {
    [Unary.NEG]: "-a",
    [Unary.ABS]: "abs(a)",
    [Unary.SIGN]: "sign(a)",
    [Unary.EXP]: "exp(a)",
    [Unary.LOG]: "log(a)",
    [Unary.SQRT]: "sqrt(a)",
    [Unary.RSQRT]: "inverseSqrt(a)",
    [Unary.SQUARE]: "a * a",
    [Unary.RECIPROCAL]: "1.0 / a",
    [Unary.SIN]: "sin(a)",
    [Unary.COS]: "cos(a)",
    [Unary.TAN]: "tan(a)",
    [Unary.TANH]: "tanh(a)",
    [Unary.SIGMOID]: "1.0 / (1.0 + exp(-a))",
    [Unary.RELU]: "max(a, 0.0)",
    [Unary.RELU6]: "clamp(a, 0.0, 6.0)",
    [Unary.FLOOR]: "floor(a)",
    [Unary.CEIL]: "ceil(a)",
    [Unary.ROUND]: "round(a)", // half to even, as TensorFlow's
  },
  i32: {
    [Unary.NEG]: "-a",
    [Unary.ABS]: "abs(a)",
    [Unary.SIGN]: "sign(a)",
    [Unary.SQUARE]: "a * a",
    [Unary.RELU]: "max(a, 0)",
  },
};

/** Binary rules, by eager_binary_op code: a WGSL expression of `a` and `b`. */
const BINARY: Record<"f32" | "i32", Rules> = {
  f32: {
    [Binary.ADD]: "a + b",
    [Binary.SUB]: "a - b",
    [Binary.MUL]: "a * b",
    [Binary.DIV]: "a / b",
    [Binary.MAX]: "max(a, b)",
    [Binary.MIN]: "min(a, b)",
    [Binary.SQUARED_DIFFERENCE]: "(a - b) * (a - b)",
    [Binary.RELU_GRAD]: "select(0.0, a, b > 0.0)",
  },
  i32: {
    [Binary.ADD]: "a + b",
    [Binary.SUB]: "a - b",
    [Binary.MUL]: "a * b",
    [Binary.MAX]: "max(a, b)",
    [Binary.MIN]: "min(a, b)",
    [Binary.SQUARED_DIFFERENCE]: "(a - b) * (a - b)",
  },
};

/** The rule for (unary or binary, code, type), or undefined where the device has none yet. */
export function elementwiseRule(
  arity: 1 | 2,
  code: number,
  type: "f32" | "i32",
): string | undefined {
  return (arity === 1 ? UNARY : BINARY)[type][code];
}

/**
 * A shader that walks the layout words' shape with one thread an element: `xi` follows the
 * first operand's strides, `zi` the second's (another input, or the output of a copy).
 */
function walkShader(declarations: string, body: string): string {
  return `
@group(0) @binding(0) var<storage, read> p: array<i32>;
${declarations}

@compute @workgroup_size(${WORKGROUP})
fn main(@builtin(global_invocation_id) id: vec3u, @builtin(num_workgroups) groups: vec3u) {
  let i = id.x + id.y * groups.x * ${WORKGROUP}u;
  if (i >= u32(p[0])) { return; }
  var rest = i32(i);
  var xi = p[2];
  var zi = p[3];
  for (var d = p[1] - 1; d >= 0; d--) {
    let dim = p[4 + d];
    let c = rest % dim;
    rest = rest / dim;
    xi += c * p[${4 + MAX_RANK} + d];
    zi += c * p[${4 + 2 * MAX_RANK} + d];
  }
  ${body}
}
`;
}

/** The shader of one elementwise rule over `type`: out (dense) = rule(x, y). */
export function elementwiseShader(arity: 1 | 2, rule: string, type: "f32" | "i32"): string {
  const binary = arity === 2;
  return walkShader(
    `@group(0) @binding(1) var<storage, read_write> out: array<${type}>;
@group(0) @binding(2) var<storage, read> x: array<${type}>;
${binary ? `@group(0) @binding(3) var<storage, read> y: array<${type}>;` : ""}`,
    `let a = x[xi];
  ${binary ? "let b = y[zi];" : "_ = zi;"}
  out[i] = ${rule};`,
  );
}

/**
 * The shader of a strided copy: reads x through its strides and writes `out` through the
 * destination's (the layout's second operand), converting the type.
 */
export function copyShader(from: "f32" | "i32", to: "f32" | "i32"): string {
  return walkShader(
    `@group(0) @binding(1) var<storage, read_write> out: array<${to}>;
@group(0) @binding(2) var<storage, read> x: array<${from}>;`,
    `out[zi] = ${to}(x[xi]);`,
  );
}

/** Reductions, by eager_reduce_op code: the start value, the step of `acc` by `v`, the result
 * from `acc` and the count `m` (f32 and i32 alike, written for each). */
const REDUCE: Record<"f32" | "i32", Partial<Record<number, [string, string, string]>>> = {
  f32: {
    [Reduce.SUM]: ["0.0", "acc + v", "acc"],
    [Reduce.MEAN]: ["0.0", "acc + v", "acc / f32(m)"],
    [Reduce.PROD]: ["1.0", "acc * v", "acc"],
    [Reduce.MAX]: ["bitcast<f32>(0xff800000u)", "max(acc, v)", "acc"],
    [Reduce.MIN]: ["bitcast<f32>(0x7f800000u)", "min(acc, v)", "acc"],
  },
  i32: {
    [Reduce.SUM]: ["0", "acc + v", "acc"],
    // NOTE: never a division by zero, even in the branch not taken: select evaluates both
    // sides, and llvmpipe traps on it (SIGFPE kills the process).
    [Reduce.MEAN]: ["0", "acc + v", "select(0, acc / max(m, 1), m != 0)"],
    [Reduce.PROD]: ["1", "acc * v", "acc"],
    [Reduce.MAX]: ["bitcast<i32>(0x80000000u)", "max(acc, v)", "acc"],
    [Reduce.MIN]: ["bitcast<i32>(0x7fffffffu)", "min(acc, v)", "acc"],
  },
};

/**
 * The shader of reduction `code` over `type`, or undefined where the device has none yet.
 * One thread an output element loops over the reduced ones. Parameters: [outputs, keepRank,
 * rank, offset, shape[0..7], strides[0..7]], the kept dims first (as the CPU's reduce).
 */
export function reduceShader(code: number, type: "f32" | "i32"): string | undefined {
  const rule = REDUCE[type][code];
  if (!rule) return undefined;
  const [start, step, result] = rule;
  return `
@group(0) @binding(0) var<storage, read> p: array<i32>;
@group(0) @binding(1) var<storage, read_write> out: array<${type}>;
@group(0) @binding(2) var<storage, read> x: array<${type}>;

@compute @workgroup_size(${WORKGROUP})
fn main(@builtin(global_invocation_id) id: vec3u, @builtin(num_workgroups) groups: vec3u) {
  let i = id.x + id.y * groups.x * ${WORKGROUP}u;
  if (i >= u32(p[0])) { return; }
  let keep = p[1];
  let rank = p[2];
  var rest = i32(i);
  var base = p[3];
  for (var d = keep - 1; d >= 0; d--) {
    base += (rest % p[4 + d]) * p[${4 + MAX_RANK} + d];
    rest = rest / p[4 + d];
  }
  var m = 1;
  for (var d = keep; d < rank; d++) { m *= p[4 + d]; }
  var acc: ${type} = ${start};
  for (var j = 0; j < m; j++) {
    var r = j;
    var xi = base;
    for (var d = rank - 1; d >= keep; d--) {
      xi += (r % p[4 + d]) * p[${4 + MAX_RANK} + d];
      r = r / p[4 + d];
    }
    let v = x[xi];
    acc = ${step};
  }
  out[i] = ${result};
}
`;
}

/** The parameter words of a reduction (see reduceShader). */
export function reduceWords(
  outputs: number,
  keepRank: number,
  shape: readonly number[],
  strides: readonly number[],
  offset: number,
): Int32Array {
  const words = new Int32Array(4 + 2 * MAX_RANK);
  words.set([outputs, keepRank, shape.length, offset]);
  words.set(shape, 4);
  words.set(strides, 4 + MAX_RANK);
  return words;
}

/**
 * The shader of a batched matrix product over `type`: one thread an output element, a loop
 * over k. Parameters: [m, n, k, batchRank, aOffset, aRowStride, aColStride, bOffset,
 * bRowStride, bColStride, batch[0..7], aBatchStrides[0..7], bBatchStrides[0..7]].
 */
export function matmulShader(type: "f32" | "i32"): string {
  return `
@group(0) @binding(0) var<storage, read> p: array<i32>;
@group(0) @binding(1) var<storage, read_write> out: array<${type}>;
@group(0) @binding(2) var<storage, read> a: array<${type}>;
@group(0) @binding(3) var<storage, read> b: array<${type}>;

@compute @workgroup_size(${WORKGROUP})
fn main(@builtin(global_invocation_id) id: vec3u, @builtin(num_workgroups) groups: vec3u) {
  let i = i32(id.x + id.y * groups.x * ${WORKGROUP}u);
  let m = p[0];
  let n = p[1];
  let k = p[2];
  var outputs = m * n;
  for (var d = 0; d < p[3]; d++) { outputs *= p[10 + d]; }
  if (i >= outputs) { return; }
  let col = i % n;
  let row = (i / n) % m;
  var rest = i / (m * n);
  var ai = p[4] + row * p[5];
  var bi = p[7] + col * p[9];
  for (var d = p[3] - 1; d >= 0; d--) {
    let c = rest % p[10 + d];
    rest = rest / p[10 + d];
    ai += c * p[${10 + MAX_RANK} + d];
    bi += c * p[${10 + 2 * MAX_RANK} + d];
  }
  var acc: ${type} = ${type}(0);
  for (var j = 0; j < k; j++) {
    acc += a[ai + j * p[6]] * b[bi + j * p[8]];
  }
  out[i] = acc;
}
`;
}

/** The parameter words of a matrix product (see matmulShader). */
export function matmulWords(
  batch: readonly number[],
  [m, n, k]: readonly number[],
  a: { offset: number; rs: number; cs: number; batchStrides: readonly number[] },
  b: { offset: number; rs: number; cs: number; batchStrides: readonly number[] },
): Int32Array {
  const words = new Int32Array(10 + 3 * MAX_RANK);
  words.set([m, n, k, batch.length, a.offset, a.rs, a.cs, b.offset, b.rs, b.cs]);
  words.set(batch, 10);
  words.set(a.batchStrides, 10 + MAX_RANK);
  words.set(b.batchStrides, 10 + 2 * MAX_RANK);
  return words;
}

/**
 * The layout words of a walk over `shape` (n elements) reading x and y (y optional) through
 * their strides from their offsets.
 */
export function layoutWords(
  shape: readonly number[],
  n: number,
  x: { offset: number; strides: readonly number[] },
  y?: { offset: number; strides: readonly number[] },
): Int32Array {
  const words = new Int32Array(4 + 3 * MAX_RANK);
  words[0] = n;
  words[1] = shape.length;
  words[2] = x.offset;
  words[3] = y?.offset ?? 0;
  for (let d = 0; d < shape.length; d++) {
    words[4 + d] = shape[d];
    words[4 + MAX_RANK + d] = x.strides[d];
    words[4 + 2 * MAX_RANK + d] = y?.strides[d] ?? 0;
  }
  return words;
}

/** Workgroups for n threads: a 2-D grid past WebGPU's 65,535 per dimension. */
export function workgroups(n: number): [number, number] {
  const groups = Math.ceil(n / WORKGROUP);
  if (groups <= 65535) return [groups, 1];
  return [65535, Math.ceil(groups / 65535)];
}
