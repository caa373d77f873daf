/**
 * Fits y = 3x + 2 from noisy samples by gradient descent on the mean squared error.
 *
 * NOTE: until the gradient tape lands (the autodiff issue), the gradient of the loss is
 * written out by hand: dL/dw = 2 mean((wx + b - y) x), dL/db = 2 mean(wx + b - y).
 *
 * Run: deno task train   (or deno run -A examples/linear_regression.ts --steps 200)
 */
import * as tf from "../mod.ts";

/** Options of the example (also command-line flags). */
export interface LinearRegressionOptions {
  steps?: number;
  learningRate?: number;
  samples?: number;
  log?: (line: string) => void;
}

/** Trains and returns the fitted weight, bias and final loss. */
export function trainLinearRegression(
  options: LinearRegressionOptions = {},
): { w: number; b: number; loss: number } {
  const { steps = 200, learningRate = 0.1, samples = 1000, log = () => {} } = options;
  tf.random.setSeed(42);
  const x = tf.randomNormal([samples, 1]);
  const noise = tf.randomNormal([samples, 1], { stddev: 0.1 });
  const y = x.mul(3).add(2).add(noise);
  let w = tf.constant([[0]]), b = tf.constant(0);
  let loss = Infinity;
  for (let step = 1; step <= steps; step++) {
    const error = tf.matmul(x, w).add(b).sub(y);
    loss = Number(tf.reduceMean(tf.square(error)));
    const dw = tf.reduceMean(error.mul(x)).mul(2);
    const db = tf.reduceMean(error).mul(2);
    w = w.sub(dw.mul(learningRate));
    b = b.sub(db.mul(learningRate));
    if (step % 20 === 0 || step === 1) log(`step ${step}: loss ${loss.toFixed(5)}`);
  }
  return { w: Number(w), b: Number(b), loss };
}

if (import.meta.main) {
  const flag = (name: string, fallback: number) => {
    const i = Deno.args.indexOf(`--${name}`);
    return i >= 0 ? Number(Deno.args[i + 1]) : fallback;
  };
  const result = trainLinearRegression({
    steps: flag("steps", 200),
    learningRate: flag("learning-rate", 0.1),
    log: console.log,
  });
  console.log(
    `fitted w = ${result.w.toFixed(4)} (true 3), b = ${result.b.toFixed(4)} (true 2),` +
      ` loss ${result.loss.toFixed(5)}`,
  );
}
