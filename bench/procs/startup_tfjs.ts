/**
 * Start-up case, TensorFlow.js: import it, pick the backend named by the first
 * argument (cpu or wasm) and print the first matmul result: of [[1, 2], [3, 4]], or with a
 * second argument n, of an n x n matrix of 0.5s.
 * @module
 */
// NOTE: full npm: specifiers, not deno.json's import map: TensorFlow.js is bench-only and its
// lock entries live in bench/deno.lock (bench/lock.ts says why).
// deno-lint-ignore no-import-prefix
import * as tf from "npm:@tensorflow/tfjs@4.22.0";
// deno-lint-ignore no-import-prefix
import "npm:@tensorflow/tfjs-backend-wasm@4.22.0";

await tf.setBackend(Deno.args[0] ?? "cpu");
const n = Number(Deno.args[1] ?? 2);
const a = n === 2 ? tf.tensor2d([[1, 2], [3, 4]]) : tf.fill([n, n], 0.5);
console.log(tf.matMul(a, a).dataSync()[0]);
