/**
 * The machinery under Dataset: a Source opens passes over its elements, synchronously
 * (a Generator) or asynchronously (an AsyncGenerator); each transformation is a Source
 * over another. Every pass starts from the beginning: a Source holds no iteration
 * state, so one dataset can be iterated many times and concurrently.
 *
 * Element-wise transformations are Stages (push one input, get outputs; flush at the
 * end) run by one sync and one async driver. Leaving an iteration early (break) returns
 * the upstream generators, which closes their files.
 * @module
 */

/** Passes over a sequence of elements. */
export interface Source<T> {
  /** Why sync iteration is impossible (an async function or generator), if it is. */
  readonly asyncOnly?: string;
  /** A synchronous pass; callers check asyncOnly first. */
  openSync(): Generator<T, void, undefined>;
  /** An asynchronous pass (every source has one). */
  openAsync(): AsyncGenerator<T, void, undefined>;
}

/** Per-pass state of an element-wise transformation. */
export interface Stage<T, U> {
  /** Outputs for one input: a list, an iterable (a dataset), or a promise of one. */
  push(x: T): Iterable<U> | AsyncIterable<U> | PromiseLike<Iterable<U> | AsyncIterable<U>>;
  /** Outputs after the last input. */
  flush?(): Iterable<U>;
  /** True when no more input is wanted (take). */
  done?(): boolean;
}

/** Whether v is a promise-like value. */
export function isThenable(v: unknown): v is PromiseLike<unknown> {
  return typeof v === "object" && v !== null &&
    typeof (v as { then?: unknown }).then === "function";
}

/** The error of a Promise met in a synchronous pass; the promise's own error is dropped. */
export function asyncInSync(op: string, value: PromiseLike<unknown>): TypeError {
  // A rejection nobody handles would end the process.
  Promise.resolve(value).catch(() => {});
  return new TypeError(
    `${op}: the function returned a Promise, so this pipeline is async: iterate it with ` +
      "for await (or new tf.Iterator(ds).nextAsync())",
  );
}

function isAsyncIterable<U>(v: unknown): v is AsyncIterable<U> {
  return typeof v === "object" && v !== null && Symbol.asyncIterator in v;
}

/** A source whose async pass runs the sync one (in-memory data). */
export function syncSource<T>(openSync: () => Generator<T, void, undefined>): Source<T> {
  return {
    openSync,
    async *openAsync() {
      yield* openSync();
    },
  };
}

/** Runs a Stage over an upstream source; `op` names it in errors. */
export function staged<T, U>(
  up: Source<T>,
  op: string,
  makeStage: () => Stage<T, U>,
  asyncOnly = up.asyncOnly,
): Source<U> {
  return {
    asyncOnly,
    *openSync() {
      const it = up.openSync();
      const stage = makeStage();
      try {
        while (!stage.done?.()) {
          const r = it.next();
          if (r.done) break;
          const out = stage.push(r.value);
          if (isThenable(out)) throw asyncInSync(op, out);
          if (isAsyncIterable(out) && !(Symbol.iterator in out)) {
            throw new TypeError(`${op}: the function returned an async iterable: use for await`);
          }
          yield* out as Iterable<U>;
        }
        if (stage.flush) yield* stage.flush();
      } finally {
        it.return();
      }
    },
    async *openAsync() {
      const it = up.openAsync();
      const stage = makeStage();
      try {
        while (!stage.done?.()) {
          const r = await it.next();
          if (r.done) break;
          let out = stage.push(r.value);
          if (isThenable(out)) out = await out;
          if (isAsyncIterable<U>(out)) { for await (const v of out) yield v; }
          else yield* out as Iterable<U>;
        }
        if (stage.flush) yield* stage.flush();
      } finally {
        await it.return();
      }
    },
  };
}

/** The upstream passes `count` times (count < 0: forever); an empty pass ends it. */
export function repeatSource<T>(up: Source<T>, count: number): Source<T> {
  return {
    asyncOnly: up.asyncOnly,
    *openSync() {
      for (let epoch = 0; count < 0 || epoch < count; epoch++) {
        let any = false;
        for (const x of up.openSync()) {
          any = true;
          yield x;
        }
        if (!any) return;
      }
    },
    async *openAsync() {
      for (let epoch = 0; count < 0 || epoch < count; epoch++) {
        let any = false;
        for await (const x of up.openAsync()) {
          any = true;
          yield x;
        }
        if (!any) return;
      }
    },
  };
}

/** The sources one after the other. */
export function concatSources<T>(ups: readonly Source<T>[]): Source<T> {
  return {
    asyncOnly: ups.find((u) => u.asyncOnly)?.asyncOnly,
    *openSync() {
      for (const up of ups) yield* up.openSync();
    },
    async *openAsync() {
      for (const up of ups) yield* up.openAsync();
    },
  };
}

/** Tuples of the sources' elements, ending with the shortest; build shapes them. */
export function zipSources<U>(
  ups: readonly Source<unknown>[],
  build: (xs: unknown[]) => U,
): Source<U> {
  return {
    asyncOnly: ups.find((u) => u.asyncOnly)?.asyncOnly,
    *openSync() {
      const its = ups.map((u) => u.openSync());
      try {
        for (;;) {
          const xs: unknown[] = [];
          for (const it of its) {
            const r = it.next();
            if (r.done) return;
            xs.push(r.value);
          }
          yield build(xs);
        }
      } finally {
        for (const it of its) it.return();
      }
    },
    async *openAsync() {
      const its = ups.map((u) => u.openAsync());
      try {
        for (;;) {
          const rs = await Promise.all(its.map((it) => it.next()));
          if (rs.some((r) => r.done)) return;
          yield build(rs.map((r) => r.value));
        }
      } finally {
        await Promise.all(its.map((it) => it.return()));
      }
    },
  };
}

/**
 * Records the first complete pass in memory and replays it afterwards. A pass left
 * early records nothing (as TensorFlow's cache discards a partial cache).
 */
export function cacheSource<T>(up: Source<T>): Source<T> {
  let cached: T[] | null = null;
  return {
    asyncOnly: up.asyncOnly,
    *openSync() {
      if (cached) return yield* cached;
      const seen: T[] = [];
      for (const x of up.openSync()) {
        seen.push(x);
        yield x;
      }
      cached ??= seen;
    },
    async *openAsync() {
      if (cached) return yield* cached;
      const seen: T[] = [];
      for await (const x of up.openAsync()) {
        seen.push(x);
        yield x;
      }
      cached ??= seen;
    },
  };
}
