/**
 * tf.random's stateless draws: statelessUniform and statelessNormal, pure functions of a
 * seed pair. The Philox key is splitmix64 of both words of the pair, so the same pair gives
 * the same values whatever the global seed (src/ops/random.ts) and on every device; the bits
 * are not TensorFlow's (its stateless ops hash the seed with its own Philox counter layout).
 * @module
 */
import { checkDType, type DType, isFloat } from "../../dtype.ts";
import { RandomDist } from "../../native/codes.ts";
import { placement } from "../../backend/registry.ts";
import { checkShape, sizeOf } from "../../shape.ts";
import { Tensor } from "../../tensor.ts";
import type { Seed } from "../random.ts";

// ---- stateless seeds and fills -------------------------------------------------------

const MASK64 = (1n << 64n) - 1n;

function splitmix64(x: bigint): bigint {
  let z = (x + 0x9e3779b97f4a7c15n) & MASK64;
  z = ((z ^ (z >> 30n)) * 0xbf58476d1ce4e5b9n) & MASK64;
  z = ((z ^ (z >> 27n)) * 0x94d049bb133111ebn) & MASK64;
  return z ^ (z >> 31n);
}

/** A stateless seed: two integers (numbers or bigints), as TensorFlow's shape-[2] seed. */
export type SeedPair = readonly [Seed, Seed];

/** The Philox key of a seed pair, or an Error naming op. */
export function pairKey(op: string, seed: unknown): bigint {
  const ok = (v: unknown) =>
    typeof v === "bigint" || (typeof v === "number" && Number.isSafeInteger(v));
  if (!Array.isArray(seed) || seed.length !== 2 || !seed.every(ok)) {
    throw new TypeError(`${op}: seed must be a pair of integers [a, b], got ${String(seed)}`);
  }
  const [a, b] = seed.map((v) => BigInt.asUintN(64, BigInt(v)));
  return splitmix64(splitmix64(a) ^ b);
}

function checkFinite(op: string, name: string, v: unknown): number {
  if (typeof v !== "number" || !Number.isFinite(v)) {
    throw new TypeError(`${op}: ${name} must be a finite number, got ${String(v)}`);
  }
  return v;
}

/** Draws of `dist` (params a, b) from the key of a seed pair, on the default device. */
export function statelessFill(
  op: string,
  dist: number,
  shape: readonly number[],
  dtype: DType,
  params: [number, number],
  key: bigint,
): Tensor {
  const backend = placement();
  const n = sizeOf(shape);
  const out = backend.allocateOutput(dtype, n, op);
  if (n > 0) backend.randomFill(op, dist, dtype, [key, 0n], params, out, n);
  return new Tensor(out, dtype, shape);
}

/** Options of {@link statelessUniform}. */
export interface StatelessUniformOptions {
  /** The seed pair (required). */
  seed: SeedPair;
  /** Lower bound, included (default 0). */
  minval?: number;
  /** Upper bound, excluded (default 1; required for integer dtypes). */
  maxval?: number;
  /** float32 (default), float64, int32 or int64. */
  dtype?: DType;
}

/**
 * Values uniform on [minval, maxval), a pure function of (shape, seed, bounds, dtype)
 * (tf.random.stateless_uniform). Integer dtypes are exactly uniform and need maxval.
 * @example
 * ```ts
 * import * as tf from "../../../mod.ts";
 * tf.random.statelessUniform([2, 3], { seed: [1, 2] }); // the same values on every call
 * tf.random.statelessUniform([4], { seed: [1, 2], minval: 0, maxval: 10, dtype: "int32" });
 * ```
 */
export function statelessUniform(shape: number[], options: StatelessUniformOptions): Tensor {
  const op = "statelessUniform";
  const s = checkShape(op, shape);
  const key = pairKey(op, options?.seed);
  const dtype = checkDType(op, options.dtype ?? "float32");
  if (!isFloat(dtype) && dtype !== "int32" && dtype !== "int64") {
    throw new TypeError(`${op}: dtype must be float32, float64, int32 or int64, got ${dtype}`);
  }
  if (!isFloat(dtype) && options.maxval === undefined) {
    throw new TypeError(`${op}: maxval must be given for integer dtype ${dtype}`);
  }
  let a = checkFinite(op, "minval", options.minval ?? 0);
  let b = checkFinite(op, "maxval", options.maxval ?? 1);
  if (dtype === "float32") (a = Math.fround(a)), (b = Math.fround(b));
  const limit = dtype === "int32" ? 2 ** 31 : 2 ** 53;
  if (
    !isFloat(dtype) && !(Number.isInteger(a) && Number.isInteger(b) && a >= -limit &&
      b <= limit)
  ) {
    throw new RangeError(`${op}: minval and maxval must be ${dtype} integers, got ${a}, ${b}`);
  }
  if (!(a < b)) throw new RangeError(`${op}: minval (${a}) must be less than maxval (${b})`);
  return statelessFill(op, RandomDist.UNIFORM, s, dtype, [a, b], key);
}

/** Options of {@link statelessNormal}. */
export interface StatelessNormalOptions {
  /** The seed pair (required). */
  seed: SeedPair;
  /** Mean (default 0). */
  mean?: number;
  /** Standard deviation, >= 0 (default 1). */
  stddev?: number;
  /** float32 (default) or float64. */
  dtype?: DType;
}

/**
 * Normal values, a pure function of (shape, seed, mean, stddev, dtype)
 * (tf.random.stateless_normal).
 * @example
 * ```ts
 * import * as tf from "../../../mod.ts";
 * tf.random.statelessNormal([3], { seed: [7, 0], mean: 1, stddev: 2 });
 * ```
 */
export function statelessNormal(shape: number[], options: StatelessNormalOptions): Tensor {
  const op = "statelessNormal";
  const s = checkShape(op, shape);
  const key = pairKey(op, options?.seed);
  const dtype = checkDType(op, options.dtype ?? "float32");
  if (!isFloat(dtype)) throw new TypeError(`${op}: dtype must be float32 or float64, got ${dtype}`);
  const mean = checkFinite(op, "mean", options.mean ?? 0);
  const stddev = checkFinite(op, "stddev", options.stddev ?? 1);
  if (stddev < 0) throw new RangeError(`${op}: stddev must be >= 0, got ${stddev}`);
  return statelessFill(op, RandomDist.NORMAL, s, dtype, [mean, stddev], key);
}
