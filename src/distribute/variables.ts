/**
 * Collectives on Variables: broadcastVariables (every rank starts from the root's values) and
 * allReduceVariables (each variable becomes its reduction over the ranks, in place where it
 * can be: PyTorch's all_reduce changes its tensor in place too).
 *
 * Decisions:
 * - allReduceVariables hands MPI the variable's own memory as send and receive buffer
 *   (MPI_IN_PLACE) when the variable owns it: its value came from an update (an optimizer's,
 *   or an earlier allReduceVariables) and nothing has read it since (Variable.ownsValue), so
 *   no tensor can see the change. Otherwise the result goes into a new buffer that the
 *   variable then owns, so a loop of calls reduces in place from its second call on, with no
 *   allocation and no copy, as C calling MPI_Allreduce on one buffer does.
 * - "mean" sums in place and then divides into a new buffer; from 16 KiB up the previous value
 *   goes back to the pool, so the variable alternates between two warm buffers.
 * - One agreement check covers the whole list (count, dtypes, shapes, op), as
 *   DistributedOptimizer's does for a step's gradients; `{ check: false }` skips it. Where the
 *   values, all of one dtype, fit in RIDING_MAX_BYTES, they travel in the check's own messages,
 *   as a small checked allReduce's do (one round trip instead of two), reduced into a scratch
 *   buffer that reaches the variables only once the ranks agree: a failed check changes none.
 * - If MPI fails during an in-place reduction the variable may hold partly reduced values;
 *   the job cannot go on after such a failure anyway (the other ranks see it too).
 * - In a traced tf.function each variable is assigned its allReduce (a host step), so each
 *   call of the graph communicates anew.
 * @module
 */
import { arrayType, dtypeCode, itemSize, type TypedArray } from "../dtype.ts";
import { Tensor } from "../tensor.ts";
import { Variable } from "../variable.ts";
import { divide } from "../ops/math.ts";
import { withoutRecording } from "../tape.ts";
import { activeTrace } from "../graph/hooks.ts";
import { mpi } from "../backend/cpu/mpi.ts";
import { cpuBackend } from "../backend/cpu/backend.ts";
import { checkMpi, init } from "./mpi.ts";
import {
  agreeOnLayout,
  allReduce,
  broadcast,
  checkOp,
  type CollectiveOptions,
  reduceCode,
  type ReduceOp,
  RIDING_MAX_BYTES,
} from "./collectives.ts";

function checkVariables(what: string, variables: unknown): asserts variables is Variable[] {
  let ok = Array.isArray(variables);
  for (let i = 0; ok && i < (variables as unknown[]).length; i++) {
    ok = (variables as unknown[])[i] instanceof Variable;
  }
  if (!ok) throw new TypeError(`${what}: expected an array of Variables`);
}

/**
 * Sets every variable to its value on rank `root` (Horovod's broadcast_variables): call it
 * once the variables exist, before training, and after restoring a checkpoint on one rank.
 * Include the optimizer's variables (`opt.variables()`) once its slots exist.
 */
export function broadcastVariables(variables: readonly Variable[], root = 0): void {
  checkVariables("broadcastVariables", variables);
  init();
  withoutRecording(() => {
    for (const v of variables) v.assign(broadcast(v.peek(), root));
  });
}

/**
 * Sets every variable to the `op` ("mean" by default, "sum", "max", "min", "prod") of its
 * value over the ranks, on every rank: model averaging, statistics kept in variables. Every
 * rank passes variables of the same dtypes and shapes in the same order. A variable that
 * owns its memory is reduced in it, with no copy (see the module's notes).
 * @example
 * ```ts
 * import * as tf from "../../mod.ts";
 * const v = new tf.Variable([1, 2]);
 * tf.distribute.allReduceVariables([v], "sum"); // [2, 4] on each of 2 ranks
 * ```
 */
export function allReduceVariables(
  variables: readonly Variable[],
  op: ReduceOp = "mean",
  options: CollectiveOptions = {},
): void {
  const what = "allReduceVariables";
  checkVariables(what, variables);
  for (let i = 0; i < variables.length; i++) {
    const v = variables[i];
    try {
      checkOp(what, op, v.dtype);
    } catch (error) {
      throw new TypeError(`${(error as Error).message} (variable ${v.name})`);
    }
  }
  const { size } = init();
  if (size === 1) return;
  if (activeTrace() !== null || !allOnCpu(variables)) {
    withoutRecording(() => {
      for (const v of variables) v.assign(allReduce(v.peek(), op, options));
    });
    return;
  }
  if (options.check !== false) {
    const rode = op === "mean"
      ? withoutRecording(() => reduceRiding(what, variables, op, size))
      : reduceRiding(what, variables, op, size);
    if (rode) return;
    const values = variables.map((v) => v.updateInput());
    agreeOnLayout(what, values.map(() => false), values, "variables", op);
  }
  // Only "mean" runs an op (its division), which no tape may record.
  if (op === "mean") withoutRecording(() => reduceAll(variables, op, size));
  else reduceAll(variables, op, size);
}

function allOnCpu(variables: readonly Variable[]): boolean {
  for (let i = 0; i < variables.length; i++) {
    if (variables[i].updateInput().backend !== cpuBackend) return false;
  }
  return true;
}

/**
 * Each variable reduced in turn, with no closure or other allocation on the way: at 4 KiB a
 * call's JS adds to an MPI call of about 2 us, and each closure of the old path (the list's
 * checks, withoutRecording's) cost about 0.1 us there (2 ranks, calls interleaved in batches).
 */
function reduceAll(variables: readonly Variable[], op: ReduceOp, size: number): void {
  for (let i = 0; i < variables.length; i++) reduceVariable(variables[i], op, size);
}

/** v's value reduced over the ranks into memory v then owns: its own when it already does. */
function reduceVariable(v: Variable, op: ReduceOp, size: number): void {
  const value = v.updateInput();
  const values = value.dataSync(); // the storage itself, or a dense copy of a strided value
  const inPlace = v.ownsValue() && value.contiguous;
  const into = inPlace ? values : cpuBackend.allocateOutput(value.dtype, value.size, v.name);
  const status = mpi.allreduce(reduceCode(op), dtypeCode(value.dtype), value.size, values, into);
  if (status !== 0) checkMpi(status, `allReduceVariables (${v.name})`);
  settle(v, value, inPlace, into, op, size);
}

/** The scratch buffers of reduceRiding: the values of several variables packed, the sums. */
const ridingSend = new ArrayBuffer(RIDING_MAX_BYTES),
  ridingRecv = new ArrayBuffer(RIDING_MAX_BYTES);

/**
 * The checked call when the variables' values, all of one dtype, fit in RIDING_MAX_BYTES: the
 * sums travel with the agreement's messages into a scratch buffer and are copied into the
 * variables once the ranks agree (agreeOnLayout throws before that otherwise). Returns false,
 * having done nothing, when the values do not fit.
 */
function reduceRiding(what: string, variables: readonly Variable[], op: ReduceOp, size: number) {
  if (variables.length === 0) return false;
  const dtype = variables[0].dtype;
  let count = 0;
  for (let i = 0; i < variables.length; i++) {
    if (variables[i].dtype !== dtype) return false;
    count += variables[i].size;
  }
  if (count * itemSize(dtype) > RIDING_MAX_BYTES) return false;
  const Values = arrayType(dtype);
  const values = variables.map((v) => v.updateInput());
  let send: TypedArray;
  if (values.length === 1) send = values[0].dataSync();
  else {
    send = new Values(ridingSend, 0, count);
    for (let i = 0, at = 0; i < values.length; at += values[i++].size) {
      (send as Float32Array).set(values[i].dataSync() as Float32Array, at);
    }
  }
  const recv = new Values(ridingRecv, 0, count);
  const riding = { reduce: reduceCode(op), dtype, count, send, recv };
  agreeOnLayout(what, values.map(() => false), values, "variables", op, riding);
  for (let i = 0, at = 0; i < variables.length; at += values[i++].size) {
    // Read anew: a variable listed twice has a new value after its first turn.
    const v = variables[i], value = v.updateInput();
    const inPlace = v.ownsValue() && value.contiguous;
    const into = inPlace ? value.dataSync() : cpuBackend.allocateOutput(dtype, value.size, v.name);
    (into as Float32Array).set((recv as Float32Array).subarray(at, at + value.size));
    settle(v, value, inPlace, into, op, size);
  }
  return true;
}

/**
 * Makes `into`, v's value `value` summed (or reduced by `op`) over the ranks, v's value: in
 * place, or as a new buffer v then owns; "mean" divides by the ranks into a new one.
 */
function settle(
  v: Variable,
  value: Tensor,
  inPlace: boolean,
  into: TypedArray,
  op: ReduceOp,
  size: number,
): void {
  if (op !== "mean") {
    if (!inPlace) v.replaceOwned(new Tensor(into, value.dtype, value.shape));
    return;
  }
  const summed = inPlace ? value : new Tensor(into, value.dtype, value.shape);
  v.replaceOwned(divide(summed, size));
  if (!inPlace) summed.dispose();
}
