import * as tf from "../mod.ts";
import type { DType } from "../mod.ts";
import {
  assertArray,
  assertClose,
  assertEquals,
  assertStrictEquals,
  assertThrowsMatch,
  checkValues,
  ON_WEBGPU,
  randomValues,
} from "./helpers.ts";

/** Reference reduction over `axes` of a dense row-major array. */
function reduceRef(
  values: number[],
  shape: number[],
  axes: number[],
  init: number,
  step: (acc: number, v: number) => number,
  finish: (acc: number, count: number) => number = (a) => a,
): { shape: number[]; values: number[] } {
  const outShape = shape.filter((_, i) => !axes.includes(i));
  const outSize = outShape.reduce((a, b) => a * b, 1);
  const acc = new Array(outSize).fill(init);
  const count = axes.reduce((a, d) => a * shape[d], 1);
  for (let k = 0; k < values.length; k++) {
    let r = k, o = 0, mul = 1;
    for (let d = shape.length - 1; d >= 0; d--) {
      const idx = r % shape[d];
      r = Math.floor(r / shape[d]);
      if (!axes.includes(d)) {
        o += idx * mul;
        mul *= shape[d];
      }
    }
    acc[o] = step(acc[o], values[k]);
  }
  return { shape: outShape, values: acc.map((a) => finish(a, count)) };
}

const CASES: [number[], number[] | undefined][] = [
  [[6], undefined],
  [[6], [0]],
  [[3, 4], [0]],
  [[3, 4], [1]],
  [[3, 4], [0, 1]],
  [[2, 3, 4], [1]],
  [[2, 3, 4], [0, 2]],
  [[2, 3, 4], [2]],
  [[2, 3, 4], [0]],
  [[5, 0], [1]],
  [[0, 3], [0]],
  [[], undefined],
  [[4, 1, 3], [1]],
  [[300, 70], [0]], // column walk over blocks
  [[70, 300], [1]],
  [[200000], [0]], // split over threads
];

const OPS: [
  string,
  typeof tf.reduceSum,
  number,
  (a: number, v: number) => number,
  (
    a: number,
    n: number,
  ) => number,
][] = [
  ["reduceSum", tf.reduceSum, 0, (a, v) => a + v, (a) => a],
  ["reduceMean", tf.reduceMean, 0, (a, v) => a + v, (a, n) => a / n],
  ["reduceProd", tf.reduceProd, 1, (a, v) => a * v, (a) => a],
  ["reduceMax", tf.reduceMax, -Infinity, Math.max, (a) => a],
  ["reduceMin", tf.reduceMin, Infinity, Math.min, (a) => a],
];

Deno.test("numeric reductions match references over axes, keepDims and layouts", () => {
  let seed = 1;
  for (const [name, fn, init, step, finish] of OPS) {
    for (const [shape, axes] of CASES) {
      const n = shape.reduce((a, b) => a * b, 1);
      const lo = name === "reduceProd" ? 0.9 : -1, hi = name === "reduceProd" ? 1.1 : 1;
      const values = randomValues(n, seed++, lo, hi);
      const all = axes ?? shape.map((_, i) => i);
      const want = reduceRef(values, shape, all, init, step, finish);
      for (const dtype of ["float32", "float64"] as DType[]) {
        const x = tf.constant(values, dtype).reshape(shape);
        const got = fn(x, axes);
        const tol = dtype === "float32" ? { rtol: 1e-5, atol: 1e-5 } : { rtol: 1e-12, atol: 1e-12 };
        assertStrictEquals(got.dtype, dtype);
        assertClose(got, tf.constant(want.values, "float64").reshape(want.shape), {
          ...tol,
          message: `${name} ${dtype} ${JSON.stringify(shape)} axes ${JSON.stringify(axes)}`,
        });
        const kept = fn(x, axes, { keepDims: true });
        assertEquals(kept.shape, shape.map((d, i) => (all.includes(i) ? 1 : d)));
      }
      // The same reduction of a transposed view.
      if (shape.length === 2 && axes) {
        const t = tf.constant(values, "float64").reshape(shape);
        const viaView = fn(t.transpose(), axes.map((a) => 1 - a));
        assertClose(viaView, fn(t, axes), { rtol: 1e-12, atol: 1e-12, message: name });
      }
    }
  }
});

// The CPU kernels' split of the rows over the thread pool: a CPU property.
Deno.test("column reductions with few columns split the rows into pieces (any thread count)", {
  ignore: ON_WEBGPU,
}, () => {
  // [40000, 3] over axis 0: one column block, 10 pieces of reduce.c's COLUMN_PIECE. The
  // sliced [40, 300 of 310, 8] over axes 0 and 1 keeps two reduced dims apart (no
  // coalescing), so pieces start in the middle of a row of 300. Both are big enough for
  // two threads (reduce.c: EAGER_GRAIN_CHEAP elements each).
  const big = randomValues(40 * 310 * 8, 7);
  const sliced = tf.slice(tf.constant(big, "float64").reshape([40, 310, 8]), [0, 0, 0], [
    40,
    300,
    8,
  ]);
  const slicedValues = Array.from(sliced.dataSync() as Float64Array);
  const cases: [tf.Tensor, number[], number[], number[]][] = [
    [tf.constant(randomValues(120000, 8), "float64").reshape([40000, 3]), [0], [40000, 3], []],
    [sliced, [0, 1], [40, 300, 8], slicedValues],
  ];
  for (const [x, axes, shape, given] of cases) {
    const values = given.length ? given : Array.from(x.dataSync() as Float64Array);
    for (const [name, fn, init, step, finish] of OPS) {
      const want = reduceRef(values, shape, axes, init, step, finish);
      const results = [1, 2].map((threads) => {
        tf.setNumThreads(threads);
        return [fn(x, axes), fn(x.cast("float32"), axes)];
      });
      tf.setNumThreads(0);
      for (const [f64, f32] of results) {
        const expected = tf.constant(want.values, "float64").reshape(want.shape);
        assertClose(f64, expected, { rtol: 1e-12, atol: 1e-12, message: `${name} f64` });
        assertClose(f32, expected, { rtol: 1e-5, atol: 1e-5, message: `${name} f32` });
      }
      assertEquals(results[1][0].dataSync(), results[0][0].dataSync());
      assertEquals(results[1][1].dataSync(), results[0][1].dataSync());
    }
    const ints = x.mul(100).cast("int32");
    const intValues = Array.from(ints.dataSync() as Int32Array);
    assertEquals(
      Array.from(tf.reduceSum(ints, axes).dataSync() as Int32Array),
      reduceRef(intValues, shape, axes, 0, (a, v) => a + v).values,
    );
  }
});

Deno.test("integer and bool reductions", () => {
  const x = tf.constant([[1, 2, 3], [4, 5, 7]], "int32");
  assertArray(tf.reduceSum(x), 22);
  assertArray(tf.reduceSum(x, 0), [5, 7, 10]);
  assertArray(tf.reduceMean(x, 1), [2, 5]); // truncating, as TensorFlow
  assertArray(tf.reduceProd(x, 1), [6, 140]);
  assertArray(tf.reduceMax(x), 7);
  assertArray(tf.reduceMin(tf.constant([3n, -2n])), -2n);
  assertArray(tf.reduceSum(tf.constant([200, 100], "uint8")), 44); // wraps
  assertArray(tf.reduceSum([true, true, false]), 2);
  assertArray(tf.reduceAll([[true, false], [true, true]], 1), [false, true]);
  assertArray(tf.reduceAny([[true, false], [false, false]], 1), [true, false]);
  assertArray(tf.reduceAll(tf.zeros([0], "bool")), true);
  assertThrowsMatch(() => tf.reduceAll([1, 0]), /reduceAll: expected a bool tensor/);
  assertThrowsMatch(() => tf.reduceMax([true]), /reduceMax: expected a numeric tensor/);
});

Deno.test("empty reductions and NaN", () => {
  assertClose(tf.reduceSum(tf.zeros([0])), 0);
  assertClose(tf.reduceMean(tf.zeros([0])), NaN);
  assertClose(tf.reduceProd(tf.zeros([0])), 1);
  assertClose(tf.reduceMax(tf.zeros([0])), -Infinity);
  assertClose(tf.reduceMin(tf.zeros([0])), Infinity);
  assertArray(tf.reduceMax(tf.zeros([0], "int32")), -2147483648);
  assertClose(tf.reduceMax([1, NaN, 3]), NaN);
  assertClose(tf.reduceMin([NaN, 1]), NaN);
  assertClose(tf.reduceSum([1, NaN]), NaN);
});

Deno.test("argMax and argMin", () => {
  const x = tf.constant([[1, 9, 3], [7, 2, 7]]);
  assertArray(tf.argMax(x, 1), [1n, 0n]);
  assertArray(tf.argMin(x, 1), [0n, 1n]);
  assertArray(tf.argMax(x), [1n, 0n, 1n]);
  assertEquals(tf.argMax(x, -1, { outputType: "int32" }).dtype, "int32");
  assertArray(tf.argMax(x.transpose(), 0), [1n, 0n]);
  assertArray(tf.argMax([1, NaN, 5, NaN]), 1n);
  assertArray(tf.argMin(tf.constant([3, 1, 1], "int32")), 1n);
  assertThrowsMatch(
    () => tf.argMax(tf.zeros([2, 0]), 1),
    /argMax: cannot reduce over axis 1 of size 0/,
  );
  assertThrowsMatch(() => tf.argMax(x, 2), /argMax: axis 2 is out of range/);
});

Deno.test("logSumExp, norm, variance", () => {
  assertClose(tf.logSumExp([0, 0]), Math.log(2));
  assertClose(tf.logSumExp([1000, 1000]), 1000 + Math.log(2));
  assertClose(tf.logSumExp([[-Infinity, -Infinity]], 1), [-Infinity]);
  assertClose(tf.logSumExp([[1, 2], [3, 4]], 1), [
    Math.log(Math.E + Math.E ** 2),
    Math.log(Math.E ** 3 + Math.E ** 4),
  ], { rtol: 1e-6 });
  assertEquals(tf.logSumExp([[1, 2]], 1, { keepDims: true }).shape, [1, 1]);
  assertClose(tf.norm([3, 4]), 5);
  assertClose(tf.norm([3, -4], undefined, { ord: 1 }), 7);
  assertClose(tf.norm([3, -4], undefined, { ord: Infinity }), 4);
  assertClose(tf.norm([1, 1], undefined, { ord: 3 }), 2 ** (1 / 3), { rtol: 1e-6 });
  assertClose(tf.norm([[3, 4], [0, 0]], 1), [5, 0]);
  assertClose(tf.reduceVariance([1, 2, 3, 4]), 1.25);
  assertClose(tf.reduceStd([1, 3]), 1);
  assertThrowsMatch(() => tf.norm([1], undefined, { ord: -1 }), /norm: unsupported ord/);
});

Deno.test("bad axes name the op", () => {
  assertThrowsMatch(
    () => tf.reduceSum([1, 2], 1),
    /reduceSum: axis 1 is out of range for a tensor of rank 1/,
  );
  assertThrowsMatch(() => tf.reduceSum([[1]], [0, 0]), /reduceSum: axis 0 is repeated/);
  assertThrowsMatch(() => tf.reduceSum([1], 0.5), /reduceSum: axis must be an integer/);
});

Deno.test("reductions of an empty strided view give the empty-reduction values", () => {
  // A transposed [2, 2, 0] walks with a dim of 0 that does not merge away: seeking its first
  // row divided by it (SIGFPE, the whole process gone) before csrc/kernels/iter.c guarded it.
  const z = tf.transpose(tf.zeros([2, 2, 0]));
  const flags = tf.transpose(tf.zeros([2, 2, 0], "bool"));
  assertArray(tf.reduceSum(z), 0);
  assertArray(tf.reduceProd(z), 1);
  checkValues(tf.reduceMean(z), (mean) => assertEquals(Number.isNaN(mean[0]), true));
  assertArray(tf.reduceMax(z), -Infinity);
  assertArray(tf.reduceMin(z), Infinity);
  assertArray(tf.reduceAny(flags), false);
  assertArray(tf.reduceAll(flags), true);
  assertEquals(tf.reduceSum(z, [0]).shape, [2, 2]);
  assertArray(tf.reduceSum(z, [0]), [[0, 0], [0, 0]]);
  assertEquals(tf.reduceProd(z, [1, 2]).shape, [0]);
  assertArray(tf.reduceSum(tf.transpose(tf.zeros([3, 0], "int32")), 0), [0, 0, 0]);
});
