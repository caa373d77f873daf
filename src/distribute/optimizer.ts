/**
 * Data-parallel training: DistributedOptimizer averages gradients over the ranks before
 * its optimizer applies them, and broadcastVariables starts every rank from the same
 * values.
 *
 * Decisions:
 * - Gradients are fused into buckets (./buckets.ts), as Horovod's tensor fusion and DDP's
 *   buckets do: a step makes one MPI call per bucket, not one per variable.
 * - applyGradients averages; computeGradients returns this rank's own gradients, so that
 *   computeGradients + applyGradients averages once. applyGradients checks every step that
 *   the ranks' gradients agree (count, dtypes, shapes, which are null), with one small
 *   exchange; a disagreement is an Error on every rank.
 * - minimize overlaps communication with the backward pass: the tape reports each gradient
 *   as soon as it is final (GradientTape's onGradient), and a bucket's reduction starts on
 *   the communication thread once its gradients are in, while the earlier layers' gradients
 *   are still computed (without that thread, MPI_THREAD_SINGLE, it runs then on this one).
 *   Its first step runs as applyGradients does and the ranks agree on the order gradients
 *   arrive in (the *plan*); later steps follow the plan, and a rank whose gradients stop
 *   matching it (a different variable, shape or null) raises an Error after waiting for the
 *   reductions it started, so its exit ends the job instead of a hang. In a traced
 *   tf.function, minimize runs as computeGradients + applyGradients.
 * - With "mean" each step packs into the previous step's bucket buffers (the division leaves
 *   them unreferenced): no fresh pages to fault in per step.
 * @module
 */
import type { TypedArray } from "../dtype.ts";
import { sameShape, showShape } from "../shape.ts";
import type { Tensor, TensorLike } from "../tensor.ts";
import { Variable } from "../variable.ts";
import { toTensor } from "../ops/convert.ts";
import { castTensor } from "../ops/cast.ts";
import { withoutRecording } from "../tape.ts";
import { activeTrace, hostStep } from "../graph/hooks.ts";
import type {
  ApplyGradientsOptions,
  ComputeGradientsOptions,
  GradientAndVariable,
  MinimizeOptions,
  Optimizer,
} from "../train/optimizer.ts";
import { init } from "./mpi.ts";
import { agreeOnLayout } from "./collectives.ts";
import { type Bucket, BucketReduction, type GradientLayout, planBuckets } from "./buckets.ts";

/** Options of DistributedOptimizer. */
export interface DistributedOptimizerOptions {
  /** Bytes at which a bucket of gradients closes and its reduction starts (default 4 MiB). */
  bucketBytes?: number;
  /** "mean" (default) averages the ranks' gradients, "sum" adds them. */
  op?: "mean" | "sum";
  /** Whether minimize reduces buckets during the backward pass (default true). */
  overlap?: boolean;
}

const DEFAULT_BUCKET_BYTES = 4 << 20;

/**
 * Every rank's gradients reduced over the ranks (mean or sum), in the order given, as views
 * of the reduced buckets. All ranks call it with gradients of the same dtypes and shapes.
 * `reuse` keeps bucket buffers from one call to the next (see BucketReduction).
 */
export function reduceGradients(
  grads: readonly Tensor[],
  op: "mean" | "sum" = "mean",
  bucketBytes = DEFAULT_BUCKET_BYTES,
  reuse?: TypedArray[],
): Tensor[] {
  const { size } = init();
  if (size === 1 || grads.length === 0) return [...grads];
  const reduction = new BucketReduction(planBuckets(grads, bucketBytes), grads, op, reuse);
  grads.forEach((g, i) => reduction.put(i, g));
  return reduction.finish();
}

/** The order and layout gradients arrived in at the first step, which every rank agreed on. */
interface Plan {
  /** Each arrival: its variable, and its layout (null for a null gradient). */
  arrivals: { variable: Variable; layout: GradientLayout | null }[];
  /** The non-null arrivals' layouts, in order, and their buckets. */
  layout: GradientLayout[];
  buckets: Bucket[];
}

/**
 * Wraps an optimizer for data-parallel training (Horovod's hvd.DistributedOptimizer): its
 * applyGradients first averages each gradient over the ranks of the MPI job, so every rank
 * applies the same update and the ranks' variables stay equal. Start the ranks from equal
 * values with broadcastVariables.
 * @example
 * ```ts
 * import * as tf from "../../mod.ts";
 * const w = new tf.Variable([1, 2]);
 * const opt = new tf.distribute.DistributedOptimizer(new tf.train.GradientDescentOptimizer(0.1));
 * tf.distribute.broadcastVariables([w]);
 * opt.minimize(() => w.square().sum()); // the same update on every rank
 * ```
 */
export class DistributedOptimizer {
  readonly #op: "mean" | "sum";
  readonly #bucketBytes: number;
  readonly #overlap: boolean;
  /** The previous step's bucket buffers, reused when the layout repeats. */
  readonly #buffers: TypedArray[] = [];
  #plan: Plan | undefined;

  constructor(readonly optimizer: Optimizer, options: DistributedOptimizerOptions = {}) {
    const owner = "DistributedOptimizer";
    if (!optimizer || typeof optimizer.applyGradients !== "function") {
      throw new TypeError(`${owner}: expected an optimizer (tf.train.*Optimizer)`);
    }
    const bytes = options.bucketBytes ?? DEFAULT_BUCKET_BYTES;
    if (!Number.isSafeInteger(bytes) || bytes < 1) {
      throw new RangeError(`${owner}: bucketBytes must be a positive integer, got ${bytes}`);
    }
    const op = options.op ?? "mean";
    if (op !== "mean" && op !== "sum") {
      throw new TypeError(`${owner}: op must be "mean" or "sum", got ${String(op)}`);
    }
    this.#op = op;
    this.#bucketBytes = bytes;
    this.#overlap = options.overlap ?? true;
  }

  /** The wrapped optimizer's name (slot variables are named after it). */
  get name(): string {
    return this.optimizer.name;
  }

  /** The wrapped optimizer's slot and accumulator variables. */
  variables(): Variable[] {
    return this.optimizer.variables();
  }

  /** This rank's own gradients (not yet averaged: applyGradients averages). */
  computeGradients(
    lossFn: () => Tensor | Variable,
    options: ComputeGradientsOptions = {},
  ): [Tensor | null, Variable][] {
    return this.optimizer.computeGradients(lossFn, options);
  }

  /** Averages the gradients over the ranks, then applies them with the wrapped optimizer. */
  applyGradients(pairs: readonly GradientAndVariable[], options: ApplyGradientsOptions = {}): void {
    const what = "DistributedOptimizer.applyGradients";
    if (!Array.isArray(pairs)) {
      throw new TypeError(`${what}: expected an array of [gradient, variable] pairs`);
    }
    const present: Tensor[] = [];
    const where: number[] = [];
    pairs.forEach(([g, v], i) => {
      if (g === null || g === undefined || !(v instanceof Variable)) return;
      present.push(asGradientOf(what, g as TensorLike, v));
      where.push(i);
    });
    const reduced = hostStep(what, present, (grads) => {
      if (init().size > 1) agreeOnLayout(what, pairs.map(([g]) => g === null), grads);
      return withoutRecording(() =>
        reduceGradients(grads, this.#op, this.#bucketBytes, this.#buffers)
      );
    }, { retainsInputs: false });
    const averaged = pairs.map(([, v]) => [null, v] as [Tensor | null, Variable]);
    where.forEach((i, k) => averaged[i][0] = reduced[k]);
    this.optimizer.applyGradients(averaged, options);
  }

  /** Computes this rank's gradients of `lossFn()`, averages and applies them; returns the loss. */
  minimize(lossFn: () => Tensor | Variable, options: MinimizeOptions = {}): Tensor {
    let loss: Tensor | undefined;
    const recordLoss = () => {
      const out = lossFn();
      loss = out instanceof Variable ? out.read() : out;
      return out;
    };
    const { varList, globalStep } = options;
    if (!this.#overlap || activeTrace() !== null || init().size === 1) {
      this.applyGradients(this.optimizer.computeGradients(recordLoss, { varList }), { globalStep });
      return loss!;
    }
    const pairs = this.#plan
      ? this.#reduceAsTheyArrive(recordLoss, varList)
      : this.#reduceAndPlan(recordLoss, varList);
    this.optimizer.applyGradients(pairs, { globalStep });
    return loss!;
  }

  /** The first step: gradients reduced after the backward pass; the ranks agree on the plan. */
  #reduceAndPlan(
    lossFn: () => Tensor | Variable,
    varList: readonly Variable[] | undefined,
  ): [Tensor | null, Variable][] {
    const what = "DistributedOptimizer.minimize";
    const arrivals: [Tensor | null, Variable][] = [];
    const pairs = this.optimizer.computeGradients(lossFn, {
      varList,
      onGradient: (g, v) => arrivals.push([g === null ? null : asGradientOf(what, g, v), v]),
    });
    const present = arrivals.flatMap(([g]) => (g ? [g] : []));
    agreeOnLayout(what, arrivals.map(([g]) => g === null), present);
    const reduced = withoutRecording(() =>
      reduceGradients(present, this.#op, this.#bucketBytes, this.#buffers)
    );
    this.#plan = {
      arrivals: arrivals.map(([g, variable]) => ({ variable, layout: g && layoutOf(g) })),
      layout: present.map(layoutOf),
      buckets: planBuckets(present, this.#bucketBytes),
    };
    return inPairOrder(pairs, this.#plan.arrivals, reduced);
  }

  /** Later steps: each bucket's reduction starts as soon as the tape has its gradients. */
  #reduceAsTheyArrive(
    lossFn: () => Tensor | Variable,
    varList: readonly Variable[] | undefined,
  ): [Tensor | null, Variable][] {
    const what = "DistributedOptimizer.minimize";
    const plan = this.#plan!;
    const reduction = new BucketReduction(plan.buckets, plan.layout, this.#op, this.#buffers);
    let next = 0, member = 0;
    const onGradient = (g: Tensor | null, v: Variable) => {
      const expected = plan.arrivals[next++];
      const layout = g && layoutOf(g);
      if (!expected || expected.variable !== v || !sameLayout(layout, expected.layout)) {
        throw new Error(
          `${what}: the gradients no longer match the first step's (gradient ${next - 1} is ` +
            `${describeArrival(v, layout)}, the first step had ${
              expected ? describeArrival(expected.variable, expected.layout) : "none"
            }); every step must differentiate the same variables (or pass { overlap: false })`,
        );
      }
      if (g) withoutRecording(() => reduction.put(member++, asGradientOf(what, g, v)));
    };
    let pairs: [Tensor | null, Variable][];
    let reduced: Tensor[];
    try {
      pairs = this.optimizer.computeGradients(lossFn, { varList, onGradient });
      if (next !== plan.arrivals.length) {
        throw new Error(
          `${what}: ${next} gradients arrived where the first step had ${plan.arrivals.length}; ` +
            "every step must differentiate the same variables (or pass { overlap: false })",
        );
      }
      reduced = withoutRecording(() => reduction.finish());
    } catch (error) {
      reduction.abandon(); // the started reductions finish before this rank gives up
      throw error;
    }
    return inPairOrder(pairs, plan.arrivals, reduced);
  }
}

/**
 * The reduced gradients (one per non-null arrival, in arrival order) as [gradient, variable]
 * pairs in the order of `pairs`, computeGradients's.
 */
function inPairOrder(
  pairs: readonly [Tensor | null, Variable][],
  arrivals: Plan["arrivals"],
  reduced: readonly Tensor[],
): [Tensor | null, Variable][] {
  const byVariable = new Map<Variable, Tensor>();
  let k = 0;
  for (const { variable, layout } of arrivals) if (layout) byVariable.set(variable, reduced[k++]);
  return pairs.map(([, v]) => [byVariable.get(v) ?? null, v]);
}

function asGradientOf(what: string, g: TensorLike, v: Variable): Tensor {
  const grad = toTensor(what, g, v.dtype);
  return grad.dtype === v.dtype ? grad : castTensor(grad, v.dtype);
}

function layoutOf(g: Tensor): GradientLayout {
  return { dtype: g.dtype, shape: g.shape, size: g.size };
}

function sameLayout(a: GradientLayout | null, b: GradientLayout | null): boolean {
  if (a === null || b === null) return a === b;
  return a.dtype === b.dtype && sameShape(a.shape, b.shape);
}

function describeArrival(v: Variable, layout: GradientLayout | null): string {
  return `${v.name}'s, ${layout ? `${layout.dtype} ${showShape(layout.shape)}` : "null"}`;
}
