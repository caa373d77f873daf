/**
 * tf.distribute.allReduce (float32 sums, a new result tensor each call), timed as
 * bench/peers/mpi_allreduce.c times MPI_Allreduce from C: for each size in Deno.args,
 * warm-up calls, then 7 batches of `reps` calls, each batch after a barrier. Rank 0 prints
 * "<bytes> <median seconds, checked> <median seconds, { check: false }> <median seconds,
 * checked, each result disposed> <median seconds, allReduceVariables of one variable,
 * { check: false }>". A disposed result's memory goes to the next result from 16 KiB up; the
 * variable is reduced in its own memory from its second call on (C reuses its buffers too).
 * @module
 */
import * as tf from "../../mod.ts";

const { rank } = tf.distribute.init();

function median(xs: number[]): number {
  return [...xs].sort((a, b) => a - b)[xs.length >> 1];
}

function time(call: () => unknown, reps: number): number {
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
  const unchecked = { check: false };
  const v = new tf.Variable(x); // its sums overflow to Infinity: as fast as finite ones
  const seconds = [
    time(() => tf.distribute.allReduce(x, "sum"), reps),
    time(() => tf.distribute.allReduce(x, "sum", unchecked), reps),
    time(() => tf.distribute.allReduce(x, "sum").dispose(), reps),
    time(() => tf.distribute.allReduceVariables([v], "sum", unchecked), reps),
  ];
  if (rank === 0) console.log(`${bytes} ${seconds.map((s) => s.toFixed(9)).join(" ")}`);
}
