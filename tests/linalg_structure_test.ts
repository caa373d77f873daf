/**
 * Matrix structure (matvec, trace, diag, diagPart, setDiag, bandPart, eye's batchShape):
 * values and gradients against TensorFlow (tests/fixtures/einsum.json), gradients and a
 * second derivative against finite differences, and argument errors.
 */
import * as tf from "../mod.ts";
import { replay } from "./einsum_fixtures.ts";
import { assertClose, assertThrowsMatch } from "./helpers.ts";
import { checkGradients, checkSecondDerivative, rand } from "./grad_helpers.ts";

replay({
  matvec: ([a, b], o) => tf.linalg.matvec(a, b, { transposeA: o.transposeA as boolean }),
  trace: ([x]) => tf.linalg.trace(x),
  diag: ([x]) => tf.linalg.diag(x),
  diagPart: ([x]) => tf.linalg.diagPart(x),
  setDiag: ([x, d]) => tf.linalg.setDiag(x, d),
  bandPart: ([x], o) => tf.linalg.bandPart(x, o.numLower as number, o.numUpper as number),
});

Deno.test("matrix structure: gradients against finite differences (float64)", () => {
  checkGradients((a, b) => tf.linalg.matvec(a, b), [rand([2, 3, 4], 1), rand([4], 2)]);
  checkGradients((a, b) => tf.linalg.matvec(a, b, { transposeA: true }), [
    rand([3, 2], 3),
    rand([3], 4),
  ]);
  checkGradients((x) => tf.linalg.trace(x), [rand([2, 3, 4], 5)]);
  checkGradients((x) => tf.linalg.diag(x), [rand([2, 3], 6)]);
  checkGradients((x) => tf.linalg.diagPart(x), [rand([2, 4, 3], 7)]);
  checkGradients((x, d) => tf.linalg.setDiag(x, d), [rand([2, 3, 4], 8), rand([2, 3], 9)]);
  checkGradients((x) => tf.linalg.bandPart(x, 1, 0), [rand([3, 4], 10)]);
});

Deno.test("matrix structure: second derivative (float64)", () => {
  checkSecondDerivative(
    (x) =>
      tf.linalg.trace(
        tf.matmul(tf.linalg.bandPart(x, 0, -1), tf.linalg.diag(tf.linalg.diagPart(x))),
      ),
    rand([3, 3], 11),
  );
});

Deno.test("eye: batchShape, non-square and dtype", () => {
  const e = tf.eye(2, 3, { batchShape: [2], dtype: "int32" });
  assertClose(e, [[[1, 0, 0], [0, 1, 0]], [[1, 0, 0], [0, 1, 0]]]);
  if (e.dtype !== "int32") throw new Error(`eye dtype ${e.dtype}`);
  assertClose(tf.linalg.eye(3, 2), [[1, 0], [0, 1], [0, 0]]);
  assertClose(tf.linalg.diag(tf.ones([2, 3])), tf.eye(3, 3, { batchShape: [2] }));
});

Deno.test("matrix structure: a big batch matches a reference loop", () => {
  const x = rand([3, 70, 90], 12);
  const v = x.dataSync() as Float64Array;
  const want: number[] = [];
  for (let b = 0; b < 3; b++) for (let i = 0; i < 70; i++) want.push(v[b * 6300 + i * 91]);
  assertClose(tf.linalg.diagPart(x), tf.reshape(tf.constant(want, "float64"), [3, 70]), {
    rtol: 0,
    atol: 0,
  });
});

Deno.test("matrix structure: argument errors name the op", () => {
  const v = tf.ones([3]), m = tf.ones([2, 3]);
  assertThrowsMatch(() => tf.linalg.matvec(v, v), /^matvec: a needs rank >= 2, got shape \[3\]/);
  assertThrowsMatch(() => tf.linalg.matvec(m, tf.ones([2])), /^matvec: inner dimensions differ/);
  assertThrowsMatch(() => tf.linalg.trace(v), /^trace: input needs rank >= 2/);
  assertThrowsMatch(() => tf.linalg.diagPart(v), /^diagPart: input needs rank >= 2/);
  assertThrowsMatch(() => tf.linalg.diag(tf.constant(1)), /^diag: diagonal needs rank >= 1/);
  assertThrowsMatch(
    () => tf.linalg.setDiag(m, tf.ones([3])),
    /^setDiag: diagonal must have shape \[2\]/,
  );
  assertThrowsMatch(
    () => tf.linalg.bandPart(m, -2, 0),
    /^bandPart: numLower must be an integer >= -1/,
  );
  assertThrowsMatch(() => tf.linalg.bandPart(m, 0, 4), /^bandPart: numUpper 4 exceeds/);
  assertThrowsMatch(() => tf.linalg.bandPart(m, 0.5, 0), /^bandPart: numLower must be an integer/);
});
