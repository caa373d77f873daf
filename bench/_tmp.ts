import * as tf from "../mod.ts";
import { mpi } from "../src/backend/cpu/mpi.ts";
import { cpuBackend } from "../src/backend/cpu/backend.ts";
const { rank } = tf.distribute.init();
const med = (xs: number[]) => xs.sort((a, b) => a - b)[xs.length >> 1];
const faults = () => Number(Deno.readTextFileSync("/proc/self/stat").split(") ")[1].split(" ")[7]);
for (const bytes of [65536, 1048576]) {
  const n = bytes / 4;
  const x = tf.fill([n], rank + 1).dataSync() as Float32Array;
  const fixed = new Float32Array(n);
  const reps = Math.min(2000, (256 << 20) / bytes);
  const variants: Record<string, () => void> = {
    fixed: () => mpi.allreduce(0, 0, n, x, fixed),
    fresh: () => mpi.allreduce(0, 0, n, x, cpuBackend.allocateOutput("float32", n, "x")),
    inplace: () => {
      const o = cpuBackend.allocateOutput("float32", n, "x") as Float32Array;
      o.set(x);
      mpi.allreduce(0, 0, n, o.subarray(0, 0), o);
    },
  };
  const line: string[] = [];
  for (const [name, f] of Object.entries(variants)) {
    for (let r = 0; r < reps / 4; r++) f();
    const f0 = faults();
    const ts: number[] = [];
    for (let b = 0; b < 7; b++) {
      tf.distribute.barrier();
      const t0 = performance.now();
      for (let r = 0; r < reps; r++) f();
      ts.push((performance.now() - t0) / reps * 1000);
    }
    line.push(`${name} ${med(ts).toFixed(1)} (${((faults() - f0) / (7 * reps)).toFixed(1)}f)`);
  }
  if (rank === 0) console.log(bytes, line.join("  "));
}
