/**
 * Gradients of tf.linalg's LAPACK ops: against TensorFlow 2.21's (the "grads" of
 * tests/fixtures/linalg.json: d/dx of sum(w * g(outputs)), g squaring sign-ambiguous
 * vectors), against central differences in float64, and second derivatives.
 */
import * as tf from "../mod.ts";
import { lapackAvailable } from "../src/backend/cpu/linalg.ts";
import fixtures from "./fixtures/linalg.json" with { type: "json" };
import { assertClose } from "./helpers.ts";
import { checkGradients, checkSecondDerivative, rand } from "./grad_helpers.ts";

/** Deno.test, skipped where no LAPACK is found (the aarch64 suites under qemu have none). */
const test = (name: string, fn: () => void) => Deno.test({ name, ignore: !lapackAvailable(), fn });

type Json = { dtype: string; shape: number[]; values: (number | string)[] };
type Case = {
  op: string;
  name: string;
  inputs: Json[];
  options: Record<string, unknown>;
  weights?: Record<string, Json>;
  squared?: string[];
  grads?: Json[];
};

const decode = (v: number | string) =>
  v === "nan" ? NaN : v === "inf" ? Infinity : v === "-inf" ? -Infinity : Number(v);
const toTensor = (j: Json) =>
  tf.constant(j.values.map(decode), j.dtype as "float64", { shape: j.shape });

const OUT: Record<string, string> = {
  cholesky: "l",
  solve: "x",
  inv: "x",
  det: "d",
  triangularSolve: "x",
  eigvalsh: "e",
  lstsq: "x",
  pinv: "x",
};
// deno-lint-ignore no-explicit-any
const L = tf.linalg as any;
function run(op: string, xs: tf.Tensor[], options: Record<string, unknown>) {
  const r = xs.length === 2 ? L[op](xs[0], xs[1], options) : L[op](xs[0], options);
  return (r instanceof tf.Tensor ? { [OUT[op]]: r } : r) as Record<string, tf.Tensor>;
}

for (const c of (fixtures.cases as unknown as Case[]).filter((c) => c.grads)) {
  test(`${c.op} gradient matches TensorFlow ${fixtures.tensorflow}: ${c.name}`, () => {
    const xs = c.inputs.map(toTensor);
    const weights = Object.fromEntries(
      Object.entries(c.weights!).map(([k, w]) => [k, toTensor(w)]),
    );
    const loss = (...ts: tf.Tensor[]) => {
      const outs = run(c.op, ts, c.options);
      return tf.addN(
        Object.keys(weights).map((k) => {
          const y = c.squared!.includes(k) ? tf.square(outs[k]) : outs[k];
          return tf.reduceSum(tf.multiply(weights[k], y));
        }),
      );
    };
    const grads = tf.gradientsFunction(loss)(...xs);
    grads.forEach((g, k) =>
      assertClose(g, toTensor(c.grads![k]), { rtol: 1e-6, atol: 1e-8, message: `input ${k}` })
    );
  });
}

/** A well-conditioned [..., n, n] float64 matrix. */
const square = (shape: number[], seed: number) =>
  tf.add(rand(shape, seed), tf.linalg.eye(shape.at(-1)!, undefined, { dtype: "float64" }).mul(3));
/** A symmetric positive definite one, as a function of a free matrix. */
const spd = (x: tf.Tensor) =>
  tf.add(
    tf.matmul(x, x, { transposeB: true }),
    tf.linalg.eye(x.shape.at(-1)!, undefined, { dtype: "float64" }).mul(x.shape.at(-1)!),
  );

test("linalg gradients match central differences", () => {
  checkGradients((x) => tf.linalg.cholesky(spd(x)), [rand([2, 3, 3], 1)]);
  checkGradients((a, b) => tf.linalg.solve(a, b), [square([2, 3, 3], 2), rand([2, 3, 2], 3)]);
  checkGradients((a, b) => tf.linalg.solve(a, b, { adjoint: true }), [
    square([3, 3], 4),
    rand([3, 1], 5),
  ]);
  checkGradients((a) => tf.linalg.inv(a), [square([2, 3, 3], 6)]);
  checkGradients((a) => tf.linalg.det(a), [square([2, 3, 3], 7)]);
  checkGradients((a) => tf.linalg.slogdet(a).logAbsDeterminant, [square([3, 3], 8)]);
  checkGradients((a, b) => tf.linalg.triangularSolve(a, b, { lower: false, adjoint: true }), [
    square([2, 3, 3], 9),
    rand([2, 3, 2], 10),
  ]);
  // batch dims broadcast: each operand's gradient summed back to its own shape
  checkGradients((a, b) => tf.linalg.triangularSolve(a, b), [
    square([3, 1, 3, 3], 21),
    rand([2, 3, 2], 22),
  ]);
  checkGradients((a, b) => tf.linalg.lstsq(a, b), [rand([2, 1, 5, 3], 23), rand([3, 5, 2], 24)]);
  checkGradients((a, b) => tf.linalg.lstsq(a, b, { l2Regularizer: 0.5 }), [
    rand([3, 5], 25),
    rand([2, 3, 1], 26),
  ]);
  checkGradients((a) => tf.square(tf.linalg.qr(a).q), [rand([4, 3], 11)]);
  checkGradients((a) => tf.square(tf.linalg.qr(a).r), [rand([2, 4], 12)]);
  checkGradients((a) => tf.square(tf.linalg.eigh(a).v), [rand([3, 3], 13)], { rtol: 1e-4 });
  checkGradients((a) => tf.linalg.eigvalsh(a), [rand([2, 3, 3], 14)]);
  checkGradients((a) => tf.square(tf.linalg.svd(a).u!), [rand([4, 3], 15)], { rtol: 1e-4 });
  checkGradients((a) => tf.linalg.svd(a, { computeUv: false }).s, [rand([3, 4], 16)]);
  checkGradients((a, b) => tf.linalg.lstsq(a, b, { fast: false }), [
    rand([5, 3], 17),
    rand([5, 2], 18),
  ]);
  checkGradients((a) => tf.linalg.pinv(a), [rand([3, 2], 19)], { rtol: 1e-4 });
});

test("linalg second derivatives match central differences", () => {
  checkSecondDerivative((a) => tf.linalg.inv(a), [square([3, 3], 20)], { rtol: 1e-4 });
  checkSecondDerivative((x) => tf.linalg.cholesky(spd(x)), [rand([3, 3], 21)], { rtol: 1e-4 });
  checkSecondDerivative((a) => tf.linalg.det(a), [square([3, 3], 22)], { rtol: 1e-4 });
});
