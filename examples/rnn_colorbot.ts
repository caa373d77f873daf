/**
 * The colorbot (TensorFlow's contrib/eager/python/examples/rnn_colorbot): a character-level
 * LSTM that learns the RGB values of colour names, then predicts colours for names given
 * on the command line, shows them as terminal swatches and can write them as a PNG.
 *
 * Model, as the reference: each name's characters one-hot, a stack of LSTM cells with
 * dropout between layers (the reference: 256, 128 and keep_prob 0.5), unrolled with
 * per-example sequence lengths so each name's output is its last real character's; then a
 * dense layer to 3 channels; mean squared error on channels scaled to [0, 1]; Adam.
 * Two departures, both for a short run on two cores: sizes 128, 64 by default, and a
 * sigmoid output instead of the reference's relu (the targets lie in [0, 1]; a relu unit
 * that dies predicts 0 for ever).
 *
 * Data: examples/colorbot_data.ts (npm's color-name-list by default, X11's rgb.txt, or a
 * CSV file), split 90/10 by a hash of the name.
 *
 * Run: deno run -A examples/rnn_colorbot.ts --help
 * @module
 */
import { parseArgs } from "node:util";
import * as tf from "../mod.ts";
import {
  type ColourData,
  encodeName,
  loadColours,
  type NamedColour,
  SYMBOLS,
} from "./colorbot_data.ts";
import { Progress } from "./progress.ts";

/** A batch of names: one-hot characters padded to the longest name, and the lengths. */
export interface NameBatch {
  /** [batch, longest, SYMBOLS], zeros past each name's end. */
  chars: tf.Tensor;
  /** Each name's length in characters. */
  lengths: Int32Array;
}

/** Encodes names as a NameBatch (a name of no characters has length 0 and predicts from zeros). */
export function encodeNames(names: readonly string[]): NameBatch {
  const codes = names.map(encodeName);
  const longest = Math.max(1, ...codes.map((c) => c.length)); // the RNN needs a time step
  const onehot = new Float32Array(names.length * longest * SYMBOLS);
  codes.forEach((code, b) => {
    code.forEach((symbol, t) => onehot[(b * longest + t) * SYMBOLS + symbol] = 1);
  });
  return {
    chars: tf.constant(onehot, "float32", { shape: [names.length, longest, SYMBOLS] }),
    lengths: Int32Array.from(codes, (c) => c.length),
  };
}

/**
 * The reference's RNNColorbot: stacked LSTM cells, then Dense(3).
 * @example
 * ```ts
 * import { ColorBot, encodeNames } from "./rnn_colorbot.ts";
 * const model = new ColorBot([16, 8]);
 * model.apply(encodeNames(["red", "sky blue"])); // shape [2, 3], channels in [0, 1]
 * ```
 */
export class ColorBot extends tf.Network<NameBatch, tf.Tensor> {
  readonly rnn: tf.layers.RNN;
  readonly dense: tf.layers.Dense;

  /** `dropout` is the rate between stacked cells in training (1 - the reference's keep_prob). */
  constructor(rnnSizes: readonly number[], dropout = 0.5) {
    super();
    const cells = rnnSizes.map((units) => new tf.layers.LSTMCell(units));
    this.rnn = this.trackLayer(
      new tf.layers.RNN(new tf.layers.StackedRNNCells(cells, { dropout })),
    );
    this.dense = this.trackLayer(new tf.layers.Dense(3, { activation: tf.sigmoid }));
  }

  /** RGB in [0, 1], [batch, 3]: the dense layer on each name's last real output. */
  call({ chars, lengths }: NameBatch, training: boolean): tf.Tensor {
    return this.dense.apply(this.rnn.apply(chars, { training, sequenceLength: lengths }));
  }
}

/** Channels scaled to [0, 1], [count, 3]. */
function targets(colours: readonly NamedColour[]): tf.Tensor {
  const values = new Float32Array(colours.length * 3);
  colours.forEach((c, i) => values.set(c.rgb.map((v) => v / 255), i * 3));
  return tf.constant(values, "float32", { shape: [colours.length, 3] });
}

/** xorshift32 from a seed: deterministic numbers in [0, 2^32). */
function generator(seed: number): () => number {
  let state = (seed * 2654435761) >>> 0 || 1;
  return () => {
    state ^= state << 13;
    state >>>= 0;
    state ^= state >>> 17;
    state ^= state << 5;
    return (state >>>= 0);
  };
}

function shuffle<T>(items: T[], next: () => number): T[] {
  for (let i = items.length - 1; i > 0; i--) {
    const j = next() % (i + 1);
    [items[i], items[j]] = [items[j], items[i]];
  }
  return items;
}

/**
 * One epoch's batches: the names shuffled, then in pools of 32 batches sorted by length
 * before cutting, so a batch's names have similar lengths and little padding (a step costs
 * as many time steps as its longest name); the batches' order is shuffled again.
 */
export function epochBatches(
  colours: readonly NamedColour[],
  batchSize: number,
  seed: number,
): NamedColour[][] {
  const next = generator(seed);
  const order = shuffle([...colours], next);
  const batches: NamedColour[][] = [];
  const pool = batchSize * 32;
  for (let start = 0; start < order.length; start += pool) {
    const part = order.slice(start, start + pool).sort((a, b) => a.name.length - b.name.length);
    for (let i = 0; i < part.length; i += batchSize) batches.push(part.slice(i, i + batchSize));
  }
  return shuffle(batches, next);
}

/** Mean squared error of the model on colours (inference mode, batches of 512). */
export async function evaluate(model: ColorBot, colours: readonly NamedColour[]): Promise<number> {
  let total = 0;
  for (let start = 0; start < colours.length; start += 512) {
    const part = colours.slice(start, start + 512);
    const loss = tf.losses.meanSquaredError(
      targets(part),
      model.apply(encodeNames(part.map((c) => c.name))),
      { reduction: "sum" },
    );
    total += (await loss.data())[0] as number;
  }
  return total / (colours.length * 3);
}

/** The mean-colour baseline: the test MSE of always predicting the training set's mean RGB. */
export function meanColourBaseline(data: ColourData): { mean: number[]; loss: number } {
  const mean = [0, 1, 2].map((k) =>
    data.train.reduce((s, c) => s + c.rgb[k] / 255, 0) / data.train.length
  );
  let total = 0;
  for (const c of data.test) for (let k = 0; k < 3; k++) total += (c.rgb[k] / 255 - mean[k]) ** 2;
  return { mean, loss: total / (data.test.length * 3) };
}

/** Options of trainColorBot (the command-line flags). */
export interface ColorBotOptions {
  /** Passes over the training names (default 10). */
  epochs?: number;
  /** Names per step (default 64, the reference's). */
  batchSize?: number;
  /** Widths of the stacked LSTM cells (default [128, 64]). */
  rnnSizes?: number[];
  /** Dropout rate between the cells in training (default 0.5, the reference's keep_prob). */
  dropout?: number;
  /** Adam's learning rate (default 0.01, the reference's). */
  learningRate?: number;
  /** Seed of the initial weights, the batches and dropout (default 1). */
  seed?: number;
  /** Called after each epoch with its mean training loss. */
  onEpoch?: (epoch: number, trainLoss: number, seconds: number) => void;
  /** Shows a progress bar within each epoch (default: when stdout is a terminal). */
  progress?: boolean;
}

/** What a run measured, and the trained model. */
export interface ColorBotResult {
  model: ColorBot;
  trainLosses: number[];
  testLoss: number;
  baselineLoss: number;
  trainSeconds: number;
}

/** Trains a ColorBot on `data` and measures it on the test split. */
export async function trainColorBot(
  data: ColourData,
  options: ColorBotOptions = {},
): Promise<ColorBotResult> {
  const { epochs = 10, batchSize = 64, rnnSizes = [128, 64], dropout = 0.5 } = options;
  const { learningRate = 0.01, seed = 1 } = options;
  tf.random.setSeed(seed);
  const model = new ColorBot(rnnSizes, dropout);
  const optimizer = new tf.train.AdamOptimizer(learningRate);
  const trainLosses: number[] = [];
  const start = performance.now();
  for (let epoch = 1; epoch <= epochs; epoch++) {
    const batches = epochBatches(data.train, batchSize, seed * 1000 + epoch);
    const bar = (options.progress ?? Deno.stdout.isTerminal()) ? new Progress() : null;
    const epochStart = performance.now();
    let sum = 0, seen = 0;
    for (const [i, batch] of batches.entries()) {
      const input = encodeNames(batch.map((c) => c.name));
      const labels = targets(batch);
      const loss = optimizer.minimize(
        () => tf.losses.meanSquaredError(labels, model.apply(input, { training: true })),
      );
      const value = (await loss.data())[0] as number;
      if (!Number.isFinite(value)) {
        throw new Error(`rnn_colorbot: the loss is ${value} at epoch ${epoch}, step ${i + 1}`);
      }
      sum += value * batch.length;
      seen += batch.length;
      bar?.update({ step: i + 1, steps: batches.length, loss: sum / seen, examples: seen });
    }
    trainLosses.push(sum / seen);
    options.onEpoch?.(epoch, sum / seen, (performance.now() - epochStart) / 1000);
  }
  const trainSeconds = (performance.now() - start) / 1000;
  return {
    model,
    trainLosses,
    testLoss: await evaluate(model, data.test),
    baselineLoss: meanColourBaseline(data).loss,
    trainSeconds,
  };
}

/** Predicted colours of names, channels as integers 0..255. */
export async function predict(
  model: ColorBot,
  names: readonly string[],
): Promise<[number, number, number][]> {
  const values = await model.apply(encodeNames(names)).data() as Float32Array;
  return names.map((_, i) =>
    [0, 1, 2].map((k) => Math.round(255 * Math.min(1, Math.max(0, values[i * 3 + k])))) as [
      number,
      number,
      number,
    ]
  );
}

/**
 * A line for a predicted colour: with a 24-bit background swatch when `terminal`.
 * @example
 * ```ts
 * import { swatchLine } from "./rnn_colorbot.ts";
 * swatchLine("red", [201, 30, 40], false); // "red: rgb(201, 30, 40) #c91e28"
 * ```
 */
export function swatchLine(name: string, rgb: readonly number[], terminal: boolean): string {
  const hex = "#" + rgb.map((v) => v.toString(16).padStart(2, "0")).join("");
  const text = `${name}: rgb(${rgb.join(", ")}) ${hex}`;
  return terminal ? `\x1b[48;2;${rgb.join(";")}m${" ".repeat(8)}\x1b[0m ${text}` : text;
}

/** The swatches' image: one square of `size` pixels per colour, left to right. */
export function swatchImage(colours: readonly (readonly number[])[], size = 64): Uint8Array {
  const width = size * colours.length;
  const rgb = new Uint8Array(width * size * 3);
  for (let y = 0; y < size; y++) {
    for (let x = 0; x < width; x++) rgb.set(colours[Math.floor(x / size)], (y * width + x) * 3);
  }
  return tf.io.encodePng(tf.constant(rgb, "uint8", { shape: [size, width, 3] }));
}

const HELP = `Trains the colorbot (a character-level LSTM: colour name -> RGB), reports its test
loss against the mean-colour baseline, then predicts the colours of the names given.

Usage: deno run -A examples/rnn_colorbot.ts [flags] [name ...]

  --data D             color-name-list (default; npm, about 31,900 names), x11
                       (/usr/share/X11/rgb.txt, about 750) or the path of a CSV file
                       of lines name,r,g,b or name,#rrggbb
  --epochs N           passes over the training names (default 10)
  --batch-size N       names per step (default 64)
  --rnn-sizes A,B,...  widths of the stacked LSTM cells (default 128,64)
  --dropout X          dropout rate between the cells in training (default 0.5)
  --learning-rate X    Adam's learning rate (default 0.01)
  --seed N             seed of the weights, the batches and dropout (default 1)
  --png FILE           writes the predicted colours as swatches, left to right
  --help               this text

Example: deno run -A examples/rnn_colorbot.ts "sea foam" "burnt sienna" --png swatches.png
`;

function positive(name: string, text: string | undefined, fallback: number, integer: boolean) {
  if (text === undefined) return fallback;
  const value = Number(text);
  if (!(value > 0) || (integer && !Number.isInteger(value))) {
    throw new Error(`--${name} must be a positive ${integer ? "integer" : "number"}, got ${text}`);
  }
  return value;
}

function sizes(text: string | undefined): number[] {
  if (text === undefined) return [128, 64];
  const values = text.split(",").map(Number);
  if (values.some((v) => !Number.isInteger(v) || v < 1)) {
    throw new Error(`--rnn-sizes must be positive integers separated by commas, got ${text}`);
  }
  return values;
}

async function main(args: string[]): Promise<void> {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: {
      data: { type: "string", default: "color-name-list" },
      epochs: { type: "string" },
      "batch-size": { type: "string" },
      "rnn-sizes": { type: "string" },
      dropout: { type: "string" },
      "learning-rate": { type: "string" },
      seed: { type: "string" },
      png: { type: "string" },
      help: { type: "boolean", default: false },
    },
  });
  if (values.help) {
    console.log(HELP);
    return;
  }
  const dropout = values.dropout === undefined ? 0.5 : Number(values.dropout);
  if (!(dropout >= 0 && dropout < 1)) {
    throw new Error(`--dropout must be a number in [0, 1), got ${values.dropout}`);
  }
  const seed = values.seed === undefined ? 1 : Number(values.seed);
  if (!Number.isInteger(seed) || seed < 0) {
    throw new Error(`--seed must be a non-negative integer, got ${values.seed}`);
  }
  if (values.png !== undefined && positionals.length === 0) {
    throw new Error("--png needs colour names to predict (give them after the flags)");
  }
  const options: ColorBotOptions = {
    epochs: positive("epochs", values.epochs, 10, true),
    batchSize: positive("batch-size", values["batch-size"], 64, true),
    rnnSizes: sizes(values["rnn-sizes"]),
    dropout,
    learningRate: positive("learning-rate", values["learning-rate"], 0.01, false),
    seed,
  };
  const data = await loadColours(values.data);
  console.log(
    `${data.source}: ${data.train.length} training and ${data.test.length} test names; ` +
      `LSTM ${options.rnnSizes!.join(",")}, dropout ${dropout}, ${options.epochs} epoch(s) ` +
      `of batches of ${options.batchSize}, Adam ${options.learningRate}`,
  );
  const result = await trainColorBot(data, {
    ...options,
    onEpoch: (epoch, loss, seconds) =>
      console.log(`epoch ${epoch}: train loss ${loss.toFixed(4)} (${seconds.toFixed(0)} s)`),
  });
  console.log(
    `test loss ${result.testLoss.toFixed(4)} (mean-colour baseline ${
      result.baselineLoss.toFixed(4)
    }; mean squared error of channels in [0, 1]); trained in ${result.trainSeconds.toFixed(0)} s`,
  );
  if (positionals.length === 0) return;
  const predicted = await predict(result.model, positionals);
  const terminal = Deno.stdout.isTerminal();
  positionals.forEach((name, i) => console.log(swatchLine(name, predicted[i], terminal)));
  if (values.png !== undefined) {
    Deno.writeFileSync(values.png, swatchImage(predicted));
    console.log(`wrote ${values.png}: ${positionals.length} swatch(es), left to right`);
  }
}

if (import.meta.main) {
  try {
    await main(Deno.args);
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    console.error(message.startsWith("rnn_colorbot: ") ? message : `rnn_colorbot: ${message}`);
    Deno.exit(1);
  }
}
