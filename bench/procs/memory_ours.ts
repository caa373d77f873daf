/**
 * Peak-memory case, ours: trains the seed's MNIST model for N steps (default 200) on
 * fresh random batches of 100 (its step as tf.function with a second argument `graph`) and
 * prints `@@bench {"peakBytes", "seconds"}`, the peak
 * resident set (VmHWM of /proc/self/status) of this whole process.
 * @module
 */
import { MARK } from "../harness.ts";
import { mnistStep } from "../cases/training.ts";
import { peakResidentBytes } from "./vmhwm.ts";

const steps = Number(Deno.args[0] ?? 200);
const step = mnistStep(100, 1e-4, true, Deno.args[1] === "graph");
const start = performance.now();
for (let i = 0; i < steps; i++) step();
const seconds = (performance.now() - start) / 1000;
console.log(MARK + JSON.stringify({ peakBytes: peakResidentBytes(), seconds }));
