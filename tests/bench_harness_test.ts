/**
 * The bench harness's timing rule (bench/harness.ts): a full warm-up only in a case's first
 * round, the sample counts per round that add up to MIN_SAMPLES .. MAX_SAMPLES, and the
 * order of a case's turns (schedule).
 */
import { measure, pooled, schedule } from "../bench/harness.ts";
import { assertEquals } from "./helpers.ts";

/** A timed function that spins for `ms` and counts its calls. */
function spinner(ms: number) {
  const timed = {
    calls: 0,
    fn: () => {
      timed.calls++;
      const end = performance.now() + ms;
      while (performance.now() < end) { /* spin */ }
    },
  };
  return timed;
}

Deno.test("measure warms up fully in round 0 and briefly in later rounds", () => {
  // 2 ms calls batched into 25-call samples (SAMPLE_S 0.05 s).
  const first = spinner(2);
  const s0 = measure(first, 0.05, 0, 6);
  const warmCalls = first.calls - s0.samples * s0.batch;
  if (warmCalls < 40) throw new Error(`round 0 warmed up with ${warmCalls} calls, want >= 40`);
  const later = spinner(2);
  const s1 = measure(later, 0.05, 1, 6);
  const rewarm = later.calls - s1.samples * s1.batch;
  if (!(rewarm >= 1 && rewarm <= 20)) throw new Error(`round 1 re-warmed with ${rewarm} calls`);
});

Deno.test("measure takes 2-3 samples a round over six rounds, 12-18 in one", () => {
  const sixth = measure(spinner(1), 0.01, 1, 6); // a budget below one sample: the least
  assertEquals(sixth.samples, 2);
  const generous = measure(spinner(1), 10, 1, 6); // a budget of many samples: the most
  assertEquals(generous.samples, 3);
  const whole = measure(spinner(1), 0.01, 0, 1);
  assertEquals(whole.samples, 12);
  const all = pooled([sixth, generous, sixth]);
  assertEquals([all.samples, all.values.length], [7, 7]);
  if (!(all.min <= all.median && all.median <= all.max)) throw new Error("pooled order");
  // Each round's samples stay apart too, in round order, for the --json output.
  assertEquals(all.byRound, [sixth.values, generous.values, sixth.values]);
});

Deno.test("schedule alternates the rounds, and takes the late runners' rounds after the others'", () => {
  const oneCore = (r: string) => r.startsWith("tfjs");
  const order = schedule(["ours", "numpy", "tfjs-cpu", "tf", "tfjs-wasm"], oneCore, 2)
    .map(({ runner, round }) => `${runner}${round}`);
  assertEquals(order, [
    "ours0",
    "numpy0",
    "tf0",
    "tf1",
    "numpy1",
    "ours1",
    "tfjs-cpu0",
    "tfjs-wasm0",
    "tfjs-wasm1",
    "tfjs-cpu1",
  ]);
  assertEquals(schedule(["a", "b"], () => false, 3).length, 6);
});
