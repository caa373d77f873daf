/**
 * `tf.initializers`: functions `(shape, dtype) => Tensor` giving a weight's initial
 * value. Parameterless ones are initializers themselves (`tf.initializers.glorotUniform`);
 * parameterised ones are factories (`tf.initializers.constant(0.1)`,
 * `tf.initializers.truncatedNormal({ stddev: 0.1 })`). Defaults follow TensorFlow 1's
 * `tf.*_initializer` (randomNormal/truncatedNormal: mean 0, stddev 1); heNormal and
 * glorotNormal are TensorFlow 2's (truncated normal). Random ones draw from the seeded
 * random ops, so `tf.random.setSeed(n)` makes them reproducible.
 * @module
 */
import type { DType } from "../dtype.ts";
import { describe } from "../shape.ts";
import type { Tensor } from "../tensor.ts";
import { fill } from "../ops/creation.ts";
import { constant as constantOp } from "../ops/convert.ts";
import { CPU_DEVICE, device } from "../device.ts";
import {
  randomNormal as normalOp,
  randomUniform as uniformOp,
  type Seed,
  truncatedNormal as truncatedOp,
} from "../ops/random.ts";

/** Makes a weight's initial value of the given shape and dtype. */
export type Initializer = (shape: readonly number[], dtype?: DType) => Tensor;

/** Options of the random initializers. */
export interface RandomInitializerOptions {
  /** Mean (normal distributions; default 0). */
  mean?: number;
  /** Standard deviation (normal distributions; default 1). */
  stddev?: number;
  /** Op seed (see tf.random.setSeed). */
  seed?: Seed;
}

/** Options of randomUniform. */
export interface UniformInitializerOptions {
  /** Lower bound (default 0). */
  minval?: number;
  /** Upper bound, excluded (default 1). */
  maxval?: number;
  /** Op seed (see tf.random.setSeed). */
  seed?: Seed;
}

/** TensorFlow's _compute_fans: [fanIn, fanOut] of a weight shape. */
export function computeFans(shape: readonly number[]): [number, number] {
  shapeOf("computeFans", shape);
  if (shape.length === 0) return [1, 1];
  if (shape.length === 1) return [shape[0], shape[0]];
  if (shape.length === 2) return [shape[0], shape[1]];
  const receptive = shape.slice(0, -2).reduce((a, b) => a * b, 1);
  return [shape[shape.length - 2] * receptive, shape[shape.length - 1] * receptive];
}

/** The stddev of a standard normal truncated to [-2, 2] (TensorFlow's constant). */
const TRUNCATED_STDDEV = 0.87962566103423978;

/** The shape argument of initializer `name`, checked to be an array (sizes are checked by the op). */
function shapeOf(name: string, shape: unknown): number[] {
  if (!Array.isArray(shape)) {
    throw new TypeError(
      `initializers.${name}: shape must be an array of sizes, got ${describe(shape)}`,
    );
  }
  return [...shape];
}

/** The options argument of initializer factory `name`, checked to be an object. */
function optionsOf<T extends object>(name: string, options: T): T {
  if (typeof options !== "object" || options === null) {
    throw new TypeError(
      `initializers.${name}: options must be an object, got ${describe(options)}`,
    );
  }
  return options;
}

/**
 * All zeros (the default bias initializer).
 * @example
 * ```ts
 * import * as tf from "../../mod.ts";
 * tf.initializers.zeros([2, 3]); // float32 zeros
 * ```
 */
export const zeros: Initializer = (shape, dtype = "float32") =>
  fill(shapeOf("zeros", shape), 0, dtype);

/**
 * All ones.
 * @example
 * ```ts
 * import * as tf from "../../mod.ts";
 * tf.initializers.ones([3], "float64");
 * ```
 */
export const ones: Initializer = (shape, dtype = "float32") =>
  fill(shapeOf("ones", shape), 1, dtype);

/**
 * Every element `value`.
 * @example
 * ```ts
 * import * as tf from "../../mod.ts";
 * new tf.layers.Dense(4, { biasInitializer: tf.initializers.constant(0.1) });
 * ```
 */
export function constant(value: number): Initializer {
  if (typeof value !== "number") {
    throw new TypeError(`initializers.constant: value must be a number, got ${describe(value)}`);
  }
  return (shape, dtype = "float32") => fill(shapeOf("constant", shape), value, dtype);
}

/**
 * Glorot (Xavier) uniform: U(-l, l) with l = sqrt(6 / (fanIn + fanOut)); TensorFlow's
 * default kernel initializer.
 * @example
 * ```ts
 * import * as tf from "../../mod.ts";
 * tf.initializers.glorotUniform([784, 10]); // within +-0.0864
 * ```
 */
export const glorotUniform: Initializer = (given, dtype = "float32") => {
  const shape = shapeOf("glorotUniform", given);
  const [fanIn, fanOut] = computeFans(shape);
  const limit = Math.sqrt(3 / Math.max(1, (fanIn + fanOut) / 2));
  return uniformOp(shape, { minval: -limit, maxval: limit, dtype });
};

/**
 * Glorot normal (TensorFlow 2): truncated normal with stddev sqrt(2 / (fanIn + fanOut)).
 * @example
 * ```ts
 * import * as tf from "../../mod.ts";
 * tf.initializers.glorotNormal([10, 10]);
 * ```
 */
export const glorotNormal: Initializer = (given, dtype = "float32") => {
  const shape = shapeOf("glorotNormal", given);
  const [fanIn, fanOut] = computeFans(shape);
  const stddev = Math.sqrt(1 / Math.max(1, (fanIn + fanOut) / 2)) / TRUNCATED_STDDEV;
  return truncatedOp(shape, { stddev, dtype });
};

/**
 * He normal (TensorFlow 2's): truncated normal with stddev sqrt(2 / fanIn), for relu nets.
 * @example
 * ```ts
 * import * as tf from "../../mod.ts";
 * new tf.layers.Conv2D(32, 3, { kernelInitializer: tf.initializers.heNormal });
 * ```
 */
export const heNormal: Initializer = (given, dtype = "float32") => {
  const shape = shapeOf("heNormal", given);
  const [fanIn] = computeFans(shape);
  const stddev = Math.sqrt(2 / Math.max(1, fanIn)) / TRUNCATED_STDDEV;
  return truncatedOp(shape, { stddev, dtype });
};

/**
 * Normal values (TensorFlow 1's random_normal_initializer: mean 0, stddev 1).
 * @example
 * ```ts
 * import * as tf from "../../mod.ts";
 * const init = tf.initializers.randomNormal({ stddev: 0.01 });
 * init([3, 3]);
 * ```
 */
export function randomNormal(options: RandomInitializerOptions = {}): Initializer {
  const { mean = 0, stddev = 1, seed } = optionsOf("randomNormal", options);
  return (shape, dtype = "float32") =>
    normalOp(shapeOf("randomNormal", shape), { mean, stddev, seed, dtype });
}

/**
 * Normal values redrawn beyond two standard deviations (TensorFlow 1's
 * truncated_normal_initializer: mean 0, stddev 1).
 * @example
 * ```ts
 * import * as tf from "../../mod.ts";
 * new tf.layers.Dense(10, { kernelInitializer: tf.initializers.truncatedNormal({ stddev: 0.1 }) });
 * ```
 */
export function truncatedNormal(options: RandomInitializerOptions = {}): Initializer {
  const { mean = 0, stddev = 1, seed } = optionsOf("truncatedNormal", options);
  return (shape, dtype = "float32") =>
    truncatedOp(shapeOf("truncatedNormal", shape), { mean, stddev, seed, dtype });
}

/**
 * Uniform values in [minval, maxval) (TensorFlow 1's random_uniform_initializer: [0, 1)).
 * @example
 * ```ts
 * import * as tf from "../../mod.ts";
 * tf.initializers.randomUniform({ minval: -0.05, maxval: 0.05 })([100, 8]);
 * ```
 */
export function randomUniform(options: UniformInitializerOptions = {}): Initializer {
  const { minval = 0, maxval = 1, seed } = optionsOf("randomUniform", options);
  return (shape, dtype = "float32") =>
    uniformOp(shapeOf("randomUniform", shape), { minval, maxval, seed, dtype });
}

/** Options of orthogonal. */
export interface OrthogonalOptions {
  /** Multiplies the orthogonal matrix (default 1). */
  gain?: number;
  /** Op seed (see tf.random.setSeed). */
  seed?: Seed;
}

/**
 * A (semi-)orthogonal matrix, as Keras's Orthogonal (the default of recurrent kernels):
 * the Q of a QR factorisation of a normal matrix [rows, cols] (rows = the product of all
 * but the last dimension), its columns' signs fixed by R's diagonal, transposed when
 * rows < cols, times `gain`. QR runs in float64 here (modified Gram-Schmidt, twice) on
 * the CPU: weights are small and made once.
 * @example
 * ```ts
 * import * as tf from "../../mod.ts";
 * new tf.layers.LSTMCell(8, { recurrentInitializer: tf.initializers.orthogonal({ gain: 1 }) });
 * ```
 */
export function orthogonal(options: OrthogonalOptions = {}): Initializer {
  const { gain = 1, seed } = optionsOf("orthogonal", options);
  if (typeof gain !== "number" || !Number.isFinite(gain)) {
    throw new TypeError(
      `initializers.orthogonal: gain must be a finite number, got ${describe(gain)}`,
    );
  }
  return (given, dtype = "float32") => {
    const shape = shapeOf("orthogonal", given);
    if (shape.length < 2) {
      throw new RangeError(
        `initializers.orthogonal: needs a shape of rank >= 2, got [${shape.join(", ")}]`,
      );
    }
    const cols = shape[shape.length - 1];
    const rows = shape.slice(0, -1).reduce((p, d) => p * d, 1);
    const [n, m] = [Math.max(rows, cols), Math.min(rows, cols)];
    const draw = device(CPU_DEVICE, () => normalOp([n, m], { seed, dtype: "float64" }));
    const q = orthonormalColumns(Float64Array.from(draw.dataSync() as Float64Array), n, m);
    const out = new Float64Array(rows * cols);
    for (let i = 0; i < n; i++) {
      for (let j = 0; j < m; j++) {
        const v = gain * q[i * m + j];
        if (rows >= cols) out[i * cols + j] = v;
        else out[j * cols + i] = v;
      }
    }
    return constantOp(out, dtype, { shape });
  };
}

/** Q of the thin QR of a [n, m] row-major matrix (n >= m), signs as diag(R) > 0. */
function orthonormalColumns(a: Float64Array, n: number, m: number): Float64Array {
  for (let j = 0; j < m; j++) {
    let rjj = 0;
    for (let pass = 0; pass < 2; pass++) {
      for (let k = 0; k < j; k++) {
        let dot = 0;
        for (let i = 0; i < n; i++) dot += a[i * m + k] * a[i * m + j];
        for (let i = 0; i < n; i++) a[i * m + j] -= dot * a[i * m + k];
      }
      let norm = 0;
      for (let i = 0; i < n; i++) norm += a[i * m + j] ** 2;
      norm = Math.sqrt(norm);
      if (pass === 0) rjj = norm;
      for (let i = 0; i < n; i++) a[i * m + j] /= norm || 1;
    }
    if (rjj === 0) throw new Error("initializers.orthogonal: a degenerate random draw");
  }
  return a;
}
