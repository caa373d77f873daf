/**
 * The seed's linear regression, twice: fits y = 3x + 2 from noisy samples
 *
 * 1. with two Variables, the gradients of the mean squared error from
 *    tf.implicitValueAndGradients and GradientDescentOptimizer.applyGradients;
 * 2. with a Network holding one Dense layer, trained by optimizer.minimize with the
 *    global step.
 *
 * Run: deno run -A examples/linear_regression.ts [--steps 200] [--learning-rate 0.1]
 * @module
 */
import { parseArgs } from "node:util";
import * as tf from "../mod.ts";

/** Options of the example (also command-line flags). */
export interface LinearRegressionOptions {
  steps?: number;
  learningRate?: number;
  samples?: number;
  log?: (line: string) => void;
}

/** A fitted line and its final loss. */
export interface Fit {
  w: number;
  b: number;
  loss: number;
}

/** Noisy samples of y = 3x + 2 (seeded). */
function samplesOfLine(samples: number): { x: tf.Tensor; y: tf.Tensor } {
  tf.random.setSeed(42);
  const x = tf.randomNormal([samples, 1]);
  const noise = tf.randomNormal([samples, 1], { stddev: 0.1 });
  return { x, y: x.mul(3).add(2).add(noise) };
}

/** Part 1: Variables, implicitValueAndGradients and applyGradients. */
export function fitWithVariables(options: LinearRegressionOptions = {}): Fit {
  const { steps = 200, learningRate = 0.1, samples = 1000, log = () => {} } = options;
  const { x, y } = samplesOfLine(samples);
  const w = new tf.Variable([[5]], { name: "weight" });
  const b = new tf.Variable(10, { name: "bias" });
  const meanSquaredError = () => tf.reduceMean(tf.square(tf.matmul(x, w).add(b).sub(y)));
  const valueAndGrads = tf.implicitValueAndGradients(meanSquaredError);
  const optimizer = new tf.train.GradientDescentOptimizer(learningRate);
  let loss = Infinity;
  for (let step = 1; step <= steps; step++) {
    const [value, grads] = valueAndGrads();
    loss = Number(value);
    optimizer.applyGradients(grads);
    if (step % 50 === 0 || step === 1) log(`variables: step ${step}, loss ${loss.toFixed(5)}`);
  }
  return { w: Number(w), b: Number(b), loss };
}

/** The seed's LinearModel: one Dense layer with a single output. */
export class LinearModel extends tf.Network {
  readonly dense = this.trackLayer(new tf.layers.Dense(1));

  call(x: tf.Tensor): tf.Tensor {
    return this.dense.apply(x);
  }
}

/** Part 2: a Network with a Dense layer, tf.losses and optimizer.minimize. */
export function fitWithDense(options: LinearRegressionOptions = {}): Fit {
  const { steps = 200, learningRate = 0.1, samples = 1000, log = () => {} } = options;
  const { x, y } = samplesOfLine(samples);
  const model = new LinearModel();
  const optimizer = new tf.train.GradientDescentOptimizer(learningRate);
  const globalStep = new tf.Variable(0, { dtype: "int64", name: "step", trainable: false });
  let loss = Infinity;
  for (let step = 1; step <= steps; step++) {
    const value = optimizer.minimize(
      () => tf.losses.meanSquaredError(y, model.apply(x)),
      { globalStep },
    );
    loss = Number(value);
    if (step % 50 === 0 || step === 1) log(`dense: step ${step}, loss ${loss.toFixed(5)}`);
  }
  const [kernel, bias] = model.variables;
  return { w: Number(kernel.dataSync()[0]), b: Number(bias.dataSync()[0]), loss };
}

if (import.meta.main) {
  const { values } = parseArgs({
    args: Deno.args,
    options: { steps: { type: "string" }, "learning-rate": { type: "string" } },
  });
  const options = {
    steps: Number(values.steps ?? 200),
    learningRate: Number(values["learning-rate"] ?? 0.1),
    log: console.log,
  };
  if (!(Number.isInteger(options.steps) && options.steps > 0 && options.learningRate > 0)) {
    console.error("linear_regression: --steps must be a positive integer, --learning-rate > 0");
    Deno.exit(1);
  }
  for (const [how, fit] of [["variables", fitWithVariables], ["dense", fitWithDense]] as const) {
    const result = fit(options);
    console.log(
      `${how}: fitted w = ${result.w.toFixed(4)} (true 3), b = ${result.b.toFixed(4)} ` +
        `(true 2), loss ${result.loss.toFixed(5)}`,
    );
  }
}
