/**
 * tf.data.Dataset: a description of a sequence of elements, transformed lazily and
 * iterated as often as wanted: `for (const x of ds)` for pipelines that read memory or
 * files synchronously, `for await (const x of ds)` for every pipeline. See
 * docs/data.md for the decisions.
 * @module
 */
import { checkDType, type DType } from "../dtype.ts";
import { describe } from "../shape.ts";
import { objectSeeds, type Seed } from "../ops/random.ts";
import {
  cacheSource,
  concatSources,
  repeatSource,
  type Source,
  staged,
  zipSources,
} from "./pipeline.ts";
import { interleaveSource, type Nested, parallelMapSource, prefetchSource } from "./interleave.ts";
import {
  batchStage,
  enumerateStage,
  filterStage,
  mapStage,
  padWith,
  shardStage,
  ShuffleRng,
  shuffleStage,
  skipStage,
  stackWith,
  takeStage,
  unbatchStage,
} from "./stages.ts";
import { generatorSource, rangeSource, sliceSource, tensorsSource } from "./sources.ts";
import { type AsElement, type Element, pathTable, type SliceOf, toElement } from "./structure.ts";
import type { Tensor } from "../tensor.ts";

/** The element type of Dataset.zip(datasets). */
export type ZipOf<D> = { -readonly [K in keyof D]: D[K] extends Dataset<infer E> ? E : never };

/** Let the library pick: numParallelCalls and prefetch sizes (tf.data.AUTOTUNE). */
export const AUTOTUNE = -1;
const AUTOTUNE_DEPTH = Math.max(2, navigator.hardwareConcurrency ?? 2);

function checkCount(op: string, name: string, n: unknown, min: number): number {
  if (typeof n !== "number" || !Number.isSafeInteger(n) || n < min) {
    throw new RangeError(`${op}: ${name} must be an integer >= ${min}, got ${describe(n)}`);
  }
  return n;
}

function fnArg(op: string, fn: unknown): void {
  if (typeof fn !== "function") {
    throw new TypeError(`${op}: expected a function, got ${describe(fn)}`);
  }
}

function isAsyncFunction(fn: unknown): boolean {
  const name = (fn as { constructor?: { name?: string } })?.constructor?.name;
  return name === "AsyncFunction" || name === "AsyncGeneratorFunction";
}

/** Options of Dataset.map. */
export interface MapOptions {
  /** Calls in flight at once (async iteration only); AUTOTUNE picks the core count. */
  numParallelCalls?: number;
}
/** Options of Dataset.shuffle. */
export interface ShuffleOptions {
  /** Op seed, combined with tf.random.setSeed's global seed as TensorFlow does. */
  seed?: Seed;
  /** A new order each pass (default true); false repeats the first pass's order. */
  reshuffleEachIteration?: boolean;
}
/** Options of Dataset.batch. */
export interface BatchOptions {
  /** Drop a last batch smaller than the batch size (default false). */
  dropRemainder?: boolean;
}
/** Options of Dataset.paddedBatch. */
export interface PaddedBatchOptions extends BatchOptions {
  /** Per component, the padded shape (null or -1 entries: the longest of the batch). */
  paddedShapes?: unknown;
  /** Per component (or one for all), the padding value (default 0 / false). */
  paddingValues?: unknown;
}
/** Options of Dataset.interleave. */
export interface InterleaveOptions {
  /** Input elements open at once (default AUTOTUNE: the core count). */
  cycleLength?: number;
  /** Consecutive outputs taken from each (default 1). */
  blockLength?: number;
}
/** Options of Dataset.fromGenerator. */
export interface GeneratorOptions {
  /** TensorSpecs in the structure of an element: converts and checks each component. */
  outputSignature?: unknown;
}

/**
 * A sequence of elements (tensors, strings, bytes, or arrays and objects of them).
 * @example
 * ```ts
 * import * as tf from "../../mod.ts";
 * const ds = tf.data.Dataset.fromTensorSlices([1, 2, 3, 4, 5, 6])
 *   .map((x) => tf.square(x)).shuffle(2).batch(2);
 * for (const x of ds) console.log(x.toString());
 * ```
 */
export class Dataset<T extends Element = Element> implements Iterable<T>, AsyncIterable<T> {
  /** The passes over the elements (see pipeline.ts). */
  readonly source: Source<T>;

  /** Wraps a source; datasets are made by the static methods and transformations. */
  constructor(source: Source<T>) {
    if (typeof source?.openAsync !== "function") {
      throw new TypeError("Dataset: use the static methods (Dataset.fromTensorSlices, ...)");
    }
    this.source = source;
  }

  /**
   * The slices of `value` along its first dimension; arrays and objects of tensors give
   * elements of that structure. Arrays of numbers are tensors; arrays of strings are
   * lists of strings.
   * @example
   * ```ts
   * import * as tf from "../../mod.ts";
   * tf.data.Dataset.fromTensorSlices({ x: [[1, 2], [3, 4]], y: [0, 1] }); // 2 elements
   * ```
   */
  static fromTensorSlices<U>(value: U): Dataset<SliceOf<U> & Element> {
    return new Dataset(sliceSource(value) as Source<SliceOf<U> & Element>);
  }

  /**
   * One element: `value`.
   * @example
   * ```ts
   * import * as tf from "../../mod.ts";
   * tf.data.Dataset.fromTensors([1, 2, 3]); // one element of shape [3]
   * ```
   */
  static fromTensors<U>(value: U): Dataset<AsElement<U> & Element> {
    return new Dataset(tensorsSource(value) as Source<AsElement<U> & Element>);
  }

  /**
   * The values of `generator()` (called once per pass), converted to elements; an async
   * generator makes the dataset async-only.
   * @example
   * ```ts
   * import * as tf from "../../mod.ts";
   * const ds = tf.data.Dataset.fromGenerator(function* () { yield [1, 2]; yield [3, 4]; });
   * ```
   */
  static fromGenerator<U>(
    generator: () => Iterable<U> | AsyncIterable<U>,
    options: GeneratorOptions = {},
  ): Dataset<AsElement<U> & Element> {
    const source = generatorSource(generator, options?.outputSignature);
    return new Dataset(source as Source<AsElement<U> & Element>);
  }

  /**
   * Integer scalars start, start + step, ... before stop (int64 as in TensorFlow, or
   * options.dtype); with one argument, 0 ... start - 1.
   * @example
   * ```ts
   * import * as tf from "../../mod.ts";
   * tf.data.Dataset.range(5); // 0, 1, 2, 3, 4 (int64)
   * tf.data.Dataset.range(1, 10, 3, { dtype: "int32" }); // 1, 4, 7
   * ```
   */
  static range(
    start: number,
    stop?: number,
    step = 1,
    options: { dtype?: DType } = {},
  ): Dataset<Tensor> {
    if (stop === undefined) [start, stop] = [0, start];
    const dtype = checkDType("Dataset.range", options?.dtype ?? "int64");
    return new Dataset(rangeSource(start, stop, step, dtype) as Source<Tensor>);
  }

  /**
   * Elements of several datasets side by side, in the structure given (an array or an
   * object of datasets); ends with the shortest.
   * @example
   * ```ts
   * import * as tf from "../../mod.ts";
   * const a = tf.data.Dataset.range(3), b = tf.data.Dataset.range(3, 6);
   * tf.data.Dataset.zip([a, b]); // [0, 3], [1, 4], [2, 5]
   * ```
   */
  static zip<D extends readonly Dataset[] | Record<string, Dataset>>(
    datasets: D,
  ): Dataset<ZipOf<D> & Element> {
    const op = "Dataset.zip";
    const entries = typeof datasets === "object" && datasets !== null
      ? Object.entries(datasets)
      : [];
    if (entries.length === 0 || !entries.every(([, d]) => d instanceof Dataset)) {
      throw new TypeError(`${op}: expected a non-empty array or object of datasets`);
    }
    const keys = entries.map(([k]) => k);
    const build = Array.isArray(datasets)
      ? (xs: unknown[]) => xs as ZipOf<D> & Element
      : (xs: unknown[]) => Object.fromEntries(keys.map((k, i) => [k, xs[i]])) as ZipOf<D> & Element;
    return new Dataset(zipSources(entries.map(([, d]) => d.source), build));
  }

  /** Whether only async iteration works (async functions or generators upstream). */
  get isAsync(): boolean {
    return this.source.asyncOnly !== undefined;
  }

  /**
   * fn applied to each element (its result converted like fromTensors' value). An async
   * fn or numParallelCalls makes the pipeline async-only; outputs keep the input order.
   * @example
   * ```ts
   * import * as tf from "../../mod.ts";
   * tf.data.Dataset.range(4).map((x) => x.mul(2n));
   * ```
   */
  map<U>(
    fn: (x: T) => U | PromiseLike<U>,
    options: MapOptions = {},
  ): Dataset<AsElement<U> & Element> {
    const op = "Dataset.map";
    fnArg(op, fn);
    const convert = (v: unknown) => toElement(op, v, "the mapped value") as AsElement<U> & Element;
    const parallel = options?.numParallelCalls;
    if (parallel !== undefined && parallel !== null) {
      const n = parallel === AUTOTUNE
        ? AUTOTUNE_DEPTH
        : checkCount(op, "numParallelCalls", parallel, 1);
      return new Dataset(parallelMapSource(this.source, fn, n, convert));
    }
    const asyncOnly = isAsyncFunction(fn) ? "map with an async function" : this.source.asyncOnly;
    return new Dataset(staged(this.source, op, () => mapStage(fn, convert), asyncOnly));
  }

  /**
   * The elements for which pred returns true (or a true one-element tensor).
   * @example
   * ```ts
   * import * as tf from "../../mod.ts";
   * tf.data.Dataset.range(10).filter((x) => x.dataSync()[0] % 2n === 0n);
   * ```
   */
  filter(pred: (x: T) => boolean | Tensor | PromiseLike<boolean | Tensor>): Dataset<T> {
    const op = "Dataset.filter";
    fnArg(op, pred);
    const asyncOnly = isAsyncFunction(pred)
      ? "filter with an async function"
      : this.source.asyncOnly;
    return new Dataset(staged(this.source, op, () => filterStage(op, pred), asyncOnly));
  }

  /**
   * The elements in a random order drawn from a buffer of bufferSize elements (a buffer
   * at least the dataset's size gives a uniform shuffle). Seeded as TensorFlow seeds it
   * (tf.random.setSeed and options.seed); each pass reshuffles unless
   * reshuffleEachIteration is false.
   * @example
   * ```ts
   * import * as tf from "../../mod.ts";
   * tf.data.Dataset.range(100).shuffle(100, { seed: 7 });
   * ```
   */
  shuffle(bufferSize: number, options: ShuffleOptions = {}): Dataset<T> {
    const op = "Dataset.shuffle";
    const size = checkCount(op, "bufferSize", bufferSize, 1);
    const reshuffle = options?.reshuffleEachIteration ?? true;
    if (typeof reshuffle !== "boolean") {
      throw new TypeError(`${op}: reshuffleEachIteration must be a boolean`);
    }
    const [key, stream] = objectSeeds(op, options?.seed);
    let pass = 0n;
    return new Dataset(staged(this.source, op, () => {
      const seed = key ^ ((stream * 0x9e3779b97f4a7c15n + (reshuffle ? pass++ : 0n)) << 1n);
      return shuffleStage<T>(size, new ShuffleRng(seed));
    }));
  }

  /**
   * Elements grouped by n: each component stacked along a new first axis (strings and
   * bytes gathered into arrays).
   * @example
   * ```ts
   * import * as tf from "../../mod.ts";
   * tf.data.Dataset.range(5).batch(2); // [0, 1], [2, 3], [4]
   * ```
   */
  batch(n: number, options: BatchOptions = {}): Dataset<T> {
    const op = "Dataset.batch";
    const size = checkCount(op, "batch size", n, 1);
    const drop = options?.dropRemainder === true;
    return new Dataset(
      staged(this.source, op, () => batchStage(op, size, drop, stackWith(op))) as Source<T>,
    );
  }

  /**
   * batch for components of varying shape: each is padded at the end of every dimension
   * to paddedShapes (default: the longest in the batch) with paddingValues (default 0).
   * @example
   * ```ts
   * import * as tf from "../../mod.ts";
   * tf.data.Dataset.fromGenerator(function* () { yield [1]; yield [2, 3]; }).paddedBatch(2);
   * // [[1, 0], [2, 3]]
   * ```
   */
  paddedBatch(n: number, options: PaddedBatchOptions = {}): Dataset<T> {
    const op = "Dataset.paddedBatch";
    const size = checkCount(op, "batch size", n, 1);
    const drop = options?.dropRemainder === true;
    const isShape = (v: unknown) =>
      Array.isArray(v) && v.every((d) => d === null || typeof d === "number");
    const shapes = options?.paddedShapes === undefined
      ? undefined
      : pathTable(options.paddedShapes, isShape);
    const values = options?.paddingValues;
    const valueTable = values === undefined || typeof values !== "object" ||
        (values as { dataSync?: unknown }).dataSync
      ? undefined
      : pathTable(values, (v) => typeof v !== "object" || v === null || "dataSync" in v);
    const shapeAt = (path: string) => {
      if (!shapes) return undefined;
      if (!shapes.has(path)) {
        throw new TypeError(`${op}: paddedShapes has no entry for ${path || "the element"}`);
      }
      return shapes.get(path) as (number | null)[];
    };
    const valueAt = (path: string) => (valueTable ? valueTable.get(path) : values);
    return new Dataset(
      staged(
        this.source,
        op,
        () => batchStage(op, size, drop, padWith(op, shapeAt, valueAt)),
      ) as Source<T>,
    );
  }

  /**
   * The dataset `count` times over (default or -1: forever); shuffles upstream reshuffle
   * each time.
   * @example
   * ```ts
   * import * as tf from "../../mod.ts";
   * tf.data.Dataset.range(2).repeat(3); // 0, 1, 0, 1, 0, 1
   * ```
   */
  repeat(count = -1): Dataset<T> {
    const n = count === -1 ? -1 : checkCount("Dataset.repeat", "count", count, 0);
    return new Dataset(repeatSource(this.source, n));
  }

  /**
   * The first n elements (-1: all).
   * @example
   * ```ts
   * import * as tf from "../../mod.ts";
   * tf.data.Dataset.range(10).take(3); // 0, 1, 2
   * ```
   */
  take(n: number): Dataset<T> {
    const op = "Dataset.take";
    const k = n === -1 ? Infinity : checkCount(op, "count", n, 0);
    return new Dataset(staged(this.source, op, () => takeStage<T>(k)));
  }

  /**
   * All but the first n elements (-1: none).
   * @example
   * ```ts
   * import * as tf from "../../mod.ts";
   * tf.data.Dataset.range(5).skip(3); // 3, 4
   * ```
   */
  skip(n: number): Dataset<T> {
    const op = "Dataset.skip";
    const k = n === -1 ? Infinity : checkCount(op, "count", n, 0);
    return new Dataset(staged(this.source, op, () => skipStage<T>(k)));
  }

  /**
   * Every `numShards`-th element from the `index`-th (tf.data.Dataset.shard): shard `index`
   * of `numShards` equal parts, for one worker of several (`ds.shard(tf.distribute.size(),
   * tf.distribute.rank())`). Shard before shuffling or augmenting, so that each worker reads
   * only its own part of the input.
   * @example
   * ```ts
   * import * as tf from "../../mod.ts";
   * tf.data.Dataset.range(10).shard(3, 1); // 1, 4, 7
   * ```
   */
  shard(numShards: number, index: number): Dataset<T> {
    const op = "Dataset.shard";
    const count = checkCount(op, "numShards", numShards, 1);
    const at = checkCount(op, "index", index, 0);
    if (at >= count) {
      throw new RangeError(`${op}: index must be less than numShards (${count}), got ${at}`);
    }
    return new Dataset(staged(this.source, op, () => shardStage<T>(count, at)));
  }

  /**
   * During async iteration, keeps up to n elements requested ahead of the consumer
   * (AUTOTUNE: the core count); sync iteration passes through.
   * @example
   * ```ts
   * import * as tf from "../../mod.ts";
   * const ds = tf.data.Dataset.range(10).prefetch(2);
   * for await (const x of ds) console.log(Number(x));
   * ```
   */
  prefetch(n: number): Dataset<T> {
    const depth = n === AUTOTUNE
      ? AUTOTUNE_DEPTH
      : checkCount("Dataset.prefetch", "bufferSize", n, 0);
    return depth === 0 ? this : new Dataset(prefetchSource(this.source, depth));
  }

  /**
   * Keeps the elements of the first complete pass in memory and replays them.
   * @example
   * ```ts
   * import * as tf from "../../mod.ts";
   * tf.data.Dataset.range(3).map((x) => x.mul(2n)).cache().repeat(2);
   * ```
   */
  cache(): Dataset<T> {
    return new Dataset(cacheSource(this.source));
  }

  /**
   * Splits each element into the rows of its components (the inverse of batch).
   * @example
   * ```ts
   * import * as tf from "../../mod.ts";
   * tf.data.Dataset.fromTensors([[1, 2], [3, 4]]).unbatch(); // [1, 2], [3, 4]
   * ```
   */
  unbatch(): Dataset<T> {
    const op = "Dataset.unbatch";
    return new Dataset(
      staged(this.source, op, () => unbatchStage(op)) as Source<T>,
    );
  }

  /**
   * The elements of the datasets fn returns, one dataset after another.
   * @example
   * ```ts
   * import * as tf from "../../mod.ts";
   * tf.data.Dataset.range(3).flatMap((x) => tf.data.Dataset.fromTensors(x).repeat(2));
   * ```
   */
  flatMap<U extends Element>(fn: (x: T) => Dataset<U> | PromiseLike<Dataset<U>>): Dataset<U> {
    return this.interleave(fn, { cycleLength: 1, blockLength: 1 }, "Dataset.flatMap");
  }

  /**
   * The elements of the datasets fn returns, cycleLength of them open at once, taking
   * blockLength elements from each in turn (TensorFlow's order exactly).
   * @example
   * ```ts
   * import * as tf from "../../mod.ts";
   * tf.data.Dataset.range(1, 6).interleave(
   *   (x) => tf.data.Dataset.fromTensors(x).repeat(6),
   *   { cycleLength: 2, blockLength: 4 },
   * ); // 1 1 1 1 2 2 2 2 1 1 2 2 3 3 3 3 4 4 4 4 3 3 4 4 5 5 5 5 5 5
   * ```
   */
  interleave<U extends Element>(
    fn: (x: T) => Dataset<U> | PromiseLike<Dataset<U>>,
    options: InterleaveOptions = {},
    op = "Dataset.interleave",
  ): Dataset<U> {
    fnArg(op, fn);
    const c = options?.cycleLength ?? AUTOTUNE;
    const cycle = c === AUTOTUNE ? AUTOTUNE_DEPTH : checkCount(op, "cycleLength", c, 1);
    const block = checkCount(op, "blockLength", options?.blockLength ?? 1, 1);
    const check = (v: unknown): Nested<U> => {
      if (!(v instanceof Dataset)) {
        throw new TypeError(`${op}: the function must return a Dataset, got ${describe(v)}`);
      }
      return v as Nested<U>;
    };
    return new Dataset(interleaveSource(this.source, op, fn, cycle, block, check));
  }

  /**
   * [index, element] pairs; the index is an int64 scalar counting from start.
   * @example
   * ```ts
   * import * as tf from "../../mod.ts";
   * tf.data.Dataset.fromTensorSlices(["a", "b"]).enumerate(); // [0, "a"], [1, "b"]
   * ```
   */
  enumerate(start = 0): Dataset<[Tensor, T]> {
    const op = "Dataset.enumerate";
    if (typeof start !== "number" || !Number.isSafeInteger(start)) {
      throw new TypeError(`${op}: start must be a safe integer, got ${describe(start)}`);
    }
    return new Dataset(staged(this.source, op, () => enumerateStage<T>(start)));
  }

  /**
   * This dataset's elements followed by `other`'s.
   * @example
   * ```ts
   * import * as tf from "../../mod.ts";
   * tf.data.Dataset.range(2).concatenate(tf.data.Dataset.range(5, 7)); // 0, 1, 5, 6
   * ```
   */
  concatenate(other: Dataset<T>): Dataset<T> {
    if (!(other instanceof Dataset)) {
      throw new TypeError(`Dataset.concatenate: expected a Dataset, got ${describe(other)}`);
    }
    return new Dataset(concatSources([this.source, other.source]));
  }

  /**
   * fn(this): applies a reusable transformation.
   * @example
   * ```ts
   * import * as tf from "../../mod.ts";
   * const twice = (ds: tf.data.Dataset) => ds.repeat(2);
   * tf.data.Dataset.range(3).apply(twice);
   * ```
   */
  apply<R>(fn: (ds: this) => R): R {
    fnArg("Dataset.apply", fn);
    return fn(this);
  }

  /** A synchronous pass; async-only pipelines throw, naming the reason. */
  [Symbol.iterator](): Iterator<T> {
    const reason = this.source.asyncOnly;
    if (reason !== undefined) {
      throw new TypeError(
        `Dataset: this pipeline is async (${reason}): iterate it with for await`,
      );
    }
    return this.source.openSync();
  }

  /** An asynchronous pass (works for every dataset). */
  [Symbol.asyncIterator](): AsyncIterator<T> {
    return this.source.openAsync();
  }

  /** All elements of one pass, in an array (async for async-only pipelines: see toArrayAsync). */
  toArray(): T[] {
    return [...this];
  }

  /** All elements of one async pass, in an array. */
  async toArrayAsync(): Promise<T[]> {
    const out: T[] = [];
    for await (const x of this) out.push(x);
    return out;
  }
}
