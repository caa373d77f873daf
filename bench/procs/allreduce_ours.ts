/**
 * tf.distribute's float32 sums against MPI_Allreduce called from C in the same job:
 * `allreduce_ours.ts <C loop library> <bytes>...` (the library is
 * bench/peers/mpi_allreduce_loop.c, built by bench/distribute.ts), on buffers of the same
 * kind. For each size, after warm-up calls, BATCHES rounds each run one batch of `reps` calls
 * of every form below in turn, each batch after a barrier; C times its own batches with
 * MPI_Wtime.
 * Forms: C from a send buffer into a receive buffer, C in place (MPI_IN_PLACE), allReduce
 * (a new tensor, checked: the default), allReduce `{ check: false }`, allReduce checked and
 * unchecked with each result disposed (from 16 KiB up the next result then takes its
 * memory), allReduceVariables of one variable, `{ check: false }`, which reduces it in its own
 * memory from its second call on (its sums overflow to Infinity: as fast as finite ones), and
 * C's MPI_Allreduce in place called once per FFI call from a JS loop: the floor under any
 * library reached through Deno FFI, with nothing of tf.distribute in it.
 * Rank 0 prints "<bytes> <median seconds per call of each of the 8 forms> <median of the
 * rounds' ratios C / ours for the 6 forms after C's two>": allReduce against C from a send
 * buffer, the variable and the FFI floor against C in place, each pair from the same round.
 * @module
 */
import * as tf from "../../mod.ts";

const BATCHES = 15;
const [libraryPath, ...sizes] = Deno.args;
const { rank } = tf.distribute.init(); // MPI starts here, before the C library needs it
const c = Deno.dlopen(libraryPath, {
  mpi_allreduce_loop: { parameters: ["buffer", "buffer", "i32", "i32"], result: "f64" },
  mpi_allreduce_once: { parameters: ["buffer", "buffer", "i32"], result: "i32" },
}).symbols;

function median(xs: number[]): number {
  return [...xs].sort((a, b) => a - b)[xs.length >> 1];
}

function timeOurs(call: () => unknown, reps: number): number {
  tf.distribute.barrier();
  const start = performance.now();
  for (let r = 0; r < reps; r++) call();
  return (performance.now() - start) / 1000 / reps;
}

function checkC(code: number): void {
  if (code !== 0) throw new Error(`mpi_allreduce_once: MPI error ${code}`);
}

function timeC(send: Float32Array | null, recv: Float32Array, reps: number): number {
  const seconds = c.mpi_allreduce_loop(send, recv, recv.length, reps);
  if (seconds < 0) throw new Error(`mpi_allreduce_loop: MPI error ${-seconds}`);
  return seconds;
}

for (const arg of sizes) {
  const bytes = Number(arg);
  const count = bytes / 4;
  const values = new Float32Array(count);
  for (let k = 0; k < count; k++) values[k] = (k % 100) + rank;
  // Every buffer, C's included, comes from tf's allocator (an op's output), as ours do.
  const made = () => tf.add(tf.constant(values, "float32", { shape: [count] }), 0);
  const [x, cReceived, cInPlace] = [made(), made(), made()]; // the tensors stay held until the end
  const send = x.dataSync() as Float32Array;
  const received = cReceived.dataSync() as Float32Array;
  const inPlace = cInPlace.dataSync() as Float32Array;
  const v = new tf.Variable(made());
  const unchecked = { check: false };
  const reps = Math.min(2000, Math.max(2, Math.floor((64 << 20) / bytes)));
  const forms: (() => number)[] = [
    () => timeC(send, received, reps),
    () => timeC(null, inPlace, reps),
    () => timeOurs(() => tf.distribute.allReduce(x, "sum"), reps),
    () => timeOurs(() => tf.distribute.allReduce(x, "sum", unchecked), reps),
    () => timeOurs(() => tf.distribute.allReduce(x, "sum").dispose(), reps),
    () => timeOurs(() => tf.distribute.allReduce(x, "sum", unchecked).dispose(), reps),
    () => timeOurs(() => tf.distribute.allReduceVariables([v], "sum", unchecked), reps),
    () => timeOurs(() => checkC(c.mpi_allreduce_once(null, inPlace, count)), reps),
  ];
  const baselineOf = [0, 1, 0, 0, 0, 0, 1, 1];
  forms.forEach((form) => form()); // warm-up
  const times = forms.map(() => [] as number[]);
  for (let b = 0; b < BATCHES; b++) forms.forEach((form, i) => times[i].push(form()));
  const ratios = times.slice(2).map((ours, j) =>
    median(ours.map((t, b) => times[baselineOf[j + 2]][b] / t))
  );
  if (rank === 0) {
    console.log(
      `${bytes} ${times.map((t) => median(t).toFixed(9)).join(" ")} ${
        ratios.map((r) => r.toFixed(4)).join(" ")
      }`,
    );
  }
  for (const t of [x, cReceived, cInPlace, v]) t.dispose();
}
