/**
 * Run by tests/checkpoint_crash_test.ts, which kills it with SIGKILL at random times:
 * saves checkpoints of step N (a 256 KiB float32 variable filled with N, and N as int64)
 * for N = the folder's latest step + 1, + 2, ... forever, printing each N once saved.
 *
 * usage: checkpoint_save_loop.ts DIR
 */
import * as tf from "../../mod.ts";

const dir = Deno.args[0];
const latest = tf.train.latestCheckpoint(dir);
let step = latest === null ? 0 : Number(latest.slice(latest.lastIndexOf("-") + 1));
const big = new tf.Variable(tf.zeros([256, 256]), { name: "big", exactName: true });
const count = new tf.Variable(0n, { name: "step", dtype: "int64", exactName: true });
const saver = new tf.Saver([big, count], { maxToKeep: 3 });
const encoder = new TextEncoder();
for (;;) {
  step++;
  big.assign(tf.fill([256, 256], step));
  count.assign(BigInt(step));
  saver.save(`${dir}/ckpt`, { globalStep: step });
  Deno.stdout.writeSync(encoder.encode(`${step}\n`));
}
