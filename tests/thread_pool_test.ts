/**
 * The thread pool (csrc/thread_pool.c) splits a kernel into parts, one a thread: every part must
 * run once, also when the caller's pauses between kernels vary (so that workers wake early, late
 * or while the next job starts) and when jobs of different numbers of parts follow each other.
 */
import * as tf from "../mod.ts";
import { native } from "../src/native/lib.ts";
import { assertEquals } from "./helpers.ts";

/** Busy-waits about `us` microseconds: JS work between two kernels. */
function pause(us: number): void {
  const end = performance.now() + us / 1000;
  while (performance.now() < end) { /* spin */ }
}

Deno.test("parallel kernels run every part once, over varied sizes, pauses and thread counts", () => {
  // NOTE: other test files of this process may set the thread count meanwhile; the check
  // still holds, it only tests less.
  let seed = 7;
  const random = () => (seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648;
  const longest = 300_000;
  const ramp = tf.range(0, longest, 1, "float32"), ones = tf.onesLike(ramp);
  const wrong: string[] = [];
  for (let call = 0; call < 3000 && wrong.length < 5; call++) {
    // From below the cheap-op grain (32,768 elements a thread) to several grains.
    const n = 16_384 + Math.floor(random() * (longest - 16_384));
    // Jobs of 2, 3 and 4 parts in turn (4 threads on 2 cores: workers wake late).
    native.eager_set_num_threads(2 + (call % 3));
    const sum = tf.add(ramp.slice(0, n), ones.slice(0, n)).dataSync();
    for (let k = 0; k <= 64; k++) {
      const i = Math.min(n - 1, Math.floor((k * n) / 64));
      if (sum[i] !== i + 1) wrong.push(`call ${call}, n ${n}: [${i}] = ${sum[i]}, not ${i + 1}`);
    }
    pause(random() * 120);
  }
  native.eager_set_num_threads(0);
  assertEquals(wrong, []);
});
