/**
 * The ResNet-50 cases, our side (bench/cases/resnet50.ts): tf.applications.ResNet50 on one
 * fixed synthetic batch (uniform images, random labels of 1000 classes), NHWC. "train": a
 * step is forward in training mode, sparse softmax cross-entropy, backward and SGD with
 * momentum 0.9 (learning rate 0.1); "infer": forward in inference mode. Each step runs in
 * tf.tidy, which returns its memory at once (see bench/cases/resnet50.ts). Prints
 * `@@bench {"stepSeconds": [...], "peakBytes": ...}`: the time of every step (warm-up steps
 * first) and the peak resident set (VmHWM) of this whole process.
 *
 *   deno run -A bench/procs/resnet50_ours.ts train|infer <steps> <batch> <size>
 * @module
 */
import * as tf from "../../mod.ts";
import { MARK } from "../harness.ts";
import { peakResidentBytes } from "./vmhwm.ts";

const [mode, ...numbers] = Deno.args;
const [steps, batch, size] = numbers.map(Number);
tf.random.setSeed(0);
const images = tf.randomUniform([batch, size, size, 3]);
const labels = tf.randomUniform([batch], { dtype: "int32", maxval: 1000 });
const model = new tf.applications.ResNet50();
const optimizer = new tf.train.MomentumOptimizer(0.1, 0.9);

const trainStep = () =>
  optimizer.minimize(() =>
    tf.losses.sparseSoftmaxCrossEntropy(labels, model.apply(images, { training: true }))
  );
const inferStep = () => model.apply(images);
const step = mode === "train" ? () => tf.tidy(trainStep) : () => tf.tidy(inferStep);

const stepSeconds: number[] = [];
for (let i = 0; i < steps; i++) {
  const start = performance.now();
  await step().data(); // reading the value waits for the step
  stepSeconds.push((performance.now() - start) / 1000);
}
console.log(MARK + JSON.stringify({ stepSeconds, peakBytes: peakResidentBytes() }));
