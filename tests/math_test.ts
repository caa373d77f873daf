import * as tf from "../mod.ts";
import type { DType } from "../mod.ts";
import {
  assertArray,
  assertClose,
  assertEquals,
  assertStrictEquals,
  assertThrowsMatch,
  deviceDTypes,
  ON_WEBGPU,
  randomValues,
  readNow,
} from "./helpers.ts";

type Ref1 = (x: number) => number;
type Ref2 = (a: number, b: number) => number;

const sigmoid = (x: number) => 1 / (1 + Math.exp(-x));
// Python's floor modulo.
const pyMod = (a: number, b: number) => {
  const r = a % b;
  return r !== 0 && (r < 0) !== (b < 0) ? r + b : r;
};
const roundHalfEven = (x: number) => {
  const r = Math.round(x);
  return Math.abs(x % 1) === 0.5 && r % 2 !== 0 ? r - 1 : r;
};
const erf = (x: number) => {
  // Abramowitz-Stegun 7.1.26 is too coarse; integrate the series for |x| < 3.
  let sum = 0, term = x;
  for (let n = 0; n < 80; n++) {
    sum += term / (2 * n + 1);
    term *= (-x * x) / (n + 1);
  }
  return (2 / Math.sqrt(Math.PI)) * sum;
};

const UNARY: [string, (x: tf.TensorLike) => tf.Tensor, Ref1, [number, number]][] = [
  ["neg", tf.neg, (x) => -x, [-5, 5]],
  ["abs", tf.abs, Math.abs, [-5, 5]],
  ["sign", tf.sign, Math.sign, [-5, 5]],
  ["exp", tf.exp, Math.exp, [-5, 5]],
  ["log", tf.log, Math.log, [0.01, 10]],
  ["log1p", tf.log1p, Math.log1p, [-0.9, 10]],
  ["expm1", tf.expm1, Math.expm1, [-3, 3]],
  ["sqrt", tf.sqrt, Math.sqrt, [0, 10]],
  ["rsqrt", tf.rsqrt, (x) => 1 / Math.sqrt(x), [0.1, 10]],
  ["square", tf.square, (x) => x * x, [-5, 5]],
  ["reciprocal", tf.reciprocal, (x) => 1 / x, [0.1, 5]],
  ["sin", tf.sin, Math.sin, [-5, 5]],
  ["cos", tf.cos, Math.cos, [-5, 5]],
  ["tan", tf.tan, Math.tan, [-1.4, 1.4]],
  ["asin", tf.asin, Math.asin, [-0.99, 0.99]],
  ["acos", tf.acos, Math.acos, [-0.99, 0.99]],
  ["atan", tf.atan, Math.atan, [-5, 5]],
  ["sinh", tf.sinh, Math.sinh, [-3, 3]],
  ["cosh", tf.cosh, Math.cosh, [-3, 3]],
  ["tanh", tf.tanh, Math.tanh, [-5, 5]],
  ["sigmoid", tf.sigmoid, sigmoid, [-20, 20]],
  ["relu", tf.nn.relu, (x) => Math.max(x, 0), [-5, 5]],
  ["relu6", tf.nn.relu6, (x) => Math.min(Math.max(x, 0), 6), [-3, 9]],
  ["elu", tf.nn.elu, (x) => (x < 0 ? Math.expm1(x) : x), [-5, 5]],
  ["softplus", tf.nn.softplus, (x) => Math.log1p(Math.exp(-Math.abs(x))) + Math.max(x, 0), [
    -20,
    20,
  ]],
  ["floor", tf.floor, Math.floor, [-5, 5]],
  ["ceil", tf.ceil, Math.ceil, [-5, 5]],
  ["round", tf.round, roundHalfEven, [-5, 5]],
  ["erf", tf.erf, erf, [-2.5, 2.5]],
];

/** Shapes every elementwise op is checked over, including rank 0 and empty. */
const SHAPES = [[], [0], [7], [3, 4], [2, 3, 5]];

function f32(values: number[]): number[] {
  return values.map(Math.fround);
}

Deno.test("unary ops match float64 references (float32 and float64, all shapes)", () => {
  let seed = 1;
  for (const [name, fn, ref, [lo, hi]] of UNARY) {
    for (const dtype of deviceDTypes<DType>(["float32", "float64"])) {
      for (const shape of SHAPES) {
        const n = shape.reduce((a, b) => a * b, 1);
        let values = randomValues(n, seed++, lo, hi);
        if (dtype === "float32") values = f32(values);
        const x = tf.reshape(tf.constant(values, dtype), shape);
        const tol = dtype === "float32" ? { rtol: 2e-6, atol: 1e-6 } : { rtol: 1e-13, atol: 1e-14 };
        const got = fn(x);
        assertEquals(got.dtype, dtype, name);
        assertClose(got, tf.reshape(tf.constant(values.map(ref), "float64"), shape), {
          ...tol,
          message: `${name} ${dtype} ${JSON.stringify(shape)}`,
        });
      }
    }
  }
});

/** Distance in float32 units in the last place (subnormal steps count as one each). */
function ulpsApart(a: number, b: number): number {
  const bits = new Int32Array(new Float32Array([a, b]).buffer);
  const ordered = (i: number) => (bits[i] < 0 ? -(bits[i] & 0x7fffffff) : bits[i]);
  return Math.abs(ordered(0) - ordered(1));
}

// The CPU kernels' accuracy promises (a WebGPU device's is checked above, to 2e-6).
Deno.test("float32 exp is within 1 ulp of the correctly rounded value over its whole range", {
  ignore: ON_WEBGPU,
}, () => {
  // The vectorised exp (elementwise_ops.h) is correctly rounded except within 2e-10 of a
  // rounding midpoint; TensorFlow's (Eigen's) is within a few ulp.
  const n = 1 << 18, xs = new Float32Array(n);
  for (let i = 0; i < n; i++) xs[i] = -104 + (193 * i) / n + (i % 7) * 1e-6;
  const ys = tf.exp(tf.constant(xs)).dataSync() as Float32Array;
  let exact = 0;
  for (let i = 0; i < n; i++) {
    const want = Math.fround(Math.exp(xs[i]));
    if (ulpsApart(ys[i], want) > 1) {
      throw new Error(`exp(${xs[i]}) = ${ys[i]}, want ${want}`);
    }
    if (ys[i] === want) exact++;
  }
  if (exact < n * 0.999) throw new Error(`only ${exact} of ${n} exp values correctly rounded`);
  const edges = [0, -0, 1, 88.72283, 88.72284, 89, -87.33654, -103.97208, -104, -1e4, 1e-30];
  const specials = [...edges, Infinity, -Infinity, NaN];
  const got = Array.from(tf.exp(tf.constant(specials, "float32")).dataSync() as Float32Array);
  got.forEach((y, i) => {
    const want = Math.fround(Math.exp(Math.fround(specials[i])));
    if (!Object.is(y, want) && ulpsApart(y, want) > 1) {
      throw new Error(`exp(${specials[i]}) = ${y}, want ${want}`);
    }
  });
  assertStrictEquals(got[0], 1);
  assertStrictEquals(got[specials.length - 3], Infinity);
  assertStrictEquals(got[specials.length - 2], 0);
  if (!Number.isNaN(got[specials.length - 1])) throw new Error("exp(NaN) is not NaN");
});

Deno.test("float32 tanh is within 1 ulp over its whole range, signs and specials kept", {
  ignore: ON_WEBGPU,
}, () => {
  // The vectorised tanh (elementwise_ops.h): a polynomial below 1/16, (1 - e) / (1 + e)
  // with e = e^(-2|x|) above; both within 1e-9 before the final rounding to float.
  const n = 1 << 18, xs = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    const u = i / n;
    xs[i] = (i % 2 ? -1 : 1) * (u < 0.25 ? 10 ** (-40 + 160 * u) : (u - 0.25) * 16);
  }
  const ys = tf.tanh(tf.constant(xs)).dataSync() as Float32Array;
  let exact = 0;
  for (let i = 0; i < n; i++) {
    const want = Math.fround(Math.tanh(xs[i]));
    if (ulpsApart(ys[i], want) > 1) throw new Error(`tanh(${xs[i]}) = ${ys[i]}, want ${want}`);
    if (ys[i] === want) exact++;
  }
  if (exact < n * 0.99) throw new Error(`only ${exact} of ${n} tanh values correctly rounded`);
  const specials = [0, -0, 0.0625, -0.0625, 9.5, 10, 11, Infinity, -Infinity, NaN];
  const got = Array.from(tf.tanh(tf.constant(specials, "float32")).dataSync() as Float32Array);
  assertStrictEquals(Object.is(got[1], -0), true);
  assertEquals(got.slice(5, 9), [1, 1, 1, -1]);
  if (!Number.isNaN(got[9])) throw new Error("tanh(NaN) is not NaN");
});

// One-element CPU ops are computed in JS: a CPU property.
Deno.test("one-element float arithmetic (computed in JS) equals the kernels' bit for bit", {
  ignore: ON_WEBGPU,
}, () => {
  const specials = [
    0,
    -0,
    1,
    -1,
    0.1,
    3e38,
    -3e38,
    1e-45,
    1e-38,
    2 ** -126,
    Infinity,
    -Infinity,
    NaN,
  ];
  const values = [
    ...specials,
    ...randomValues(200, 11, -1e6, 1e6),
    ...randomValues(200, 12, -2, 2),
  ];
  for (const dtype of ["float32", "float64"] as const) {
    const a = tf.constant(values, dtype);
    const b = tf.reverse(a, 0); // pairs every value with another
    for (const op of [tf.add, tf.subtract, tf.multiply, tf.divide]) {
      const kernel = op(a, b).dataSync(); // many elements: the C kernel
      for (let i = 0; i < values.length; i += 7) {
        const one = op(tf.slice(a, [i], [1]), tf.slice(b, [i], [1])).dataSync()[0];
        if (!Object.is(one, kernel[i])) {
          throw new Error(
            `${op.name} ${dtype} of ${a.dataSync()[i]} and ${b.dataSync()[i]}: ${one} vs ${
              kernel[i]
            }`,
          );
        }
      }
    }
  }
});

Deno.test("unary ops read non-contiguous inputs (transposed and reversed views)", () => {
  const values = randomValues(12, 99, 0.1, 3);
  // float32 on WebGPU (no float64 there), against float64 references all the same.
  const dtype: DType = ON_WEBGPU ? "float32" : "float64";
  const tol = ON_WEBGPU ? { rtol: 2e-6, atol: 1e-6 } : { rtol: 1e-13, atol: 1e-14 };
  const base = tf.constant(values, dtype).reshape([3, 4]);
  const views = [
    base.transpose(),
    tf.reverse(base, [0, 1]),
    tf.stridedSlice(base, [0, 0], [3, 4], [
      2,
      3,
    ]),
  ];
  for (const [name, fn, ref] of UNARY) {
    for (const v of views) {
      const dense = Array.from(readNow(v) as Float32Array | Float64Array);
      assertClose(fn(v), tf.constant(dense.map(ref), "float64").reshape(v.shape), {
        ...tol,
        message: name,
      });
    }
  }
});

Deno.test("integer unary ops keep the dtype and wrap at the minimum", () => {
  for (const dtype of ["int32", "int64", "uint8"] as DType[]) {
    const x = tf.constant([0, 1, 2, 7], dtype);
    assertEquals(tf.square(x).dtype, dtype);
    assertClose(tf.square(x), [0, 1, 4, 49]);
    assertClose(tf.nn.relu6(x), [0, 1, 2, 6]);
    assertClose(tf.abs(x), [0, 1, 2, 7]);
  }
  assertClose(tf.neg(tf.constant([-2147483648, 5], "int32")), [-2147483648, -5]);
  assertClose(tf.sign(tf.constant([-3, 0, 9], "int32")), [-1, 0, 1]);
  assertClose(tf.neg(tf.constant([1, 0], "uint8")), [255, 0]);
});

Deno.test("float-only unary ops reject integer tensors with a clear error", () => {
  assertThrowsMatch(() => tf.exp(tf.constant([1], "int32")), /exp: expected a floating-point/);
  assertThrowsMatch(() => tf.logicalNot(tf.constant([1])), /logicalNot: expected a bool tensor/);
  assertThrowsMatch(() => tf.neg(tf.constant([true])), /neg: expected a numeric tensor/);
});

Deno.test("predicates and special values", () => {
  const x = tf.constant([NaN, Infinity, -Infinity, 0, -1]);
  assertArray(tf.isNaN(x), [true, false, false, false, false]);
  assertArray(tf.isFinite(x), [false, false, false, true, true]);
  assertArray(tf.isInf(x), [false, true, true, false, false]);
  assertClose(tf.sigmoid(tf.constant([-1000, 1000, NaN])), [0, 1, NaN]);
  assertClose(tf.nn.softplus(tf.constant([-1000, 1000])), [0, 1000]);
  assertClose(tf.nn.relu(tf.constant([NaN])), [NaN]);
  assertClose(tf.sign(tf.constant([NaN])), [NaN]);
  assertArray(tf.logicalNot([true, false]), [false, true]);
});

const BINARY: [string, (a: tf.TensorLike, b: tf.TensorLike) => tf.Tensor, Ref2, [number, number], [
  number,
  number,
]][] = [
  ["add", tf.add, (a, b) => a + b, [-5, 5], [-5, 5]],
  ["subtract", tf.subtract, (a, b) => a - b, [-5, 5], [-5, 5]],
  ["multiply", tf.multiply, (a, b) => a * b, [-5, 5], [-5, 5]],
  ["divide", tf.divide, (a, b) => a / b, [-5, 5], [0.5, 5]],
  ["pow", tf.pow, Math.pow, [0.1, 3], [-2, 2]],
  ["maximum", tf.maximum, Math.max, [-5, 5], [-5, 5]],
  ["minimum", tf.minimum, Math.min, [-5, 5], [-5, 5]],
  ["squaredDifference", tf.squaredDifference, (a, b) => (a - b) ** 2, [-5, 5], [-5, 5]],
  ["floorDiv", tf.floorDiv, (a, b) => Math.floor(a / b), [-5, 5], [0.5, 3]],
  ["mod", tf.mod, pyMod, [-5, 5], [-3, 3]],
  ["atan2", tf.atan2, Math.atan2, [-5, 5], [-5, 5]],
];

/** Shape pairs that broadcast, including scalars and empty tensors. */
const PAIRS: [number[], number[]][] = [
  [[3, 4], [3, 4]],
  [[3, 4], [4]],
  [[3, 1], [1, 4]],
  [[], [2, 3]],
  [[2, 3], []],
  [[0, 3], [3]],
  [[2, 1, 3], [4, 1]],
  [[5], [1]],
];

function broadcastRef(
  a: number[],
  sa: number[],
  b: number[],
  sb: number[],
  f: Ref2,
): { shape: number[]; values: number[] } {
  const rank = Math.max(sa.length, sb.length);
  const pa = [...Array(rank - sa.length).fill(1), ...sa];
  const pb = [...Array(rank - sb.length).fill(1), ...sb];
  const shape = pa.map((d, i) => Math.max(d, pb[i]) * (d === 0 || pb[i] === 0 ? 0 : 1));
  const n = shape.reduce((x, y) => x * y, 1);
  const values: number[] = [];
  const index = (p: number[], idx: number[]) => {
    let off = 0;
    for (let i = 0; i < rank; i++) off = off * p[i] + (p[i] === 1 ? 0 : idx[i]);
    return off;
  };
  for (let k = 0; k < n; k++) {
    const idx: number[] = [];
    let r = k;
    for (let i = rank - 1; i >= 0; i--) {
      idx[i] = r % shape[i];
      r = Math.floor(r / shape[i]);
    }
    values.push(f(a[index(pa, idx)], b[index(pb, idx)]));
  }
  return { shape, values };
}

Deno.test("binary ops match references over broadcast shape pairs (float32, float64)", () => {
  let seed = 1000;
  for (const [name, fn, ref, da, db] of BINARY) {
    for (const dtype of deviceDTypes<DType>(["float32", "float64"])) {
      for (const [sa, sb] of PAIRS) {
        const na = sa.reduce((x, y) => x * y, 1), nb = sb.reduce((x, y) => x * y, 1);
        let a = randomValues(na, seed++, ...da), b = randomValues(nb, seed++, ...db);
        if (name === "mod") b = b.map((v) => (Math.abs(v) < 0.3 ? 1 : v));
        if (dtype === "float32") (a = f32(a)), (b = f32(b));
        const want = broadcastRef(a, sa, b, sb, ref);
        const got = fn(tf.constant(a, dtype).reshape(sa), tf.constant(b, dtype).reshape(sb));
        assertEquals(got.dtype, dtype);
        const tol = dtype === "float32" ? { rtol: 3e-6, atol: 2e-6 } : { rtol: 1e-13, atol: 1e-14 };
        assertClose(got, tf.constant(want.values, "float64").reshape(want.shape), {
          ...tol,
          message: `${name} ${dtype} ${JSON.stringify(sa)} x ${JSON.stringify(sb)}`,
        });
      }
    }
  }
});

Deno.test("binary ops read strided operands (transposed, broadcast views, reversed)", () => {
  const dtype: DType = ON_WEBGPU ? "float32" : "float64"; // (no float64 on WebGPU)
  const a = tf.constant(randomValues(12, 5), dtype).reshape([4, 3]).transpose(); // [3,4]
  const b = tf.reverse(tf.constant(randomValues(4, 6), dtype), 0).broadcastTo([3, 4]);
  const da = tf.constant(readNow(a), dtype).reshape(a.shape);
  const db = tf.constant(readNow(b), dtype).reshape(b.shape);
  for (const [name, fn] of BINARY) {
    if (name === "pow" || name === "floorDiv" || name === "mod") continue;
    assertClose(fn(a, b), fn(da, db), { rtol: 0, atol: 0, message: name });
  }
});

Deno.test("integer arithmetic: Python floor semantics, wrapping, errors", () => {
  const a = tf.constant([7, -7, 7, -7], "int32"), b = tf.constant([2, 2, -2, -2], "int32");
  assertClose(tf.floorDiv(a, b), [3, -4, -4, 3]);
  assertClose(tf.mod(a, b), [1, 1, -1, -1]);
  assertEquals(tf.floorDiv(a, b).dtype, "int32");
  assertClose(tf.add(tf.constant([2147483647], "int32"), 1), [-2147483648]);
  assertClose(tf.floorDiv(tf.constant([-2147483648], "int32"), -1), [-2147483648]);
  assertClose(tf.multiply(tf.constant([200], "uint8"), 2), [144]);
  assertClose(tf.pow(tf.constant([2, 3], "int32"), 3), [8, 27]);
  assertArray(tf.pow(tf.constant([2], "int64"), 62), [4611686018427387904n]);
  if (ON_WEBGPU) {
    // A device cannot raise on values: 0 there (docs/webgpu.md), and no float64 results.
    assertClose(tf.floorDiv(a, 0), [0, 0, 0, 0]);
    assertClose(tf.pow(tf.constant([2, 2], "int32"), tf.constant([-1, 2], "int32")), [0, 4]);
    assertThrowsMatch(() => tf.divide(tf.constant([1], "int32"), 2), /float64 tensors cannot live/);
    assertClose(tf.divide(tf.constant([1], "uint8"), 2), [0.5]);
    return;
  }
  assertThrowsMatch(() => tf.floorDiv(a, 0), /floorDiv: integer division by zero/);
  assertThrowsMatch(() => tf.mod(tf.constant([1], "int64"), tf.constant([0], "int64")), /mod:/);
  assertThrowsMatch(
    () => tf.pow(tf.constant([2], "int32"), -1),
    /pow: integers to negative integer powers/,
  );
  // truediv: int32 and int64 become float64, uint8 float32.
  assertEquals(tf.divide(tf.constant([1], "int32"), 2).dtype, "float64");
  assertEquals(tf.divide(tf.constant([1], "uint8"), 2).dtype, "float32");
  assertClose(tf.divide(tf.constant([1, 3], "int64"), 2), [0.5, 1.5]);
});

Deno.test("dtype promotion: tensors meet at the higher type, JS values are weak", () => {
  const i = tf.constant([1, 2], "int32"), f = tf.constant([0.5, 0.5]);
  assertStrictEquals(tf.add(i, 1).dtype, "int32");
  assertStrictEquals(tf.add(i, 0.5).dtype, "float32");
  assertStrictEquals(tf.add(i, f).dtype, "float32");
  assertStrictEquals(tf.add(i, tf.constant([1], "int64")).dtype, "int64");
  assertStrictEquals(tf.add(tf.constant([1], "int64"), f).dtype, "float32");
  // (float64 lives on the CPU only: the WebGPU run cannot meet it with f)
  if (!ON_WEBGPU) assertStrictEquals(tf.add(f, tf.constant([1], "float64")).dtype, "float64");
  assertStrictEquals(tf.add(tf.constant([1], "uint8"), 300).dtype, "float32");
  assertStrictEquals(tf.add(i, [1, 2]).dtype, "int32");
  assertStrictEquals(tf.add(1, 2).dtype, "float32");
  assertThrowsMatch(() => tf.add([true], [false]), /add: expected a numeric tensor/);
});

Deno.test("comparisons and logical ops give bool over every dtype", () => {
  for (const dtype of deviceDTypes<DType>(["float32", "float64", "int32", "int64", "uint8"])) {
    const a = tf.constant([1, 2, 3], dtype);
    assertArray(tf.equal(a, 2), [false, true, false]);
    assertArray(tf.notEqual(a, 2), [true, false, true]);
    assertArray(tf.less(a, 2), [true, false, false]);
    assertArray(tf.lessEqual(a, 2), [true, true, false]);
    assertArray(tf.greater(a, 2), [false, false, true]);
    assertArray(tf.greaterEqual(a, 2), [false, true, true]);
  }
  assertArray(tf.equal([true, false], [true, true]), [true, false]);
  const p = tf.constant([true, true, false, false]), q = tf.constant([true, false, true, false]);
  assertArray(tf.logicalAnd(p, q), [true, false, false, false]);
  assertArray(tf.logicalOr(p, q), [true, true, true, false]);
  assertArray(tf.logicalXor(p, q), [false, true, true, false]);
  assertArray(tf.equal(tf.constant([NaN]), NaN), [false]);
  assertThrowsMatch(() => tf.logicalAnd([1], [0]), /logicalAnd: expected a bool tensor/);
});

Deno.test("maximum and minimum propagate NaN from either side", () => {
  assertClose(tf.maximum([NaN, 1], [1, NaN]), [NaN, NaN]);
  assertClose(tf.minimum([NaN, 1], [1, NaN]), [NaN, NaN]);
});

Deno.test("where broadcasts condition and branches", () => {
  assertClose(tf.where([true, false], [1, 2], [10, 20]), [1, 20]);
  assertClose(tf.where([[true], [false]], [1, 2], 0), [[1, 2], [0, 0]]);
  assertArray(tf.where([true, false], tf.constant([1n, 2n]), 0), [1n, 0n]);
  assertArray(tf.where(true, [true, false], [false, false]), [true, false]);
  assertThrowsMatch(() => tf.where([1, 0], [1, 2], [3, 4]), /where: cond must be bool/);
  assertThrowsMatch(() => tf.where([true, false, true], [1, 2], 0), /where: shapes/);
});

Deno.test("cast: truncation, saturation, NaN, wrapping and bool", () => {
  const x = tf.constant([1.7, -1.7, NaN, 1e10, -1e10, 0]);
  assertClose(tf.cast(x, "int32"), [1, -1, 0, 2147483647, -2147483648, 0]);
  assertClose(tf.cast(x, "uint8"), [1, 0, 0, 255, 0, 0]);
  assertArray(tf.cast(x, "bool"), [true, true, true, true, true, false]);
  assertClose(tf.cast(tf.constant([257, -1], "int32"), "uint8"), [1, 255]);
  assertClose(tf.cast([true, false], "float32"), [1, 0]);
  if (ON_WEBGPU) {
    assertThrowsMatch(() => tf.cast(tf.constant([1.5]), "float64"), /float64 tensors cannot live/);
  } else {
    assertArray(tf.cast(tf.constant([2 ** 40], "float64"), "int64"), [1099511627776n]);
    assertEquals(tf.cast(tf.constant([1.5]).transpose(), "float64").dtype, "float64");
  }
  assertThrowsMatch(() => tf.cast([1], "float16" as DType), /cast: unknown dtype "float16"/);
});

Deno.test("clipByValue and addN", () => {
  assertClose(tf.clipByValue([-2, 0.5, 3], 0, 1), [0, 0.5, 1]);
  assertClose(tf.addN([[1, 2], [3, 4], [5, 6]]), [9, 12]);
  assertThrowsMatch(() => tf.addN([]), /addN: expected a non-empty array/);
});

Deno.test("method forms chain", () => {
  const x = tf.constant([1, 2, 3]);
  assertClose(x.add(1).mul(2).sub(1), [3, 5, 7]);
  assertClose(x.div(2).neg().abs().square().sqrt(), [0.5, 1, 1.5]);
  assertArray(x.greater(1).logicalNot(), [true, false, false]);
});

Deno.test("large tensors use the thread pool and agree with the single-threaded result", {
  ignore: ON_WEBGPU,
}, () => {
  const n = 1 << 20;
  const a = tf.constant(randomValues(n, 7), "float32"), b = tf.constant(randomValues(n, 8));
  const parallel = tf.add(tf.exp(a), b).dataSync();
  const previous = tf.setNumThreads(1);
  const serial = tf.add(tf.exp(a), b).dataSync();
  tf.setNumThreads(0);
  assertEquals(previous >= 1, true);
  assertEquals(parallel, serial);
});

Deno.test("every elementwise op has a method form", () => {
  type Op = (t: tf.Tensor) => tf.Tensor;
  const ops = { ...tf, ...tf.nn } as unknown as Record<string, Op>;
  const x = tf.constant([0.5]);
  const names = [
    ...["neg", "abs", "sign", "exp", "log", "log1p", "expm1", "sqrt", "rsqrt", "square"],
    ...["reciprocal", "sin", "cos", "tan", "asin", "acos", "atan", "sinh", "cosh", "tanh"],
    ...["sigmoid", "relu", "relu6", "elu", "softplus", "floor", "ceil", "round", "erf"],
  ] as const;
  for (const name of names) assertClose(x[name](), ops[name](x), { message: name });
  assertClose(x.atan2(1), tf.atan2(x, 1));
  assertArray(x.isNaN(), [false]);
  assertArray(x.isInf(), [false]);
});
