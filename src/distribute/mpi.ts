/**
 * The MPI job this process is one rank of. libeager's eager_mpi_ functions (csrc/mpi.c)
 * load libmpi at run time, so a process that never calls into tf.distribute never loads
 * MPI, and a machine without MPI only fails here, with a message saying what to install.
 *
 * Decisions:
 * - MPI starts at the first call that needs it (`init()` starts it explicitly), from the
 *   environment mpirun set. A process started without mpirun is a job of one rank.
 * - In a job of several ranks only rank 0 writes checkpoints and summaries (./role.ts):
 *   Saver.save on another rank returns the path rank 0 writes without writing, and its
 *   summary writers record nothing. Join the job (init) before making writers.
 * - MPI is finalised when the process exits normally (Deno's `unload` event), as Open MPI
 *   requires; a process that dies of an uncaught error exits non-zero, and mpirun then ends
 *   the other ranks instead of leaving them waiting.
 * @module
 */
import { mpi } from "../backend/cpu/mpi.ts";
import { MpiFlavor } from "../native/codes.ts";
import { setWritesSharedFiles } from "./role.ts";

/** The job as this rank sees it. */
export interface World {
  /** This process's rank, 0 to size - 1. */
  readonly rank: number;
  /** The number of ranks in the job. */
  readonly size: number;
  /** This rank's index among the ranks on its machine (Open MPI's and MPICH's variable). */
  readonly localRank: number;
  /** The ranks on this machine. */
  readonly localSize: number;
  /** The MPI library, as it names itself, and the file it came from. */
  readonly library: string;
  /** The thread support MPI granted: 0 = MPI_THREAD_SINGLE, 2 = SERIALIZED (asked for when a
   * CPU is left over for the communication thread, or under EAGER_MPI_THREADS=1), 3 = MULTIPLE
   * (docs/distribute.md). */
  readonly threadLevel: number;
}

let world: World | undefined;

/** What the last failed eager_mpi_ call said, on this thread. */
export function mpiError(): string {
  return mpi.error();
}

/** Throws an Error naming `op` with MPI's message when a call returned a non-zero status. */
export function checkMpi(status: number, op: string): void {
  if (status === 0) return;
  const what = status === 7 ? mpiError() : `status ${status}`;
  throw new Error(`${op}: ${what}`);
}

function envInt(names: readonly string[], fallback: number): number {
  for (const name of names) {
    const value = Deno.env.get(name);
    if (value !== undefined && /^\d+$/.test(value)) return Number(value);
  }
  return fallback;
}

/**
 * Joins the MPI job (once; later calls return the same World). Throws when libmpi cannot be
 * loaded or MPI fails to start.
 * @example
 * ```ts
 * import * as tf from "../../mod.ts";
 * const { rank, size } = tf.distribute.init(); // 0 and 1 without mpirun
 * ```
 */
export function init(): World {
  if (world) return world;
  const info = new Int32Array(4);
  checkMpi(mpi.init(info), "tf.distribute.init");
  const [rank, size, flavor, threadLevel] = info;
  const local = flavor === MpiFlavor.OPEN_MPI
    ? ["OMPI_COMM_WORLD_LOCAL_RANK", "OMPI_COMM_WORLD_LOCAL_SIZE"]
    : ["MPI_LOCALRANKID", "MPI_LOCALNRANKS"];
  world = {
    rank,
    size,
    localRank: envInt([local[0]], rank),
    localSize: envInt([local[1]], size),
    library: mpi.library(),
    threadLevel,
  };
  setWritesSharedFiles(rank === 0);
  globalThis.addEventListener("unload", () => mpi.finalize());
  return world;
}

/** This process's rank in the job (0 without mpirun). */
export function rank(): number {
  return init().rank;
}

/** The number of ranks in the job (1 without mpirun). */
export function size(): number {
  return init().size;
}

/** This rank's index among the ranks on its machine. */
export function localRank(): number {
  return init().localRank;
}

/** Whether this is rank 0, the rank that writes checkpoints and summaries. */
export function isChief(): boolean {
  return init().rank === 0;
}

/**
 * Ends every rank of the job now with exit code `code` (MPI_Abort): for a rank that found
 * it cannot go on, so that the others do not wait for it forever.
 */
export function abort(code = 1): never {
  init();
  mpi.abort(code);
  Deno.exit(code); // MPI_Abort returned: end this rank at least
}

/** Finalises MPI now (it also happens at exit); no collective may follow. */
export function finalize(): void {
  if (!world) return;
  checkMpi(mpi.finalize(), "tf.distribute.finalize");
}
