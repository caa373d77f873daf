/*
 * The in-job baseline of bench/distribute.ts: MPI_Allreduce (float32 sums) called directly
 * from C, in a loop, inside the Deno ranks of bench/procs/allreduce_ours.ts, which loads this
 * library with Deno.dlopen once tf.distribute has started MPI. Batches of C calls and batches
 * of ours then alternate within one job, so both meet the same mode of this VM (its speed
 * switches 3-4x every few tens of seconds) and each pair of batches gives a ratio.
 * Built by bench/distribute.ts with Open MPI's mpicc (libopenmpi-dev) as a shared library.
 */
#include <mpi.h>

/*
 * Seconds per call of `reps` MPI_Allreduce sums of `count` floats on MPI_COMM_WORLD, after a
 * barrier, timed with MPI_Wtime: from `send` into `recv`, or in place on `recv` when `send` is
 * NULL (MPI_IN_PLACE). A negative result is a failed call's MPI error code.
 * The caller passes buffers that tf.distribute's allocator made, as ours use: where the buffers
 * lie moved C's own times more than anything else did (at 1 MiB from one buffer into another,
 * 150-670 us a call between jobs with buffers from V8, about 500 us from malloc(bytes + 1) and
 * 170-190 us page-aligned; at 64 KiB in place 19 us with V8's, 40 us page-aligned).
 */
double mpi_allreduce_loop(const float *send, float *recv, int count, int reps) {
  const void *from = send ? (const void *)send : MPI_IN_PLACE;
  int code = MPI_Barrier(MPI_COMM_WORLD);
  if (code) return -code;
  double start = MPI_Wtime();
  for (int r = 0; r < reps; r++) {
    code = MPI_Allreduce(from, recv, count, MPI_FLOAT, MPI_SUM, MPI_COMM_WORLD);
    if (code) return -code;
  }
  return (MPI_Wtime() - start) / reps;
}

/*
 * One MPI_Allreduce sum of `count` floats, in place on `recv` when `send` is NULL: called once
 * per FFI call from a JS loop, it times the floor under any library reached through Deno FFI
 * (the call's crossing and the loop, nothing of tf.distribute). Returns MPI's error code.
 */
int mpi_allreduce_once(const float *send, float *recv, int count) {
  const void *from = send ? (const void *)send : MPI_IN_PLACE;
  return MPI_Allreduce(from, recv, count, MPI_FLOAT, MPI_SUM, MPI_COMM_WORLD);
}
