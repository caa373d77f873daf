/**
 * Read-ahead transformations: prefetch, map with parallel calls, and interleave.
 *
 * Decisions:
 * - prefetch(n) and map's numParallelCalls keep up to n upstream requests (or function
 *   calls) in flight during async iteration, and always yield in input order. In a
 *   synchronous pass prefetch is a pass-through (JS runs one thing at a time).
 * - A request that fails while ahead of the consumer is held as a settled value, so its
 *   error surfaces when the consumer reaches it, never as an unhandled rejection.
 * - interleave follows TensorFlow's InterleaveDataset exactly (cycle slots, blocks,
 *   replacing an exhausted slot from the input in place).
 * @module
 */
import { asyncInSync, isThenable, type Source } from "./pipeline.ts";

type Settled<T> = { ok: IteratorResult<T, void> } | { error: unknown };

function settle<T>(p: Promise<IteratorResult<T, void>>): Promise<Settled<T>> {
  return p.then((ok) => ({ ok }), (error) => ({ error }));
}

function unwrap<T>(s: Settled<T>): IteratorResult<T, void> {
  if ("error" in s) throw s.error;
  return s.ok;
}

/**
 * Up to `depth` results of `next` requested ahead, yielded in order. `next` is called
 * one after another on the same async generator, which queues the requests.
 */
async function* readAhead<T>(
  it: AsyncGenerator<unknown, void, undefined>,
  depth: number,
  next: () => Promise<IteratorResult<T, void>>,
): AsyncGenerator<T, void, undefined> {
  const queue: Promise<Settled<T>>[] = [];
  try {
    for (let i = 0; i < depth; i++) queue.push(settle(next()));
    for (;;) {
      const r = unwrap(await queue.shift()!);
      if (r.done) return;
      queue.push(settle(next()));
      yield r.value;
    }
  } finally {
    await Promise.all(queue);
    await it.return();
  }
}

/** Async passes read `depth` elements ahead; sync passes are unchanged. */
export function prefetchSource<T>(up: Source<T>, depth: number): Source<T> {
  return {
    asyncOnly: up.asyncOnly,
    openSync: () => up.openSync(),
    openAsync() {
      const it = up.openAsync();
      return readAhead(it, depth, () => it.next());
    },
  };
}

/** map with up to `parallel` calls of `fn` in flight (async passes only). */
export function parallelMapSource<T, U>(
  up: Source<T>,
  fn: (x: T) => unknown,
  parallel: number,
  convert: (value: unknown) => U,
): Source<U> {
  return {
    asyncOnly: "map with numParallelCalls",
    openSync() {
      throw new TypeError("Dataset.map: numParallelCalls makes the pipeline async");
    },
    openAsync() {
      const it = up.openAsync();
      return readAhead(it, parallel, async () => {
        const r = await it.next();
        if (r.done) return r;
        return { done: false, value: convert(await fn(r.value)) };
      });
    },
  };
}

/** The datasets interleave's function returns: iterable both ways. */
export type Nested<U> = Iterable<U> & AsyncIterable<U>;

/** TensorFlow's interleave: `cycle` inputs open at once, `block` outputs from each in turn. */
export function interleaveSource<T, U>(
  up: Source<T>,
  op: string,
  fn: (x: T) => Nested<U> | PromiseLike<Nested<U>>,
  cycle: number,
  block: number,
  check: (value: unknown) => Nested<U>,
): Source<U> {
  return {
    asyncOnly: up.asyncOnly,
    *openSync() {
      const input = up.openSync();
      const slots: (Iterator<U> | null)[] = new Array(cycle).fill(null);
      let index = 0, inBlock = 0, open = 0, endOfInput = false;
      const advance = () => {
        inBlock = 0;
        index = (index + 1) % cycle;
      };
      try {
        while (!endOfInput || open > 0) {
          const slot = slots[index];
          if (slot) {
            const r = slot.next();
            if (!r.done) {
              if (++inBlock === block) advance();
              yield r.value;
              continue;
            }
            slots[index] = null;
            open--;
            advance();
          } else if (!endOfInput) {
            const r = input.next();
            if (r.done) endOfInput = true;
            else {
              const made = fn(r.value);
              if (isThenable(made)) throw asyncInSync(op, made);
              slots[index] = check(made)[Symbol.iterator]();
              open++;
            }
          } else advance();
        }
      } finally {
        for (const s of slots) s?.return?.();
        input.return();
      }
    },
    async *openAsync() {
      const input = up.openAsync();
      const slots: (AsyncIterator<U> | null)[] = new Array(cycle).fill(null);
      let index = 0, inBlock = 0, open = 0, endOfInput = false;
      const advance = () => {
        inBlock = 0;
        index = (index + 1) % cycle;
      };
      try {
        while (!endOfInput || open > 0) {
          const slot = slots[index];
          if (slot) {
            const r = await slot.next();
            if (!r.done) {
              if (++inBlock === block) advance();
              yield r.value;
              continue;
            }
            slots[index] = null;
            open--;
            advance();
          } else if (!endOfInput) {
            const r = await input.next();
            if (r.done) endOfInput = true;
            else {
              slots[index] = check(await fn(r.value))[Symbol.asyncIterator]();
              open++;
            }
          } else advance();
        }
      } finally {
        await Promise.all(slots.map((s) => s?.return?.()));
        await input.return();
      }
    },
  };
}
