/**
 * The guide's ResNet-50 example and benchmark (TensorFlow's contrib/eager resnet50 and its
 * benchmark test): tf.applications.ResNet50 trained with SGD and momentum, and run for
 * inference, on synthetic ImageNet-shaped batches (random 224x224x3 images, random labels of
 * 1000 classes), reporting examples per second; or trained on Fashion-MNIST's real images
 * (Debian's dataset-fashion-mnist, padded to 32x32 and copied to three channels, 10
 * classes) to show that it learns: the loss every few steps and the test accuracy.
 *
 * Decisions:
 * - The first step of each mode is a warm-up (buffers are allocated then) and is reported
 *   apart; examples/s counts the later steps. A step's time ends when its loss (or the
 *   logits) is read, so no work is left in flight.
 * - Each step runs inside tf.tidy, which returns its activations' memory at once instead of
 *   when the garbage collector finds them: at batch 8, 224x224 a training step took 2.3 s
 *   instead of 3.5 s (fresh memory is slow to touch), inference 0.46 s instead of 0.58 s.
 * - Fashion-MNIST trains with Adam (learning rate 0.001): from scratch, in the few hundred
 *   steps of a short run, SGD with momentum stayed above the loss of chance (2.3) at
 *   learning rates 0.003 to 0.02, while Adam got below 1.2 in 100 steps.
 *
 * Run: deno run -A examples/resnet50.ts --help
 * @module
 */
import { parseArgs } from "node:util";
import * as tf from "../mod.ts";
import { type Dataset, loadFashionMnist } from "./mnist_data.ts";
import {
  type Batch,
  fashionBatch,
  FashionBatches,
  type Format,
  PADDED_SIZE,
  syntheticBatch,
} from "./resnet50_data.ts";

/** Options of runResNet50 (the command-line flags). */
export interface ResNet50RunOptions {
  /** "train", "infer" or "both" (default both; train with Fashion-MNIST, then the test). */
  mode?: "train" | "infer" | "both";
  /** "synthetic" (default) or "fashion-mnist". */
  data?: "synthetic" | "fashion-mnist";
  /** Examples per step (default 8 synthetic, 32 Fashion-MNIST). */
  batchSize?: number;
  /** Steps per mode, the warm-up step included (default 10 synthetic, 300 Fashion-MNIST). */
  steps?: number;
  /** Default channels_last. */
  dataFormat?: Format;
  /** Synthetic images' side (default 224); Fashion-MNIST's are 32. */
  imageSize?: number;
  /** "momentum" (SGD with momentum 0.9; default synthetic) or "adam" (default Fashion-MNIST). */
  optimizer?: "momentum" | "adam";
  /** Default 0.1 with momentum (TensorFlow's benchmark's), 0.001 with Adam. */
  learningRate?: number;
  /** Fashion-MNIST test images to evaluate (default all 10,000). */
  testImages?: number;
  /** TensorBoard summaries: the loss every step, examples/s, test accuracy. */
  logdir?: string;
  /** Seed of the weights, the batches and the shuffling (default 1). */
  seed?: number;
  /** Fashion-MNIST already loaded (tests load it once). */
  dataset?: Dataset;
  /** Where progress lines go (default console.log; null: silent). */
  log?: ((line: string) => void) | null;
  /** A progress line every this many steps (default 1 synthetic, 10 Fashion-MNIST). */
  logEvery?: number;
}

/** The speed of one mode. */
export interface Speed {
  /** Seconds of the first (warm-up) step. */
  warmupSeconds: number;
  /** Examples per second over the later steps (NaN with one step). */
  examplesPerSecond: number;
  /** Seconds of each step, the warm-up first. */
  stepSeconds: number[];
}

/** What a run measured. */
export interface ResNet50RunResult {
  train?: Speed & { losses: number[] };
  infer?: Speed;
  /** Fashion-MNIST: the fraction of test images classified right (inference mode). */
  testAccuracy?: number;
}

function speedOf(stepSeconds: number[], batchSize: number): Speed {
  const later = stepSeconds.slice(1);
  const seconds = later.reduce((a, b) => a + b, 0);
  return {
    warmupSeconds: stepSeconds[0],
    examplesPerSecond: later.length ? (later.length * batchSize) / seconds : NaN,
    stepSeconds,
  };
}

/** Runs the example; see ResNet50RunOptions. */
export async function runResNet50(options: ResNet50RunOptions = {}): Promise<ResNet50RunResult> {
  const fashion = options.data === "fashion-mnist";
  const mode = options.mode ?? (fashion ? "train" : "both");
  const format = options.dataFormat ?? "channels_last";
  const batchSize = options.batchSize ?? (fashion ? 32 : 8);
  const steps = options.steps ?? (fashion ? 300 : 10);
  const size = fashion ? PADDED_SIZE : options.imageSize ?? 224;
  const classes = fashion ? 10 : 1000;
  const seed = options.seed ?? 1;
  const log = options.log === undefined ? console.log : options.log;
  const every = options.logEvery ?? (fashion ? 10 : 1);
  tf.random.setSeed(seed);
  const dataset = fashion ? options.dataset ?? await loadFashionMnist() : undefined;
  const batches = dataset ? new FashionBatches(dataset, batchSize, format, seed) : undefined;
  const nextBatch = (): Batch =>
    batches?.take() ?? syntheticBatch(batchSize, size, classes, format);
  const model = new tf.applications.ResNet50({ classes, dataFormat: format });
  const writer = options.logdir ? tf.summary.createSummaryFileWriter(options.logdir) : null;
  const result: ResNet50RunResult = {};

  if (mode !== "infer") {
    const adam = (options.optimizer ?? (fashion ? "adam" : "momentum")) === "adam";
    const rate = options.learningRate ?? (adam ? 0.001 : 0.1);
    const optimizer = adam
      ? new tf.train.AdamOptimizer(rate)
      : new tf.train.MomentumOptimizer(rate, 0.9);
    const globalStep = new tf.Variable(0, {
      name: "global_step",
      dtype: "int64",
      trainable: false,
    });
    // Synthetic data: one batch for every step, as TensorFlow's benchmark; real data: new ones.
    const fixed = fashion ? null : nextBatch();
    const losses: number[] = [], times: number[] = [];
    for (let step = 1; step <= steps; step++) {
      const start = performance.now();
      const [images, labels] = fixed ?? nextBatch();
      const loss = tf.tidy(() =>
        optimizer.minimize(() => {
          const logits = model.apply(images, { training: true });
          return tf.losses.sparseSoftmaxCrossEntropy(labels, logits);
        }, { globalStep })
      );
      const value = (await loss.data())[0] as number;
      times.push((performance.now() - start) / 1000);
      if (!Number.isFinite(value)) throw new Error(`the loss is ${value} at step ${step}`);
      losses.push(value);
      writer?.asDefault(() =>
        tf.summary.alwaysRecordSummaries(() => tf.summary.scalar("loss", value, { step }))
      );
      if (step === 1 || step % every === 0 || step === steps) {
        log?.(
          `train step ${step}/${steps}  loss ${value.toFixed(4)}  ${
            (times.at(-1)! * 1000).toFixed(0)
          } ms${step === 1 ? " (warm-up)" : ""}`,
        );
      }
    }
    result.train = { ...speedOf(times, batchSize), losses };
    writer?.asDefault(() =>
      tf.summary.alwaysRecordSummaries(() =>
        tf.summary.scalar("train_examples_per_second", result.train!.examplesPerSecond, {
          step: steps,
        })
      )
    );
  }

  if (mode !== "train") {
    const [images] = nextBatch();
    const times: number[] = [];
    for (let step = 1; step <= steps; step++) {
      const start = performance.now();
      await tf.tidy(() => model.apply(images)).data();
      times.push((performance.now() - start) / 1000);
      if (step === 1 || step % every === 0 || step === steps) {
        log?.(
          `infer step ${step}/${steps}  ${(times.at(-1)! * 1000).toFixed(0)} ms${
            step === 1 ? " (warm-up)" : ""
          }`,
        );
      }
    }
    result.infer = speedOf(times, batchSize);
    writer?.asDefault(() =>
      tf.summary.alwaysRecordSummaries(() =>
        tf.summary.scalar("infer_examples_per_second", result.infer!.examplesPerSecond, {
          step: steps,
        })
      )
    );
  }

  if (dataset && batches && mode !== "infer") {
    result.testAccuracy = await testAccuracy(model, dataset, batches.stats, format, options);
    writer?.asDefault(() =>
      tf.summary.alwaysRecordSummaries(() =>
        tf.summary.scalar("test_accuracy", result.testAccuracy!, { step: steps })
      )
    );
  }
  writer?.close();
  return result;
}

/** The share of the first `testImages` Fashion-MNIST test images classified right. */
async function testAccuracy(
  model: tf.applications.ResNet50,
  dataset: Dataset,
  stats: [number, number],
  format: Format,
  options: ResNet50RunOptions,
): Promise<number> {
  const count = Math.min(options.testImages ?? dataset.test.count, dataset.test.count);
  let correct = 0;
  for (let start = 0; start < count; start += 250) {
    const indices = Int32Array.from({ length: Math.min(250, count - start) }, (_, i) => start + i);
    const [images, labels] = fashionBatch(dataset.test, indices, stats, format);
    const right = tf.tidy(() => {
      const hits = tf.equal(tf.cast(tf.argMax(model.apply(images), 1), "int32"), labels);
      return tf.reduceSum(tf.cast(hits, "int32"));
    });
    correct += Number((await right.data())[0]);
  }
  return correct / count;
}

const HELP = `Trains ResNet-50 and runs inference; prints examples/s, or learns Fashion-MNIST.

Usage: deno run -A examples/resnet50.ts [flags]

  --mode train|infer|both        what to run (default both; train with fashion-mnist,
                                 then the test accuracy)
  --data synthetic|fashion-mnist random ImageNet-shaped batches (default), or Debian's
                                 Fashion-MNIST padded to 32x32x3 (10 classes; install with
                                 deno run -A scripts/toolchain.ts test-data)
  --batch-size N                 examples per step (default 8; 32 with fashion-mnist)
  --steps N                      steps per mode, the warm-up step included
                                 (default 10; 300 with fashion-mnist)
  --data-format F                channels_last (NHWC, default) or channels_first (NCHW)
  --image-size N                 synthetic images' side, at least 32 (default 224)
  --optimizer momentum|adam      SGD with momentum 0.9 (default) or Adam (default with
                                 fashion-mnist)
  --learning-rate X              default 0.1 with momentum, 0.001 with Adam
  --test-images N                fashion-mnist test images to evaluate (default 10000)
  --seed N                       weights, batches and shuffling (default 1)
  --logdir DIR                   TensorBoard summaries: loss, examples/s, test accuracy
  --help                         this text
`;

function positive(name: string, text: string | undefined, integer: boolean): number | undefined {
  if (text === undefined) return undefined;
  const value = Number(text);
  if (!(value > 0) || (integer && !Number.isInteger(value))) {
    throw new Error(`--${name} must be a positive ${integer ? "integer" : "number"}, got ${text}`);
  }
  return value;
}

function oneOf<T extends string>(name: string, text: string, allowed: readonly T[]): T {
  if (!allowed.includes(text as T)) {
    throw new Error(`--${name} must be ${allowed.join(" or ")}, got ${text}`);
  }
  return text as T;
}

async function main(args: string[]): Promise<void> {
  const { values } = parseArgs({
    args,
    options: {
      mode: { type: "string" },
      data: { type: "string", default: "synthetic" },
      "batch-size": { type: "string" },
      steps: { type: "string" },
      "data-format": { type: "string", default: "channels_last" },
      "image-size": { type: "string" },
      optimizer: { type: "string" },
      "learning-rate": { type: "string" },
      "test-images": { type: "string" },
      seed: { type: "string" },
      logdir: { type: "string" },
      help: { type: "boolean", default: false },
    },
  });
  if (values.help) return console.log(HELP);
  const options: ResNet50RunOptions = {
    mode: values.mode === undefined
      ? undefined
      : oneOf("mode", values.mode, ["train", "infer", "both"] as const),
    data: oneOf("data", values.data, ["synthetic", "fashion-mnist"] as const),
    dataFormat: oneOf(
      "data-format",
      values["data-format"],
      [
        "channels_last",
        "channels_first",
      ] as const,
    ),
    batchSize: positive("batch-size", values["batch-size"], true),
    steps: positive("steps", values.steps, true),
    imageSize: positive("image-size", values["image-size"], true),
    optimizer: values.optimizer === undefined
      ? undefined
      : oneOf("optimizer", values.optimizer, ["momentum", "adam"] as const),
    learningRate: positive("learning-rate", values["learning-rate"], false),
    testImages: positive("test-images", values["test-images"], true),
    seed: positive("seed", values.seed, true),
    logdir: values.logdir,
  };
  if (options.imageSize !== undefined && options.imageSize < 32) {
    throw new Error(`--image-size must be at least 32 (ResNet50's smallest input)`);
  }
  const fashion = options.data === "fashion-mnist";
  if (fashion && options.imageSize !== undefined) {
    throw new Error("--image-size applies to synthetic data; fashion-mnist images are 32x32");
  }
  const batch = options.batchSize ?? (fashion ? 32 : 8);
  const size = fashion ? PADDED_SIZE : options.imageSize ?? 224;
  const threads = tf.runtimeInfo().threads;
  console.log(
    `ResNet-50, ${fashion ? "Fashion-MNIST (10 classes)" : "synthetic data (1000 classes)"}: ` +
      `batch ${batch}, ${size}x${size}x3, ${options.dataFormat}, ${threads} threads`,
  );
  const result = await runResNet50(options);
  const report = (what: string, s: Speed) =>
    console.log(
      `${what}: warm-up step ${s.warmupSeconds.toFixed(2)} s; then ${
        Number.isNaN(s.examplesPerSecond) ? "-" : s.examplesPerSecond.toFixed(2)
      } examples/s over ${s.stepSeconds.length - 1} steps`,
    );
  if (result.train) report("train", result.train);
  if (result.train && fashion) {
    const losses = result.train.losses, n = Math.min(10, losses.length);
    const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
    console.log(
      `loss: mean of the first ${n} steps ${mean(losses.slice(0, n)).toFixed(3)}, ` +
        `of the last ${n} ${mean(losses.slice(-n)).toFixed(3)}`,
    );
  }
  if (result.infer) report("infer", result.infer);
  if (result.testAccuracy !== undefined) {
    console.log(`test accuracy ${(100 * result.testAccuracy).toFixed(2)}%`);
  }
}

if (import.meta.main) {
  try {
    await main(Deno.args);
  } catch (error) {
    console.error(`resnet50: ${error instanceof Error ? error.message : String(error)}`);
    Deno.exit(1);
  }
}
