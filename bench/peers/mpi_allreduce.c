/*
 * The baseline of bench/distribute.ts: MPI_Allreduce (float32 sums) called directly from C,
 * timed the way bench/procs/allreduce_ours.ts times tf.distribute.allReduce. For each size:
 * warm-up calls, then 7 batches of `reps` calls, each batch after a barrier; rank 0 prints
 * "<bytes> <median seconds per call> <the same in place>": from a send buffer into a receive
 * buffer, then with MPI_IN_PLACE on one buffer (what allReduceVariables does; its sums grow
 * to infinity, as ours do).
 * Built by bench/distribute.ts with Open MPI's mpicc (libopenmpi-dev).
 */
#include <mpi.h>
#include <stdio.h>
#include <stdlib.h>

static int compare(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

int main(int argc, char **argv) {
  MPI_Init(&argc, &argv);
  int rank;
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  for (int i = 1; i < argc; i++) {
    long bytes = atol(argv[i]);
    int count = (int)(bytes / 4);
    float *send = malloc(bytes), *recv = malloc(bytes);
    for (int k = 0; k < count; k++) send[k] = (float)(k % 100) + (float)rank;
    int reps = (int)((256L << 20) / bytes);
    if (reps < 3) reps = 3;
    if (reps > 2000) reps = 2000;
    double seconds[2];
    for (int in_place = 0; in_place < 2; in_place++) {
      const void *from = in_place ? MPI_IN_PLACE : send;
      for (int r = 0; r < reps / 4 + 1; r++)
        MPI_Allreduce(from, recv, count, MPI_FLOAT, MPI_SUM, MPI_COMM_WORLD);
      double times[7];
      for (int b = 0; b < 7; b++) {
        MPI_Barrier(MPI_COMM_WORLD);
        double start = MPI_Wtime();
        for (int r = 0; r < reps; r++)
          MPI_Allreduce(from, recv, count, MPI_FLOAT, MPI_SUM, MPI_COMM_WORLD);
        times[b] = (MPI_Wtime() - start) / reps;
      }
      qsort(times, 7, sizeof times[0], compare);
      seconds[in_place] = times[3];
    }
    if (rank == 0) printf("%ld %.9f %.9f\n", bytes, seconds[0], seconds[1]);
    free(send);
    free(recv);
  }
  MPI_Finalize();
  return 0;
}
