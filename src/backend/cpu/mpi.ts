/**
 * libeager's MPI entry points (csrc/mpi.c) for src/distribute/, which reaches native code only
 * through this module (the CPU backend owns src/native/). Buffers are CPU storage: typed
 * arrays MPI reads or writes for the duration of the call (or, for a started reduction, until
 * its wait returns).
 * @module
 */
import type { TypedArray } from "../../dtype.ts";
import { native } from "../../native/lib.ts";

/** A C string libeager returned, or `fallback` for NULL. */
function text(pointer: Deno.PointerValue, fallback: string): string {
  return pointer ? new Deno.UnsafePointerView(pointer).getCString() : fallback;
}

/** Raw calls; each returns an eager_status (EAGER_ERR_MPI: see error()). */
export const mpi = {
  init: (info: Int32Array): number => native.eager_mpi_init(info),
  error: (): string => text(native.eager_mpi_error(), "unknown MPI failure"),
  library: (): string => text(native.eager_mpi_library(), "MPI"),
  allreduce: (op: number, dtype: number, count: number, send: TypedArray, recv: TypedArray) =>
    native.eager_mpi_allreduce(op, dtype, count, send, recv),
  /** A ticket (>= 0), or minus a status. */
  allreduceStart: (op: number, dtype: number, count: number, data: TypedArray): number =>
    native.eager_mpi_allreduce_start(op, dtype, count, data),
  wait: (ticket: number): number => native.eager_mpi_wait(ticket),
  broadcast: (dtype: number, count: number, data: TypedArray, root: number): number =>
    native.eager_mpi_broadcast(dtype, count, data, root),
  allgather: (dtype: number, counts: BigInt64Array, send: TypedArray, recv: TypedArray): number =>
    native.eager_mpi_allgather(dtype, counts, send, recv),
  /** Gathers every rank's `entryBytes` signature into `table` (this rank's already at its
   * place); with `count` > 0 reduces send into recv on the way. `spoiled[0]` becomes 1 on every
   * rank where the ranks' calls differed in length (csrc/mpi_exchange.c). */
  exchange: (
    entryBytes: number,
    table: Float64Array,
    op: number,
    dtype: number,
    count: number,
    send: TypedArray | null,
    recv: TypedArray | null,
    spoiled: Int32Array,
  ): number => native.eager_mpi_exchange(entryBytes, table, op, dtype, count, send, recv, spoiled),
  barrier: (): number => native.eager_mpi_barrier(),
  abort: (code: number): number => native.eager_mpi_abort(code),
  finalize: (): number => native.eager_mpi_finalize(),
};
