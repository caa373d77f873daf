/**
 * tf.distribute.allReduce (float32 sums, a new result tensor each call), timed as
 * bench/peers/mpi_allreduce.c times MPI_Allreduce from C: for each size in Deno.args,
 * warm-up calls, then 7 batches of `reps` calls, each batch after a barrier. Rank 0 prints
 * "<bytes> <median seconds, checked> <median seconds, { check: false }> <median seconds,
 * checked, each result disposed>": the last is a loop in tf.tidy, whose next result reuses
 * the memory of the one before (C reuses its receive buffer too).
 * @module
 */
import * as tf from "../../mod.ts";

const { rank } = tf.distribute.init();

function median(xs: number[]): number {
  return [...xs].sort((a, b) => a - b)[xs.length >> 1];
}

function time(
  x: tf.Tensor,
  reps: number,
  options: tf.distribute.CollectiveOptions,
  dispose = false,
): number {
  const call = dispose
    ? () => tf.distribute.allReduce(x, "sum", options).dispose()
    : () => tf.distribute.allReduce(x, "sum", options);
  for (let r = 0; r < reps / 4 + 1; r++) call();
  const times: number[] = [];
  for (let b = 0; b < 7; b++) {
    tf.distribute.barrier();
    const start = performance.now();
    for (let r = 0; r < reps; r++) call();
    times.push((performance.now() - start) / 1000 / reps);
  }
  return median(times);
}

for (const arg of Deno.args) {
  const bytes = Number(arg);
  const count = bytes / 4;
  const values = new Float32Array(count);
  for (let k = 0; k < count; k++) values[k] = (k % 100) + rank;
  const x = tf.constant(values, "float32", { shape: [count] });
  const reps = Math.min(2000, Math.max(3, Math.floor((256 << 20) / bytes)));
  const checked = time(x, reps, {});
  const unchecked = time(x, reps, { check: false });
  const disposed = time(x, reps, {}, true);
  if (rank === 0) {
    console.log(`${bytes} ${[checked, unchecked, disposed].map((s) => s.toFixed(9)).join(" ")}`);
  }
}
