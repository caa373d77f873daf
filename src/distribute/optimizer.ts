/**
 * Data-parallel training: DistributedOptimizer averages gradients over the ranks before
 * its optimizer applies them, and broadcastVariables starts every rank from the same
 * values.
 *
 * Decisions:
 * - Gradients are fused into buckets of at most `bucketBytes` (one dtype each, in the order
 *   given), as Horovod's tensor fusion and DDP's buckets do: a step makes one MPI call per
 *   bucket, not one per variable. Packing a bucket is a copy (the buckets' own memory is
 *   what MPI reduces in place); unpacking is free: each averaged gradient is a view of its
 *   bucket.
 * - With "mean", a DistributedOptimizer packs each step into the previous step's bucket
 *   buffers (the division leaves them unreferenced): no fresh pages to fault in per step.
 * - The reduction of bucket k runs on libeager's communication thread while this thread
 *   packs bucket k + 1 (and, in minimize, while the backward pass still computes the
 *   gradients of earlier layers; see ./overlap.ts).
 * - The ranks check once per step that their gradients agree (count, dtypes, shapes, which
 *   are null), with one small exchange; a disagreement is an Error on every rank.
 * - applyGradients averages; computeGradients returns this rank's own gradients, so that
 *   minimize (= computeGradients + applyGradients) averages once.
 * @module
 */
import { type DType, dtypeCode, dtypeOfArray, itemSize, type TypedArray } from "../dtype.ts";
import { Tensor, type TensorLike } from "../tensor.ts";
import { Variable } from "../variable.ts";
import { toTensor } from "../ops/convert.ts";
import { castTensor } from "../ops/cast.ts";
import { divide } from "../ops/math.ts";
import { withoutRecording } from "../tape.ts";
import { hostStep } from "../graph/hooks.ts";
import { native } from "../native/lib.ts";
import { Reduce } from "../native/codes.ts";
import { cpuBackend } from "../backend/cpu/backend.ts";
import type {
  ApplyGradientsOptions,
  ComputeGradientsOptions,
  GradientAndVariable,
  MinimizeOptions,
  Optimizer,
} from "../train/optimizer.ts";
import { checkMpi, init } from "./mpi.ts";
import { agreeOnLayout, broadcast } from "./collectives.ts";

/** Options of DistributedOptimizer. */
export interface DistributedOptimizerOptions {
  /** The most bytes one fused reduction carries (default 32 MiB). */
  bucketBytes?: number;
  /** "mean" (default) averages the ranks' gradients, "sum" adds them. */
  op?: "mean" | "sum";
}

/** Gradients of one dtype packed into one buffer that MPI reduces in place. */
interface Bucket {
  dtype: DType;
  /** Positions in the step's list of non-null gradients. */
  members: number[];
  elements: number;
}

/** Splits the gradients into buckets: consecutive gradients of one dtype, up to `limit` bytes. */
export function planBuckets(grads: readonly Tensor[], limit: number): Bucket[] {
  const buckets: Bucket[] = [];
  const open = new Map<DType, Bucket>();
  grads.forEach((g, i) => {
    let bucket = open.get(g.dtype);
    const bytes = (bucket ? bucket.elements + g.size : g.size) * itemSize(g.dtype);
    if (!bucket || (bytes > limit && bucket.members.length > 0)) {
      bucket = { dtype: g.dtype, members: [], elements: 0 };
      buckets.push(bucket);
      open.set(g.dtype, bucket);
    }
    bucket.members.push(i);
    bucket.elements += g.size;
  });
  return buckets;
}

/**
 * Every rank's gradients reduced over the ranks (mean or sum), in the order given, as views
 * of the reduced buckets. All ranks call it with gradients of the same dtypes and shapes.
 */
export function reduceGradients(
  grads: readonly Tensor[],
  op: "mean" | "sum" = "mean",
  bucketBytes = 32 << 20,
  reuse?: TypedArray[],
): Tensor[] {
  const { size } = init();
  if (size === 1 || grads.length === 0) return [...grads];
  const buckets = planBuckets(grads, bucketBytes);
  const packed = buckets.map((b, k) => {
    const kept = reuse?.[k];
    if (kept && kept.length === b.elements && dtypeOfArray(kept) === b.dtype) return kept;
    return cpuBackend.allocateOutput(b.dtype, b.elements, "reduceGradients");
  });
  // With "mean" the buckets are read only by the division below, so the caller may hand
  // them back next time: the same pages, already mapped, instead of fresh ones each step.
  if (reuse && op === "mean") reuse.splice(0, reuse.length, ...packed);
  const tickets: number[] = [];
  buckets.forEach((bucket, k) => {
    let at = 0;
    for (const i of bucket.members) {
      const g = grads[i].cpu();
      // dataSync is a view for dense tensors and a dense copy of strided ones.
      (packed[k] as Float32Array).set(g.dataSync() as Float32Array, at);
      at += g.size;
    }
    const ticket = native.eager_mpi_allreduce_start(
      Reduce.SUM,
      dtypeCode(bucket.dtype),
      bucket.elements,
      packed[k],
    );
    if (ticket < 0) {
      for (const t of tickets) native.eager_mpi_wait(t);
      checkMpi(-ticket, "reduceGradients");
    }
    tickets.push(ticket);
  });
  const out: Tensor[] = new Array(grads.length);
  let failure: Error | undefined;
  buckets.forEach((bucket, k) => {
    const status = native.eager_mpi_wait(tickets[k]);
    try {
      checkMpi(status, "reduceGradients");
    } catch (error) {
      failure ??= error as Error;
      return;
    }
    let reduced = new Tensor(packed[k], bucket.dtype, [bucket.elements]);
    if (op === "mean") reduced = divide(reduced, size);
    let at = 0;
    for (const i of bucket.members) {
      const g = grads[i];
      out[i] = new Tensor(reduced.storage, g.dtype, g.shape, undefined, at).to(g.device);
      at += g.size;
    }
  });
  if (failure) throw failure;
  return out;
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
  /** The previous step's bucket buffers, reused when the layout repeats (see reduceGradients). */
  readonly #buckets: TypedArray[] = [];

  constructor(readonly optimizer: Optimizer, options: DistributedOptimizerOptions = {}) {
    const owner = "DistributedOptimizer";
    if (!optimizer || typeof optimizer.applyGradients !== "function") {
      throw new TypeError(`${owner}: expected an optimizer (tf.train.*Optimizer)`);
    }
    const bytes = options.bucketBytes ?? 32 << 20;
    if (!Number.isSafeInteger(bytes) || bytes < 1) {
      throw new RangeError(`${owner}: bucketBytes must be a positive integer, got ${bytes}`);
    }
    const op = options.op ?? "mean";
    if (op !== "mean" && op !== "sum") {
      throw new TypeError(`${owner}: op must be "mean" or "sum", got ${String(op)}`);
    }
    this.#op = op;
    this.#bucketBytes = bytes;
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
    pairs.forEach((pair, i) => {
      const [g, v] = pair;
      if (g === null || g === undefined || !(v instanceof Variable)) return;
      const grad = toTensor(what, g as TensorLike, v.dtype);
      present.push(grad.dtype === v.dtype ? grad : castTensor(grad, v.dtype));
      where.push(i);
    });
    const reduced = hostStep(what, present, (grads) => {
      if (init().size > 1) agreeOnLayout(what, pairs.map(([g]) => g === null), grads);
      return withoutRecording(() =>
        reduceGradients(grads, this.#op, this.#bucketBytes, this.#buckets)
      );
    }, { retainsInputs: false });
    const averaged = pairs.map(([, v]) => [null, v] as [Tensor | null, Variable]);
    where.forEach((i, k) => averaged[i][0] = reduced[k]);
    this.optimizer.applyGradients(averaged, options);
  }

  /** Computes this rank's gradients of `lossFn()`, averages and applies them; returns the loss. */
  minimize(lossFn: () => Tensor | Variable, options: MinimizeOptions = {}): Tensor {
    let loss: Tensor | undefined;
    const pairs = this.optimizer.computeGradients(() => {
      const out = lossFn();
      loss = out instanceof Variable ? out.read() : out;
      return out;
    }, options);
    this.applyGradients(pairs, { globalStep: options.globalStep });
    return loss!;
  }
}

/**
 * Sets every variable to its value on rank `root` (Horovod's broadcast_variables): call it
 * once the variables exist, before training, and after restoring a checkpoint on one rank.
 * Include the optimizer's variables (`opt.variables()`) once its slots exist.
 */
export function broadcastVariables(variables: readonly Variable[], root = 0): void {
  const what = "broadcastVariables";
  if (!Array.isArray(variables) || !variables.every((v) => v instanceof Variable)) {
    throw new TypeError(`${what}: expected an array of Variables`);
  }
  init();
  withoutRecording(() => {
    for (const v of variables) v.assign(broadcast(v.peek(), root));
  });
}
