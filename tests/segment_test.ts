/**
 * Segment reductions, sorted and unsorted: values and gradients against TensorFlow
 * (tests/fixtures/scan_sort.json, from make_scan_sort_fixtures.py; ties and zeros, where
 * finite differences cannot judge), gradients and a second derivative against finite
 * differences away from ties, and argument errors.
 */
import * as tf from "../mod.ts";
import { casesOf, expectMatches, type FixtureCase, tensorOf, webGpuCase } from "./fixture_json.ts";
import fixtures from "./fixtures/scan_sort.json" with { type: "json" };
import { assertClose, assertThrowsMatch, ON_WEBGPU } from "./helpers.ts";
import { checkGradients, checkSecondDerivative, rand } from "./grad_helpers.ts";

type Attrs = { numSegments?: number };
type Case = FixtureCase<Attrs>;

type Run = (data: tf.Tensor, ids: tf.Tensor, a: Attrs) => tf.Tensor;
const sorted = (f: (d: tf.Tensor, i: tf.Tensor) => tf.Tensor): Run => (d, i) => f(d, i);
const unsorted = (f: (d: tf.Tensor, i: tf.Tensor, n: number) => tf.Tensor): Run => (d, i, a) =>
  f(d, i, a.numSegments!);
const OPS: Record<string, Run> = {
  segmentSum: sorted(tf.math.segmentSum),
  segmentMean: sorted(tf.math.segmentMean),
  segmentMax: sorted(tf.math.segmentMax),
  segmentMin: sorted(tf.math.segmentMin),
  segmentProd: sorted(tf.math.segmentProd),
  unsortedSegmentSum: unsorted(tf.math.unsortedSegmentSum),
  unsortedSegmentMean: unsorted(tf.math.unsortedSegmentMean),
  unsortedSegmentMax: unsorted(tf.math.unsortedSegmentMax),
  unsortedSegmentMin: unsorted(tf.math.unsortedSegmentMin),
  unsortedSegmentProd: unsorted(tf.math.unsortedSegmentProd),
};

/** The sorted ops read their ids on the host: on the WebGPU device they are given as a CPU tensor. */
const hostIds = (op: string, j: Case["inputs"][number]) =>
  ON_WEBGPU && !op.startsWith("unsorted") ? tf.device("/cpu:0", () => tensorOf(j)) : tensorOf(j);

for (const c of casesOf<Case["attrs"]>(fixtures, OPS)) {
  Deno.test(`${c.op} matches TensorFlow ${fixtures.tensorflow}: ${c.name}`, {
    ignore: webGpuCase(c) === "cpu",
  }, () => {
    const data = tensorOf(c.inputs[0]), ids = hostIds(c.op, c.inputs[1]);
    expectMatches(OPS[c.op](data, ids, c.attrs), c.outputs[0], c.name, 1e-6);
    if (c.grad && c.weights) {
      const w = tensorOf(c.weights);
      const loss = (t: tf.Tensor) => tf.reduceSum(tf.multiply(w, OPS[c.op](t, ids, c.attrs)));
      const [g] = tf.gradientsFunction(loss)(data);
      expectMatches(g, c.grad, `${c.name} gradient`, 1e-6);
    }
  });
}

Deno.test("segments: gradients against finite differences (float64, no ties)", () => {
  // Plain arrays: host data for the sorted ops on any device, made on data's for the unsorted.
  const ids = [0, 0, 1, 3, 3], uids = [2, 0, 2, 1, 0];
  const x = rand([5, 3], 1, 0.5, 1.5);
  for (
    const f of [tf.math.segmentMean, tf.math.segmentMax, tf.math.segmentMin, tf.math.segmentProd]
  ) {
    checkGradients((t) => f(t, ids), [x]);
  }
  for (
    const f of [
      tf.math.unsortedSegmentMean,
      tf.math.unsortedSegmentMax,
      tf.math.unsortedSegmentMin,
      tf.math.unsortedSegmentProd,
    ]
  ) {
    checkGradients((t) => f(t, uids, 3), [x]); // no empty segment: max's is -1.8e308
  }
  checkSecondDerivative((t) => tf.math.unsortedSegmentProd(t, uids, 3), rand([5], 2, 0.5, 1.5));
  checkSecondDerivative((t) => tf.square(tf.math.segmentMax(t, ids)), rand([5, 2], 3));
});

Deno.test("segments: NaN propagates through max and min; ids on the host", () => {
  assertClose(tf.math.unsortedSegmentMax([2, NaN, 1], [0, 0, 0], 1), [NaN]);
  assertClose(tf.math.segmentMin([NaN, 2], [0, 0]), [NaN]);
  const noIds = tf.device("/cpu:0", () => tf.constant([], "int32")); // a CPU tensor of ids
  assertClose(tf.math.segmentSum(tf.zeros([0, 2]), noIds), tf.zeros([0, 2]));
});

Deno.test("segments: argument errors name the op", () => {
  assertThrowsMatch(
    () => tf.math.segmentSum([1, 2], [1, 0]),
    /^segmentSum: segment ids are not increasing/,
  );
  assertThrowsMatch(() => tf.math.segmentMax([1, 2], [-1, 0]), /^segmentMax: segment id -1/);
  assertThrowsMatch(() => tf.math.segmentMin([1, 2], [0]), /^segmentMin: segmentIds must be 1-D/);
  assertThrowsMatch(
    () => tf.math.segmentProd([1, 2], [0.5, 1]),
    /^segmentProd: segmentIds must be int32/,
  );
  assertThrowsMatch(
    () => tf.math.unsortedSegmentMax([[1, 2]], [0, 0], 1),
    /^unsortedSegmentMax: segmentIds shape \[2\] must be a prefix of data shape \[1,2\]/,
  );
  assertThrowsMatch(
    () => tf.math.unsortedSegmentMin([1], [0], -1),
    /^unsortedSegmentMin: numSegments/,
  );
  assertThrowsMatch(
    () => tf.math.unsortedSegmentProd([true], [0], 1),
    /^unsortedSegmentProd: dtype bool/,
  );
  assertThrowsMatch(
    () => tf.math.segmentMean(new Uint8Array([1]), [0]),
    /^segmentMean: data must be float32, float64, int32 or int64, got uint8/,
  );
  if (ON_WEBGPU) {
    assertThrowsMatch(
      () => tf.math.segmentSum([1, 2], tf.constant([0, 1], "int32")),
      /^segmentSum: the segment ids are on .*GPU:0, but the sorted segment ops read them on the host.*unsortedSegmentSum\(data, ids, numSegments\)$/,
    );
  }
});
