/**
 * Gradients of the indexing ops (gather, gatherNd, scatterNd, unsortedSegmentSum,
 * booleanMask) against central finite differences in float64 (tests/grad_helpers.ts), and
 * against real TensorFlow (tests/fixtures/make_indexing_grad_fixtures.py wrote
 * tests/fixtures/indexing_grad.json; in float32 on the WebGPU device).
 */
import * as tf from "../mod.ts";
import fixtures from "./fixtures/indexing_grad.json" with { type: "json" };
import { assertClose, assertEquals, assertStrictEquals, deviceDTypes } from "./helpers.ts";
import { checkGradients, checkSecondDerivative, rand } from "./grad_helpers.ts";

type Op = (x: tf.Tensor) => tf.Tensor;

/** The float dtype the checks compute in: float64, float32 on the WebGPU device. */
const FLOAT = deviceDTypes(["float64", "float32"] as const)[0];
const floats = (values: number[], shape: readonly number[]) =>
  tf.constant(values, FLOAT, { shape: [...shape] });

/**
 * Checks the tape's gradient of sum(w * op(x)) at a random x of `shape` against central
 * differences in float64 (tests/grad_helpers.ts; on the WebGPU device, the device's float32
 * gradient against the CPU's float64 one).
 */
function checkGradient(op: Op, shape: readonly number[], seed = 1): void {
  checkGradients(op, [rand(shape, seed)], { rtol: 1e-6, atol: 1e-8, seed: seed + 1 });
}

Deno.test("gather over axes 0, 1 and -1 matches finite differences", () => {
  const idx = [[2, 0, 2], [1, 1, 3]];
  checkGradient((p) => tf.gather(p, idx), [4, 3, 2]);
  checkGradient((p) => tf.gather(p, [2, 0, 2], { axis: 1 }), [2, 3, 2]);
  checkGradient((p) => tf.gather(p, idx, { axis: 1 }), [2, 4, 3]);
  checkGradient((p) => tf.gather(p, idx, { axis: -1 }), [2, 3, 4]);
  checkGradient((p) => tf.gather(p, 1, { axis: 1 }), [3, 2, 2]);
});

Deno.test("gather with batchDims 1 matches finite differences", () => {
  const idx = [[2, 0, 2], [1, 1, 0]];
  checkGradient((p) => tf.gather(p, idx, { batchDims: 1 }), [2, 3]);
  checkGradient((p) => tf.gather(p, idx, { batchDims: 1 }), [2, 3, 2]);
  checkGradient((p) => tf.gather(p, idx, { axis: 2, batchDims: 1 }), [2, 4, 3, 2]);
  checkGradient((p) => tf.gather(p, [[[1], [0]], [[0], [0]]], { batchDims: -1 }), [2, 2, 2]);
});

Deno.test("gather: gradients of duplicate indices add up; indices get none", () => {
  const [grad] = tf.gradientsFunction((p: tf.Tensor) => tf.reduceSum(tf.gather(p, [1, 1, 1, 2])))(
    tf.constant([10, 20, 30, 40]),
  );
  assertClose(grad, [0, 3, 1, 0]);
  const [rows] = tf.gradientsFunction((p: tf.Tensor) => tf.reduceSum(tf.gather(p, [0, 0])))(
    tf.constant([[1, 2], [3, 4]]),
  );
  assertClose(rows, [[2, 2], [0, 0]]);
  const tape = new tf.GradientTape();
  const p = tf.constant([1, 2, 3]), idx = tf.constant([2, 0], "int32");
  tape.watch([p, idx]);
  const y = tape.record(() => tf.reduceSum(tf.gather(p, idx)));
  const [dp, di] = tape.gradient(y, [p, idx]);
  assertClose(dp!, [1, 0, 1]);
  assertStrictEquals(di, null);
});

Deno.test("gather: int64 indices, non-contiguous params, empty indices", () => {
  const idx = new BigInt64Array([2n, 0n, 2n]); // numbers: made on the device f runs on
  checkGradient((p) => tf.gather(p, idx, { axis: 1 }), [2, 3]);
  // A transposed (strided) params still routes its gradient back through the view.
  checkGradient((p) => tf.gather(tf.transpose(p), [1, 0, 1]), [3, 2]);
  const [grad] = tf.gradientsFunction((p: tf.Tensor) =>
    tf.reduceSum(tf.gather(p, tf.constant([], "int32")))
  )(tf.constant([1, 2, 3]));
  assertClose(grad, [0, 0, 0]);
});

Deno.test("gatherNd with and without batchDims matches finite differences", () => {
  checkGradient((p) => tf.gatherNd(p, [[1, 0], [2, 1], [1, 0]]), [3, 2]);
  checkGradient((p) => tf.gatherNd(p, [[[1], [0]], [[1], [1]]]), [3, 2, 2]);
  checkGradient((p) => tf.gatherNd(p, [[1, 0], [0, 1]]), [2, 2, 3]);
  checkGradient((p) => tf.gatherNd(p, [[1], [0]], { batchDims: 1 }), [2, 3]);
  checkGradient((p) => tf.gatherNd(p, [[[2], [0], [2]], [[1], [1], [0]]], { batchDims: 1 }), [
    2,
    3,
    2,
  ]);
  checkGradient((p) => tf.gatherNd(p, [[[1, 0]], [[0, 1]]], { batchDims: 1 }), [2, 2, 2, 2]);
  // Duplicate rows add up.
  const [grad] = tf.gradientsFunction((p: tf.Tensor) =>
    tf.reduceSum(tf.gatherNd(p, [[0, 1], [0, 1], [1, 0]]))
  )(tf.constant([[1, 2], [3, 4]]));
  assertClose(grad, [[0, 2], [1, 0]]);
  // An empty result still gives a (zero) gradient of params' shape.
  const [empty] = tf.gradientsFunction((p: tf.Tensor) =>
    tf.reduceSum(tf.gatherNd(p, tf.constant([], "int32", { shape: [0, 1] })))
  )(tf.constant([[1, 2], [3, 4]]));
  assertClose(empty, [[0, 0], [0, 0]]);
});

Deno.test("scatterNd with duplicate indices: the gradient of updates gathers dy", () => {
  checkGradient((u) => tf.scatterNd([[1], [3], [1]], u, [4]), [3]);
  checkGradient((u) => tf.scatterNd([[1, 0], [0, 2], [1, 0]], u, [2, 3, 2]), [3, 2]);
  const [grad] = tf.gradientsFunction((u: tf.Tensor) =>
    tf.reduceSum(tf.scatterNd([[1], [1]], u, [3]).mul([1, 10, 100]))
  )(tf.constant([5, 6]));
  assertClose(grad, [10, 10]);
});

Deno.test("unsortedSegmentSum: dropped ids get zero gradient", () => {
  checkGradient((d) => tf.unsortedSegmentSum(d, [0, 2, 0, 1], 3), [4]);
  checkGradient((d) => tf.unsortedSegmentSum(d, [0, 5, -1, 1, 2], 3), [5, 2]);
  checkGradient((d) => tf.unsortedSegmentSum(d, [[0, -2], [3, 1]], 2), [2, 2, 3]);
  const [grad] = tf.gradientsFunction((d: tf.Tensor) =>
    tf.reduceSum(tf.unsortedSegmentSum(d, [1, -1, 2, 0], 2).mul([[10], [20]]))
  )(tf.constant([[1, 1], [2, 2], [3, 3], [4, 4]]));
  assertClose(grad, [[20, 20], [0, 0], [0, 0], [10, 10]]);
  const [none] = tf.gradientsFunction((d: tf.Tensor) =>
    tf.reduceSum(tf.unsortedSegmentSum(d, [0, 1], 0))
  )(tf.constant([1, 2]));
  assertClose(none, [0, 0]);
});

Deno.test("booleanMask differentiates through gather", () => {
  checkGradient((x) => tf.booleanMask(x, [true, false, true, true]), [4, 2]);
  checkGradient((x) => tf.booleanMask(x, [[true, false], [false, true]]), [2, 2, 3]);
  checkGradient((x) => tf.booleanMask(x, [false, true, true], { axis: 1 }), [2, 3, 2]);
  const [grad] = tf.gradientsFunction((x: tf.Tensor) =>
    tf.reduceSum(tf.booleanMask(x, [true, false, true]).square())
  )(tf.constant([1, 2, 3]));
  assertClose(grad, [2, 0, 6]);
});

Deno.test("second order: gradients of the gather, gatherNd and segment-sum rules", () => {
  const cubed = (op: Op): Op => (x) => op(x).pow(3);
  const probe = rand([4, 3], 5);
  checkSecondDerivative(cubed((p) => tf.gather(p, [2, 0, 2], { axis: 1 })), probe);
  checkSecondDerivative(
    cubed((p) => tf.gather(p, [[1, 1], [0, 2], [2, 2], [0, 0]], { batchDims: 1 })),
    probe,
  );
  const nd: Op = (p) =>
    tf.gatherNd(p, [[[1], [1]], [[0], [2]], [[2], [0]], [[1], [1]]], { batchDims: 1 });
  checkSecondDerivative(cubed(nd), probe);
  checkSecondDerivative(cubed((d) => tf.unsortedSegmentSum(d, [1, -1, 0, 7], 2)), probe);
  // Third order of gather: d3/dx3 of sum(gather(x)^3) is 6 per pick.
  const f = (x: tf.Tensor) => tf.reduceSum(tf.gather(x, [0, 0, 1]).pow(3));
  const d1 = tf.gradientsFunction(f);
  const d2 = tf.gradientsFunction((x: tf.Tensor) => tf.reduceSum(d1(x)[0]));
  const d3 = tf.gradientsFunction((x: tf.Tensor) => tf.reduceSum(d2(x)[0]));
  assertClose(d3(floats([1, 2, 3], [3]))[0], [12, 6, 0]);
});

Deno.test("oneHot and whereIndices carry no gradient", () => {
  const [viaOneHot] = tf.gradientsFunction((x: tf.Tensor) =>
    tf.reduceSum(tf.oneHot(tf.cast(x, "int32"), 3)).add(x.sum())
  )(tf.constant([0, 2]));
  assertClose(viaOneHot, [1, 1]);
  const tape = new tf.GradientTape();
  // whereIndices reads its input on the host (its output's shape depends on the values): a
  // CPU tensor, whatever the default device.
  const x = tf.device("/cpu:0", () => tf.constant([0, 1.5, 2]));
  tape.watch(x);
  const y = tape.record(() => tf.cast(tf.whereIndices(x), "float32").sum());
  assertStrictEquals(tape.gradient(y, x), null);
});

// ---- against TensorFlow ----------------------------------------------------------------

type Json = { shape: number[]; values: number[] };
type Args = {
  indices?: number[] | number[][] | number[][][];
  axis?: number;
  batchDims?: number;
  shape?: number[];
  segmentIds?: number[];
  numSegments?: number;
  mask?: boolean[][];
};
type Case = { name: string; op: string; x: Json; args: Args; order: number; w: Json; grad: Json };

const OPS: Record<string, (a: Args) => Op> = {
  gather: (a) => (x) => tf.gather(x, a.indices!, { axis: a.axis, batchDims: a.batchDims }),
  gatherNd: (a) => (x) => tf.gatherNd(x, a.indices!, { batchDims: a.batchDims }),
  scatterNd: (a) => (u) => tf.scatterNd(a.indices!, u, a.shape!),
  unsortedSegmentSum: (a) => (d) => tf.unsortedSegmentSum(d, a.segmentIds!, a.numSegments!),
  booleanMask: (a) => (x) => tf.booleanMask(x, a.mask!, { axis: a.axis }),
};

Deno.test("indexing gradients match TensorFlow", () => {
  const cases = fixtures.cases as Case[];
  assertEquals(new Set(cases.map((c) => c.op)), new Set(Object.keys(OPS)));
  for (const c of cases) {
    const op = OPS[c.op](c.args);
    const w = floats(c.w.values, c.w.shape);
    const power: Op = c.order === 1 ? op : (x) => op(x).pow(3);
    const loss = (x: tf.Tensor) => tf.reduceSum(power(x).mul(w));
    const df = tf.gradientsFunction(loss);
    const grad = c.order === 1
      ? df
      : tf.gradientsFunction((x: tf.Tensor) => tf.reduceSum(df(x)[0]));
    // float64 to 1e-12; float32 on the WebGPU device, to its precision.
    const [rtol, atol] = FLOAT === "float64" ? [1e-12, 1e-14] : [1e-5, 1e-5];
    assertClose(grad(floats(c.x.values, c.x.shape))[0], floats(c.grad.values, c.grad.shape), {
      rtol,
      atol,
      message: c.name,
    });
  }
});
