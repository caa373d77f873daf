/**
 * A chain of 100 one-element ops (y = exp(tanh(y * c + c)), 25 rounds) in the library of any
 * checkout, for comparing two commits in alternating runs on one machine: `deno run -A
 * bench/procs/chain_tree.ts <checkout root>` (the root built with `deno task build`, e.g. a
 * `git worktree` of the older commit). Prints the fastest and the median of 30 batches of 200
 * chains after 2,000 warm-up chains, in microseconds per chain. docs/benchmarks.md has runs.
 * @module
 */
const root = Deno.args[0] ?? new URL("../..", import.meta.url).pathname;
const tf = await import(`${root}/mod.ts`);
// Older trees name the product `mul`, newer ones `multiply`.
const multiply = tf.multiply ?? tf.mul;
const x = tf.fill([1], 0.5), c = tf.fill([1], 1.01);

// deno-lint-ignore no-explicit-any
function chain(y: any) {
  for (let i = 0; i < 25; i++) y = tf.exp(tf.tanh(tf.add(multiply(y, c), c)));
  return y;
}

for (let i = 0; i < 2000; i++) chain(x);
const batches: number[] = [];
for (let b = 0; b < 30; b++) {
  const start = performance.now();
  for (let i = 0; i < 200; i++) chain(x);
  batches.push((performance.now() - start) / 200 * 1000);
}
batches.sort((a, b) => a - b);
console.log(
  `${root} chain of 100 ops: fastest ${batches[0].toFixed(2)} us, median ${
    batches[15].toFixed(2)
  } us`,
);
