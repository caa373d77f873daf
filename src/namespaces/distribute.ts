/**
 * tf.distribute: data-parallel training over MPI (docs/distribute.md).
 * @module
 */
export { abort, finalize, init, isChief, localRank, rank, size } from "../distribute/mpi.ts";
export type { World } from "../distribute/mpi.ts";
export { allGather, allReduce, barrier, broadcast } from "../distribute/collectives.ts";
export type { CollectiveOptions, ReduceOp } from "../distribute/collectives.ts";
export { DistributedOptimizer, reduceGradients } from "../distribute/optimizer.ts";
export { allReduceVariables, broadcastVariables } from "../distribute/variables.ts";
export type { DistributedOptimizerOptions } from "../distribute/optimizer.ts";
