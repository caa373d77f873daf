/**
 * tf.Iterator: the seed's `tfe.Iterator(dataset)`, one pass over a dataset driven by
 * hand. It follows JS's iterator protocol (`next()` returns `{ value, done }`), so it
 * also works in `for ... of`; `getNext()` is TensorFlow's get_next, which raises
 * OutOfRangeError at the end. Async-only pipelines use `nextAsync()` / `for await`.
 * @module
 */
import { describe } from "../shape.ts";
import { Dataset } from "./dataset.ts";
import type { Element } from "./structure.ts";

/** The end of a dataset reached by Iterator.getNext (TensorFlow's tf.errors.OutOfRangeError). */
export class OutOfRangeError extends Error {
  override name = "OutOfRangeError";
}

/**
 * One pass over a dataset.
 * @example
 * ```ts
 * import * as tf from "../../mod.ts";
 * const it = new tf.Iterator(tf.data.Dataset.range(3));
 * it.getNext(); // 0
 * for (const x of it) console.log(Number(x)); // 1, 2
 * ```
 */
export class DatasetIterator<T extends Element = Element> implements IterableIterator<T> {
  #dataset: Dataset<T>;
  #sync: Iterator<T> | null = null;
  #async: AsyncIterator<T> | null = null;
  #done = false;

  constructor(dataset: Dataset<T>) {
    if (!(dataset instanceof Dataset)) {
      throw new TypeError(`Iterator: expected a tf.data.Dataset, got ${describe(dataset)}`);
    }
    this.#dataset = dataset;
  }

  /** The next element as `{ value, done }` (JS's protocol). */
  next(): IteratorResult<T> {
    if (this.#async) throw new TypeError("Iterator.next: this iterator is async: use nextAsync()");
    if (this.#done) return { value: undefined, done: true };
    this.#sync ??= this.#dataset[Symbol.iterator]();
    const r = this.#sync.next();
    if (r.done) this.#done = true;
    return r;
  }

  /** The next element of an async pass as `{ value, done }`. */
  async nextAsync(): Promise<IteratorResult<T>> {
    if (this.#sync) throw new TypeError("Iterator.nextAsync: this iterator is sync: use next()");
    if (this.#done) return { value: undefined, done: true };
    this.#async ??= this.#dataset[Symbol.asyncIterator]();
    const r = await this.#async.next();
    if (r.done) this.#done = true;
    return r;
  }

  /** The next element; OutOfRangeError at the end (TensorFlow's get_next). */
  getNext(): T {
    const r = this.next();
    if (r.done) throw new OutOfRangeError("Iterator.getNext: End of sequence");
    return r.value;
  }

  /** Ends the pass early (closes files the pipeline has open). */
  return(): IteratorResult<T> {
    this.#done = true;
    this.#sync?.return?.();
    void this.#async?.return?.()?.catch?.(() => {});
    return { value: undefined, done: true };
  }

  [Symbol.iterator](): this {
    return this;
  }

  [Symbol.asyncIterator](): AsyncIterator<T> {
    return { next: () => this.nextAsync(), return: () => Promise.resolve(this.return()) };
  }
}
