/**
 * tests/distribute_test.ts's checks of a job of one rank: a process started without mpirun.
 * Collectives return their input, DistributedOptimizer equals its optimizer, the process
 * writes its checkpoints and summaries. Prints "ok single: N cases" or exits 1.
 * @module
 */
import * as tf from "../../mod.ts";

const failures: string[] = [];
let cases = 0;
function expect(what: string, ok: boolean) {
  cases++;
  if (!ok) failures.push(what);
}

const world = tf.distribute.init();
expect(`rank 0 of 1, got ${world.rank} of ${world.size}`, world.rank === 0 && world.size === 1);
expect(`the library is named: ${world.library}`, /MPI/.test(world.library));
expect("the same World again", tf.distribute.init() === world && tf.distribute.isChief());
const x = tf.constant([[1, 2], [3, 4]], "int32");
expect("allReduce returns its input", tf.distribute.allReduce(x, "sum") === x);
expect("broadcast returns its input", tf.distribute.broadcast(x, 0) === x);
expect(
  "allGather of a scalar has shape [1]",
  tf.distribute.allGather(tf.constant(5)).shape.join() === "1",
);
let message = "";
try {
  tf.distribute.broadcast(x, 1);
} catch (error) {
  message = (error as Error).message;
}
expect(
  `root 1 of 1 rank is an error: ${message}`,
  message === "broadcast: root must be a rank in [0, 1), got 1",
);
tf.distribute.barrier();

// One rank: DistributedOptimizer's updates are its optimizer's, bit for bit.
const [a, b] = [new tf.Variable([1, -2, 3]), new tf.Variable([1, -2, 3])];
const plain = new tf.train.AdamOptimizer(0.1);
const wrapped = new tf.distribute.DistributedOptimizer(new tf.train.AdamOptimizer(0.1));
for (let i = 0; i < 3; i++) {
  plain.minimize(() => a.square().sum());
  wrapped.minimize(() => b.square().sum());
}
expect(
  "one rank trains as its optimizer",
  a.peek().dataSync().every((v, i) => v === b.peek().dataSync()[i]),
);
expect(
  "slots are the wrapped optimizer's",
  wrapped.variables().length === plain.variables().length,
);

if (failures.length > 0) {
  console.log(`FAILED single:\n${failures.join("\n")}`);
  Deno.exit(1);
}
console.log(`ok single: ${cases} cases`);
