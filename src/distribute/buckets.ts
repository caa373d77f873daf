/**
 * Gradient fusion for DistributedOptimizer: gradients packed into buckets, each bucket
 * reduced over the ranks by one MPI call, on libeager's communication thread where MPI has one
 * (./mpi.ts, threadLevel).
 *
 * Decisions:
 * - A bucket holds consecutive gradients of one dtype and closes once it holds at least
 *   `limit` bytes (DDP's rule), so a large gradient starts its reduction at once.
 * - A bucket's reduction starts as soon as its last member is packed
 *   (eager_mpi_allreduce_start), and the ranks start buckets in the same order because they
 *   pack the same members in the same order; they are waited for in that order.
 * - Packing is a copy into the bucket; unpacking is free: each reduced gradient is a view of
 *   its (divided, for "mean") bucket.
 * @module
 */
import { type DType, dtypeCode, dtypeOfArray, itemSize, type TypedArray } from "../dtype.ts";
import { Tensor } from "../tensor.ts";
import { divide } from "../ops/math.ts";
import { mpi } from "../backend/cpu/mpi.ts";
import { Reduce } from "../native/codes.ts";
import { cpuBackend } from "../backend/cpu/backend.ts";
import { checkMpi, init } from "./mpi.ts";
import { hostValues } from "./collectives.ts";

/** Gradients of one dtype packed into one buffer that MPI reduces in place. */
export interface Bucket {
  dtype: DType;
  /** Positions of its members in the step's list of (non-null) gradients. */
  members: number[];
  elements: number;
}

/** What a bucket needs to know of each gradient before it arrives. */
export interface GradientLayout {
  readonly dtype: DType;
  readonly shape: readonly number[];
  readonly size: number;
}

/** Splits gradients into buckets: consecutive ones of one dtype, closed at `limit` bytes. */
export function planBuckets(grads: readonly GradientLayout[], limit: number): Bucket[] {
  const buckets: Bucket[] = [];
  const open = new Map<DType, Bucket>();
  grads.forEach((g, i) => {
    let bucket = open.get(g.dtype);
    if (!bucket) {
      bucket = { dtype: g.dtype, members: [], elements: 0 };
      buckets.push(bucket);
      open.set(g.dtype, bucket);
    }
    bucket.members.push(i);
    bucket.elements += g.size;
    if (bucket.elements * itemSize(g.dtype) >= limit) open.delete(g.dtype);
  });
  return buckets;
}

/**
 * One step's reduction of the gradients `layout` describes, in `buckets`: `put` each
 * gradient (in any order; a bucket starts once all its members are in), then `finish`.
 * With `reuse`, buffers of a matching size are taken from it and, for "mean" (whose
 * division leaves them unreferenced), put back for the next step.
 */
export class BucketReduction {
  readonly #buckets: readonly Bucket[];
  readonly #layout: readonly GradientLayout[];
  readonly #op: "mean" | "sum";
  readonly #packed: TypedArray[];
  /** Per gradient: its bucket and its offset there. */
  readonly #place: [number, number][] = [];
  readonly #missing: number[];
  readonly #devices: string[] = [];
  /** Started reductions, in the order they started: [bucket, ticket]. */
  readonly #started: [number, number][] = [];

  constructor(
    buckets: readonly Bucket[],
    layout: readonly GradientLayout[],
    op: "mean" | "sum",
    reuse?: TypedArray[],
  ) {
    this.#buckets = buckets;
    this.#layout = layout;
    this.#op = op;
    this.#packed = buckets.map((b, k) => {
      const kept = reuse?.[k];
      if (kept && kept.length === b.elements && dtypeOfArray(kept) === b.dtype) return kept;
      return cpuBackend.allocateOutput(b.dtype, b.elements, "reduceGradients");
    });
    if (reuse && op === "mean") reuse.splice(0, reuse.length, ...this.#packed);
    buckets.forEach((b, k) => {
      let at = 0;
      for (const i of b.members) {
        this.#place[i] = [k, at];
        at += layout[i].size;
      }
    });
    this.#missing = buckets.map((b) => b.members.length);
  }

  /** Packs gradient i (of layout[i]'s dtype and shape); starts its bucket if now full. */
  put(i: number, g: Tensor): void {
    const [k, at] = this.#place[i];
    let values: TypedArray;
    try {
      values = hostValues(g, "reduceGradients");
    } catch (error) {
      this.abandon();
      throw error;
    }
    (this.#packed[k] as Float32Array).set(values as Float32Array, at);
    this.#devices[i] = g.device;
    if (--this.#missing[k] > 0) return;
    const bucket = this.#buckets[k];
    const ticket = mpi.allreduceStart(
      Reduce.SUM,
      dtypeCode(bucket.dtype),
      bucket.elements,
      this.#packed[k],
    );
    if (ticket < 0) {
      this.abandon();
      checkMpi(-ticket, "reduceGradients");
    }
    this.#started.push([k, ticket]);
  }

  /** Waits for every started reduction, ignoring failures (before an error is raised). */
  abandon(): void {
    for (const [, ticket] of this.#started.splice(0)) mpi.wait(ticket);
  }

  /** Waits for every bucket; the reduced gradients, by position, on their devices. */
  finish(): Tensor[] {
    if (this.#started.length !== this.#buckets.length) {
      this.abandon();
      throw new Error("reduceGradients: finish() before every gradient was put");
    }
    const { size } = init();
    let failure: Error | undefined;
    const out: Tensor[] = new Array(this.#layout.length);
    for (const [k, ticket] of this.#started.splice(0)) {
      try {
        checkMpi(mpi.wait(ticket), "reduceGradients");
      } catch (error) {
        failure ??= error as Error;
        continue;
      }
      const bucket = this.#buckets[k];
      let reduced = new Tensor(this.#packed[k], bucket.dtype, [bucket.elements]);
      if (this.#op === "mean") reduced = divide(reduced, size);
      for (const i of bucket.members) {
        const { dtype, shape } = this.#layout[i];
        const view = new Tensor(reduced.storage, dtype, shape, undefined, this.#place[i][1]);
        out[i] = view.to(this.#devices[i]);
      }
    }
    if (failure) throw failure;
    return out;
  }
}
