/**
 * The element-wise transformations as Stages (see pipeline.ts): map, filter, shuffle,
 * batch, paddedBatch, unbatch, take, skip, enumerate.
 * @module
 */
import { Tensor } from "../tensor.ts";
import { padLeaves, rowOf, rowsOf, stackLeaves } from "./batching.ts";
import type { Stage } from "./pipeline.ts";
import { isThenable } from "./pipeline.ts";
import { type Element, type Leaf, mapLeaves, zipLeaves } from "./structure.ts";

const NONE: never[] = [];

/** Applies fn; a promise result (async passes only) is awaited, then converted. */
export function mapStage<T, U>(fn: (x: T) => unknown, convert: (v: unknown) => U): Stage<T, U> {
  return {
    push(x) {
      const y = fn(x);
      return isThenable(y) ? Promise.resolve(y).then((v) => [convert(v)]) : [convert(y)];
    },
  };
}

/** The truth of a predicate's result: a boolean, or a one-element tensor. */
export function truth(op: string, v: unknown): boolean {
  if (typeof v === "boolean") return v;
  if (v instanceof Tensor && v.size === 1) return v.dataSync()[0] != 0;
  throw new TypeError(
    `${op}: the predicate must return a boolean or a one-element tensor, got ${
      v instanceof Tensor ? `a tensor of shape [${v.shape}]` : typeof v
    }`,
  );
}

/** Keeps the elements the predicate accepts. */
export function filterStage<T>(op: string, pred: (x: T) => unknown): Stage<T, T> {
  return {
    push(x) {
      const keep = pred(x);
      if (isThenable(keep)) return Promise.resolve(keep).then((k) => (truth(op, k) ? [x] : NONE));
      return truth(op, keep) ? [x] : NONE;
    },
  };
}

/** xoshiro128** seeded by splitmix64: the shuffle's per-pass generator. */
export class ShuffleRng {
  #s = new Uint32Array(4);

  constructor(seed: bigint) {
    const mask = (1n << 64n) - 1n;
    let x = seed & mask;
    for (let i = 0; i < 2; i++) {
      x = (x + 0x9e3779b97f4a7c15n) & mask;
      let z = x;
      z = ((z ^ (z >> 30n)) * 0xbf58476d1ce4e5b9n) & mask;
      z = ((z ^ (z >> 27n)) * 0x94d049bb133111ebn) & mask;
      z ^= z >> 31n;
      this.#s[2 * i] = Number(z & 0xffffffffn);
      this.#s[2 * i + 1] = Number(z >> 32n);
    }
    if (this.#s.every((w) => w === 0)) this.#s[0] = 1;
  }

  /** The next 32 random bits. */
  next(): number {
    const s = this.#s;
    const r = Math.imul(rotl(Math.imul(s[1], 5), 7), 9) >>> 0;
    const t = s[1] << 9;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl(s[3], 11);
    return r;
  }

  /** A uniform integer in [0, n), n <= 2^32 (Lemire's multiply, bias below n / 2^32). */
  below(n: number): number {
    return Math.floor((this.next() * n) / 4294967296);
  }
}

function rotl(x: number, k: number): number {
  return (x << k) | (x >>> (32 - k));
}

/** A buffer of `size` elements; each output is a uniformly chosen buffered element. */
export function shuffleStage<T>(size: number, rng: ShuffleRng): Stage<T, T> {
  const buffer: T[] = [];
  return {
    push(x) {
      if (buffer.length < size) {
        buffer.push(x);
        return NONE;
      }
      const i = rng.below(size);
      const out = buffer[i];
      buffer[i] = x;
      return [out];
    },
    *flush() {
      while (buffer.length > 0) {
        const i = rng.below(buffer.length);
        const out = buffer[i];
        buffer[i] = buffer[buffer.length - 1];
        buffer.pop();
        yield out;
      }
    },
  };
}

/** Groups `n` elements into one; `combine` stacks (or pads) each leaf. */
export function batchStage(
  op: string,
  n: number,
  dropRemainder: boolean,
  combine: (leaves: Leaf[], path: string) => Leaf,
): Stage<Element, Element> {
  let pending: Element[] = [];
  const emit = () => {
    const out = zipLeaves(op, pending, combine);
    pending = [];
    return out;
  };
  return {
    push(x) {
      pending.push(x);
      return pending.length === n ? [emit()] : NONE;
    },
    flush() {
      return pending.length > 0 && !dropRemainder ? [emit()] : NONE;
    },
  };
}

/** stackLeaves under an op name, for batchStage. */
export const stackWith = (op: string) => (leaves: Leaf[], path: string): Leaf =>
  stackLeaves(op, leaves, path);

/** padLeaves with per-leaf padded shapes and values looked up by path. */
export const padWith = (
  op: string,
  shapeAt: (path: string) => readonly (number | null)[] | undefined,
  valueAt: (path: string) => unknown,
) =>
(leaves: Leaf[], path: string): Leaf => padLeaves(op, leaves, path, shapeAt(path), valueAt(path));

/** Splits each element into its rows (every leaf must have the same first dimension). */
export function unbatchStage(op: string): Stage<Element, Element> {
  return {
    *push(x) {
      let rows = -1;
      mapLeaves(x, (leaf, path) => {
        const n = rowsOf(op, leaf, path);
        if (rows >= 0 && n !== rows) {
          throw new RangeError(
            `${op}: components have different first dimensions (${rows} and ${n})`,
          );
        }
        rows = n;
        return leaf;
      });
      for (let i = 0; i < rows; i++) yield mapLeaves(x, (leaf) => rowOf(leaf, i));
    },
  };
}

/** The first `n` elements. */
export function takeStage<T>(n: number): Stage<T, T> {
  let seen = 0;
  return {
    push(x) {
      seen++;
      return [x];
    },
    done: () => seen >= n,
  };
}

/** All but the first `n` elements. */
export function skipStage<T>(n: number): Stage<T, T> {
  let seen = 0;
  return {
    push(x) {
      return seen++ < n ? NONE : [x];
    },
  };
}

/** Every `count`-th element from the `index`-th (Dataset.shard). */
export function shardStage<T>(count: number, index: number): Stage<T, T> {
  let seen = 0;
  return {
    push(x) {
      return seen++ % count === index ? [x] : NONE;
    },
  };
}

/** [index, element] pairs, the index an int64 scalar from `start`. */
export function enumerateStage<T>(start: number): Stage<T, [Tensor, T]> {
  let i = start;
  return {
    push(x) {
      return [[new Tensor(new BigInt64Array([BigInt(i++)]), "int64", []), x]];
    },
  };
}
