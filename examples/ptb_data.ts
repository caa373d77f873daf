/**
 * The PTB language-model data, as TensorFlow's PTB reader (models/tutorials/rnn/ptb/reader.py)
 * reads it: three text files (ptb.train.txt, ptb.valid.txt, ptb.test.txt), one sentence a
 * line, words separated by spaces; every line end becomes the word `<eos>`. The vocabulary
 * comes from the training words, sorted by frequency, then alphabetically; words of the
 * valid and test files not in it become `<unk>`. Batching is the reader's ptb_producer:
 * the ids are cut into `batchSize` rows read side by side, `steps` words at a time, the
 * targets being the inputs shifted one word on.
 * @module
 */

/** The three splits' text, one sentence a line. */
export interface CorpusText {
  /** Where the text came from, for messages. */
  source: string;
  train: string;
  valid: string;
  test: string;
}

/** A corpus turned into ids. */
export interface Corpus {
  source: string;
  /** Word of each id; index 0 is the most frequent training word. */
  words: string[];
  /** Id of each word. */
  ids: Map<string, number>;
  train: Int32Array;
  valid: Int32Array;
  test: Int32Array;
}

/** Options of buildCorpus. */
export interface CorpusOptions {
  /** Keep the first N training words, and N / 10 (rounded up) of valid and test. */
  maxWords?: number;
  /** Keep the N most frequent training words; the others become `<unk>` (default: all). */
  vocabSize?: number;
}

export const UNK = "<unk>";
export const EOS = "<eos>";
export const PTB_FILES = ["ptb.train.txt", "ptb.valid.txt", "ptb.test.txt"] as const;

/** Reads ptb.{train,valid,test}.txt of `dir`; errors name the file that is missing or bad. */
export async function readPtbDir(dir: string): Promise<CorpusText> {
  const [train, valid, test] = await Promise.all(PTB_FILES.map((f) => readText(`${dir}/${f}`)));
  return { source: dir, train, valid, test };
}

async function readText(path: string): Promise<string> {
  let bytes: Uint8Array;
  try {
    bytes = await Deno.readFile(path);
  } catch (error) {
    const why = error instanceof Deno.errors.NotFound ? "not found" : (error as Error).message;
    throw new Error(
      `ptb_data: ${path}: ${why} (expected ptb.train.txt, ptb.valid.txt and ` +
        "ptb.test.txt in --data-dir)",
    );
  }
  let text: string;
  try {
    text = new TextDecoder("utf-8", { fatal: true }).decode(bytes);
  } catch {
    throw new Error(`ptb_data: ${path}: malformed: not UTF-8 text`);
  }
  checkText(path, text);
  return text;
}

/** Throws unless `text` is PTB-format: some words, no NUL or other control characters. */
export function checkText(name: string, text: string): void {
  // Tabs and carriage returns are whitespace between words; other controls mean binary data.
  // deno-lint-ignore no-control-regex
  const control = text.search(/[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f]/);
  if (control >= 0) {
    const line = text.slice(0, control).split("\n").length;
    throw new Error(
      `ptb_data: ${name}: malformed: control character U+${
        text.charCodeAt(control).toString(16).padStart(4, "0")
      } on line ${line} (expected text, one sentence a line)`,
    );
  }
  if (!/\S/.test(text)) throw new Error(`ptb_data: ${name}: malformed: no words`);
}

/** The words of a text with `<eos>` at each line end (the reader's _read_words). */
export function textWords(text: string): string[] {
  const words: string[] = [];
  for (const line of text.split("\n")) {
    for (const w of line.split(/\s+/)) if (w !== "") words.push(w);
    words.push(EOS);
  }
  // The text's final newline ends the last sentence; it does not start an empty one.
  if (text.endsWith("\n")) words.pop();
  return words;
}

/**
 * The vocabulary of `words`: by count, descending, ties alphabetically (code-unit order, as
 * Python sorts strings). `<unk>` is always in it: appended when the words lack it.
 */
export function buildVocabulary(words: readonly string[], vocabSize?: number): string[] {
  const counts = new Map<string, number>();
  for (const w of words) counts.set(w, (counts.get(w) ?? 0) + 1);
  const order = [...counts.entries()].sort((a, b) =>
    b[1] - a[1] || (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0)
  ).map(([w]) => w);
  if (vocabSize === undefined || vocabSize >= order.length) {
    return order.includes(UNK) ? order : [...order, UNK];
  }
  const kept = order.slice(0, vocabSize);
  // Cut words become <unk>: it takes the last place unless it made the cut by count.
  if (!kept.includes(UNK)) kept[vocabSize - 1] = UNK;
  return kept;
}

/** Ids of `words`, unknown words as `<unk>`. */
export function wordIds(words: readonly string[], ids: Map<string, number>): Int32Array {
  const unk = ids.get(UNK)!;
  return Int32Array.from(words, (w) => ids.get(w) ?? unk);
}

/** The corpus's vocabulary and the ids of its three splits. */
export function buildCorpus(text: CorpusText, options: CorpusOptions = {}): Corpus {
  const { maxWords, vocabSize } = options;
  if (maxWords !== undefined && !(Number.isInteger(maxWords) && maxWords >= 10)) {
    throw new RangeError(`ptb_data: maxWords must be an integer >= 10, got ${maxWords}`);
  }
  if (vocabSize !== undefined && !(Number.isInteger(vocabSize) && vocabSize >= 2)) {
    throw new RangeError(`ptb_data: vocabSize must be an integer >= 2, got ${vocabSize}`);
  }
  const limit = (words: string[], n: number | undefined) =>
    n === undefined ? words : words.slice(0, n);
  const split = (name: string, body: string, n: number | undefined) => {
    checkText(`${text.source}: ${name}`, body);
    return limit(textWords(body), n);
  };
  const heldOut = maxWords === undefined ? undefined : Math.ceil(maxWords / 10);
  const train = split("train", text.train, maxWords);
  const words = buildVocabulary(train, vocabSize);
  const ids = new Map(words.map((w, i) => [w, i]));
  return {
    source: text.source,
    words,
    ids,
    train: wordIds(train, ids),
    valid: wordIds(split("valid", text.valid, heldOut), ids),
    test: wordIds(split("test", text.test, heldOut), ids),
  };
}

/** One step's input ids and targets, each [batchSize, steps] row-major. */
export interface Batch {
  inputs: Int32Array;
  targets: Int32Array;
}

/** Steps per epoch of ptb_producer: the rows' length less one, in whole steps. */
export function epochSize(count: number, batchSize: number, steps: number): number {
  return Math.floor((Math.floor(count / batchSize) - 1) / steps);
}

/**
 * ptb_producer's batches: the first batchSize * floor(n / batchSize) ids as batchSize
 * rows; batch i is columns [i steps, (i + 1) steps) of the rows, the targets one column on.
 * Consecutive batches continue each row, which is what carrying the state over relies on.
 */
export function* batches(
  data: Int32Array,
  batchSize: number,
  steps: number,
  what = "data",
): Generator<Batch> {
  const count = epochSize(data.length, batchSize, steps);
  if (count <= 0) {
    throw new RangeError(
      `ptb_data: ${what} has ${data.length} words, too few for one batch of ${batchSize} ` +
        `rows of ${steps} steps (it needs ${batchSize * (steps + 1)})`,
    );
  }
  const rowLength = Math.floor(data.length / batchSize);
  for (let i = 0; i < count; i++) {
    const inputs = new Int32Array(batchSize * steps), targets = new Int32Array(batchSize * steps);
    for (let b = 0; b < batchSize; b++) {
      const from = b * rowLength + i * steps;
      inputs.set(data.subarray(from, from + steps), b * steps);
      targets.set(data.subarray(from + 1, from + steps + 1), b * steps);
    }
    yield { inputs, targets };
  }
}

/**
 * The perplexity of `data` under the training split's word frequencies (add-one smoothed
 * over the vocabulary, so no word has probability 0): the bar a language model must beat.
 */
export function unigramPerplexity(train: Int32Array, data: Int32Array, vocab: number): number {
  const counts = new Float64Array(vocab).fill(1);
  for (const id of train) counts[id]++;
  const total = train.length + vocab;
  let nll = 0;
  for (const id of data) nll -= Math.log(counts[id] / total);
  return Math.exp(nll / data.length);
}
