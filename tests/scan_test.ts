/**
 * cumsum, cumprod and cumulativeLogsumexp: values and gradients against TensorFlow
 * (tests/fixtures/scan_sort.json, from make_scan_sort_fixtures.py), gradients and a second
 * derivative against finite differences, long rows against a float64 reference loop (the
 * blocked and threaded paths), and argument errors.
 */
import * as tf from "../mod.ts";
import {
  casesOf,
  expectGap,
  expectMatches,
  type FixtureCase,
  tensorOf,
  webGpuCase,
} from "./fixture_json.ts";
import fixtures from "./fixtures/scan_sort.json" with { type: "json" };
import { assertClose, assertThrowsMatch, randomValues } from "./helpers.ts";
import { checkGradients, checkSecondDerivative, rand } from "./grad_helpers.ts";

type Case = FixtureCase<{ axis: number; exclusive?: boolean; reverse?: boolean }>;

type Scan = typeof tf.cumsum;
const SCANS: Record<string, Scan> = {
  cumsum: tf.cumsum,
  cumprod: tf.math.cumprod,
  cumulativeLogsumexp: tf.math.cumulativeLogsumexp,
};

// int64 scans: the WebGPU device has none yet.
const WEBGPU_GAPS = ["cumsum int64", "cumprod int64"];

for (const c of casesOf<Case["attrs"]>(fixtures, SCANS)) {
  const mode = webGpuCase(c, WEBGPU_GAPS);
  Deno.test(`${c.op} matches TensorFlow ${fixtures.tensorflow}: ${c.name}`, {
    ignore: mode === "cpu",
  }, () => {
    const { axis, exclusive, reverse } = c.attrs;
    const f = (x: tf.Tensor) => SCANS[c.op](x, axis, { exclusive, reverse });
    const x = tensorOf(c.inputs[0]);
    if (mode === "gap") return expectGap(() => f(x));
    // Long float32 rows sum in blocks: a few ulps of the running total from TensorFlow's.
    const rtol = x.size > 1000 ? 2e-4 : x.dtype === "float32" ? 2e-5 : 1e-12;
    expectMatches(f(x), c.outputs[0], c.name, rtol);
    if (c.grad && c.weights) {
      const w = tensorOf(c.weights);
      const [g] = tf.gradientsFunction((t: tf.Tensor) => tf.reduceSum(tf.multiply(w, f(t))))(x);
      expectMatches(g, c.grad, `${c.name} gradient`, rtol * 10);
    }
  });
}

Deno.test("scans: gradients against finite differences (float64)", () => {
  for (const axis of [0, -1]) {
    for (const exclusive of [false, true]) {
      for (const reverse of [false, true]) {
        const o = { exclusive, reverse };
        checkGradients((x) => tf.cumsum(x, axis, o), [rand([3, 4], 1)]);
        checkGradients((x) => tf.math.cumprod(x, axis, o), [rand([3, 4], 2, 0.5, 1.5)]);
        // exp: an exclusive scan starts at -Infinity, which a weighted sum cannot take.
        checkGradients((x) => tf.exp(tf.math.cumulativeLogsumexp(x, axis, o)), [rand([3, 4], 3)]);
      }
    }
  }
});

Deno.test("scans: second derivatives (float64)", () => {
  checkSecondDerivative((x) => tf.math.cumprod(x, 1, { reverse: true }), rand([2, 4], 4, 0.5, 1.5));
  checkSecondDerivative((x) => tf.math.cumulativeLogsumexp(x, 0), rand([5], 5), { rtol: 1e-4 });
  checkSecondDerivative((x) => tf.multiply(tf.cumsum(x, 0, { exclusive: true }), x), rand([6], 6));
});

/** The scan of a float64 row by a sequential loop. */
function reference(
  values: number[],
  op: (a: number, b: number) => number,
  identity: number,
  exclusive: boolean,
  reverse: boolean,
): number[] {
  const out = new Array<number>(values.length);
  let acc = identity;
  for (let k = 0; k < values.length; k++) {
    const i = reverse ? values.length - 1 - k : k;
    const next = op(acc, values[i]);
    out[i] = exclusive ? acc : next;
    acc = next;
  }
  return out;
}

Deno.test("scans: long rows (blocks, threads) match a sequential float64 loop", () => {
  const n = 100_003;
  const values = randomValues(n, 11, -1, 1);
  const x = tf.constant(values, "float64");
  const lse = (a: number, b: number) => {
    const hi = Math.max(a, b);
    return hi === -Infinity ? hi : hi + Math.log1p(Math.exp(Math.min(a, b) - hi));
  };
  for (const [exclusive, reverse] of [[false, false], [true, true], [false, true]]) {
    const o = { exclusive, reverse };
    assertClose(tf.cumsum(x, 0, o), reference(values, (a, b) => a + b, 0, exclusive, reverse), {
      rtol: 1e-9,
      atol: 1e-9,
    });
    const want = reference(values, lse, -Infinity, exclusive, reverse);
    assertClose(tf.math.cumulativeLogsumexp(x, 0, o), want, { rtol: 1e-12, atol: 1e-12 });
  }
  // Down columns: [outer, n, inner] with a wide inner dim.
  const m = tf.reshape(tf.constant(values.slice(0, 3 * 400 * 80), "float64"), [3, 400, 80]);
  const want = (m.dataSync() as Float64Array).slice();
  for (let o = 0; o < 3; o++) {
    for (let i = 398; i >= 0; i--) {
      for (let j = 0; j < 80; j++) want[(o * 400 + i) * 80 + j] += want[(o * 400 + i + 1) * 80 + j];
    }
  }
  assertClose(tf.reshape(tf.cumsum(m, 1, { reverse: true }), [want.length]), Array.from(want), {
    rtol: 1e-12,
    atol: 1e-12,
  });
  // int32 wraps, and a non-contiguous view is made dense first.
  const big = tf.constant(new Int32Array([2 ** 30, 2 ** 30, 2 ** 30, 1]));
  assertClose(tf.cumsum(big), [2 ** 30, -(2 ** 31), -(2 ** 30), -(2 ** 30) + 1]);
  assertClose(tf.cumsum(tf.transpose(tf.constant([[1, 2], [3, 4]])), 1), [[1, 4], [2, 6]]);
});

Deno.test("scans: argument errors name the op", () => {
  assertThrowsMatch(() => tf.cumsum([1, 2], 1), /^cumsum: axis 1 is out of range/);
  assertThrowsMatch(() => tf.cumsum(3, 0), /^cumsum: axis 0 is out of range/);
  assertThrowsMatch(() => tf.math.cumprod([true, false], 0), /^cumprod: dtype bool/);
  assertThrowsMatch(
    () => tf.math.cumulativeLogsumexp(new Int32Array([1, 2])),
    /^cumulativeLogsumexp: dtype int32 is not supported/,
  );
  assertThrowsMatch(() => tf.cumsum([1, 2], 0.5), /^cumsum: axis must be an integer/);
});
