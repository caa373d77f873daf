/**
 * Start-up case, TensorFlow.js: import it, pick the backend named by the first
 * argument (cpu or wasm) and print the first matmul result.
 * @module
 */
// NOTE: full npm: specifiers, not deno.json's import map: TensorFlow.js is bench-only and its
// lock entries live in bench/deno.lock (bench/lock.ts says why).
// deno-lint-ignore no-import-prefix
import * as tf from "npm:@tensorflow/tfjs@4.22.0";
// deno-lint-ignore no-import-prefix
import "npm:@tensorflow/tfjs-backend-wasm@4.22.0";

await tf.setBackend(Deno.args[0] ?? "cpu");
const a = tf.tensor2d([[1, 2], [3, 4]]);
console.log(tf.matMul(a, a).dataSync()[0]);
