/**
 * topK, sort, argsort, searchsorted and unique: values (and sort's / topK's gradients)
 * against TensorFlow (tests/fixtures/scan_sort.json, from make_scan_sort_fixtures.py),
 * gradients against finite differences, NaN order, long rows against a JS sort, errors.
 */
import * as tf from "../mod.ts";
import { type CaseRun, testCases } from "./fixture_json.ts";
import fixtures from "./fixtures/scan_sort.json" with { type: "json" };
import {
  assertClose,
  assertThrowsMatch,
  checkValues,
  ON_WEBGPU,
  randomValues,
  readNow,
} from "./helpers.ts";
import { checkGradients, checkSecondDerivative, rand } from "./grad_helpers.ts";
import { setNumThreads } from "../src/native/lib.ts";

type Attrs = {
  axis?: number;
  direction?: "ASCENDING" | "DESCENDING";
  k?: number;
  side?: "left" | "right";
  outType?: "int32" | "int64";
  outIdx?: "int32" | "int64";
};

type Run = CaseRun<Attrs>;
const OPS: Record<string, Run> = {
  sort: ([x], a) => [tf.sort(x, a)],
  argsort: ([x], a) => [tf.argsort(x, a)],
  topK: ([x], a) => {
    const { values, indices } = tf.math.topK(x, { k: a.k });
    return [values, indices];
  },
  searchsorted: ([s, v], a) => [tf.searchsorted(s, v, a)],
  unique: ([x], a) => {
    const { y, idx } = tf.unique(x, a);
    return [y, idx];
  },
};

// unique's output size depends on the values: the WebGPU device has none (it names the op).
testCases(fixtures, OPS, 1e-6, ["unique"]);

// Finite differences need float64, which lives on the CPU only.
Deno.test("sort and topK: gradients against finite differences (float64)", {
  ignore: ON_WEBGPU,
}, () => {
  const x = rand([3, 5], 1);
  checkGradients((t) => tf.sort(t), [x]);
  checkGradients((t) => tf.sort(t, { axis: 0, direction: "DESCENDING" }), [x]);
  checkGradients((t) => tf.math.topK(t, { k: 2 }).values, [x]);
  checkGradients((t) => tf.nn.topK(t, { k: 5 }).values, [rand([2, 3, 5], 2)]);
  checkSecondDerivative((t) => tf.square(tf.math.topK(t, { k: 3 }).values), x);
  checkSecondDerivative((t) => tf.multiply(tf.sort(t), t), rand([6], 3));
});

Deno.test("sort: NaN above +Infinity, -0 equal to +0, stable in both directions", () => {
  const x = tf.constant([3, NaN, -Infinity, 1, -0, 0, NaN, Infinity, 1]);
  assertClose(tf.sort(x), [-Infinity, 0, 0, 1, 1, 3, Infinity, NaN, NaN]);
  assertClose(tf.argsort(x), [2, 4, 5, 3, 8, 0, 7, 1, 6]);
  assertClose(tf.argsort(x, { direction: "DESCENDING" }), [1, 6, 7, 0, 3, 8, 4, 5, 2]);
  const top = tf.math.topK(x, { k: 4 });
  assertClose(top.values, [NaN, NaN, Infinity, 3]);
  assertClose(top.indices, [1, 6, 7, 0]);
  checkValues(tf.sort(tf.constant([0, -0, -0, 0]), { direction: "DESCENDING" }), (signs) => {
    if (!Object.is(signs[0], 0) || !Object.is(signs[1], -0) || !Object.is(signs[3], 0)) {
      throw new Error(`sort changed the signs of zeros: ${Array.from(signs as Float32Array)}`);
    }
  });
});

/** The stable JS sort of `x`: NaN last, ties (and -0 / +0) in input order. */
function stableSorted<T extends Float32Array | Int32Array | Uint8Array>(x: T, down: boolean): T {
  const key = (v: number) => (v !== v ? Infinity : v);
  const order = [...x.keys()].sort((a, b) => {
    const [ka, kb] = [key(x[a]), key(x[b])];
    if (x[a] !== x[a] && x[b] !== x[b]) return a - b;
    if (x[a] !== x[a]) return down ? -1 : 1;
    if (x[b] !== x[b]) return down ? 1 : -1;
    return (down ? kb - ka : ka - kb) || a - b;
  });
  return x.map((_, i) => x[order[i]]) as T;
}

// The CPU kernel's split of a row over the thread pool: a CPU property.
Deno.test(
  "sort: a long row split over threads matches a stable JS sort bitwise, at any thread count",
  {
    ignore: ON_WEBGPU,
  },
  () => {
    const n = 140_003; // from 65,536 on, fewer rows than threads split each row
    const u = randomValues(n, 21, 0, 1);
    const floats = Float32Array.from(u, (v, i) => {
      const special = [NaN, -0, 0, Infinity, -Infinity, -NaN][i % 6];
      return i % 89 === 0 ? special : Math.round((v * 2 - 1) * 3e4) / 7;
    });
    const rows: [string, Float32Array | Int32Array | Uint8Array][] = [
      ["float32 with NaN, -0, infinities and ties", floats],
      ["int32 over its whole range", Int32Array.from(u, (v) => Math.floor((v - 0.5) * 2 ** 32))],
      ["int32 below 2048 (two digits shared)", Int32Array.from(u, (v) => Math.floor(v * 2048))],
      [
        "int32, only the middle digit differs",
        Int32Array.from(u, (v) => Math.floor(v * 2048) << 11),
      ],
      ["uint8", Uint8Array.from(u, (v) => Math.floor(v * 256))],
      [
        "float32, all equal but for the sign of zero",
        Float32Array.from(u, (v) => (v < 0.5 ? -0 : 0)),
      ],
      ["float32, all equal", new Float32Array(n).fill(2.5)],
    ];
    const halves = [0, 1].map((r) =>
      stableSorted(floats.slice(r * 66_000, (r + 1) * 66_000), false)
    );
    const wants = rows.map(([, x]) => [false, true].map((down) => stableSorted(x, down)));
    try {
      for (const threads of [1, 2, 3, 5]) {
        setNumThreads(threads);
        for (const [r, [what, x]] of rows.entries()) {
          for (const down of [false, true]) {
            const got = tf.sort(tf.constant(x), { direction: down ? "DESCENDING" : "ASCENDING" })
              .dataSync() as typeof x;
            const want = wants[r][Number(down)];
            const bad = want.findIndex((w, i) => !Object.is(w, got[i]));
            if (bad >= 0) {
              throw new Error(
                `${what}, ${down ? "descending" : "ascending"}, ${threads} threads: at ${bad} ` +
                  `got ${got[bad]}, want ${want[bad]}`,
              );
            }
          }
        }
        // Two long rows (fewer rows than threads when threads > 2): each row on its own.
        const two = tf.reshape(tf.constant(floats.subarray(0, 2 * 66_000)), [2, 66_000]);
        const both = tf.sort(two).dataSync() as Float32Array;
        for (let r = 0; r < 2; r++) {
          const want = halves[r];
          const got = both.subarray(r * 66_000, (r + 1) * 66_000);
          if (!want.every((w, i) => Object.is(w, got[i]))) {
            throw new Error(`row ${r} of two long rows, ${threads} threads: wrong order`);
          }
        }
      }
    } finally {
      setNumThreads(0);
    }
  },
);

Deno.test("sort, argsort, topK: long rows match a JS sort", () => {
  const n = 70_001;
  const values = randomValues(n, 5, -1, 1).map((v) => Math.round(v * 5000) / 100); // ties
  const f32 = Float32Array.from(values);
  const order = [...f32.keys()].sort((a, b) => f32[a] - f32[b] || a - b);
  const x = tf.constant(f32);
  assertClose(tf.argsort(x), order);
  checkValues(tf.sort(x), (sortedValues) => {
    // Bitwise: the -0s and +0s (Math.round makes both) keep their input order, as ties.
    const same = order.every((i, k) => Object.is(sortedValues[k], f32[i]));
    if (!same) throw new Error("sort of a long row differs bitwise from a stable JS sort");
  });
  const withNaN = Float32Array.from(f32, (v, i) => (i % 997 === 0 ? NaN : v));
  const nans = withNaN.filter((v) => v !== v).length;
  checkValues(tf.sort(tf.constant(withNaN)), (sorted) => {
    const nanLast = sorted as Float32Array;
    if (
      !nanLast.slice(-nans).every((v) => v !== v) || nanLast.slice(0, -nans).some((v) => v !== v)
    ) {
      throw new Error("NaN does not sort last in a long row");
    }
  });
  const down = [...f32.keys()].sort((a, b) => f32[b] - f32[a] || a - b);
  assertClose(tf.argsort(x, { direction: "DESCENDING" }), down);
  const top = tf.math.topK(x, { k: 300 });
  assertClose(top.indices, down.slice(0, 300));
  // Many short rows (the threaded row split), float64 (float32 on WebGPU) and int64 keys.
  const keys = ON_WEBGPU ? "float32" : "float64";
  const rows = tf.reshape(tf.constant(values.slice(0, 64 * 1000), keys), [64, 1000]);
  const wants = Array.from(
    { length: 64 },
    (_, r) =>
      values.slice(r * 1000, r * 1000 + 1000).map(keys === "float32" ? Math.fround : Number)
        .sort((a, b) => a - b),
  );
  assertClose(tf.sort(rows), wants, { rtol: 0, atol: 0 });
  // Another long row (11-bit digits from 65536 on), descending, and as int32.
  const long = Float32Array.from(randomValues(80_021, 9, -1, 1), (v) => Math.round(v * 1e4));
  const longOrder = [...long.keys()].sort((a, b) => long[b] - long[a] || a - b);
  assertClose(tf.argsort(tf.constant(long), { direction: "DESCENDING" }), longOrder);
  assertClose(
    tf.sort(tf.constant(long), { direction: "DESCENDING" }),
    longOrder.map((i) => long[i]),
  );
  const longInts = tf.reshape(tf.constant(Int32Array.from(long)), [1, 80_021]);
  assertClose(tf.sort(longInts), [longOrder.map((i) => long[i]).reverse()]);
  // topK over many rows (the threaded row split), of a transposed (strided) view.
  const grid = tf.transpose(tf.reshape(tf.constant(f32.slice(0, 60_000)), [200, 300]));
  const columns = readNow(grid) as Float32Array;
  const bests = Array.from({ length: 300 }, (_, r) => {
    const row = columns.slice(r * 200, r * 200 + 200);
    return [...row.keys()].sort((a, b) => row[b] - row[a] || a - b).slice(0, 7);
  });
  assertClose(tf.math.topK(grid, { k: 7 }).indices, bests);
  const big = tf.constant([5n, -(2n ** 62n), 2n ** 62n, 0n, -1n], "int64");
  assertClose(tf.argsort(big), [1, 4, 3, 0, 2]);
});

Deno.test("searchsorted and unique: edge cases", () => {
  assertClose(tf.searchsorted([1, 3, 5], [0, 3, 6]), [0, 1, 3]);
  assertClose(tf.searchsorted([1, 3, 5], [3], { side: "right" }), [2]);
  assertClose(tf.searchsorted(tf.zeros([2, 0]), tf.ones([2, 3])), [[0, 0, 0], [0, 0, 0]]);
  if (ON_WEBGPU) return; // no unique on the WebGPU device (its output size depends on values)
  const { y, idx } = tf.unique(tf.constant([7, 7, 7], "int32"));
  assertClose(y, [7]);
  assertClose(idx, [0, 0, 0]);
  // unique has no gradient: y is not connected to x.
  const [g] = tf.gradientsFunction((t: tf.Tensor) => tf.reduceSum(tf.unique(t).y))(
    tf.constant([1, 2, 1], "float64"),
  );
  assertClose(g, [0, 0, 0]);
});

Deno.test("sorting: argument errors name the op", () => {
  assertThrowsMatch(() => tf.sort(3), /^sort: input must have rank >= 1/);
  assertThrowsMatch(() => tf.sort([true, false]), /^sort: dtype bool is not supported/);
  assertThrowsMatch(() => tf.sort([1, 2], { axis: 1 }), /^sort: axis 1 is out of range/);
  assertThrowsMatch(
    () => tf.argsort([1, 2], { direction: "UP" as "ASCENDING" }),
    /^argsort: direction must be/,
  );
  assertThrowsMatch(
    () => tf.math.topK([1, 2], { k: 3 }),
    /^topK: k must be an integer in \[0, 2\]/,
  );
  assertThrowsMatch(() => tf.math.topK([1, 2], { k: -1 }), /^topK: k must be/);
  assertThrowsMatch(() => tf.unique([[1, 2]]), /^unique: x must be 1-D/);
  assertThrowsMatch(
    () => tf.searchsorted([[1, 2]], [1, 2]),
    /^searchsorted: sortedSequence \[1,2\] and values \[2\] must have the same rank/,
  );
  assertThrowsMatch(
    () => tf.searchsorted([1, 2], new Int32Array([1])),
    /^searchsorted: values \(int32\) must have sortedSequence's dtype \(float32\)/,
  );
  assertThrowsMatch(
    () => tf.searchsorted([1, 2], [1], { side: "up" as "left" }),
    /^searchsorted: side/,
  );
});
