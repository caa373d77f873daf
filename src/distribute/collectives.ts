/**
 * Collectives over the ranks of the MPI job: allReduce, broadcast, allGather, barrier.
 *
 * Decisions:
 * - No copy where MPI can take the tensor's memory: a dense CPU tensor is handed to MPI as
 *   the send buffer and the result is received straight into the new tensor's storage (but
 *   allReduce results of at most 16 KiB, see SCRATCH_BYTES, and checked ones of at most 32
 *   KiB, whose data travels in the agreement's messages, see RIDING_MAX_BYTES). A strided view
 *   is made dense first; a tensor on a device read synchronously goes through the CPU and the
 *   result goes back to that device; one read asynchronously (WebGPU) is refused (a GPU
 *   library would use NCCL instead; docs/distribute.md).
 * - Before each collective the ranks exchange what they are about to do (op, dtype, shape,
 *   root), so ranks that disagree get an Error naming every rank's call instead of a hang or
 *   garbage. The exchange is one round of point-to-point messages (csrc/mpi_exchange.c), and
 *   an allReduce of at most 32 KiB sends its data in the same messages, so checking costs it
 *   no extra round trip (see RIDING_MAX_BYTES). `{ check: false }` skips the exchange for hot
 *   loops whose agreement is already known (DistributedOptimizer checks once per step, or once
 *   per plan).
 * - With one rank, nothing is sent: allReduce and broadcast return their input.
 * - Collectives are differentiated as Horovod's are: allReduce (sum, mean) reduces the upstream
 *   gradients the same way; broadcast gives the root the sum of every rank's upstream gradient
 *   and the others zero; allGather gives each rank its rows of the summed upstream gradient.
 *   Every rank must run the backward pass (the gradient is itself a collective); max, min and
 *   prod have no gradient. In tf.function graphs collectives are host steps, so each call of
 *   a graph communicates anew.
 * @module
 */
import { arrayType, type DType, dtypeCode, DTYPES, isFloat, type TypedArray } from "../dtype.ts";
import { MAX_RANK, showShape, sizeOf } from "../shape.ts";
import { Tensor, type TensorLike } from "../tensor.ts";
import { toTensor } from "../ops/convert.ts";
import { divide } from "../ops/math.ts";
import { identity, reshape, slice } from "../ops/views.ts";
import { zerosLike } from "../ops/creation.ts";
import { active, record1, withoutRecording } from "../tape.ts";
import { activeTrace, hostStep1 } from "../graph/hooks.ts";
import { mpi } from "../backend/cpu/mpi.ts";
import { Reduce } from "../native/codes.ts";
import { cpuBackend } from "../backend/cpu/backend.ts";
import { checkMpi, init } from "./mpi.ts";

/** How allReduce combines the ranks' tensors. */
export type ReduceOp = "sum" | "mean" | "max" | "min" | "prod";

/** Options of every collective. */
export interface CollectiveOptions {
  /**
   * Whether the ranks first confirm that they make the same call on tensors of the same
   * dtype and shape (default true). Without the check, a disagreement is undefined
   * behaviour of MPI: a hang, an MPI error or wrong values.
   */
  check?: boolean;
}

const OP_CODES: Record<ReduceOp, number> = {
  sum: Reduce.SUM,
  mean: Reduce.SUM,
  max: Reduce.MAX,
  min: Reduce.MIN,
  prod: Reduce.PROD,
};
const OP_NAMES = Object.keys(OP_CODES);
const KINDS = ["allReduce", "broadcast", "allGather", "barrier", "gradients", "variables"] as const;
type Kind = (typeof KINDS)[number];
const DIMS = MAX_RANK;
const SIGNATURE = 4 + DIMS; // kind, dtype, argument (op or root), rank, dims

/** A call as the ranks compare it. */
interface Call {
  kind: Kind;
  dtype?: DType;
  shape?: readonly number[];
  argument: number;
  /** Whether the first dim may differ between ranks (allGather). */
  anyFirstDim?: boolean;
}

/** Writes call's signature into `into` from `at` on. */
function encode(call: Call, into: Float64Array, at: number): void {
  const shape = call.shape ?? [];
  into[at] = KINDS.indexOf(call.kind);
  into[at + 1] = call.dtype ? dtypeCode(call.dtype) : -1;
  into[at + 2] = call.argument;
  into[at + 3] = call.shape ? shape.length : -1;
  for (let i = 0; i < DIMS; i++) into[at + 4 + i] = i < shape.length ? shape[i] : 0;
}

function describeCall(signature: Float64Array): string {
  const kind = KINDS[signature[0]];
  if (kind === undefined) return "a call this rank could not read";
  if (kind === "barrier") return "barrier()";
  if (kind === "gradients" || kind === "variables") {
    return `${kind}(${signature[4]} tensors, ${signature[5]} elements, layout #${signature[2]})`;
  }
  const shape = Array.from(signature.subarray(4, 4 + signature[3]));
  const argument = kind === "allReduce"
    ? `"${OP_NAMES[signature[2]]}"`
    : kind === "broadcast"
    ? `root ${signature[2]}`
    : "";
  return `${kind}(${DTYPES[signature[1]]} ${showShape(shape)}${argument ? `, ${argument}` : ""})`;
}

/** agree's buffers, made once for the job's size: the exchange runs before every collective.
 * With fresh buffers, subarrays and closures each call, a 4 KiB allReduce took 7.2-8.6 us
 * against 6.2-6.3 (2 ranks, 100,000 calls, 3 alternating runs; 4.9-5.0 us unchecked). */
let exchange: { all: Float64Array; spoiled: Int32Array } | undefined;

function exchangeBuffers(size: number) {
  if (exchange?.all.length !== SIGNATURE * size) {
    exchange = { all: new Float64Array(SIGNATURE * size), spoiled: new Int32Array(1) };
  }
  return exchange;
}

/** A small allReduce that travels with the signatures (agree's `riding`). */
export interface Riding {
  reduce: number;
  dtype: DType;
  count: number;
  send: TypedArray;
  recv: TypedArray;
}

/**
 * Every rank's signature of this call (size x SIGNATURE numbers, valid until the next
 * collective), exchanged in one round of point-to-point messages (csrc/mpi_exchange.c), with
 * `riding`'s data reduced on the way; throws, on every rank alike, when they disagree.
 */
function agree(op: string, call: Call, size: number, riding?: Riding): Float64Array {
  const { all, spoiled } = exchangeBuffers(size);
  const { rank } = init();
  all.fill(NaN); // a signature that never arrives disagrees with every other
  encode(call, all, rank * SIGNATURE);
  const dtype = riding ? dtypeCode(riding.dtype) : 0, count = riding?.count ?? 0;
  const send = riding?.send ?? null, recv = riding?.recv ?? null;
  checkMpi(
    mpi.exchange(SIGNATURE * 8, all, riding?.reduce ?? 0, dtype, count, send, recv, spoiled),
    op,
  );
  const anyFirstDim = call.anyFirstDim === true;
  for (let at = SIGNATURE; at < all.length; at++) {
    const i = at % SIGNATURE;
    if (all[at] === all[i] || (anyFirstDim && i === 4)) continue;
    const calls = Array.from(
      { length: size },
      (_, k) => `rank ${k}: ${describeCall(all.subarray(k * SIGNATURE, (k + 1) * SIGNATURE))}`,
    );
    const what = anyFirstDim ? "dtype, rank or dims after the first" : "dtype or shape";
    throw new Error(`${op}: the ranks disagree on the call, its ${what} (${calls.join("; ")})`);
  }
  if (spoiled[0] !== 0) {
    throw new Error(
      `${op}: the ranks' messages for this call differ in length, though their ` +
        "calls look alike (a rank of another version of this library?)",
    );
  }
  return all;
}

/** One step of FNV-1a (32 bits) over the number `n`, taken as a 32-bit integer. */
function mix(hash: number, n: number): number {
  return Math.imul(hash ^ n, 0x01000193);
}

/**
 * Checks that every rank holds tensors of the same count, dtypes and shapes, with nulls in
 * the same places, and passes the same `detail` (DistributedOptimizer's gradients, once per
 * step; allReduceVariables' values and op); throws on every rank otherwise. The layout goes
 * into the exchange as a 32-bit fingerprint (FNV-1a over numbers, not text: this runs before
 * every allReduceVariables). `riding`, if given, is reduced on the way (agree's).
 */
export function agreeOnLayout(
  op: string,
  nulls: readonly boolean[],
  tensors: readonly Tensor[],
  kind: "gradients" | "variables" = "gradients",
  detail = "",
  riding?: Riding,
) {
  let hash = 0x811c9dc5, elements = 0;
  for (const n of nulls) hash = mix(hash, n ? 1 : 0);
  for (const t of tensors) {
    hash = mix(mix(hash, dtypeCode(t.dtype)), t.rank);
    for (const d of t.shape) hash = mix(hash, d);
    elements += t.size;
  }
  for (let i = 0; i < detail.length; i++) hash = mix(hash, detail.charCodeAt(i));
  const { size } = init();
  agree(op, { kind, shape: [tensors.length, elements], argument: hash >>> 0 }, size, riding);
}

/**
 * x's values, dense and row-major, in CPU memory MPI may read: for a dense CPU tensor a view
 * of its storage (no copy), else a copy (dataSync makes strided views dense). A tensor on a
 * device read asynchronously (WebGPU) is refused: MPI cannot wait for it.
 */
export function hostValues(x: Tensor, op: string): TypedArray {
  if (!x.backend.readsSynchronously) {
    throw new Error(
      `${op}: the tensor is on ${x.device}, which is read asynchronously, so a collective ` +
        "cannot reach it: move it with `await t.cpuAsync()` first (docs/distribute.md)",
    );
  }
  return (x.backend === cpuBackend ? x : x.cpu()).dataSync();
}

/** A result made on the CPU, on `like`'s device. */
function placedLike(result: Tensor, like: Tensor): Tensor {
  return like.backend === cpuBackend ? result : result.to(like.device);
}

/**
 * Small results are received into this one buffer and copied out: MPI writing straight into
 * a fresh small output (a new page of a slab, src/backend/cpu/storage.ts) took 7.0-7.3 us
 * per 4 KiB call here, receiving here and copying 4.2-4.3 us (the same buffer every call
 * 3.6-3.8 us); from 64 KiB the copy costs more than it saves.
 */
const SCRATCH_BYTES = 16 << 10;
/**
 * A checked allReduce of at most this many bytes sends its data with the ranks' signatures
 * (agree's `riding`): one round trip instead of two. 2 ranks over shared memory, ratio C's
 * MPI_Allreduce / ours: 8-16 KiB 1.09-1.17x riding, 0.59-0.69x after the exchange; 32 KiB
 * 0.70-0.74x against 0.45-0.62x; 64 KiB even; 256 KiB 0.53x against 0.79x.
 */
export const RIDING_MAX_BYTES = 32 << 10;
const scratch = new ArrayBuffer(SCRATCH_BYTES);

/** A new CPU tensor's storage for `shape`, which MPI fills whole. */
function receiveBuffer(dtype: DType, shape: readonly number[], op: string) {
  return cpuBackend.allocateOutput(dtype, sizeOf(shape), op);
}

/** `reduce` as a ReduceOp valid for `dtype`; a TypeError naming `op` otherwise. */
export function checkOp(op: string, reduce: unknown, dtype: DType): ReduceOp {
  if (typeof reduce !== "string" || !(reduce in OP_CODES)) {
    throw new TypeError(
      `${op}: op must be one of ${OP_NAMES.join(", ")}, got ${String(reduce)}`,
    );
  }
  const r = reduce as ReduceOp;
  if (r === "mean" && !isFloat(dtype)) {
    throw new TypeError(`${op}: "mean" needs a float tensor, got ${dtype}: use "sum"`);
  }
  if (dtype === "bool" && r !== "max" && r !== "min") {
    throw new TypeError(`${op}: a bool tensor reduces with "max" (any) or "min" (all), not "${r}"`);
  }
  return r;
}

/**
 * The elementwise `op` ("sum", "mean", "max", "min" or "prod") of `x` over every rank: each
 * rank gets the same result. Every rank calls it with a tensor of the same dtype and shape.
 * @example
 * ```ts
 * import * as tf from "../../mod.ts";
 * tf.distribute.allReduce(tf.constant([1, 2]), "sum"); // [2, 4] on each of 2 ranks
 * ```
 */
export function allReduce(
  x: TensorLike,
  op: ReduceOp = "sum",
  options: CollectiveOptions = {},
): Tensor {
  const t = toTensor(ALL_REDUCE, x);
  const reduce = checkOp(ALL_REDUCE, op, t.dtype);
  const { size } = init();
  const checked = options.check !== false;
  // NOTE: closures and arrays only where a trace or a tape needs them: a 4 KiB call is a few
  // microseconds, and in a job whose ranks wait on each other every allocation counts.
  const result = activeTrace() === null ? reduceOnRanks(t, reduce, size, checked) : hostStep1(
    `distribute.${ALL_REDUCE}`,
    [t],
    ([input]) => reduceOnRanks(input, reduce, size, checked),
    { retainsInputs: false },
  );
  // Horovod's gradient: the ranks' upstream gradients reduced the same way (sum or mean).
  if (active.length > 0 && result !== t && (reduce === "sum" || reduce === "mean")) {
    record1(ALL_REDUCE, [t], result, (dy) => [() => allReduce(dy, reduce, options)]);
  }
  return result;
}

const ALL_REDUCE = "allReduce";

/** allReduce's work: `input` reduced over the ranks into a new tensor (`input` for 1 rank). */
function reduceOnRanks(input: Tensor, reduce: ReduceOp, size: number, checked: boolean): Tensor {
  if (size === 1) return input;
  const values = hostValues(input, ALL_REDUCE);
  const out = receiveBuffer(input.dtype, input.shape, ALL_REDUCE);
  const code = OP_CODES[reduce];
  const call: Call | undefined = checked
    ? { kind: ALL_REDUCE, dtype: input.dtype, shape: input.shape, argument: argIndex(reduce) }
    : undefined;
  if (call && out.byteLength <= RIDING_MAX_BYTES) {
    // The result comes with the signatures, copied into `out` by libeager, not by MPI.
    const riding = { reduce: code, dtype: input.dtype, count: input.size, send: values, recv: out };
    agree(ALL_REDUCE, call, size, riding);
  } else {
    if (call) agree(ALL_REDUCE, call, size);
    const small = out.byteLength <= SCRATCH_BYTES;
    const into = small ? new (arrayType(input.dtype))(scratch, 0, input.size) : out;
    const status = mpi.allreduce(code, dtypeCode(input.dtype), input.size, values, into);
    checkMpi(status, ALL_REDUCE);
    if (small) (out as Float32Array).set(into as Float32Array);
  }
  const summed = new Tensor(out, input.dtype, input.shape);
  return placedLike(reduce === "mean" ? divide(summed, size) : summed, input);
}

/** The eager_reduce code MPI reduces `op` with ("mean" sums; the caller divides). */
export function reduceCode(op: ReduceOp): number {
  return OP_CODES[op];
}

function argIndex(op: ReduceOp): number {
  return OP_NAMES.indexOf(op);
}

/**
 * `x` as rank `root` has it, on every rank (Horovod's broadcast). Every rank passes a
 * tensor of the same dtype and shape; the others' values are ignored.
 */
export function broadcast(x: TensorLike, root = 0, options: CollectiveOptions = {}): Tensor {
  const name = "broadcast";
  const t = toTensor(name, x);
  const { size, rank } = init();
  if (!Number.isInteger(root) || root < 0 || root >= size) {
    throw new RangeError(`${name}: root must be a rank in [0, ${size}), got ${root}`);
  }
  const result = hostStep1(`distribute.${name}`, [t], ([input]) => {
    if (options.check !== false && size > 1) {
      agree(name, { kind: name, dtype: input.dtype, shape: input.shape, argument: root }, size);
    }
    if (size === 1) return input;
    const values = hostValues(input, name);
    // The root sends from its own tensor's memory (MPI only reads it there).
    const data = rank === root ? values : receiveBuffer(input.dtype, input.shape, name);
    checkMpi(mpi.broadcast(dtypeCode(input.dtype), input.size, data, root), name);
    // The root's result is a new tensor object over its input's storage, so a tape can tell
    // them apart.
    if (rank === root) return withoutRecording(() => identity(input));
    return placedLike(new Tensor(data, input.dtype, input.shape), input);
  }, { retainsInputs: false });
  // The root's gradient is every rank's upstream gradient summed; the others' is zero. Every
  // rank takes part in the sum.
  if (result !== t) {
    record1(name, [t], result, (dy) => [() => {
      const summed = allReduce(dy, "sum", options);
      return rank === root ? summed : zerosLike(summed);
    }]);
  }
  return result;
}

/**
 * Every rank's `x` concatenated along the first axis, in rank order. The ranks' tensors
 * agree in dtype and in every dim but the first (a scalar counts as shape [1]).
 * @example
 * ```ts
 * import * as tf from "../../mod.ts";
 * tf.distribute.allGather(tf.constant([[1, 2]])); // [[1, 2], [1, 2]] on 2 ranks
 * ```
 */
export function allGather(x: TensorLike): Tensor {
  const name = "allGather";
  const t = toTensor(name, x);
  const { size, rank } = init();
  let rows: number[] = [];
  const result = hostStep1(`distribute.${name}`, [t], ([input]) => {
    const shape = input.rank === 0 ? [1] : input.shape;
    if (size === 1) return input.rank === 0 ? input.reshape([1]) : input;
    // The first dims are needed to size the result, so the exchange always happens.
    const all = agree(name, {
      kind: name,
      dtype: input.dtype,
      shape,
      argument: 0,
      anyFirstDim: true,
    }, size);
    rows = Array.from({ length: size }, (_, r) => all[r * SIGNATURE + 4]);
    const inner = sizeOf(shape.slice(1));
    const outShape = [rows.reduce((a, b) => a + b, 0), ...shape.slice(1)];
    const values = hostValues(input, name);
    const out = receiveBuffer(input.dtype, outShape, name);
    const counts = BigInt64Array.from(rows, (n) => BigInt(n * inner));
    checkMpi(
      mpi.allgather(dtypeCode(input.dtype), counts, values, out),
      name,
    );
    return placedLike(new Tensor(out, input.dtype, outShape), input);
  }, { retainsInputs: false });
  // Each rank's gradient is its own rows of every rank's upstream gradient summed.
  if (size > 1) {
    record1(name, [t], result, (dy) => [() => {
      const start = rows.slice(0, rank).reduce((a, b) => a + b, 0);
      const mine = slice(allReduce(dy, "sum"), [start], [rows[rank]]);
      return reshape(mine, t.shape);
    }]);
  }
  return result;
}

/** Returns when every rank has called barrier(). */
export function barrier(): void {
  const { size } = init();
  if (size === 1) return;
  checkMpi(mpi.barrier(), "barrier");
}
