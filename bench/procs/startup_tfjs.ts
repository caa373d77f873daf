/**
 * Start-up case, TensorFlow.js: import it, pick the backend named by the first
 * argument (cpu or wasm) and print the first matmul result.
 * @module
 */
import * as tf from "@tensorflow/tfjs";
import "@tensorflow/tfjs-backend-wasm";

await tf.setBackend(Deno.args[0] ?? "cpu");
const a = tf.tensor2d([[1, 2], [3, 4]]);
console.log(tf.matMul(a, a).dataSync()[0]);
