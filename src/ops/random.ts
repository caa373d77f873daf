/**
 * Random tensors from the counter-based Philox 4x32-10 generator in csrc/kernels/random.c:
 * randomUniform, randomNormal, truncatedNormal, randomShuffle and dropout, seeded as
 * TensorFlow 2 seeds them in eager mode (tf.random.set_seed).
 *
 * Seeds. Every random op call resolves to a Philox key (64 bits) and stream (64 bits);
 * element i of its output depends only on (key, stream, i), never on the thread count.
 * - No global seed, no op seed: the key comes from crypto.getRandomValues.
 * - Global seed set by setSeed(g), no op seed: each call takes the next value of an op
 *   counter as its op seed, so the sequence of random ops after setSeed(g) is the same
 *   in every run.
 * - Op seed s given (global seed g, or TensorFlow's default 87654321 when none is set):
 *   as in TF2 eager, repeated calls of the same op with the same s give different values
 *   (call k of op `name` with seed s uses stream k), and the whole sequence restarts
 *   after setSeed. The call count is kept per (op name, s).
 * setSeed resets the op counter and the per-(op, seed) call counts.
 *
 * Distributions: float32 uniforms carry 24 random bits and float64 uniforms 53; integer
 * uniforms are exactly uniform on [minval, maxval) (Lemire's method with rejection);
 * normals come from Box–Muller; truncatedNormal redraws values outside two standard
 * deviations, as TensorFlow does. Gradients: the distributions have no differentiable
 * input; randomShuffle records none yet (it would be a gather by the inverse
 * permutation); dropout is built from multiply and where and differentiates through them.
 * @module
 */
import { checkDType, type DType, isFloat, itemSize, numberFits } from "../dtype.ts";
import { RandomDist } from "../native/codes.ts";
import { hostStep1 } from "../graph/hooks.ts";
import type { Backend } from "../backend/backend.ts";
import { placement } from "../backend/registry.ts";
import { cpuBackend } from "../backend/cpu/backend.ts";
import { broadcastShapes, checkShape, sameShape, showShape, sizeOf } from "../shape.ts";
import { allocate } from "../backend/cpu/storage.ts";
import { Tensor, type TensorLike } from "../tensor.ts";
import { placed, toTensor } from "./convert.ts";
import { greaterEqual, multiply, where } from "./math.ts";
import { gather } from "./gather_scatter.ts";
import { withoutRecording } from "../tape.ts";

/** A seed: an integer number or a bigint (only its low 64 bits count). */
export type Seed = number | bigint;

// ---- seeds ---------------------------------------------------------------------------

const MASK64 = (1n << 64n) - 1n;
/** TensorFlow's DEFAULT_GRAPH_SEED, used with an op seed when no global seed is set. */
const DEFAULT_GLOBAL_SEED = 87654321n;
/** Stream of ops seeded by the op counter; explicit op seeds use streams 0, 1, 2, ... */
const COUNTER_STREAM = 1n << 63n;

let globalSeed: bigint | undefined;
let opCounter = 0n;
const pairCalls = new Map<string, bigint>();

const entropy = new BigUint64Array(32);
let entropyLeft = 0;

function freshKey(): bigint {
  if (entropyLeft === 0) {
    crypto.getRandomValues(entropy);
    entropyLeft = entropy.length;
  }
  return entropy[--entropyLeft];
}

function splitmix64(x: bigint): bigint {
  let z = (x + 0x9e3779b97f4a7c15n) & MASK64;
  z = ((z ^ (z >> 30n)) * 0xbf58476d1ce4e5b9n) & MASK64;
  z = ((z ^ (z >> 27n)) * 0x94d049bb133111ebn) & MASK64;
  return z ^ (z >> 31n);
}

/** A Philox key from the (global seed, op seed) pair. */
function pairKey(global: bigint, op: bigint): bigint {
  return splitmix64(splitmix64(global) ^ op);
}

function checkSeed(op: string, seed: unknown): bigint {
  if (typeof seed === "bigint") return BigInt.asUintN(64, seed);
  if (typeof seed === "number" && Number.isSafeInteger(seed)) {
    return BigInt.asUintN(64, BigInt(seed));
  }
  throw new TypeError(`${op}: seed must be an integer (number or bigint), got ${String(seed)}`);
}

/** The (key, stream) of the next call of `op`; see the module comment. */
function nextSeeds(op: string, seed: Seed | undefined): [bigint, bigint] {
  if (seed === undefined || seed === null) {
    if (globalSeed === undefined) return [freshKey(), 0n];
    return [pairKey(globalSeed, opCounter++), COUNTER_STREAM];
  }
  const s = checkSeed(op, seed);
  const id = `${op}:${s}`;
  const calls = pairCalls.get(id) ?? 0n;
  pairCalls.set(id, calls + 1n);
  return [pairKey(globalSeed ?? DEFAULT_GLOBAL_SEED, s), calls];
}

/**
 * The (key, stream) of a seeded object that draws many numbers over its life, such as
 * tf.data's shuffle, resolved once when the object is made, as TensorFlow's
 * random_seed.get_seed does for datasets: an op seed always gives the same key (paired
 * with the global seed, or the default one); a global seed alone takes the next op
 * counter value; neither gives a fresh random key.
 */
export function objectSeeds(op: string, seed: Seed | undefined): [bigint, bigint] {
  if (seed === undefined || seed === null) return nextSeeds(op, undefined);
  return [pairKey(globalSeed ?? DEFAULT_GLOBAL_SEED, checkSeed(op, seed)), 0n];
}

/**
 * Sets the global seed (tf.random.set_seed): afterwards the sequence of random ops is
 * reproducible. `null` goes back to unseeded (crypto) randomness.
 * @example
 * ```ts
 * import { randomUniform, setSeed } from "./random.ts";
 * setSeed(42);
 * const a = randomUniform([3]);
 * setSeed(42);
 * const b = randomUniform([3]); // the same values as a
 * ```
 */
export function setSeed(seed: Seed | null): void {
  globalSeed = seed === null ? undefined : checkSeed("setSeed", seed);
  opCounter = 0n;
  pairCalls.clear();
}

// ---- the kernel call -------------------------------------------------------------------

/**
 * A draw: in a traced function, a host step run again at each call with that call's seeds
 * (dropped from the graph when its values are unused).
 */
function draw(op: string, make: () => Tensor): Tensor {
  return hostStep1(op, [], make, { pure: true });
}

function fill(
  op: string,
  dist: number,
  shape: readonly number[],
  dtype: DType,
  a: number,
  b: number,
  seeds: [bigint, bigint],
  backend: Backend = placement(),
): Tensor {
  const n = sizeOf(shape);
  const out = backend.allocateOutput(dtype, n, op);
  if (n > 0) backend.randomFill(op, dist, dtype, seeds, [a, b], out, n);
  return new Tensor(out, dtype, shape);
}

function checkFinite(op: string, name: string, value: unknown): number {
  if (typeof value !== "number" || !Number.isFinite(value)) {
    throw new TypeError(`${op}: ${name} must be a finite number, got ${String(value)}`);
  }
  return value;
}

function checkFloatDType(op: string, dtype: unknown): DType {
  const d = checkDType(op, dtype);
  if (!isFloat(d)) throw new TypeError(`${op}: dtype must be float32 or float64, got ${d}`);
  return d;
}

/** An integer bound of randomUniform, as a number the kernel takes exactly. */
function intBound(op: string, name: string, value: unknown, dtype: DType): number {
  const v = typeof value === "bigint" && value >= -(2n ** 53n) && value <= 2n ** 53n
    ? Number(value)
    : value;
  if (typeof v !== "number" || !numberFits(v, dtype)) {
    const range = dtype === "int32" ? "an int32" : "a safe integer (|v| <= 2^53 - 1)";
    throw new RangeError(
      `${op}: ${name} must be ${range} for dtype ${dtype}, got ${String(value)}`,
    );
  }
  return v;
}

// ---- distributions ---------------------------------------------------------------------

/** Options of randomUniform. */
export interface RandomUniformOptions {
  /** Lower bound, included (default 0). */
  minval?: number | bigint;
  /** Upper bound, excluded (default 1; required for integer dtypes). */
  maxval?: number | bigint;
  /** float32 (default), float64, int32 or int64. */
  dtype?: DType;
  /** Op seed (see the module comment). */
  seed?: Seed;
}

/**
 * Values drawn uniformly from [minval, maxval). Integer dtypes need maxval and are
 * exactly uniform over the integers of the range; int64 bounds (numbers or bigints)
 * must be safe integers (|v| <= 2^53 - 1).
 * @example
 * ```ts
 * import { randomUniform } from "./random.ts";
 * randomUniform([5, 3]); // float32 in [0, 1)
 * randomUniform([10], { minval: 1, maxval: 7, dtype: "int32" }); // dice rolls
 * ```
 */
export function randomUniform(shape: number[], options: RandomUniformOptions = {}): Tensor {
  const op = "randomUniform";
  const s = checkShape(op, shape);
  const dtype = checkDType(op, options.dtype ?? "float32");
  let a: number, b: number;
  if (isFloat(dtype)) {
    a = checkFinite(op, "minval", options.minval ?? 0);
    b = checkFinite(op, "maxval", options.maxval ?? 1);
    if (dtype === "float32") (a = Math.fround(a)), (b = Math.fround(b));
  } else if (dtype === "int32" || dtype === "int64") {
    if (options.maxval === undefined) {
      throw new TypeError(`${op}: maxval must be given for integer dtype ${dtype}`);
    }
    a = intBound(op, "minval", options.minval ?? 0, dtype);
    b = intBound(op, "maxval", options.maxval, dtype);
  } else {
    throw new TypeError(`${op}: dtype must be float32, float64, int32 or int64, got ${dtype}`);
  }
  if (!(a < b)) {
    throw new RangeError(
      `${op}: minval (${String(options.minval ?? 0)}) must be less than maxval (${
        String(options.maxval ?? 1)
      })${a === b && dtype === "float32" ? " after rounding to float32" : ""}`,
    );
  }
  return draw(op, () => fill(op, RandomDist.UNIFORM, s, dtype, a, b, nextSeeds(op, options.seed)));
}

/** Options of randomNormal and truncatedNormal. */
export interface RandomNormalOptions {
  /** Mean (default 0). */
  mean?: number;
  /** Standard deviation, >= 0 (default 1). */
  stddev?: number;
  /** float32 (default) or float64. */
  dtype?: DType;
  /** Op seed (see the module comment). */
  seed?: Seed;
}

function normal(op: string, dist: number, shape: number[], options: RandomNormalOptions): Tensor {
  const s = checkShape(op, shape);
  const dtype = checkFloatDType(op, options.dtype ?? "float32");
  const mean = checkFinite(op, "mean", options.mean ?? 0);
  const stddev = checkFinite(op, "stddev", options.stddev ?? 1);
  if (stddev < 0) throw new RangeError(`${op}: stddev must be >= 0, got ${stddev}`);
  return draw(op, () => fill(op, dist, s, dtype, mean, stddev, nextSeeds(op, options.seed)));
}

/**
 * Values drawn from a normal distribution (Box–Muller over Philox numbers).
 * @example
 * ```ts
 * import { randomNormal } from "./random.ts";
 * randomNormal([2, 3], { mean: 1, stddev: 0.5, seed: 7 });
 * ```
 */
export function randomNormal(shape: number[], options: RandomNormalOptions = {}): Tensor {
  return normal("randomNormal", RandomDist.NORMAL, shape, options);
}

/**
 * Values drawn from a normal distribution, each redrawn until it lies within two
 * standard deviations of the mean (tf.random.truncated_normal). The variance is about
 * 0.7737 stddev^2.
 * @example
 * ```ts
 * import { truncatedNormal } from "./random.ts";
 * truncatedNormal([784, 10], { stddev: 0.1 }); // all within [-0.2, 0.2]
 * ```
 */
export function truncatedNormal(shape: number[], options: RandomNormalOptions = {}): Tensor {
  return normal("truncatedNormal", RandomDist.TRUNCATED_NORMAL, shape, options);
}

// ---- shuffle and dropout ---------------------------------------------------------------

/** Options of randomShuffle. */
export interface RandomShuffleOptions {
  /** Op seed (see the module comment). */
  seed?: Seed;
}

/**
 * x with its rows (slices along axis 0) in a random order: a Fisher–Yates shuffle of
 * the row indices driven by Philox float64 uniforms (index bias below (n+1) * 2^-53).
 * Scalars and tensors of at most one row come back unchanged.
 * @example
 * ```ts
 * import { randomShuffle } from "./random.ts";
 * randomShuffle([[1, 2], [3, 4], [5, 6]]); // e.g. [[5, 6], [1, 2], [3, 4]]
 * ```
 */
export function randomShuffle(x: TensorLike, options: RandomShuffleOptions = {}): Tensor {
  const op = "randomShuffle";
  return hostStep1(op, [toTensor(op, x)], ([t]) => shuffleRows(op, t, options));
}

function shuffleRows(op: string, t: Tensor, options: RandomShuffleOptions): Tensor {
  const seeds = nextSeeds(op, options.seed);
  const rows = t.rank === 0 ? 1 : t.shape[0];
  if (rows <= 1) return t;
  // The permutation is drawn and applied on the host (one read and one upload off the CPU).
  const uniform = fill(op, RandomDist.UNIFORM, [rows], "float64", 0, 1, seeds, cpuBackend);
  const u = uniform.dataSync() as Float64Array;
  const perm = new Int32Array(rows);
  for (let i = 0; i < rows; i++) perm[i] = i;
  for (let i = rows - 1; i > 0; i--) {
    const j = Math.floor(u[i] * (i + 1));
    const p = perm[i];
    perm[i] = perm[j];
    perm[j] = p;
  }
  if (!t.backend.readsSynchronously) {
    // A device read asynchronously (WebGPU): the rows move there, by a gather of the
    // permutation (uploaded), with no read of t.
    return withoutRecording(() => gather(t, placed(op, perm, "int32", [rows], t.backend)));
  }
  const src = t.dataSync(); // dense row-major
  const out = allocate(t.dtype, t.size, op);
  const rowSize = t.size / rows;
  if (rowSize === 1) {
    const from = src as Float64Array, to = out as Float64Array; // any element type
    for (let i = 0; i < rows; i++) to[i] = from[perm[i]];
  } else if (rowSize > 0) {
    const bytes = itemSize(t.dtype), rowBytes = rowSize * bytes;
    const from = new Uint8Array(src.buffer, src.byteOffset, t.size * bytes);
    const to = new Uint8Array(out.buffer, out.byteOffset, t.size * bytes);
    for (let i = 0; i < rows; i++) {
      to.set(from.subarray(perm[i] * rowBytes, (perm[i] + 1) * rowBytes), i * rowBytes);
    }
  }
  return placed(op, out, t.dtype, t.shape, t.backend);
}

/** Options of dropout. */
export interface DropoutOptions {
  /**
   * Shape of the keep/drop mask, broadcast against x (e.g. [batch, 1] drops whole rows);
   * a null entry takes x's dimension. Default: x's shape.
   */
  noiseShape?: readonly (number | null)[];
  /** Op seed (see the module comment). */
  seed?: Seed;
}

/**
 * tf.nn.dropout: each element is kept with probability 1 - rate and scaled by
 * 1 / (1 - rate), else set to 0, so the expected value is unchanged. rate must be in
 * [0, 1); rate 0 returns x.
 * @example
 * ```ts
 * import { dropout } from "./random.ts";
 * dropout([[1, 2, 3, 4]], 0.5); // e.g. [[2, 0, 6, 0]]
 * dropout([[1, 2], [3, 4]], 0.5, { noiseShape: [2, 1] }); // whole rows kept or dropped
 * ```
 */
export function dropout(x: TensorLike, rate: number, options: DropoutOptions = {}): Tensor {
  const op = "dropout";
  const t = toTensor(op, x);
  if (!isFloat(t.dtype)) {
    throw new TypeError(`${op}: x must be a floating-point tensor (it is scaled), got ${t.dtype}`);
  }
  if (typeof rate !== "number" || !(rate >= 0 && rate < 1)) {
    throw new RangeError(`${op}: rate must be a number in [0, 1), got ${String(rate)}`);
  }
  let noise: readonly number[] = t.shape;
  if (options.noiseShape !== undefined) {
    const given = options.noiseShape;
    if (!Array.isArray(given)) throw new TypeError(`${op}: noiseShape must be an array`);
    const offset = t.rank - given.length;
    noise = checkShape(
      op,
      given.map((d, i) => (d === null && i + offset >= 0 ? t.shape[i + offset] : d)),
      "noiseShape",
    );
    const joined = noise.length <= t.rank ? broadcastShapes(op, noise, t.shape) : noise;
    if (!sameShape(joined, t.shape)) {
      throw new RangeError(
        `${op}: noiseShape ${showShape(noise)} does not broadcast to x's shape ${
          showShape(t.shape)
        }`,
      );
    }
  }
  if (rate === 0) {
    nextSeeds(op, options.seed); // as eager does; a traced function draws nothing
    return t;
  }
  const u = draw(
    op,
    () => fill(op, RandomDist.UNIFORM, noise, t.dtype, 0, 1, nextSeeds(op, options.seed)),
  );
  return where(greaterEqual(u, rate), multiply(t, 1 / (1 - rate)), 0);
}
