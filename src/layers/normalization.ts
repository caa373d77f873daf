/**
 * BatchNormalization (TensorFlow 1's tf.layers.BatchNormalization).
 *
 * Training normalises with the batch's mean and (biased) variance and updates the moving
 * averages at once: `moving -= (moving - batch) * (1 - momentum)`; inference normalises
 * with the moving averages. As in TensorFlow 1, the "fused" path (the default for rank-4
 * and rank-5 float32 inputs normalised over axis 1 or the last axis) feeds the moving
 * variance the unbiased batch variance (times n / (n - 1), n = elements per channel) and
 * clamps epsilon to at least 1.001e-5; otherwise the moving variance gets the biased one.
 * The computation is otherwise the same; `fused: false` opts out of that rule. Either way a
 * normalisation over one channel axis runs as tf.nn.fusedBatchNorm's kernels (src/ops/batch_norm.ts).
 * @module
 */
import { describe, normalizeAxis, showShape } from "../shape.ts";
import type { Tensor } from "../tensor.ts";
import { withoutRecording } from "../tape.ts";
import type { Variable } from "../variable.ts";
import { multiply, relu, subtract } from "../ops/math.ts";
import { batchNormalization, moments } from "../ops/nn.ts";
import { fusedBatchNorm } from "../ops/batch_norm.ts";
import { reshape } from "../ops/views.ts";
import { type Initializer, ones, zeros } from "./initializers.ts";
import { type ApplyOptions, Layer, type LayerOptions } from "./layer.ts";
import { checkBoolean } from "./utils.ts";

/** Options of BatchNormalization. */
export interface BatchNormalizationOptions extends LayerOptions {
  /** The feature axis or axes, normalised separately (default -1; 1 for channels_first). */
  axis?: number | readonly number[];
  /** Moving-average momentum (default 0.99). */
  momentum?: number;
  /** Added to the variance (default 1e-3). */
  epsilon?: number;
  /** Add the learned offset beta (default true). */
  center?: boolean;
  /** Multiply by the learned scale gamma (default true). */
  scale?: boolean;
  /** Default zeros. */
  betaInitializer?: Initializer;
  /** Default ones. */
  gammaInitializer?: Initializer;
  /** Default zeros. */
  movingMeanInitializer?: Initializer;
  /** Default ones. */
  movingVarianceInitializer?: Initializer;
  /**
   * TensorFlow 1's fused path (see the module comment); default: used when possible.
   * `true` when it is not possible is an error.
   */
  fused?: boolean | null;
}

const FUSED_MIN_EPSILON = 1.001e-5;

/**
 * Batch normalisation: `gamma * (x - mean) / sqrt(variance + epsilon) + beta` per
 * feature. Variables: `gamma`, `beta` (trainable), `moving_mean`, `moving_variance`.
 * @example
 * ```ts
 * import * as tf from "../../mod.ts";
 * const bn = new tf.layers.BatchNormalization();
 * const x = tf.randomNormal([32, 10]);
 * bn.apply(x, { training: true }); // batch statistics; moving averages updated
 * bn.apply(x); // moving averages
 * ```
 */
export class BatchNormalization extends Layer {
  readonly axis: number | readonly number[];
  readonly momentum: number;
  readonly epsilon: number;
  readonly center: boolean;
  readonly scale: boolean;
  gamma: Variable | null = null;
  beta: Variable | null = null;
  movingMean: Variable | null = null;
  movingVariance: Variable | null = null;
  #options: BatchNormalizationOptions;
  #axes: number[] = [];
  #reduction: number[] = [];
  #rank = 0;
  #broadcast: number[] | null = null;
  #fused = false;
  #reluNext = false;
  #epsilon: number;

  constructor(options: BatchNormalizationOptions = {}) {
    super(options);
    const op = this.name;
    this.axis = options.axis ?? -1;
    const axes = typeof this.axis === "number" ? [this.axis] : this.axis;
    if (!Array.isArray(axes) || axes.length === 0 || !axes.every(Number.isInteger)) {
      throw new TypeError(`${op}: axis must be an integer or a non-empty list of integers`);
    }
    this.momentum = checkNumber(op, "momentum", options.momentum ?? 0.99);
    this.epsilon = checkNumber(op, "epsilon", options.epsilon ?? 1e-3);
    if (!(this.epsilon > 0)) throw new RangeError(`${op}: epsilon must be > 0`);
    this.center = checkBoolean(op, "center", options.center, true);
    this.scale = checkBoolean(op, "scale", options.scale, true);
    if (options.fused !== null) checkBoolean(op, "fused", options.fused, false);
    this.#epsilon = this.epsilon;
    this.#options = options;
  }

  /** Whether the fused path's moving-variance rule is used (decided on the first apply). */
  get fused(): boolean {
    return this.#fused;
  }

  /** The epsilon the normalisation adds (epsilon, raised to 1.001e-5 on the fused path). */
  get varianceEpsilon(): number {
    return this.#epsilon;
  }

  /** The normalised axis when there is one (channels); null for several axes. */
  get channelAxis(): number | null {
    return this.#axes.length === 1 ? this.#axes[0] : null;
  }

  override build(inputShape: readonly number[]): void {
    const op = this.name, rank = inputShape.length;
    const given = typeof this.axis === "number" ? [this.axis] : this.axis;
    const axes = [...new Set(given.map((a) => normalizeAxis(op, a, rank)))].sort((a, b) => a - b);
    this.#rank = rank;
    this.#axes = axes;
    this.#reduction = inputShape.map((_, i) => i).filter((i) => !axes.includes(i));
    const paramShape = axes.length === 1
      ? [inputShape[axes[0]]]
      : inputShape.map((d, i) => (axes.includes(i) ? d : 1));
    this.#broadcast = axes.length === 1 && axes[0] !== rank - 1
      ? inputShape.map((d, i) => (i === axes[0] ? d : 1))
      : null;
    const fusable = (rank === 4 || rank === 5) && axes.length === 1 &&
      (axes[0] === 1 || axes[0] === rank - 1) && this.dtype === "float32";
    const fused = this.#options.fused ?? null;
    if (fused === true && !fusable) {
      throw new RangeError(
        `${op}: fused is only possible for rank-4 or rank-5 float32 inputs normalised over ` +
          `axis 1 or the last axis; got shape ${showShape(inputShape)}, axis ${
            describe(this.axis)
          }, dtype ${this.dtype}`,
      );
    }
    this.#fused = fused ?? fusable;
    this.#epsilon = this.#fused ? Math.max(this.epsilon, FUSED_MIN_EPSILON) : this.epsilon;
    const o = this.#options;
    if (this.scale) {
      this.gamma = this.addWeight("gamma", paramShape, { initializer: o.gammaInitializer ?? ones });
    }
    if (this.center) {
      this.beta = this.addWeight("beta", paramShape, { initializer: o.betaInitializer ?? zeros });
    }
    this.movingMean = this.addWeight("moving_mean", paramShape, {
      initializer: o.movingMeanInitializer ?? zeros,
      trainable: false,
    });
    this.movingVariance = this.addWeight("moving_variance", paramShape, {
      initializer: o.movingVarianceInitializer ?? ones,
      trainable: false,
    });
  }

  /**
   * relu(apply(x, options)), the relu fused into the normalisation's pass when it runs as
   * one kernel (a single channel axis): the pattern of ResNet's blocks.
   */
  applyWithRelu(x: Tensor, options: ApplyOptions = {}): Tensor {
    this.#reluNext = true;
    try {
      return this.apply(x, options);
    } finally {
      this.#reluNext = false;
    }
  }

  call(x: Tensor, training: boolean): Tensor {
    const y = this.#normalize(x, training);
    // The op-by-op forms (several axes) apply the asked-for relu afterwards.
    return this.#reluNext && this.#axes.length !== 1 ? relu(y) : y;
  }

  #normalize(x: Tensor, training: boolean): Tensor {
    const mm = this.movingMean!, mv = this.movingVariance!;
    if (x.rank !== this.#rank || !this.#sameFeatures(x)) {
      throw new RangeError(
        `${this.name}: expected a rank-${this.#rank} input with sizes ${
          showShape(this.#axes.map((a, i) => mm.shape[this.#axes.length === 1 ? i : a]))
        } on axes ${showShape(this.#axes)}, got shape ${showShape(x.shape)}`,
      );
    }
    if (this.#axes.length === 1) {
      // One channel axis: the fused op (one kernel pass in inference, three in training).
      const [y, mean, variance] = fusedBatchNorm(
        x,
        this.gamma?.read() ?? null,
        this.beta?.read() ?? null,
        {
          axis: this.#axes[0],
          epsilon: this.#epsilon,
          isTraining: training,
          mean: training ? undefined : mm.read(),
          variance: training ? undefined : mv.read(),
          relu: this.#reluNext,
        },
      );
      if (training) this.#updateMoving(x, mean, variance);
      return y;
    }
    const b = (v: Tensor) => (this.#broadcast ? reshape(v, this.#broadcast) : v);
    const offset = this.beta ? b(this.beta.read()) : null;
    const scale = this.gamma ? b(this.gamma.read()) : null;
    if (!training) {
      return batchNormalization(x, b(mm.read()), b(mv.read()), offset, scale, this.#epsilon);
    }
    const [mean, variance] = moments(x, this.#reduction, { keepDims: this.#axes.length > 1 });
    const y = batchNormalization(x, b(mean), b(variance), offset, scale, this.#epsilon);
    this.#updateMoving(x, mean, variance);
    return y;
  }

  /** moving -= (moving - batch) * (1 - momentum), unrecorded (see the module comment). */
  #updateMoving(x: Tensor, mean: Tensor, variance: Tensor): void {
    const mm = this.movingMean!, mv = this.movingVariance!;
    withoutRecording(() => {
      const n = x.size / mean.size;
      const batchVariance = this.#fused && n > 1 ? multiply(variance, n / (n - 1)) : variance;
      const decay = 1 - this.momentum;
      mm.assign(subtract(mm.peek(), multiply(subtract(mm.peek(), mean), decay)));
      mv.assign(subtract(mv.peek(), multiply(subtract(mv.peek(), batchVariance), decay)));
    });
  }

  #sameFeatures(x: Tensor): boolean {
    const shape = this.movingMean!.shape;
    if (this.#axes.length === 1) return x.shape[this.#axes[0]] === shape[0];
    return this.#axes.every((a) => x.shape[a] === shape[a]);
  }
}

function checkNumber(op: string, what: string, value: unknown): number {
  if (typeof value !== "number" || !Number.isFinite(value)) {
    throw new TypeError(`${op}: ${what} must be a finite number, got ${describe(value)}`);
  }
  return value;
}
