/**
 * bincount, histogramFixedWidth and meshgrid: values (and meshgrid's gradient) against
 * TensorFlow (tests/fixtures/scan_sort.json, from make_scan_sort_fixtures.py), gradients
 * against finite differences, and argument errors.
 */
import * as tf from "../mod.ts";
import { type CaseRun, testCases } from "./fixture_json.ts";
import fixtures from "./fixtures/scan_sort.json" with { type: "json" };
import { assertClose, assertThrowsMatch, ON_WEBGPU, readNow } from "./helpers.ts";
import { checkGradients, checkSecondDerivative, rand } from "./grad_helpers.ts";
import type { DType } from "../src/dtype.ts";

type Attrs = {
  minlength?: number;
  maxlength?: number;
  dtype?: DType;
  nbins?: number;
  indexing?: "xy" | "ij";
};

type Run = CaseRun<Attrs>;
/** bincount reads arr on the host to size its result: on the WebGPU device arr is given as
 * numbers (the host copy of the suite's upload) unless the case fixes the length. */
const hostArr = (arr: tf.Tensor, a: Attrs) =>
  ON_WEBGPU && !(a.minlength !== undefined && a.minlength === a.maxlength) ? readNow(arr) : arr;

const OPS: Record<string, Run> = {
  bincount: ([arr, weights], a) => [tf.math.bincount(hostArr(arr, a), { ...a, weights })],
  histogramFixedWidth: ([v, range], a) => [
    tf.histogramFixedWidth(v, range, { nbins: a.nbins, dtype: a.dtype as "int32" }),
  ],
  meshgrid: (xs, a) => tf.meshgrid(...xs, { indexing: a.indexing }),
};

testCases(fixtures, OPS, 1e-12);

Deno.test("counting: gradients against finite differences (float64)", () => {
  const arr = [1, 3, 3, 0]; // host data: bincount reads it on any device
  checkGradients((w) => tf.math.bincount(arr, { weights: w, minlength: 5 }), [rand([4], 1)]);
  checkGradients((a, b) => tf.addN(tf.meshgrid(a, b, { indexing: "ij" })), [
    rand([3], 2),
    rand([2], 3),
  ]);
  checkSecondDerivative((a) => tf.square(tf.meshgrid(a, a)[1]), rand([3], 4));
});

Deno.test("counting: edge cases", () => {
  assertClose(tf.math.bincount(new Int32Array(0), { minlength: 3, dtype: "float32" }), [0, 0, 0]);
  // A fixed length reads nothing: arr stays wherever it is (on the device in the WebGPU run).
  const fixed = { minlength: 4, maxlength: 4, weights: tf.constant([1, 2, 4, 8, 16]) };
  assertClose(tf.math.bincount(tf.constant([3, 0, 3, 7, 1], "int32"), fixed), [2, 16, 0, 5]);
  assertClose(tf.math.bincount(new Int32Array([4, 1]), { maxlength: 0 }), tf.zeros([0], "int32"));
  assertClose(tf.histogramFixedWidth([], [0, 1], { nbins: 2 }), [0, 0]);
  const single = tf.meshgrid([1, 2, 3]);
  assertClose(single[0], [1, 2, 3]);
  if (tf.meshgrid().length !== 0) throw new Error("meshgrid() is not empty");
});

Deno.test("counting: argument errors name the op", () => {
  assertThrowsMatch(
    () => tf.math.bincount(new Int32Array([1, -2])),
    /^bincount: arr must be non-negative, got -2/,
  );
  assertThrowsMatch(() => tf.math.bincount([0.5]), /^bincount: arr must be int32 or int64/);
  assertThrowsMatch(
    () => tf.math.bincount(new Int32Array([1]), { weights: [1, 2] }),
    /^bincount: weights \[2\] must have arr's shape \[1\]/,
  );
  assertThrowsMatch(
    () => tf.math.bincount(new Int32Array([1]), { minlength: -1 }),
    /^bincount: minlength/,
  );
  assertThrowsMatch(
    () => tf.math.bincount(new Int32Array([1]), { dtype: "bool" }),
    /^bincount: dtype/,
  );
  assertThrowsMatch(
    () => tf.histogramFixedWidth([1], [0, 1, 2]),
    /^histogramFixedWidth: valueRange/,
  );
  assertThrowsMatch(
    () => tf.histogramFixedWidth([1], [0, 1], { nbins: 0 }),
    /^histogramFixedWidth: nbins/,
  );
  assertThrowsMatch(
    () => tf.histogramFixedWidth([true], [0, 1]),
    /^histogramFixedWidth: values must be/,
  );
  assertThrowsMatch(
    () => tf.meshgrid([1], new Int32Array([1])),
    /^meshgrid: inputs must share one dtype/,
  );
  assertThrowsMatch(() => tf.meshgrid([1], { indexing: "xx" as "xy" }), /^meshgrid: indexing/);
  if (ON_WEBGPU) {
    assertThrowsMatch(
      () => tf.math.bincount(tf.constant([1, 2], "int32")),
      /^bincount: arr is on .*GPU:0, but the result's length depends on its values.*minlength and maxlength equal/,
    );
  }
});
