/**
 * Peak-memory case of the LSTM language model, ours: N steps (default 50) of the PTB small
 * configuration's training step (bench/cases/training.ts) on fresh random batches, the
 * state carried on; prints `@@bench {"peakBytes", "seconds"}`, the peak resident set
 * (VmHWM of /proc/self/status) of this whole process.
 * @module
 */
import { MARK } from "../harness.ts";
import { LSTM_LM, lstmLmStep } from "../cases/training.ts";
import { peakResidentBytes } from "./vmhwm.ts";

const steps = Number(Deno.args[0] ?? 50);
const step = lstmLmStep(LSTM_LM, true);
const start = performance.now();
for (let i = 0; i < steps; i++) step();
const seconds = (performance.now() - start) / 1000;
console.log(MARK + JSON.stringify({ peakBytes: peakResidentBytes(), seconds }));
