/**
 * The seed's linear regression: fits y = 3x + 2 from noisy samples, with two Variables
 * and the gradients of the mean squared error from tf.implicitValueAndGradients
 * (plain gradient descent until the optimizers land).
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
  const w = new tf.Variable([[0]], { name: "weight" });
  const b = new tf.Variable(0, { name: "bias" });
  const meanSquaredError = () => tf.reduceMean(tf.square(tf.matmul(x, w).add(b).sub(y)));
  const valueAndGrads = tf.implicitValueAndGradients(meanSquaredError);
  let loss = Infinity;
  for (let step = 1; step <= steps; step++) {
    const [value, grads] = valueAndGrads();
    loss = Number(value);
    for (const [grad, variable] of grads) variable.assignSub(grad.mul(learningRate));
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
